# The serving worker's fast paths.  Cache hits are answered without a
# transaction (no executor job, no SQL), and stay true: a REVOKE, a
# row-level security policy, a drop_query or a redefinition is honoured by
# them within about a second (the worker catches up with invalidations once
# a second).  Queries measured cheap run in the worker itself, bounded: one
# that turns slow is canceled at the bound, answered by an executor, and
# kept out of the loop.
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use lib 't';
use PgDashTest;

my $setup = <<'SQL';
CREATE ROLE dash_reader;
CREATE TABLE sales (region text, amount int);
INSERT INTO sales VALUES ('north', 10), ('south', 20);
GRANT SELECT ON sales TO dash_reader;
CREATE TABLE delay (ms int);
INSERT INTO delay VALUES (0);
GRANT SELECT ON delay TO dash_reader;
SELECT pg_dash.define_query('point', 'SELECT pg_sleep((SELECT ms FROM delay) / 1000.0), 7 AS seven');
SELECT pg_dash.define_query('totals', 'SELECT region, amount FROM sales ORDER BY region',
                            cache_ttl => 300);
SQL

my ($node, $port) = start_node('cache_hits', workers => 1, setup => $setup,
	conf => "pg_dash.role = 'dash_reader'\npg_dash.executors = 1\n");

sub jobs
{
	my ($m) = http($port, 'GET', '/metrics')->{body} =~ /^pg_dash_executor_jobs_total (\d+)/m;
	return $m // -1;
}

sub counter
{
	my ($name) = @_;
	my ($v) = http($port, 'GET', '/metrics')->{body} =~ /^\Q$name\E (\d+)/m;
	return $v // -1;
}

sub xact_commits
{
	return $node->safe_psql('postgres',
		"SELECT coalesce(sum(xact_commit), 0) FROM pg_stat_database WHERE datname = current_database()");
}

# Waits (up to $limit seconds) until GET /api/query/totals satisfies $cond;
# returns the seconds it took, or undef.
sub seconds_until
{
	my ($cond, $limit) = @_;
	my $t0 = time;
	while (time - $t0 < $limit)
	{
		my $r = http($port, 'GET', '/api/query/totals');
		return time - $t0 if $cond->($r);
		sleep 0.05;
	}
	return undef;
}

my $first = http($port, 'GET', '/api/query/totals');
is($first->{status}, 200, 'the query answers');
is($first->{headers}{'x-pg-dash-cache'}, 'miss', 'the first answer is computed');

