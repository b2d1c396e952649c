# The browser boundary and the limits of one client: allowed Host names
# (DNS rebinding), the same-origin rule for WebSocket upgrades and requests
# that change state, strict HTTP/1.1 framing, the request-head deadline
# (slowloris), the per-address connection and rate caps, and the bound on a
# pipelining client's queued output.
use strict;
use warnings;

use Digest::SHA qw(sha256_hex);
use IO::Select;
use IO::Socket::INET;
use PostgreSQL::Test::Utils;
use Sys::Hostname;
use Test::More;
use Time::HiRes qw(time sleep);
use lib 't';
use PgDashTest;
use PgDashWs;

$SIG{PIPE} = 'IGNORE';

# a front end with one 1 MB file that does not compress
my $www = PostgreSQL::Test::Utils::tempdir();
my $big = join('', map { pack('N', int(rand(4294967296))) } 1 .. 262144);
{
	open my $fh, '>', "$www/big.bin" or die;
	binmode $fh;
	print $fh $big;
	close $fh;
	open $fh, '>', "$www/index.html" or die;
	print $fh "<!doctype html><title>pg_dash</title>\n";
	close $fh;
}

# one worker, so that every connection meets the same limits and memory
my ($node, $port) = start_node('boundary', workers => 1,
	conf => join("\n", "pg_dash.www_dir = '$www'", 'pg_dash.header_timeout = 2s'));

