# HTTP basics: health from every worker, static files, errors and limits.
use strict;
use warnings;

use IO::Select;
use IO::Socket::INET;
use PostgreSQL::Test::Utils;
use Test::More;
use lib 't';
use PgDashTest;

my ($node, $port) = start_node('http');

# health from both workers over repeated connections
my %seen;
for (1 .. 60)
{
	my $r = http($port, 'GET', '/healthz');
	is($r->{status}, 200, 'healthz answers 200') if $_ == 1;
	my $h = json_decode($r->{body});
	$seen{ $h->{worker} }++;
	if ($_ == 1)
	{
		is($h->{status}, 'ok', 'status ok');
		like($h->{version}, qr/^\d+\.\d+\.\d+$/, 'version reported');
		ok($h->{pid} > 0 && defined $h->{uptime_seconds}, 'pid and uptime reported');
		like($r->{headers}{'content-type'}, qr{^application/json}, 'healthz is JSON');
	}
}
is_deeply([ sort keys %seen ], [ 0, 1 ], 'connections spread over both workers');

# static files: content type, ETag, 304, gzip
my $r = http($port, 'GET', '/');
is($r->{status}, 200, 'start page served');
like($r->{headers}{'content-type'}, qr{^text/html}, 'start page is text/html');
like($r->{body}, qr/pg_dash/, 'start page names pg_dash');
my $etag = $r->{headers}{etag};
ok($etag && $r->{headers}{'last-modified'}, 'ETag and Last-Modified sent');
$r = http($port, 'GET', '/', headers => ["If-None-Match: $etag"]);
is($r->{status}, 304, 'If-None-Match answers 304');
is($r->{body}, '', '304 has no body');
$r = http($port, 'GET', '/', headers => ['If-None-Match: "other"']);
is($r->{status}, 200, 'a different ETag gets the file');

$r = http($port, 'GET', '/vendor/echarts.min.js', headers => ['Accept-Encoding: gzip']);
is($r->{headers}{'content-encoding'}, 'gzip', 'text asset sent gzip-compressed');
like($r->{headers}{'content-type'}, qr{^text/javascript}, 'JavaScript content type');
$r = http($port, 'GET', '/vendor/echarts.min.js', headers => ['Accept-Encoding: gzip;q=0']);
ok(!exists $r->{headers}{'content-encoding'}, 'gzip;q=0 gets the identity encoding');
$r = http($port, 'HEAD', '/css/app.css');
is($r->{status}, 200, 'HEAD answered');
like($r->{headers}{'content-type'}, qr{^text/css}, 'CSS content type');
is($r->{body}, '', 'HEAD has no body');

# errors are JSON with a reason
$r = http($port, 'GET', '/api/no/such/thing');
is($r->{status}, 404, 'unknown API path is 404');
my $err = json_decode($r->{body});
is($err->{error}{status}, 404, 'error object carries the status');
like($err->{error}{message}, qr{/api/no/such/thing}, 'error message names the path');
$r = http($port, 'GET', '/no-such-file.js');
is($r->{status}, 404, 'missing file is 404');
$r = raw_request($port, "GET /../../etc/passwd HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
like($r, qr{^HTTP/1\.1 404}, 'path traversal refused');
$r = http($port, 'DELETE', '/healthz');
is($r->{status}, 405, 'wrong method is 405');
like($r->{headers}{allow}, qr/GET/, '405 names the allowed methods');

# limits: 431, 414, 400, 413; the server stays healthy
$r = http($port, 'GET', '/healthz', headers => [ 'X-Big: ' . ('a' x 20000) ]);
is($r->{status}, 431, 'oversized header answered 431');
like(json_decode($r->{body})->{error}{message}, qr/header/i, '431 says why');
$r = http($port, 'GET', '/' . ('a' x 10000));
is($r->{status}, 414, 'oversized URL answered 414');
$r = raw_request($port, "GARBAGE\r\n\r\n");
like($r, qr{^HTTP/1\.1 400}, 'malformed request line answered 400');
$r = raw_request($port, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 99999999999\r\n\r\n");
like($r, qr{^HTTP/1\.1 413}, 'oversized body answered 413');
$r = raw_request($port, "GET / HTTP/3.0\r\nHost: 127.0.0.1\r\n\r\n");
like($r, qr{^HTTP/1\.1 505}, 'unsupported HTTP version answered 505');
$r = raw_request($port, "\x00\xff\x13garbage\r\n\r\n");
like($r, qr{^HTTP/1\.1 400}, 'binary garbage answered 400');
for (1 .. 10)
{
	is(http($port, 'GET', '/healthz')->{status}, 200, 'still healthy after bad input') if $_ == 10;
}

# The lingering close: a client that sends a body the server refuses (413
# as soon as the head announces it) and only reads once it has sent it all
# still gets the 413, not a reset that destroys it.  libwebsockets has no
# half-close for raw sockets: the server reads and drops the body, then
# closes once the client is quiet.
{
	local $SIG{PIPE} = 'IGNORE';
	my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
		Proto => 'tcp', Timeout => 5) or die "connect: $!";
	my $body = 'x' x (4 * 1024 * 1024);
	my $sent = syswrite($sock, "POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		  . "Content-Type: application/octet-stream\r\nContent-Length: " . length($body) . "\r\n\r\n");
	my $off = 0;
	while ($off < length $body)
	{
		my $n = syswrite($sock, $body, 65536, $off);
		last unless $n;
		$off += $n;
	}
	my $resp = '';
	my $sel = IO::Select->new($sock);
	while ($sel->can_read(5))
	{
		my $n = sysread($sock, $resp, 65536, length $resp);
		last unless $n;
	}
	close $sock;
	is($off, length $body, 'a 4 MB body the server refuses is taken whole meanwhile');
	like($resp, qr{^HTTP/1\.1 413}, '... and its sender then reads the 413, not a reset');
}

# keep-alive and pipelining on one connection
$r = raw_request($port,
	"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
	  . "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
my @statuses = $r =~ m{HTTP/1\.1 (\d+)}g;
is_deeply(\@statuses, [ 200, 200, 200 ], 'three pipelined requests answered in order');

# metrics count requests
$r = http($port, 'GET', '/metrics');
is($r->{status}, 200, '/metrics served');
like($r->{headers}{'content-type'}, qr{^text/plain}, 'Prometheus text format');
like($r->{body}, qr/^pg_dash_requests_total\{route="healthz",status="2xx"\} (\d+)/m, 'requests counted by route');
my ($n) = $r->{body} =~ /^pg_dash_requests_total\{route="healthz",status="2xx"\} (\d+)/m;
cmp_ok($n, '>=', 60, 'every health request counted across workers');
like($r->{body}, qr/^pg_dash_requests_total\{route="static",status="4xx"\} [1-9]/m, '4xx counted');

$node->stop;
done_testing();
