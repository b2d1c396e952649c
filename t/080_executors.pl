# The executor pool: user SQL never runs in the serving worker's event loop.
# A slow query does not delay /healthz, static files, other queries or
# WebSocket notifications of the same worker; a client that goes away
# cancels its query; a full queue answers 503; an executor that is
# terminated is restarted and its request gets a clear error; actions go
# through the pool; the pool's figures are in /metrics and pg_dash.stats.
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use lib 't';
use PgDashTest;
use PgDashWs;

my $setup = <<'SQL';
CREATE ROLE dash_reader;
SELECT pg_dash.define_query('slow', 'SELECT pg_sleep(:s::float8) AS slept');
SELECT pg_dash.define_query('fast', 'SELECT 1 AS one');
SELECT pg_dash.define_query('cached', 'SELECT 42 AS answer', cache_ttl => 60);
SELECT pg_dash.define_query('whoruns', 'SELECT pg_backend_pid() AS pid');
SELECT pg_dash.define_channel('news');
CREATE FUNCTION where_am_i(state jsonb, payload jsonb) RETURNS jsonb LANGUAGE sql AS
  $$ SELECT jsonb_build_object('backend', pg_backend_pid()) $$;
SELECT pg_dash.define_action('where_am_i', 'where_am_i(jsonb, jsonb)');
SQL

# one serving worker, two executors, a short run queue
my ($node, $port) = start_node('executors', workers => 1, setup => $setup,
	conf => "pg_dash.role = 'dash_reader'\npg_dash.executors = 2\npg_dash.executor_queue = 3\n"
	  . "pg_dash.statement_timeout = '20s'\n"
	  # parallel plans for small tables too, so that the test stays small
	  . "parallel_setup_cost = 0\nparallel_tuple_cost = 0\nmin_parallel_table_scan_size = 0\n"
	  . "max_parallel_workers_per_gather = 2\nmax_worker_processes = 12");