# Sends raw bytes on a new connection; returns everything read until the
# server closes (or the timeout passes).
sub raw
{
	my ($bytes, $timeout) = @_;
	return raw_request($port, $bytes, timeout => $timeout // 3);
}

# A connected socket.
sub connect_tcp
{
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp')
	  or die "connect: $!";
	$s->autoflush(1);
	return $s;
}

# Reads one response with a Content-Length from a socket: (status, head, body).
sub read_response
{
	my ($sock, $buf_ref, $timeout) = @_;
	my $sel = IO::Select->new($sock);
	my $deadline = time + ($timeout // 10);
	while (1)
	{
		my $end = index($$buf_ref, "\r\n\r\n");
		if ($end >= 0)
		{
			my $head = substr($$buf_ref, 0, $end);
			my ($len) = $head =~ /^Content-Length: (\d+)/mi;
			$len //= 0;
			if (length($$buf_ref) >= $end + 4 + $len)
			{
				my $body = substr($$buf_ref, $end + 4, $len);
				substr($$buf_ref, 0, $end + 4 + $len) = '';
				my ($status) = $head =~ m{^HTTP/1\.1 (\d+)};
				return ($status, $head, $body);
			}
		}
		return () if time > $deadline || !$sel->can_read($deadline - time);
		my $n = sysread($sock, $$buf_ref, 1 << 20, length $$buf_ref);
		return () unless $n;
	}
}

# The value of a /metrics counter.
sub metric
{
	my ($name) = @_;
	my ($v) = http($port, 'GET', '/metrics')->{body} =~ /^\Q$name\E (\d+)/m;
	return $v // -1;
}

# Changes settings and waits until the worker has reloaded them ($ready).
sub reconfigure
{
	my ($sql, $ready) = @_;
	$node->safe_psql('postgres', $sql);
	$node->reload;
	ok(wait_until($ready, 10), "reloaded: $sql");
}

# ---------------------------------------------------------------------
# DNS rebinding: a Host that is not one of the server's names gets 421

for my $path ('/healthz', '/api/state', '/')
{
	my $r = http($port, 'GET', $path, headers => ["Host: evil.example:$port"]);
	is($r->{status}, 421, "GET $path under a foreign Host is 421");
}
my $r = http($port, 'PATCH', '/api/state',
	headers => [ "Host: evil.example:$port", "Origin: http://evil.example:$port",
		'Content-Type: application/json' ],
	body => '{"rebound":1}');
is($r->{status}, 421, 'a rebound page writing session state is refused');
my $err = json_decode($r->{body})->{error};
is($err->{code}, 'misdirected_request', '421 in the error format');
like($err->{detail}, qr/evil\.example/, '421 names the host');
like($err->{hint}, qr/pg_dash\.hosts/, '421 hint names the setting');
$r = http($port, 'POST', '/api/action/anything',
	headers => [ "Host: evil.example:$port", "Origin: http://evil.example:$port" ], body => '{}');
is($r->{status}, 421, 'a rebound page calling an action is refused');
eval {
	PgDashWs->connect(port => $port, protocol => 'pg_dash.v1',
		headers => { Host => "evil.example:$port", Origin => "http://evil.example:$port" });
};
like($@, qr{upgrade refused: HTTP/1\.1 421}, 'a rebound page opening a WebSocket is refused');

my $machine = lc hostname();
for my $host ("127.0.0.1:$port", "localhost:$port", "LocalHost:$port", "localhost.:$port",
	"app.localhost:$port", "[::1]:$port", '192.0.2.7', "$machine:$port")
{
	is(http($port, 'GET', '/healthz', headers => ["Host: $host"])->{status},
		200, "Host $host is answered");
}
for my $host ("localhost.evil.example:$port", "127.0.0.1.nip.io:$port", "evil-localhost:$port")
{
	is(http($port, 'GET', '/healthz', headers => ["Host: $host"])->{status},
		421, "Host $host is refused");
}

# pg_dash.hosts adds names and domains; * allows any
reconfigure("ALTER SYSTEM SET pg_dash.hosts = 'dash.example.com, .corp.example'",
	sub { http($port, 'GET', '/healthz', headers => ['Host: dash.example.com'])->{status} == 200 });
is(http($port, 'GET', '/healthz', headers => ["Host: a.b.corp.example:$port"])->{status},
	200, 'a subdomain of a listed domain is answered');
is(http($port, 'GET', '/healthz', headers => ['Host: corp.example'])->{status},
	200, 'the listed domain itself is answered');
is(http($port, 'GET', '/healthz', headers => ['Host: notcorp.example'])->{status},
	421, 'a name merely ending like the domain is refused');
is(http($port, 'GET', '/healthz', headers => ['Host: evil.example'])->{status},
	421, 'other names are still refused');
my ($ret, $stdout, $stderr) = $node->psql('postgres',
	"ALTER SYSTEM SET pg_dash.hosts = 'dash.example.com:8080'");
isnt($ret, 0, 'a host with a port is not a valid pg_dash.hosts entry');
like($stderr, qr/not a host name/, '... with the reason');
($ret, $stdout, $stderr) = $node->psql('postgres', "ALTER SYSTEM SET pg_dash.hosts = 'a b'");
isnt($ret, 0, 'a name with a space is refused');
reconfigure("ALTER SYSTEM SET pg_dash.hosts = '*'",
	sub { http($port, 'GET', '/healthz', headers => ['Host: evil.example'])->{status} == 200 });
reconfigure('ALTER SYSTEM RESET pg_dash.hosts',
	sub { http($port, 'GET', '/healthz', headers => ['Host: evil.example'])->{status} == 421 });

# ---------------------------------------------------------------------
# strict HTTP/1.1: Host required and unique, CRLF line endings

$r = raw("GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n");
like($r, qr{^HTTP/1\.1 400}, 'HTTP/1.1 without Host is 400');
like($r, qr/missing Host header/, '... saying why');
$r = raw("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n\r\n");
like($r, qr{^HTTP/1\.1 400.*more than one Host header}s, 'a duplicate Host is 400');
$r = raw("GET /healthz HTTP/1.1\r\nHost: evil.example\r\nhost: 127.0.0.1\r\n\r\n");
like($r, qr{^HTTP/1\.1 400}, 'a duplicate Host is 400 whichever comes first');
$r = raw("GET /healthz HTTP/1.1\nHost: 127.0.0.1\n\n");
like($r, qr{^HTTP/1\.1 400.*bare LF}s, 'bare-LF line endings are 400');
$r = raw("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\nConnection: close\r\n\r\n");
like($r, qr{^HTTP/1\.1 400.*bare LF}s, 'one bare LF among CRLFs is 400');
$r = raw("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
	  . "GET /healthz HTTP/1.1\nHost: 127.0.0.1\n\n");
my @st = $r =~ m{HTTP/1\.1 (\d+) }g;
is_deeply(\@st, [200], 'a bare-LF request behind a good one is not answered as a request');
$r = raw("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /healthz HTTP/1.1\nHost: 127.0.0.1\n\n");
@st = $r =~ m{HTTP/1\.1 (\d+) }g;
is_deeply(\@st, [ 200, 400 ], 'pipelined: the good request answered, the bare-LF one refused');
$r = raw("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:80x\r\n\r\n");
like($r, qr{^HTTP/1\.1 400.*invalid Host header}s, 'a malformed Host is 400');
$r = raw("GET /healthz HTTP/1.0\r\n\r\n");
like($r, qr{^HTTP/1\.1 200}, 'HTTP/1.0 may omit Host');

# ---------------------------------------------------------------------
# cross-site WebSocket hijacking: the upgrade needs this server's Origin

for my $origin ('http://evil.example', "http://evil.example:$port", 'null',
	"http://127.0.0.1:" . ($port + 1), "http://localhost:$port", "http://127.0.0.1:$port/",
	"ws://127.0.0.1:$port")
{
	eval {
		PgDashWs->connect(port => $port, protocol => 'pg_dash.v1', headers => { Origin => $origin });
	};
	like($@, qr{upgrade refused: HTTP/1\.1 403}, "WebSocket upgrade from Origin $origin is refused");
}
like($@, qr/cross-origin request refused/, 'the refusal says why');
eval {
	PgDashWs->connect(port => $port, protocol => 'pg_dash.v1',
		headers => { 'Sec-Fetch-Site' => 'cross-site' });
};
like($@, qr{upgrade refused: HTTP/1\.1 403}, 'a WebSocket upgrade marked cross-site is refused');
for my $headers ({ Origin => "http://127.0.0.1:$port" }, {},
	{ Host => "localhost:$port", Origin => "http://localhost:$port" })
{
	my $ws = eval { PgDashWs->connect(port => $port, protocol => 'pg_dash.v1', headers => $headers) };
	my $hello = $ws ? $ws->recv_json(timeout => 5) : undef;
	is($hello && $hello->{type}, 'hello',
		'WebSocket upgrade with ' . (join(', ', map { "$_: $headers->{$_}" } sort keys %$headers) || 'no Origin')
		  . ' is accepted');
	$ws->close if $ws;
}

# cross-origin requests that change state are refused; reads are not
for my $case ([ 'POST', '/api/query/anything', '{}' ], [ 'PATCH', '/api/state', '{"x":1}' ],
	[ 'PUT', '/api/state/k', '1' ], [ 'DELETE', '/api/state', undef ],
	[ 'POST', '/api/action/anything', '{}' ], [ 'POST', '/api/session/rotate', undef ])
{
	my ($method, $path, $body) = @$case;
	$r = http($port, $method, $path, body => $body,
		headers => [ 'Origin: http://evil.example', 'Content-Type: application/json' ]);
	is($r->{status}, 403, "cross-origin $method $path is 403");
}
is(json_decode($r->{body})->{error}{message}, 'cross-origin request refused', '403 says why');
$r = http($port, 'GET', '/api/state', headers => ['Origin: http://evil.example']);
is($r->{status}, 200, 'a cross-origin GET is answered (the browser keeps the answer from the page)');
$r = http($port, 'PATCH', '/api/state', body => '{"x":1}',
	headers => [ "Origin: http://127.0.0.1:$port", 'Content-Type: application/json' ]);
is($r->{status}, 200, 'a same-origin PATCH is answered');
$r = http($port, 'PATCH', '/api/state', body => '{"x":1}',
	headers => ['Content-Type: application/json']);
is($r->{status}, 200, 'a PATCH without Origin (not a browser) is answered');
$r = http($port, 'PATCH', '/api/state', body => '{"x":1}',
	headers => [ "Origin: http://127.0.0.1:$port", "Origin: http://127.0.0.1:$port",
		'Content-Type: application/json' ]);
is($r->{status}, 403, 'two Origin headers are refused');

# ---------------------------------------------------------------------
# slowloris: the request head has a deadline that arriving bytes do not move

{
	my $sock = connect_tcp();
	my $req = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " . ('a' x 60) . "\r\n\r\n";
	my $sel = IO::Select->new($sock);
	my ($resp, $i, $closed, $answered) = ('', 0, 0, undef);
	my $t0 = time;
	while (time - $t0 < 10)
	{
		syswrite($sock, substr($req, $i++, 1)) if $i < length $req;
		next unless $sel->can_read(0.1);
		my $n = sysread($sock, $resp, 65536, length $resp);
		if (!$n) { $closed = 1; last }
		$answered //= time - $t0;
	}
	my $elapsed = time - $t0;
	$answered //= $elapsed;
	like($resp, qr{^HTTP/1\.1 408}, 'a head trickled byte by byte is answered 408');
	like($resp, qr/pg_dash\.header_timeout/, '... naming the setting');
	ok($closed, '... and the connection is closed');
	cmp_ok($i, '<', length $req, '... before the head was complete');
	cmp_ok($answered, '<', 3.5, "... within the 2 s deadline (took ${answered}s)");
	cmp_ok($answered, '>', 1.5, '... not before it');
	# the close ends a lingering close: at most 1 s of reading what the
	# client still sends (libwebsockets has no half-close)
	cmp_ok($elapsed - $answered, '<', 2, "... closed after at most the lingering close (${elapsed}s)");
	close $sock;
}
{
	# a connection that sends nothing is closed quietly at the deadline
	my $sock = connect_tcp();
	my $t0 = time;
	my $got = '';
	IO::Select->new($sock)->can_read(6);
	my $n = sysread($sock, $got, 100);
	ok(defined $n && $n == 0 && $got eq '', 'a silent new connection is closed without a response');
	cmp_ok(time - $t0, '<', 3.5, '... at the head deadline');
	close $sock;
}
{
	# between requests on a keep-alive connection the idle timeout applies
	my $sock = connect_tcp();
	my $buf = '';
	print $sock "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
	my ($s1) = read_response($sock, \$buf);
	sleep 3;
	print $sock "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
	my ($s2) = read_response($sock, \$buf);
	is_deeply([ $s1, $s2 ], [ 200, 200 ], 'an idle keep-alive connection outlives the head deadline');
	close $sock;
}

# ---------------------------------------------------------------------
# pipelining without reading: the worker's memory stays flat

{
	my $pid = worker_pids($node)->{0};
	my $rss = sub {
		open my $f, '<', "/proc/$pid/status" or return 0;
		my ($kb) = join('', <$f>) =~ /RssAnon:\s+(\d+)/;
		return $kb // 0;
	};
	is(http($port, 'GET', '/big.bin')->{body}, $big, 'the 1 MB file is served') for 1 .. 3;
	my $before = $rss->();
	my $n = 60;
	my $sock = connect_tcp();
	print $sock ("GET /big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" x ($n - 1))
	  . "GET /big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
	sleep 2;
	my $during = $rss->();
	cmp_ok($during - $before, '<', 8192,
		"$n pipelined 1 MB answers not read grow the worker by less than 8 MB ("
		  . int(($during - $before) / 1024) . ' MB)');
	is(http($port, 'GET', '/healthz')->{status}, 200, 'other clients are served meanwhile');
	my ($buf, $ok, $count) = ('', 0, 0);
	while (my ($status, $head, $body) = read_response($sock, \$buf, 30))
	{
		$count++;
		$ok++ if $status == 200 && $body eq $big;
	}
	is($count, $n, 'then every pipelined request is answered');
	is($ok, $n, '... each with the whole file');
	close $sock;
	cmp_ok(metric('pg_dash_output_queue_pauses_total'), '>', 0, 'the pauses are counted');
}

# ---------------------------------------------------------------------
# per-address caps: connections and request rate

{
	# holds n keep-alive connections, each having been answered once
	my $hold = sub {
		my ($n) = @_;
		my @socks;
		for (1 .. $n)
		{
			my $s = connect_tcp();
			my $buf = '';
			print $s "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
			my ($status) = read_response($s, \$buf, 5);
			push @socks, $s if ($status // 0) == 200;
		}
		return @socks;
	};
	reconfigure('ALTER SYSTEM SET pg_dash.max_connections_per_ip = 3', sub {
		my @held = $hold->(3);
		my $over = raw("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 2);
		close $_ for @held;
		sleep 0.2;
		return @held == 3 && $over =~ m{^HTTP/1\.1 429};
	});
	my @held = $hold->(3);
	is(scalar @held, 3, 'three connections from one address are served');
	my $over = raw("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 2);
	like($over, qr{^HTTP/1\.1 429}, 'a fourth gets 429');
	like($over, qr/^Retry-After: \d+/m, '... with Retry-After');
	like($over, qr/too many connections from your address/, '... saying why');
	like($over, qr/pg_dash\.max_connections_per_ip/, '... naming the setting');
	close shift @held;
	ok(wait_until(sub { http($port, 'GET', '/healthz')->{status} == 200 }, 5),
		'a connection is served again once one closes');
	close $_ for @held;
	reconfigure('ALTER SYSTEM RESET pg_dash.max_connections_per_ip', sub {
		my @h = $hold->(4);
		close $_ for @h;
		return @h == 4;
	});

	my $burst = sub {
		my ($sock, $n) = @_;
		my $buf = '';
		print $sock "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" x $n;
		my @s;
		for (1 .. $n)
		{
			my ($status, $head) = read_response($sock, \$buf, 5);
			push @s, [ $status // 0, $head // '' ];
		}
		return @s;
	};
	$node->safe_psql('postgres', 'ALTER SYSTEM SET pg_dash.rate_limit_per_ip = 2');
	reconfigure('ALTER SYSTEM SET pg_dash.rate_limit_burst = 3', sub {
		my $s = connect_tcp();
		my @r = $burst->($s, 5);
		close $s;
		sleep 2;
		return grep { $_->[0] == 429 } @r;
	});
	my $sock = connect_tcp();
	my @r = $burst->($sock, 5);
	is_deeply([ map { $_->[0] } @r ], [ 200, 200, 200, 429, 429 ],
		'a burst of five requests: three answered, two refused with 429');
	like($r[3][1], qr/^Retry-After: 1\r?$/m, '429 carries Retry-After');
	close $sock;
	$sock = connect_tcp();
	@r = $burst->($sock, 1);
	is($r[0][0], 429, 'reconnecting does not refill the bucket');
	sleep 1.1;
	@r = $burst->($sock, 2);
	is_deeply([ map { $_->[0] } @r ], [ 200, 200 ], 'the bucket refills at the rate');
	close $sock;
	$node->safe_psql('postgres', 'ALTER SYSTEM RESET pg_dash.rate_limit_per_ip');
	reconfigure('ALTER SYSTEM RESET pg_dash.rate_limit_burst', sub {
		my $s = connect_tcp();
		my @r = $burst->($s, 10);
		close $s;
		return !grep { $_->[0] != 200 } @r;
	});
}

# ---------------------------------------------------------------------
# every limit is counted in /metrics

for my $m (qw(pg_dash_host_refused_total pg_dash_origin_refused_total
	pg_dash_header_timeouts_total pg_dash_ip_connections_refused_total
	pg_dash_ip_rate_limited_total pg_dash_malformed_requests_total))
{
	cmp_ok(metric($m), '>', 0, "$m counts");
}

$node->stop;
done_testing();
