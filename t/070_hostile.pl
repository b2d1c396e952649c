# Hostile clients, each alone, against a cluster with ONE worker: slowloris,
# a pipelining flood, an unread WebSocket query of a large result, a slow
# download reader and 1,000 cookie-less state and action requests.
#
# During each, this script polls /healthz on a keep-alive connection of its
# own, opened before the attack, and samples the worker's private memory
# (RssAnon of /proc/<pid>/status).  Each attack must leave the worker's peak
# memory within 32 MB of where it started and /healthz answering within
# 50 ms at the 99th percentile, besides what the attack itself checks.
use strict;
use warnings;

use Errno qw(EAGAIN EWOULDBLOCK);
use IO::Select;
use IO::Socket::INET;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use lib 't';
use PgDashTest;
use PgDashWs;

# a connection the server closed must fail a write, not end this script
$SIG{PIPE} = 'IGNORE';

my $setup = <<'SQL';
CREATE ROLE dash_reader;
GRANT USAGE ON SCHEMA pg_dash TO dash_reader;
CREATE FUNCTION noop(state jsonb, payload jsonb) RETURNS jsonb LANGUAGE sql AS 'SELECT NULL::jsonb';
SELECT pg_dash.define_action('noop', 'noop(jsonb, jsonb)'::regprocedure);
-- about 1 MB in fewer rows than one batch (1000): answered whole, with a Content-Length
SELECT pg_dash.define_query('wide', 'SELECT g AS i, repeat(''w'', 1100) AS pad FROM generate_series(1, 900) g');
-- rows produced one at a time (a set-returning function in the select list)
SELECT pg_dash.define_query('many', 'SELECT generate_series(1, :n::int) AS i, repeat(''x'', 400) AS pad');
SELECT pg_dash.define_query('series', 'SELECT g AS i, md5(g::text) AS h FROM generate_series(1, :n::int) g');
SQL

my ($node, $port) = start_node('hostile', workers => 1, setup => $setup,
	conf => join("\n", "pg_dash.role = 'dash_reader'", "pg_dash.download_timeout = '3s'"));
my $pid = worker_pids($node)->{0};

# --- measuring -------------------------------------------------------------------

# private resident memory of the worker, in kB
sub rss_kb
{
	open my $f, '<', "/proc/$pid/status" or return 0;
	my ($kb) = join('', <$f>) =~ /RssAnon:\s+(\d+)/;
	return $kb // 0;
}

# a keep-alive connection
sub connect_http
{
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp',
		Timeout => 5) or die "connect: $!";
	$s->autoflush(1);
	return $s;
}