sub get_json
{
	my ($path, %o) = @_;
	my $r = http($port, $o{method} // 'GET', $path, %o);
	$r->{json} = eval { json_decode($r->{body}) };
	return $r;
}

sub executor_pids
{
	my @pids = split /\n/, $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_dash executor' ORDER BY pid");
	return @pids;
}

# Starts a request in the background; returns the harness and its output.
sub start_request
{
	my ($path, %o) = @_;
	my $out = '';
	my @cmd = ('curl', '-s', '-o', '/dev/stdout', '-w', '\n%{http_code}', '--max-time', $o{max_time} // 30,
		"http://127.0.0.1:$port$path");
	my $h = IPC::Run::start(\@cmd, '>', \$out, '2>', \my $err);
	return ($h, \$out);
}

sub running_slow
{
	return $node->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE query = 'pg_dash query slow' AND state = 'active'");
}

ok(wait_until(sub { my @p = executor_pids(); @p == 2 }, 10), 'two executors run');
my %executor = map { $_ => 1 } executor_pids();
my $w = get_json('/api/query/whoruns');
ok($executor{ $w->{json}{rows}[0][0] // 0 }, 'named queries run in an executor') or diag($w->{body});
my $r = get_json('/api/action/where_am_i', method => 'POST', body => '{}',
	headers => [ 'Content-Type: application/json', "Origin: http://127.0.0.1:$port" ]);
ok($executor{ $r->{json}{state}{backend} // 0 }, 'actions run in an executor') or diag($r->{body});

# --- a slow query does not stall the worker's other clients
{
	my $ws = PgDashWs->connect(port => $port, protocol => 'pg_dash.v1');
	$ws->recv_json(timeout => 5);
	$ws->send_json({ type => 'subscribe', channel => 'news' });
	$ws->recv_until(sub { $_->{opcode} eq 'text' && $_->{data} =~ /subscribed/ }, timeout => 5);
	get_json('/api/query/cached');

	my ($h, $out) = start_request('/api/query/slow?s=3');
	ok(wait_until(sub { running_slow() == 1 }, 5), 'a 3-second query runs');
	my @lat;
	for (1 .. 10)
	{
		my $t0 = time;
		my $ok = http($port, 'GET', '/healthz')->{status} == 200;
		push @lat, time - $t0 if $ok;
	}
	is(scalar @lat, 10, '/healthz answers while it runs');
	cmp_ok((sort { $b <=> $a } @lat)[0], '<', 0.5, 'promptly (slowest ' . sprintf('%.3f', (sort { $b <=> $a } @lat)[0]) . ' s)');
	my $t0 = time;
	is(http($port, 'GET', '/')->{status}, 200, 'a static file is served meanwhile');
	my $c = get_json('/api/query/cached');
	is($c->{json}{rows}[0][0], 42, 'a cached query is answered meanwhile');
	is(get_json('/api/query/fast')->{status}, 200, 'and another query, by the other executor');
	cmp_ok(time - $t0, '<', 1, 'all within a second');
	$node->safe_psql('postgres', "NOTIFY news, 'while busy'");
	my $n = $ws->recv_until(sub { $_->{opcode} eq 'text' && $_->{data} =~ /while busy/ }, timeout => 2);
	ok($n, 'a WebSocket notification is delivered meanwhile');
	ok(running_slow() == 1, 'all while the slow query still ran');
	$h->finish;
	like($$out, qr/\n200$/, 'the slow query answers in the end');
}

# --- a client that goes away cancels its query; the executor takes the next job
{
	my @before = executor_pids();
	my ($h, $out) = start_request('/api/query/slow?s=15', max_time => 1);
	ok(wait_until(sub { running_slow() == 1 }, 5), 'a 15-second query runs');
	$h->finish;
	ok(wait_until(sub { running_slow() == 0 }, 3), 'it is cancelled when its client goes away');
	is_deeply([ executor_pids() ], \@before, 'no executor ended');
	is(get_json('/api/query/fast')->{status}, 200, 'the pool serves the next requests');
	is(get_json('/api/query/fast')->{status}, 200, 'on both executors');
}

# --- a full run queue answers 503 with Retry-After
{
	my @running;
	push @running, [ start_request('/api/query/slow?s=4') ] for 1 .. 5;
	ok(wait_until(sub { running_slow() == 2 }, 5), 'both executors are busy');
	# the other three reach the queue when their clients have started
	ok(wait_until(sub { http($port, 'GET', '/metrics')->{body} =~ /^pg_dash_executor_queue_depth 3$/m }, 5),
		'three requests wait');
	my $t0 = time;
	my $full = get_json('/api/query/fast');
	is($full->{status}, 503, 'one more request while 3 wait: 503');
	is($full->{headers}{'retry-after'}, '1', 'with Retry-After');
	like($full->{json}{error}{hint} // '', qr/pg_dash\.executor_queue/, 'the hint names the setting');
	cmp_ok(time - $t0, '<', 1, 'refused at once');
	my $m = http($port, 'GET', '/metrics')->{body};
	like($m, qr/^pg_dash_executor_queue_depth 3$/m, 'the queue depth is in /metrics');
	like($m, qr/^pg_dash_executors\{state="busy"\} 2$/m, 'busy executors are in /metrics');
	like($m, qr/^pg_dash_executor_rejected_total [1-9]/m, 'refusals are counted');
	$_->[0]->finish for @running;
	is(scalar(grep { ${ $_->[1] } =~ /\n200$/ } @running), 5, 'every queued request was answered in turn');
}
like($node->safe_psql('postgres', "SELECT value FROM pg_dash.stats WHERE metric = 'pg_dash_executor_busy_seconds_total'"),
	qr/^[1-9]/, 'busy time in pg_dash.stats');
cmp_ok($node->safe_psql('postgres', "SELECT value FROM pg_dash.stats WHERE metric = 'pg_dash_executor_wait_seconds_total'"),
	'>', 1, 'wait time in pg_dash.stats');

# --- an executor that is terminated is restarted; its request gets a clear error
{
	my ($h, $out) = start_request('/api/query/slow?s=10');
	my $victim;
	ok(wait_until(sub { $victim = $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE query = 'pg_dash query slow' AND state = 'active'"); $victim ne '' }, 5),
		'a query runs');
	$node->safe_psql('postgres', "SELECT pg_terminate_backend($victim)");
	$h->finish;
	like($$out, qr/\n503$/, 'its request answers 503');
	like($$out, qr/executor_failed/, 'saying that the executor ended');
	ok(wait_until(sub { my @p = executor_pids(); @p == 2 }, 5), 'the executor is restarted');
	ok(!grep({ $_ eq $victim } executor_pids()), 'as a new process');
	is(get_json('/api/query/fast')->{status}, 200, 'and the pool serves on');
}
is(http($port, 'GET', '/healthz')->{status}, 200, 'the serving worker never stopped');

# --- the request pipeline's error capture: an ERROR in the middle of a result
# leaves no open transaction and no memory behind, however often it happens
{
	$node->safe_psql('postgres', q{
		SELECT pg_dash.define_query('breaks', 'SELECT g, CASE WHEN g = :at::int THEN 1 / (g - g) END AS boom FROM generate_series(1, 5000) g');
	});
	my @pids = executor_pids();
	my $rss = sub {
		my $sum = 0;
		for my $pid (@pids)
		{
			open my $f, '<', "/proc/$pid/status" or next;
			my ($kb) = join('', <$f>) =~ /RssAnon:\s+(\d+)/;
			$sum += $kb // 0;
		}
		return $sum;
	};
	get_json("/api/query/breaks?at=150") for 1 .. 20;
	get_json("/api/query/breaks?at=3000") for 1 .. 5;
	my $before = $rss->();
	my %status;
	$status{ get_json("/api/query/breaks?at=" . (100 + $_))->{status} }++ for 1 .. 300;
	is_deeply(\%status, { 400 => 300 }, 'every request that fails mid-result answers its error (22012: 400)');
	my $cut = 0;
	for (1 .. 30)
	{
		my $raw = raw_request($port, "GET /api/query/breaks?at=3000&format=csv HTTP/1.1\r\n"
			  . "Host: 127.0.0.1\r\nConnection: close\r\n\r\n", timeout => 5);
		$cut++ if $raw =~ m{^HTTP/1\.1 200} && $raw !~ /\r\n0\r\n\r\n$/;
	}
	is($cut, 30, 'one that fails once its answer streams is cut: no final chunk');
	my $after = $rss->();
	cmp_ok($after - $before, '<', 2048, "the executors' memory did not grow ($before kB, then $after kB)");
	is($node->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_dash executor' "
		  . "AND (xact_start IS NOT NULL OR state <> 'idle')"), '0', 'no executor is left in a transaction');
	is_deeply([ executor_pids() ], \@pids, 'and none ended');
	is(get_json('/api/query/fast')->{status}, 200, 'the next request is served');
}

# --- an aggregate PostgreSQL plans in parallel runs with parallel workers through pg_dash too
{
	$node->safe_psql('postgres', q{
		CREATE TABLE big AS SELECT g AS id FROM generate_series(1, 20000) g;
		ANALYZE big;
		GRANT SELECT ON big TO dash_reader;
		SELECT pg_dash.define_query('big_count', 'SELECT count(*) AS n FROM big WHERE pg_sleep(0.0001) IS NOT NULL');
	});
	like($node->safe_psql('postgres', "SET ROLE dash_reader; EXPLAIN SELECT count(*) AS n FROM big WHERE pg_sleep(0.0001) IS NOT NULL"),
		qr/Gather/, 'psql gets a parallel plan for it');
	my ($h, $out) = start_request('/api/query/big_count');
	my $seen = 0;
	my $deadline = time + 20;
	while (!$seen && time < $deadline && $h->pumpable)
	{
		$seen = $node->safe_psql('postgres',
			"SELECT count(*) FROM pg_stat_activity w JOIN pg_stat_activity l ON l.pid = w.leader_pid "
			  . "WHERE w.backend_type = 'parallel worker' AND l.backend_type = 'pg_dash executor'");
		$h->pump_nb;
		sleep 0.05;
	}
	$h->finish;
	cmp_ok($seen, '>=', 1, "parallel workers ran for the executor ($seen seen at once)");
	like($$out, qr/"rows":\[\[20000\]\].*\n200$/s, 'and the answer is right');
}

done_testing();