# the worker learns the definition at its next catch-up (once a second)
ok(wait_until(sub {
	my $before = jobs();
	my $r = http($port, 'GET', '/api/query/totals');
	return ($r->{headers}{'x-pg-dash-cache'} // '') eq 'hit' && jobs() == $before;
}, 10), 'the serving worker answers cache hits itself within seconds of the first run');
my $jobs = jobs();
my $hits = 0;
for (1 .. 20)
{
	my $r = http($port, 'GET', '/api/query/totals');
	$hits++ if $r->{status} == 200 && ($r->{headers}{'x-pg-dash-cache'} // '') eq 'hit'
	  && $r->{body} eq $first->{body};
}
is($hits, 20, 'twenty hits with the same body');
is(jobs(), $jobs, 'cache hits give the executors no job: the serving worker answers them');

my $etag = http($port, 'GET', '/api/query/totals')->{headers}{etag};
is(http($port, 'GET', '/api/query/totals', headers => ["If-None-Match: $etag"])->{status}, 304,
	'a hit answers 304 to the ETag the client has');

# --- REVOKE: refused within about a second, although the result is cached
$node->safe_psql('postgres', 'REVOKE SELECT ON sales FROM dash_reader');
my $took = seconds_until(sub { $_[0]->{status} == 403 }, 10);
ok(defined $took, 'after REVOKE the cached result is no longer served: 403');
cmp_ok($took // 99, '<', 3, 'within about a second of the REVOKE (catch-up once a second)');
note(sprintf('REVOKE honoured after %.2f s', $took // -1));

$node->safe_psql('postgres', 'GRANT SELECT ON sales TO dash_reader');
ok(defined seconds_until(sub { $_[0]->{status} == 200 }, 10), 'after GRANT it answers again');
ok(wait_until(sub {
	(http($port, 'GET', '/api/query/totals')->{headers}{'x-pg-dash-cache'} // '') eq 'hit' }, 5),
	'and is cached again');

# --- what changes no rights keeps the cached result: ANALYZE, an index, a comment
{
	# let the GRANT's relation be compared once by every process first
	ok(wait_until(sub {
		my $before = jobs();
		my $r = http($port, 'GET', '/api/query/totals');
		return ($r->{headers}{'x-pg-dash-cache'} // '') eq 'hit' && jobs() == $before;
	}, 10), 'the worker answers the hit itself again');
	$node->safe_psql('postgres', "ANALYZE sales; CREATE INDEX sales_region ON sales (region); COMMENT ON TABLE sales IS 'x'");
	sleep 1.5;    # every process has read the invalidations by now
	my $before = jobs();
	my $r = http($port, 'GET', '/api/query/totals');
	is($r->{headers}{'x-pg-dash-cache'} // '', 'hit', 'after ANALYZE, CREATE INDEX and COMMENT the result is still cached');
	is(jobs(), $before, 'and still answered by the serving worker');
}

# --- a row-level security policy changes what the role sees
$node->safe_psql('postgres', q{
	ALTER TABLE sales ENABLE ROW LEVEL SECURITY;
	CREATE POLICY north_only ON sales FOR SELECT TO dash_reader USING (region = 'north');
});
$took = seconds_until(sub { $_[0]->{status} == 200 && $_[0]->{body} !~ /south/ }, 10);
ok(defined $took, 'after a policy the cached rows it hides are no longer served');
cmp_ok($took // 99, '<', 3, 'within about a second of the policy');
like(http($port, 'GET', '/api/query/totals')->{body}, qr/north/, 'the rows the policy allows remain');

# --- a redefinition and a drop
$node->safe_psql('postgres',
	"SELECT pg_dash.define_query('totals', 'SELECT region, amount * 2 AS doubled FROM sales', cache_ttl => 300)");
ok(defined seconds_until(sub { $_[0]->{body} =~ /doubled/ }, 10), 'a redefinition is served, not the old result');
$node->safe_psql('postgres', "SELECT pg_dash.drop_query('totals')");
$took = seconds_until(sub { $_[0]->{status} == 404 }, 10);
ok(defined $took, 'after drop_query the query is gone: 404');
cmp_ok($took // 99, '<', 3, 'within about a second of the drop');

# --- the catch-up transaction is cheap and regular: about one a second
my $c0 = xact_commits();
sleep 3;
my $per_second = (xact_commits() - $c0 - 1) / 3;
cmp_ok($per_second, '<', 20, 'an idle worker catches up about once a second, no more');

# --- a cheap query runs in the serving worker, bounded
for (1 .. 10) { http($port, 'GET', '/api/query/point') }
my ($runs, $jobs0) = (counter('pg_dash_inline_runs_total'), jobs());
my $p = http($port, 'GET', '/api/query/point');
is($p->{status}, 200, 'a query measured cheap answers');
like($p->{body}, qr/7/, 'with its result');
is(counter('pg_dash_inline_runs_total'), $runs + 1, 'it ran in the serving worker');
is(jobs(), $jobs0, 'and gave the executors no job');

$node->safe_psql('postgres', 'UPDATE delay SET ms = 300');
my $fallbacks = counter('pg_dash_inline_fallbacks_total');
my $t0 = time;
$p = http($port, 'GET', '/api/query/point');
is($p->{status}, 200, 'a query that turned slow still answers');
like($p->{body}, qr/7/, 'with its result, computed by an executor');
cmp_ok(time - $t0, '>=', 0.3, 'after the slow run');
is(counter('pg_dash_inline_fallbacks_total'), $fallbacks + 1, 'the inline run was canceled at its bound');
$jobs0 = jobs();
$runs = counter('pg_dash_inline_runs_total');
http($port, 'GET', '/api/query/point');
is(jobs(), $jobs0 + 1, 'the next run goes to an executor');
is(counter('pg_dash_inline_runs_total'), $runs, 'not to the loop');
is($node->safe_psql('postgres', "SELECT errors FROM pg_dash.query_stats WHERE name = 'point'"), 0,
	'the canceled inline run is not counted as an error of the query');

# while a slow query runs in the executor, /healthz of the same worker answers
{
	my $h = IPC::Run::start(['curl', '-s', '-o', '/dev/null', "http://127.0.0.1:$port/api/query/point"]);
	sleep 0.1;
	my $t1 = time;
	is(http($port, 'GET', '/healthz')->{status}, 200, '/healthz answers while the slow query runs');
	cmp_ok(time - $t1, '<', 0.25, 'without waiting for it');
	$h->finish;
}

$node->stop;
done_testing();