# sends one request on a keep-alive connection and reads its response;
# returns (status, body), status 0 when none came within the timeout
sub keepalive_request
{
	my ($s, $request, $timeout) = @_;
	my $deadline = time + ($timeout // 2);
	my $sel = IO::Select->new($s);
	my $buf = '';
	print $s $request;
	while (time < $deadline)
	{
		my $end = index($buf, "\r\n\r\n");
		if ($end >= 0)
		{
			my ($len) = substr($buf, 0, $end) =~ /\r\nContent-Length:\s*(\d+)/i;
			$len //= 0;
			if (length($buf) >= $end + 4 + $len)
			{
				my ($status) = $buf =~ m{^HTTP/1\.1 (\d+)};
				return ($status // 0, substr($buf, $end + 4, $len));
			}
		}
		last unless $sel->can_read($deadline - time);
		last unless sysread($s, $buf, 65536, length $buf);
	}
	return (0, '');
}

# the 99th percentile of a list of numbers
sub p99
{
	my @s = sort { $a <=> $b } @_;
	return @s ? $s[ int(0.99 * $#s + 0.5) ] : 0;
}

# Runs an attack: once the baseline is taken, $start->() begins it, then
# $step->() is called over and over (it must not block for long) until it
# returns false or $seconds pass, between polls of /healthz; then checks the
# worker's memory and /healthz's latency.
sub attack
{
	my ($name, $seconds, $start, $step) = @_;
	my $health = connect_http();
	keepalive_request($health, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
	my $base = rss_kb();
	my $peak = $base;
	my (@lat, $failed);
	$start->();
	my $t0 = time;
	$failed = 0;
	while (time - $t0 < $seconds)
	{
		last unless $step->();
		my $q = time;
		my ($status) = keepalive_request($health, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 2);
		push @lat, (time - $q) * 1000;
		$failed++ if $status != 200;
		if ($status == 0)
		{
			close $health;
			$health = connect_http();
		}
		my $r = rss_kb();
		$peak = $r if $r > $peak;
		sleep 0.005;
	}
	close $health;
	my $grew = ($peak - $base) / 1024;
	cmp_ok($grew, '<', 32, sprintf('%s: worker memory grew by %.1f MB (under 32 MB)', $name, $grew));
	my $p = p99(@lat);
	cmp_ok($p, '<', 50, sprintf('%s: /healthz p99 %.1f ms over %d polls (under 50 ms)', $name, $p, scalar @lat));
	is($failed, 0, "$name: every /healthz poll answered 200");
	is(worker_pids($node)->{0}, $pid, "$name: the worker is still the same process");
	return time - $t0;
}

# --- slowloris: request heads sent one byte at a time -------------------------------

{
	my $head = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " . ('s' x 60) . "\r\n\r\n";
	my @conns;
	my $next = 0;
	my $took = attack('slowloris', 25, sub {
		for (1 .. 100)
		{
			my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp');
			if (!$s)
			{
				push @conns, { cut => 1 };	# refused: cut off as well
				next;
			}
			$s->blocking(0);
			push @conns, { s => $s, sent => 0, cut => 0 };
		}
	}, sub {
		if (time >= $next)
		{
			# one more byte on every connection, twice a second: a head would take 40 s
			for my $c (grep { !$_->{cut} } @conns)
			{
				my $n = syswrite($c->{s}, substr($head, $c->{sent}, 1));
				$c->{sent}++ if $n;
				$c->{cut} = 1 if !defined $n && $! != EAGAIN && $! != EWOULDBLOCK;
			}
			$next = time + 0.5;
		}
		# the server closing a connection, or answering it (408), cuts it off
		for my $c (grep { !$_->{cut} } @conns)
		{
			my $n = sysread($c->{s}, my $buf, 4096);
			$c->{cut} = 1 if defined $n || ($! != EAGAIN && $! != EWOULDBLOCK);
		}
		return grep({ !$_->{cut} } @conns) > 0;
	});
	my $left = grep { !$_->{cut} } @conns;
	is($left, 0, sprintf('slowloris: the server cut off all 100 slow heads (%d left after %.0f s)', $left, $took));
	close $_->{s} for grep { $_->{s} } @conns;
}

# --- a pipelining flood: many requests, never reading -----------------------------------

{
	my $s;
	my $queued = "GET /api/query/wide HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" x 100;	# 100 responses of 1 MB
	attack('pipelining flood', 5, sub {
		$s = connect_http();
		$s->blocking(0);
	}, sub {
		if (length $queued)
		{
			my $n = syswrite($s, $queued);
			substr($queued, 0, $n) = '' if $n;
		}
		return 1;
	});
	close $s;
}

# --- an unread WebSocket query of a large result ------------------------------------

{
	my $ws = PgDashWs->connect(port => $port, protocol => 'pg_dash.v1');
	attack('unread WebSocket query', 5, sub {
		# 200,000 rows of 400 bytes: over 80 MB if it were built whole
		$ws->send_json({ type => 'query', id => 'big', name => 'many', params => { n => 200000 } });
	}, sub { 1 });
	$ws->disconnect;
}

# --- a slow download reader ---------------------------------------------------------------

{
	my $s;
	my ($next, $closed) = (0, 0);
	my $t0 = time;
	attack('slow download reader', 5, sub {
		$s = connect_http();
		print $s "GET /api/query/series?n=2000000&format=csv HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
		$s->blocking(0);
	}, sub {
		if (time >= $next && !$closed)
		{
			# 4 kB every 100 ms
			my $n = sysread($s, my $buf, 4096);
			$closed = 1 if defined $n && $n == 0;
			$next = time + 0.1;
		}
		return 1;
	});
	is($node->safe_psql('postgres',
			"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_dash download'"),
		'0', 'slow download reader: no download worker (nor its transaction) outlives pg_dash.download_timeout');
	# what the kernel still holds for the client, then the server's close
	$s->blocking(1);
	my $sel = IO::Select->new($s);
	my $t1 = time;
	while (!$closed && time - $t1 < 5 && $sel->can_read(1))
	{
		my $n = sysread($s, my $buf, 1 << 20);
		$closed = 1 unless $n;
	}
	ok($closed, sprintf('slow download reader: the server closed the connection (%.1f s after it began)', time - $t0));
	close $s;
}

# --- 1,000 cookie-less state and action requests ------------------------------------------------

{
	my $rows0 = $node->safe_psql('postgres', 'SELECT count(*) FROM pg_dash.session_state');
	my $s = connect_http();
	my @requests = (
		"GET /api/state HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
		"GET /api/state/region HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
		"DELETE /api/state HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
		"POST /api/action/noop HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{\"payload\":42}\n");
	my ($sent, %status) = (0);
	attack('1,000 cookie-less requests', 30, sub { }, sub {
		for (1 .. 5)
		{
			return 0 if $sent >= 1000;
			my ($st) = keepalive_request($s, $requests[ $sent % 4 ], 5);
			$status{$st}++;
			$sent++;
		}
		return 1;
	});
	is($sent, 1000, '1,000 cookie-less requests sent');
	is(($status{200} // 0) + ($status{404} // 0), 1000, '... all answered (200, or 404 for an unset key)')
	  or diag explain \%status;
	is($node->safe_psql('postgres', 'SELECT count(*) FROM pg_dash.session_state'), $rows0,
		'... and the session table did not grow');
	close $s;
}

$node->stop;
done_testing();
