# Buffered session state writes (docs/session.md, "What is batched, and
# when"): a PATCH is answered from shared memory and written to the table
# after pg_dash.session_write_delay.  Once answered it is seen by later
# requests on any worker, by SQL (pg_dash.state()), by actions, by the
# session's other tabs once written, and after a clean restart; concurrent
# patches of one session all land; direct writers (set_state(), actions,
# rotation) and the buffer never overwrite each other.
use strict;
use warnings;

use Digest::SHA qw(sha256_hex);
use MIME::Base64 qw(decode_base64url);
use POSIX ();
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep time);
use lib 't';
use PgDashTest;
use PgDashWs;

# A long delay, so that "not in the table yet" can be seen.
my ($node, $port) = start_node('session_writes',
	conf => join("\n",
		'pg_dash.session_write_delay = 4000',
		'pg_dash.max_new_sessions_per_ip = 100000'),
	setup => <<'SQL');
CREATE ROLE dash_reader;
GRANT USAGE ON SCHEMA pg_dash TO dash_reader;
SELECT pg_dash.define_query('my_state', 'SELECT pg_dash.state() AS s');
CREATE FUNCTION via_sql(state jsonb, payload jsonb) RETURNS jsonb LANGUAGE plpgsql
  AS $$BEGIN PERFORM pg_dash.set_state('by_sql', payload); RETURN NULL; END$$;
SELECT pg_dash.define_action('via_sql', 'via_sql(jsonb, jsonb)'::regprocedure);
CREATE FUNCTION count_up(state jsonb, payload jsonb) RETURNS jsonb LANGUAGE sql
  AS $$SELECT jsonb_build_object('n', coalesce((state->>'n')::int, 0) + 1)$$;
SELECT pg_dash.define_action('count_up', 'count_up(jsonb, jsonb)'::regprocedure);
SQL
$node->safe_psql('postgres', q{ALTER SYSTEM SET pg_dash.role = 'dash_reader'; SELECT pg_reload_conf()});

# The token in a response's Set-Cookie, or undef.
sub token_of
{
	my ($r) = @_;
	my $sc = $r->{headers}{'set-cookie'} // '';
	return $sc =~ /pg_dash_session=([A-Za-z0-9_-]+);/ ? $1 : undef;
}

# One request with the session's cookies and, when it writes, its CSRF token.
sub req
{
	my ($method, $path, $token, %o) = @_;
	my @h;
	push @h, "Cookie: pg_dash_session=$token; pg_dash_csrf=" . csrf_of($token) if defined $token;
	push @h, 'X-CSRF-Token: ' . csrf_of($token) if defined $token && $method !~ /^(GET|HEAD)$/;
	push @h, 'Content-Type: application/json' if defined $o{body};
	return http($port, $method, $path, headers => \@h, body => $o{body});
}

sub state_of { return json_decode($_[0]->{body})->{state} }

