# Life behind a reverse proxy: X-Forwarded-Proto and -Host believed only
# from pg_dash.trusted_proxies, the PROXY protocol (v1 and v2) from those
# addresses, so that the per-address limits see the real clients, and
# pg_dash.base_path (pages, API, WebSocket and files under a sub-path).
# The test's "proxy" is 127.0.0.1; 127.0.0.2 is a client that is not one.
use strict;
use warnings;

use IO::Select;
use IO::Socket::INET;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use lib 't';
use PgDashTest;
use PgDashWs;

# one worker: the per-address caps are counted per worker
my ($node, $port) = start_node('proxy',
	workers => 1,
	conf => "pg_dash.role = 'dash_reader'",
	setup => <<'SQL');
CREATE ROLE dash_reader;
GRANT USAGE ON SCHEMA pg_dash TO dash_reader;
SQL

# A request sent from a local address; returns the parsed response.
sub from
{
	my ($local, $bytes, %opts) = @_;
	my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
		PeerPort => $port, LocalAddr => $local, Proto => 'tcp', Timeout => 5)
	  or die "connect from $local: $!";
	$sock->autoflush(1);
	print $sock $bytes;
	return $sock if $opts{keep};
	my $sel = IO::Select->new($sock);
	my $resp = '';
	my $deadline = time + 5;
	while (time < $deadline && $sel->can_read($deadline - time))
	{
		my $n = sysread($sock, my $buf, 65536);
		last unless $n;
		$resp .= $buf;
		last if $resp =~ /\r\n\r\n/ && $resp =~ /Content-Length: (\d+)\r\n/i
		  && length($resp) >= index($resp, "\r\n\r\n") + 4 + $1;
	}
	close $sock;
	return PgDashTest::parse_response($resp);
}

# A state write that may set cookies, with extra header lines.
sub put_state
{
	my ($local, $headers) = @_;
	my $host = '127.0.0.1';
	return from($local, "PUT /api/state/k HTTP/1.1\r\nHost: $host\r\nContent-Type: application/json\r\n"
		  . "Content-Length: 3\r\nConnection: close\r\n$headers\r\n\"v\"");
}

sub set_conf
{
	my ($sql) = @_;
	$node->safe_psql('postgres', "$sql; SELECT pg_reload_conf()");
	sleep 0.5;					# the workers read the file on their next pass
}

