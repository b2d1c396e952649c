# The request pipeline's error capture: an ERROR anywhere in a request (at
# the first row, in the middle of a streamed result, in an action, in the
# state API, from a statement timeout) leaves the process that ran it with
# no open transaction and no memory it keeps: after hundreds of failures the
# executor and the serving worker are idle, outside any transaction, and
# their memory has not grown.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);
use lib 't';
use PgDashTest;

my $setup = <<'SQL';
CREATE ROLE dash_reader;
SELECT pg_dash.define_query('fails_first', 'SELECT 1 / (g - g) AS x FROM generate_series(1, 10) g');
SELECT pg_dash.define_query('fails_midway',
  'SELECT 1 / (g - 15000) AS x, repeat(''r'', 200) AS pad FROM generate_series(1, 20000) g');
SELECT pg_dash.define_query('too_slow', 'SELECT pg_sleep(1) AS slept');
CREATE FUNCTION refuse(state jsonb, payload jsonb) RETURNS jsonb LANGUAGE plpgsql AS
  $$ BEGIN RAISE EXCEPTION 'refused: %', payload->>'why'; END $$;
SELECT pg_dash.define_action('refuse', 'refuse(jsonb, jsonb)');
SQL

my ($node, $port) = start_node('pipeline', workers => 1, setup => $setup,
	conf => "pg_dash.role = 'dash_reader'\npg_dash.executors = 1\npg_dash.inline_below = 0\n"
	  . "pg_dash.statement_timeout = '100ms'\nlog_min_messages = info\n");

my $origin = "Origin: http://127.0.0.1:$port";

# One round of failing requests of every kind.
sub fail_round
{
	my %status;
	$status{first} = http($port, 'GET', '/api/query/fails_first')->{status};
	my $mid = http($port, 'GET', '/api/query/fails_midway');
	$status{midway} = $mid->{status};
	$status{midway_cut} = $mid->{body} !~ /\]\s*,\s*"row_count"/ ? 1 : 0;
	$status{timeout} = http($port, 'GET', '/api/query/too_slow')->{status};
	$status{action} = http($port, 'POST', '/api/action/refuse', body => '{"why":"test"}',
		headers => [ 'Content-Type: application/json', $origin ])->{status};
	$status{state} = http($port, 'PATCH', '/api/state', body => '{"a":',
		headers => [ 'Content-Type: application/json', $origin ])->{status};
	return \%status;
}

sub pid_of
{
	my ($type) = @_;
	return $node->safe_psql('postgres', "SELECT pid FROM pg_stat_activity WHERE backend_type = '$type'");
}

# The memory a process holds: the grand total pg_log_backend_memory_contexts() logs.
sub memory_of
{
	my ($pid) = @_;
	my $log = $node->logfile;
	my $offset = -s $log;
	$node->safe_psql('postgres', "SELECT pg_log_backend_memory_contexts($pid)");
	my $total;
	wait_until(sub {
		my $text = slurp_file($log, $offset);
		($total) = $text =~ /\[$pid\][^\n]*Grand total: (\d+) bytes/;
		return defined $total;
	}, 10);
	return $total;
}

sub idle_outside_transaction
{
	my ($pid) = @_;
	return $node->safe_psql('postgres',
		"SELECT state = 'idle' AND backend_xid IS NULL AND backend_xmin IS NULL FROM pg_stat_activity WHERE pid = $pid");
}

my $first = fail_round();
is($first->{first}, 400, 'an error at the first row is answered with its status (22012: 400)');
ok($first->{midway} == 200 && $first->{midway_cut}, 'an error in the middle of a streamed result cuts it')
  or diag(explain $first);
is($first->{timeout}, 504, 'a statement timeout is answered 504');
is($first->{action}, 400, 'an action that raises is answered with its error');
is($first->{state}, 400, 'a malformed state write is answered 400');

my $executor = pid_of('pg_dash executor');
my $worker = pid_of('pg_dash');
fail_round() for 1 .. 5;
my %before = (executor => memory_of($executor), worker => memory_of($worker));
my $same = 1;
for (1 .. 40)
{
	my $r = fail_round();
	$same &&= $r->{first} == 400 && $r->{midway_cut} && $r->{timeout} == 504 && $r->{action} == 400;
}
ok($same, 'two hundred failures later, every request still gets its answer');
is(pid_of('pg_dash executor'), $executor, 'the executor that ran them is the same process');
is(pid_of('pg_dash'), $worker, 'so is the serving worker');
ok(wait_until(sub { idle_outside_transaction($executor) eq 't' }, 5),
	'the executor is idle, outside any transaction');
ok(wait_until(sub { idle_outside_transaction($worker) eq 't' }, 5),
	'the serving worker is idle, outside any transaction');
for my $who ('executor', 'worker')
{
	my $after = memory_of($who eq 'executor' ? $executor : $worker);
	ok(defined $before{$who} && defined $after, "the ${who}'s memory was read");
	cmp_ok(($after // 0) - ($before{$who} // 0), '<', 256 * 1024,
		"the ${who}'s memory did not grow over 200 failures");
	note("$who: $before{$who} -> $after bytes");
}
is(http($port, 'GET', '/healthz')->{status}, 200, 'the worker is healthy');

$node->stop;
done_testing();