# A string quoted for a SQL literal.
sub sql_quote { my ($v) = @_; $v =~ s/'/''/g; return $v }

# The state the table holds for a session, decoded ({} when it has no row).
sub table_state
{
	my ($token) = @_;
	my $id = sha256_hex(decode_base64url($token));
	my $v = $node->safe_psql('postgres',
		"SELECT data FROM pg_dash.session_state WHERE id = '$id'");
	return $v eq '' ? {} : json_decode($v);
}

# What pg_dash.state() returns in a named query run for the session.
sub sql_state
{
	my ($token) = @_;
	my $r = req('GET', '/api/query/my_state', $token);
	return json_decode($r->{body})->{rows}[0][0];
}

# --- a new session: its first write goes to the table at once
my $r = req('PATCH', '/api/state', undef, body => '{"a":1}');
is($r->{status}, 200, 'the first PATCH creates a session');
my $token = token_of($r);
ok(defined $token, '... and sets its cookie');
is_deeply(table_state($token), { a => 1 }, 'a new session\'s first write is in the table at once');

# --- another tab of the session listens on a WebSocket
my $ws = PgDashWs->connect(port => $port, protocol => 'pg_dash.v1',
	headers => { Cookie => "pg_dash_session=$token" });
my $hello = $ws->recv_json(timeout => 5);
ok($hello && $hello->{session}, 'the other tab knows its session');

# --- a buffered PATCH: seen at once by later requests and SQL, not yet in the table
my $t0 = time;
$r = req('PATCH', '/api/state', $token, body => '{"region":"North","a":null}');
is($r->{status}, 200, 'PATCH answered');
is_deeply(state_of($r), { region => 'North' }, '... with the merged state');
my %seen_by_worker;
for (1 .. 8)
{
	$r = req('GET', '/api/state', $token);
	$seen_by_worker{ state_of($r)->{region} // 'missing' }++;
}
is_deeply(\%seen_by_worker, { North => 8 }, 'every later GET (on either worker) sees it');
is_deeply(sql_state($token), { region => 'North' }, 'pg_dash.state() in a named query sees it');
my $in_table = table_state($token);
my $early = time - $t0 < 3.5;
SKIP:
{
	skip 'the machine took longer than the delay to get here', 1 unless $early;
	is_deeply($in_table, { a => 1 }, 'the table does not have it before pg_dash.session_write_delay');
}

# --- written within the delay, and the other tab told then
my $msg = $ws->recv_until(sub { ($_->{text} // '') =~ /"type":"state"/ }, timeout => 10);
my $told_after = time - $t0;
ok($msg, 'the other tab is told');
is_deeply($msg ? json_decode($msg->{text})->{state} : undef, { region => 'North' }, '... the new state');
ok($told_after > 3 || !$early, sprintf('... once the write is due (%.1f s)', $told_after));
is_deeply(table_state($token), { region => 'North' }, 'the table has it after the delay');

# --- patches in a row are merged in order, and written together
for my $i (1 .. 20)
{
	$r = req('PATCH', '/api/state', $token, body => qq({"k$i":$i,"last":$i}));
}
is(state_of($r)->{last}, 20, 'twenty PATCHes in a row');
is(scalar(grep { /^k\d+$/ } keys %{ state_of($r) }), 20, '... each merged into the last');

# --- the buffer's merge (in C) gives what pg_dash.jsonb_merge_patch() gives
{
	my $t2 = token_of(req('PATCH', '/api/state', undef, body => '{"seed":1}'));
	my @cases = (
		'{"a":{"b":1,"c":[1,2]},"d":"x"}',
		'{"a":{"b":null,"e":{"f":null,"g":2}},"d":null}',
		'{"a":[3,{"x":null}],"h":{"i":{"j":{}}}}',
		'{"a":{"k":1},"h":"scalar","seed":null}',
		'{"h":{"deep":{"er":true}},"u":"\\u00e9\\n","n":1.50}',
		'{}');
	for my $patch (@cases)
	{
		my $before = JSON::PP->new->encode(state_of(req('GET', '/api/state', $t2)));
		my $want = $node->safe_psql('postgres',
			"SELECT pg_dash.jsonb_merge_patch('" . sql_quote($before) . "'::jsonb, '" . sql_quote($patch) . "'::jsonb)");
		my $got = state_of(req('PATCH', '/api/state', $t2, body => $patch));
		is_deeply($got, json_decode($want), "merge of $patch as in SQL");
	}
	my $got = state_of(req('PUT', '/api/state/h', $t2, body => '[1,{"z":null}]'));
	is_deeply($got->{h}, [ 1, { z => undef } ], 'PUT replaces a key with any value, nulls kept');
	$got = state_of(req('PUT', '/api/state/s', $t2, body => '"str"'));
	is($got->{s}, 'str', 'PUT of a scalar');
	$got = state_of(req('DELETE', '/api/state/s', $t2));
	ok(!exists $got->{s} && exists $got->{h}, 'DELETE removes one key');
	$got = state_of(req('DELETE', '/api/state', $t2));
	is_deeply($got, {}, 'DELETE of the state clears it');
}

# --- concurrent patches of one session from two processes all land
my @pids;
for my $p (1, 2)
{
	my $pid = fork();
	die "fork: $!" unless defined $pid;
	if ($pid == 0)
	{
		req('PATCH', '/api/state', $token, body => qq({"p${p}_$_":$_})) for 1 .. 25;
		# not exit: the test framework's END blocks would stop the node
		POSIX::_exit(0);
	}
	push @pids, $pid;
}
waitpid($_, 0) for @pids;
my $st = state_of(req('GET', '/api/state', $token));
is(scalar(grep { /^p[12]_\d+$/ } keys %$st), 50, 'concurrent patches: all 50 keys are there');

# --- a direct writer on a buffered session: both writes kept, in the table at once
$r = req('PATCH', '/api/state', $token, body => '{"before_sql":1}');
$r = req('POST', '/api/action/via_sql', $token, body => '{"payload":"x"}');
is($r->{status}, 200, 'an action calling set_state() on a session with buffered writes')
  or diag($r->{body});
$st = state_of(req('GET', '/api/state', $token));
is($st->{before_sql}, 1, '... keeps the buffered write');
is($st->{by_sql}, 'x', '... and its own');
my $t = table_state($token);
is_deeply([ $t->{before_sql}, $t->{by_sql} ], [ 1, 'x' ], '... both in the table when it commits');
$r = req('PATCH', '/api/state', $token, body => '{"after_sql":1}');
$r = req('POST', '/api/action/count_up', $token, body => '{}');
is_deeply([ state_of($r)->{after_sql}, state_of($r)->{n} ], [ 1, 1 ],
	'an action returning changes merges them over the buffered state');

# --- a PATCH that makes the state too large stores nothing
$r = req('PATCH', '/api/state', $token, body => '{"huge":"' . ('z' x 70000) . '"}');
is($r->{status}, 200, 'a state over the buffer\'s entry size is written to the table directly');
is(length(table_state($token)->{huge} // ''), 70000, '... at once');
$node->safe_psql('postgres', q{ALTER SYSTEM SET pg_dash.session_max_bytes = '80kB'; SELECT pg_reload_conf()});
sleep 0.5;
$r = req('PATCH', '/api/state', $token, body => '{"huge2":"' . ('z' x 20000) . '"}');
is($r->{status}, 413, 'a PATCH over pg_dash.session_max_bytes is refused');
ok(!exists state_of(req('GET', '/api/state', $token))->{huge2}, '... and stores nothing');
$r = req('PATCH', '/api/state', $token, body => '{"huge":null}');
$r = req('PATCH', '/api/state', $token, body => '{"small":"' . ('s' x 100) . '","tiny":1}');
$node->safe_psql('postgres', q{ALTER SYSTEM SET pg_dash.session_max_bytes = 200; SELECT pg_reload_conf()});
sleep 0.5;
$r = req('PATCH', '/api/state', $token, body => '{"over":"' . ('o' x 150) . '"}');
is($r->{status}, 413, 'a buffered PATCH over the limit is refused');
ok(!exists state_of(req('GET', '/api/state', $token))->{over}, '... and not buffered');
$node->safe_psql('postgres', q{ALTER SYSTEM RESET pg_dash.session_max_bytes; SELECT pg_reload_conf()});
sleep 0.5;

# --- rotation writes what was buffered under the new id
$r = req('PATCH', '/api/state', $token, body => '{"rotated":true}');
$r = req('POST', '/api/session/rotate', $token);
is($r->{status}, 200, 'rotate a session with buffered writes');
my $new = token_of($r);
ok(defined $new && $new ne $token, '... a new token');
is(state_of(req('GET', '/api/state', $new))->{rotated}, JSON::PP::true(), '... that sees the buffered write');
is(table_state($new)->{rotated}, JSON::PP::true(), '... which the table has under the new id');
$token = $new;

# --- a clean restart writes what is buffered first
$r = req('PATCH', '/api/state', $token, body => '{"late":1}');
is($r->{status}, 200, 'a PATCH just before a restart');
$node->restart;
wait_for_workers($node, $port, 2);
is(state_of(req('GET', '/api/state', $token))->{late}, 1, '... is there after a clean restart');

# --- the session writer: its own process, which writes what is buffered
# before it stops, and is started again
my $writer_sql = q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_dash session writer'};
my $writer = $node->safe_psql('postgres', $writer_sql);
like($writer, qr/^\d+$/, 'one session writer runs');
$r = req('PATCH', '/api/state', $token, body => '{"before_stop":1}');
ok(!exists table_state($token)->{before_stop}, 'a buffered PATCH waits for the delay');
$node->safe_psql('postgres', "SELECT pg_terminate_backend($writer)");
my $landed;
for (1 .. 30)
{
	last if $landed = table_state($token)->{before_stop};
	sleep 0.1;
}
ok($landed, 'the writer writes it when it is stopped, before the delay');
my $again = '';
for (1 .. 50)
{
	$again = $node->safe_psql('postgres', $writer_sql);
	last if $again =~ /^\d+$/ && $again ne $writer;
	sleep 0.1;
}
ok($again =~ /^\d+$/ && $again ne $writer, '... and a new writer is started');

# --- with no worker slot for the writer, worker 0 writes the buffer
$node->safe_psql('postgres', q{ALTER SYSTEM SET max_worker_processes = 2; ALTER SYSTEM SET pg_dash.session_write_delay = 300});
$node->restart;
# the slots go to the logical replication launcher and worker 0
wait_for_workers($node, $port, 1);
is($node->safe_psql('postgres', $writer_sql), '', 'no slot left for the session writer');
$r = req('PATCH', '/api/state', $token, body => '{"stand_in":1}');
is(state_of($r)->{stand_in}, 1, 'a PATCH is answered without it');
$landed = undef;
for (1 .. 50)
{
	last if $landed = table_state($token)->{stand_in};
	sleep 0.1;
}
ok($landed, '... and written by worker 0 after the delay');
$node->safe_psql('postgres', q{ALTER SYSTEM RESET max_worker_processes});
$node->restart;
wait_for_workers($node, $port, 2);

# --- with pg_dash.session_write_delay = 0 every write goes to the table at once
$node->safe_psql('postgres', q{ALTER SYSTEM SET pg_dash.session_write_delay = 0; SELECT pg_reload_conf()});
sleep 0.5;
$r = req('PATCH', '/api/state', $token, body => '{"now":1}');
is(table_state($token)->{now}, 1, 'delay 0: the PATCH is in the table when answered');

$ws->disconnect;
$node->stop;
done_testing();