# Nothing is trusted by default
my $r = put_state('127.0.0.1', "X-Forwarded-Proto: https\r\n");
is($r->{status}, 200, 'state write');
ok(($r->{cookies}{pg_dash_session} // 'none') !~ /Secure/, 'X-Forwarded-Proto ignored without trusted proxies');
ok(!exists $r->{headers}{'strict-transport-security'}, 'no HSTS either');
$r = from('127.0.0.1', "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-Host: evil.example\r\nConnection: close\r\n\r\n");
is($r->{status}, 200, 'X-Forwarded-Host ignored without trusted proxies');

$r = from('127.0.0.1', "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
is($r->{status}, 200, 'a plain request from the proxy');

# a bad setting is refused
my ($ret, $out, $err) = $node->psql('postgres', "ALTER SYSTEM SET pg_dash.trusted_proxies = '10.0.0.0/33'");
like($err, qr/not an IP address or CIDR block/, 'a malformed CIDR block is refused');

set_conf("ALTER SYSTEM SET pg_dash.trusted_proxies = '127.0.0.1/32, ::1'");

# honoured from the trusted proxy ...
$r = put_state('127.0.0.1', "X-Forwarded-Proto: https\r\n");
like($r->{cookies}{pg_dash_session} // '', qr/; Secure$/, 'Secure when a trusted proxy says https');
like($r->{headers}{'strict-transport-security'} // '', qr/^max-age=\d+$/, 'and HSTS');
$r = put_state('127.0.0.1', "X-Forwarded-Proto: http\r\n");
ok(($r->{cookies}{pg_dash_session} // 'none') !~ /Secure/, 'not when it says http');
$r = from('127.0.0.1', "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-Host: evil.example\r\nConnection: close\r\n\r\n");
is($r->{status}, 421, 'the forwarded Host is the one checked');

# ... ignored from any other address
$r = put_state('127.0.0.2', "X-Forwarded-Proto: https\r\n");
is($r->{status}, 200, 'a state write from an untrusted address');
ok(($r->{cookies}{pg_dash_session} // 'none') !~ /Secure/, 'its X-Forwarded-Proto is ignored');
$r = from('127.0.0.2', "GET /healthz HTTP/1.1\r\nHost: 127.0.0.2\r\nX-Forwarded-Host: evil.example\r\nConnection: close\r\n\r\n");
is($r->{status}, 200, 'its X-Forwarded-Host is ignored');

# the origin check compares with the forwarded host and scheme
set_conf("ALTER SYSTEM SET pg_dash.hosts = 'dash.example.com'");
my $cross = "Origin: https://dash.example.com\r\nX-Forwarded-Host: dash.example.com\r\nX-Forwarded-Proto: https\r\n";
$r = put_state('127.0.0.1', $cross);
is($r->{status}, 200, 'a write from the proxied origin passes the origin check');
$r = put_state('127.0.0.2', $cross);
is($r->{status}, 403, 'the same headers from an untrusted address do not');

# PROXY protocol: the client it names counts for the per-address limits
set_conf("ALTER SYSTEM SET pg_dash.proxy_protocol = on; ALTER SYSTEM SET pg_dash.max_connections_per_ip = 1");
my $get = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
$r = from('127.0.0.1', "PROXY TCP4 203.0.113.9 127.0.0.1 5555 $port\r\n$get");
is($r->{status}, 200, 'a request behind a PROXY v1 header');
$r = from('127.0.0.1', $get);
is($r->{status}, 400, 'the proxy must send the header');
like($r->{body}, qr/PROXY protocol/, 'and is told so');
$r = from('127.0.0.2', $get);
is($r->{status}, 200, 'an untrusted address needs no header');
$r = from('127.0.0.2', "PROXY TCP4 203.0.113.9 127.0.0.1 5555 $port\r\n$get");
isnt($r->{status}, 200, 'nor may it send one');

# v2, the binary form, split over two writes
my $v2 = "\r\n\r\n\0\r\nQUIT\n" . pack('CCn', 0x21, 0x11, 12) . pack('C4C4nn', 198, 51, 100, 20, 127, 0, 0, 1, 4242, $port);
my $sock = from('127.0.0.1', substr($v2, 0, 7), keep => 1);
sleep 0.2;
print $sock substr($v2, 7) . $get;
my $resp = '';
while (sysread($sock, my $buf, 65536)) { $resp .= $buf }
like($resp, qr/^HTTP\/1\.1 200/, 'a request behind a PROXY v2 header in pieces');

# one connection per address: the second from the same client is refused,
# one from another client behind the same proxy is not
my $held = from('127.0.0.1', "PROXY TCP4 203.0.113.50 127.0.0.1 5000 $port\r\nGET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", keep => 1);
sleep 0.3;
$r = from('127.0.0.1', "PROXY TCP4 203.0.113.50 127.0.0.1 5001 $port\r\n$get");
is($r->{status}, 429, 'the same client behind the proxy is capped');
like($r->{body}, qr/203\.0\.113\.50/, 'by its own address');
$r = from('127.0.0.1', "PROXY TCP4 203.0.113.51 127.0.0.1 5002 $port\r\n$get");
is($r->{status}, 200, 'another client behind the same proxy is not');
$r = from('127.0.0.1', "PROXY TCP4 203.0.113.52 127.0.0.1 5003 $port\r\nGET / HTTP/1.1\r\n\r\n");
isnt($r->{status}, 200, 'a malformed request after the header is still refused');
$r = from('127.0.0.1', "PROXY TCP4 203.0.113.300 127.0.0.1 1 2\r\n$get");
is($r->{status}, 400, 'a malformed PROXY header gets 400');
close $held;

is(from('127.0.0.1', "PROXY TCP4 203.0.113.9 127.0.0.1 5555 $port\r\n$get")->{status}, 200,
	'the workers carry on');
set_conf("ALTER SYSTEM RESET pg_dash.proxy_protocol; ALTER SYSTEM RESET pg_dash.max_connections_per_ip");

# pg_dash.base_path: everything answers under the prefix (and without it)
for my $bad ('dash', '/dash/', '/da sh', '//dash', '/a/../b', '/x"y')
{
	my ($ret, $out, $err) = $node->psql('postgres', "ALTER SYSTEM SET pg_dash.base_path = '$bad'");
	like($err, qr/invalid value for parameter "pg_dash.base_path"/, "base path '$bad' is refused");
}
my $root = http($port, 'GET', '/');
set_conf("ALTER SYSTEM SET pg_dash.base_path = '/dash'");
$node->safe_psql('postgres', "SELECT pg_dash.define_query('one', 'SELECT 1 AS one'); "
	. "SELECT pg_dash.define_page('sales/q', '# Q')");
$r = http($port, 'GET', '/dash/');
is($r->{status}, 200, 'the front end under the base path');
like($r->{body}, qr/<meta name="pg-dash-base" content="\/dash">/, 'tells the front end its base');
like($r->{body}, qr/src="\/dash\/js\/app\.js"/, 'its scripts are under the base');
like($r->{body}, qr/href="\/dash\/css\/app\.css"/, 'and its styles');
unlike($r->{body}, qr/(?:src|href)="\/(?!dash\/)/, 'no URL of the page leaves the base');
isnt($r->{headers}{etag}, $root->{headers}{etag}, 'with an ETag of its own');
is(http($port, 'GET', '/dash')->{status}, 200, 'the base itself');
$r = http($port, 'GET', '/dash/p/sales/q');
like($r->{body}, qr/pg-dash-base/, 'a page view');
like($r->{body}, qr{<link rel="preload" href="/dash/api/queries"}, '... preloads under the base');
unlike($r->{body}, qr/(?:src|href)="\/(?!dash\/)/, '... and no URL of it leaves the base');
like(http($port, 'GET', '/dash/p/nothing')->{body}, qr/<a href="\/dash\/">/, 'a missing page links to the base');
is(http($port, 'GET', '/dash/js/main.js')->{status}, 200, 'a script');
is(http($port, 'GET', '/dash/healthz')->{status}, 200, '/healthz');
$r = http($port, 'GET', '/dash/api/query/one');
is($r->{status}, 200, 'the API');
like($r->{body}, qr/"rows":\[\[1\]\]/, 'runs in an executor under the base too');
is(http($port, 'GET', '/api/query/one')->{status}, 200, 'a proxy that strips the prefix works too');
is(http($port, 'GET', '/dashboard/healthz')->{status}, 404, 'a longer first segment is not the base');
my $ws = PgDashWs->connect(port => $port, path => '/dash/ws', protocol => 'pg_dash.v1');
is($ws->recv_json->{type}, 'hello', 'the WebSocket under the base');
$ws->close;
set_conf("ALTER SYSTEM RESET pg_dash.base_path");
unlike(http($port, 'GET', '/')->{body}, qr/pg-dash-base/, 'without a base the page is served as it is');
$node->stop;
done_testing();
