# Request SQL never exceeds pg_dash.role: escape attempts through a named
# query, an action and /api/sql; settings that must not outlive a request;
# served roles that would bypass GRANTs or RLS; the result cache decided by
# what a query did, not by its text; database error details; cancels;
# forged internal notifications.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use lib 't';
use PgDashTest;
use PgDashWs;

my $setup = <<'SQL';
CREATE ROLE dash_reader;
CREATE TABLE hidden_tbl (secret text);
INSERT INTO hidden_tbl VALUES ('top secret');
CREATE TABLE sales (region text, amount int);
INSERT INTO sales VALUES ('North', 10), ('South', 20), ('North', 5);
GRANT SELECT ON sales TO dash_reader;

-- escapes a request's SQL may try, each through a SECURITY INVOKER function
CREATE FUNCTION try_set_role() RETURNS text LANGUAGE plpgsql AS
  $$ BEGIN SET ROLE postgres; RETURN current_user; END $$;
CREATE FUNCTION try_reset_role() RETURNS text LANGUAGE plpgsql AS
  $$ BEGIN RESET ROLE; RETURN current_user; END $$;
CREATE FUNCTION try_copy_program() RETURNS text LANGUAGE plpgsql AS
  $$ BEGIN EXECUTE 'COPY (SELECT 1) TO PROGRAM ''touch /tmp/pg_dash_pwned'''; RETURN current_user; END $$;
CREATE FUNCTION try_lo_export() RETURNS text LANGUAGE plpgsql AS
  $$ BEGIN PERFORM lo_export(lo_from_bytea(0, 'x'), '/tmp/pg_dash_pwned_lo'); RETURN current_user; END $$;

CREATE TABLE escapes (name text, expr text);
INSERT INTO escapes VALUES
  ('set_config_role', 'set_config(''role'', ''postgres'', true)'),
  ('set_config_role_session', 'set_config(''role'', ''postgres'', false)'),
  ('set_config_auth', 'set_config(''session_authorization'', ''postgres'', true)'),
  ('set_config_pg_dash_role', 'set_config(''pg_dash.role'', ''postgres'', true)'),
  ('set_config_session_id', 'set_config(''pg_dash.session_id'', repeat(''a'', 64), true)'),
  ('set_role_in_function', 'try_set_role()'),
  ('reset_role_in_function', 'try_reset_role()'),
  ('copy_to_program', 'try_copy_program()'),
  ('pg_read_file', 'pg_read_file(''/etc/passwd'')'),
  ('lo_export', 'try_lo_export()');
SELECT pg_dash.define_query('esc_' || name, 'SELECT ' || expr || ' AS r, current_user AS u') FROM escapes;

CREATE FUNCTION escape_action(state jsonb, payload jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
    EXECUTE 'SELECT ' || (SELECT expr FROM escapes WHERE name = payload ->> 'name') INTO r;
    RETURN jsonb_build_object('user', current_user);
END $$;
SELECT pg_dash.define_action('escape_action', 'escape_action(jsonb, jsonb)');
CREATE FUNCTION whoami_action(state jsonb, payload jsonb) RETURNS jsonb LANGUAGE sql AS
  $$ SELECT jsonb_build_object('user', current_user::text, 'search_path', current_setting('search_path')) $$;
SELECT pg_dash.define_action('whoami_action', 'whoami_action(jsonb, jsonb)');
CREATE FUNCTION setter_action(state jsonb, payload jsonb) RETURNS jsonb LANGUAGE sql AS
  $$ SELECT jsonb_build_object('set', set_config('search_path', 'evil_action', false)) $$;
SELECT pg_dash.define_action('setter_action', 'setter_action(jsonb, jsonb)');

SELECT pg_dash.define_query('whoami', 'SELECT current_user AS u, session_user AS s');
SELECT pg_dash.define_query('setter', 'SELECT set_config(''search_path'', ''evil'', false) AS sp, '
  || 'set_config(''TimeZone'', ''Pacific/Chatham'', false) AS tz, '
  || 'set_config(''default_transaction_read_only'', ''off'', false) AS ro');
SELECT pg_dash.define_query('settings', 'SELECT current_setting(''search_path'') AS sp, '
  || 'current_setting(''TimeZone'') AS tz, current_setting(''transaction_read_only'') AS ro');
SELECT pg_dash.define_query('hidden', 'SELECT secret FROM hidden_tbl');
SELECT pg_dash.define_query('slow', 'SELECT pg_sleep(:s::float8) AS slept');

-- state read in ways no text search finds: every one is cached per session
CREATE VIEW region_view AS SELECT pg_dash.state('region') AS r;
GRANT SELECT ON region_view TO dash_reader;
CREATE FUNCTION current_region() RETURNS jsonb LANGUAGE sql STABLE AS $$ SELECT pg_dash.state('region') $$;
SELECT pg_dash.define_query('st_upper', 'SELECT PG_DASH.STATE(''region'') AS r', cache_ttl => 60);
SELECT pg_dash.define_query('st_quoted', 'SELECT "pg_dash"."state"(''region'') AS r', cache_ttl => 60);
SELECT pg_dash.define_query('st_newline', E'SELECT pg_dash.\n  state(''region'') AS r', cache_ttl => 60);
SELECT pg_dash.define_query('st_view', 'SELECT r FROM region_view', cache_ttl => 60);
SELECT pg_dash.define_query('st_function', 'SELECT current_region() AS r', cache_ttl => 60);
SELECT pg_dash.define_query('shared', 'SELECT sum(amount) AS total, clock_timestamp() AS at FROM sales', cache_ttl => 60);

SELECT pg_dash.define_channel('chan_a');
SELECT pg_dash.define_channel('chan_b');

CREATE ROLE priv_bypass BYPASSRLS;
CREATE ROLE priv_createrole CREATEROLE;
CREATE ROLE priv_files;
GRANT pg_read_server_files TO priv_files;
CREATE ROLE priv_all_data;
GRANT pg_read_all_data TO priv_all_data;
CREATE ROLE priv_super SUPERUSER;
SQL

my ($node, $port) = start_node('privilege', workers => 1, setup => $setup,
	conf => "pg_dash.role = 'dash_reader'\npg_dash.allow_sql = on\npg_dash.statement_timeout = '10s'");

sub get_json
{
	my ($path, %o) = @_;
	my $r = http($port, $o{method} // 'GET', $path, %o);
	$r->{json} = eval { json_decode($r->{body}) };
	return $r;
}

sub token_of
{
	my ($r) = @_;
	my $sc = $r->{headers}{'set-cookie'} // '';
	return $sc =~ /pg_dash_session=([A-Za-z0-9_-]+);/ ? $1 : undef;
}

sub post_json
{
	my ($path, $body, $token) = @_;
	my @h = ('Content-Type: application/json', "Origin: http://127.0.0.1:$port");
	push @h, "Cookie: pg_dash_session=$token" if $token;
	return get_json($path, method => 'POST', body => $body, headers => \@h);
}

# The next JSON message of a given type (others skipped); undef on timeout.
sub recv_type
{
	my ($ws, $type, $timeout) = @_;
	my $m = $ws->recv_until(sub {
		$_->{opcode} eq 'text' && $_->{data} =~ /"type":"\Q$type\E"/;
	}, timeout => $timeout // 5);
	return $m ? json_decode($m->{data}) : undef;
}

# Changes settings and waits until the worker applied them.
sub reconfigure
{
	my ($sql) = @_;
	$node->safe_psql('postgres', "$sql; SELECT pg_reload_conf();");
	sleep 0.5;
}

# --- who runs the SQL
my $r = get_json('/api/query/whoami');
is($r->{status}, 200, 'whoami answers');
is($r->{json}{rows}[0][0], 'dash_reader', 'request SQL runs as pg_dash.role');

# --- every escape is refused through a named query, an action and /api/sql
my @escapes = split /\n/, $node->safe_psql('postgres', 'SELECT name || chr(9) || expr FROM escapes ORDER BY name');
for my $line (@escapes)
{
	my ($name, $expr) = split /\t/, $line;
	$r = get_json("/api/query/esc_$name");
	ok($r->{status} >= 400, "named query: $name is refused ($r->{status})");
	unlike($r->{body}, qr/"postgres"/, "named query: $name never answers as postgres");

	$r = post_json('/api/sql', qq({"sql":"SELECT $expr AS r, current_user AS u"}));
	ok($r->{status} >= 400, "/api/sql: $name is refused ($r->{status})");
	unlike($r->{body}, qr/"postgres"/, "/api/sql: $name never answers as postgres");

	$r = post_json('/api/action/escape_action', qq({"payload":{"name":"$name"}}));
	ok($r->{status} >= 400, "action: $name is refused ($r->{status})");
	unlike($r->{body}, qr/"postgres"/, "action: $name never answers as postgres");
}
ok(!-e '/tmp/pg_dash_pwned' && !-e '/tmp/pg_dash_pwned_lo', 'no file was written by an escape');
$r = get_json('/api/query/esc_set_config_role');
like($r->{json}{error}{message} // '', qr/permission denied|security-definer/,
	'the refusal names a permission problem');
$r = post_json('/api/action/whoami_action', '{}');
is($r->{json}{state}{user}, 'dash_reader', 'actions run as pg_dash.role');
$r = get_json('/api/query/whoami');
is($r->{json}{rows}[0][0], 'dash_reader', 'the worker still serves as pg_dash.role afterwards');

# --- settings made by request SQL never outlive the request
my $before = get_json('/api/query/settings')->{json}{rows}[0];
$r = get_json('/api/query/setter');
is($r->{status}, 200, 'a query may change settings for itself');
is_deeply(get_json('/api/query/settings')->{json}{rows}[0], $before,
	'search_path, TimeZone and read-only are back for the next request');
post_json('/api/action/setter_action', '{}');
$r = post_json('/api/action/whoami_action', '{}');
unlike($r->{json}{state}{search_path} // '', qr/evil/, 'an action\'s session-wide SET is undone too');
is_deeply(get_json('/api/query/settings')->{json}{rows}[0], $before, 'and queries see the defaults');
is(get_json('/api/queries')->{status}, 200, 'pg_dash\'s own SQL still works');

# --- the session reaches SQL only through the state functions
$r = post_json('/api/sql', '{"sql":"SELECT current_setting(\'pg_dash.session_id\', true) AS s"}');
is($r->{status}, 200, 'asking for a session setting answers');
is($r->{json}{rows}[0][0], undef, 'no setting carries the session id');

# --- cache: whether a result may be shared is known from what the query did
my $ra = http($port, 'PATCH', '/api/state', body => '{"region":"North"}',
	headers => [ 'Content-Type: application/json', "Origin: http://127.0.0.1:$port" ]);
my $token_a = token_of($ra);
my $rb = http($port, 'PATCH', '/api/state', body => '{"region":"South"}',
	headers => [ 'Content-Type: application/json', "Origin: http://127.0.0.1:$port" ]);
my $token_b = token_of($rb);
ok($token_a && $token_b && $token_a ne $token_b, 'two sessions');
for my $q (qw(st_upper st_quoted st_newline st_view st_function))
{
	my $a1 = get_json("/api/query/$q", headers => ["Cookie: pg_dash_session=$token_a"]);
	# a state write tells the workers when it reaches the table, a moment
	# after it was answered (docs/session.md), and that drops the results
	# that read state: the first answer cached may go with it
	my $a2;
	for (1 .. 20)
	{
		$a2 = get_json("/api/query/$q", headers => ["Cookie: pg_dash_session=$token_a"]);
		last if ($a2->{headers}{'x-pg-dash-cache'} // '') eq 'hit';
		sleep 0.05;
	}
	my $b1 = get_json("/api/query/$q", headers => ["Cookie: pg_dash_session=$token_b"]);
	is($a1->{json}{rows}[0][0], 'North', "$q: session A sees its state");
	is($a2->{json}{rows}[0][0], 'North', "$q: session A again");
	is($a2->{headers}{'x-pg-dash-cache'}, 'hit', "$q: cached for session A");
	is($b1->{json}{rows}[0][0], 'South', "$q: session B never gets A's cached rows");
	my $none = get_json("/api/query/$q");
	unlike($none->{body}, qr/North|South/, "$q: a cookie-less request gets neither");
}
my $s1 = get_json('/api/query/shared', headers => ["Cookie: pg_dash_session=$token_a"]);
my $s2 = get_json('/api/query/shared', headers => ["Cookie: pg_dash_session=$token_b"]);
is($s2->{headers}{'x-pg-dash-cache'}, 'hit', 'a query that reads no state is shared between sessions');
is($s2->{json}{rows}[0][1], $s1->{json}{rows}[0][1], 'with the same body');

# --- database error details reach clients only when allowed; the log has them
my $log_offset = -s $node->logfile;
$r = get_json('/api/query/hidden');
is($r->{status}, 403, 'a permission error is 403');
is($r->{json}{error}{code}, '42501', 'with its SQLSTATE');
unlike($r->{body}, qr/hidden_tbl/, 'but no internal name');
ok(wait_until(sub { slurp_file($node->logfile, $log_offset) =~ /hidden_tbl/ }, 5),
	'the server log names the table');
reconfigure("ALTER SYSTEM SET pg_dash.client_error_detail = on");
$r = get_json('/api/query/hidden');
like($r->{body}, qr/hidden_tbl/, 'pg_dash.client_error_detail = on sends the database message');
reconfigure("ALTER SYSTEM RESET pg_dash.client_error_detail");

# --- served roles that escape GRANTs or RLS are refused
for my $case ([ 'priv_bypass', qr/BYPASSRLS/ ], [ 'priv_createrole', qr/CREATEROLE/ ],
	[ 'priv_files', qr/pg_read_server_files/ ], [ 'priv_all_data', qr/pg_read_all_data/ ],
	[ 'priv_super', qr/superuser/ ])
{
	my ($role, $re) = @$case;
	reconfigure("ALTER SYSTEM SET pg_dash.role = '$role'");
	$r = get_json('/api/query/whoami');
	is($r->{status}, 503, "pg_dash.role = $role is refused");
	like($r->{json}{error}{message} // '', $re, "the reason names it ($role)");
	like($r->{json}{error}{hint} // '', qr/pg_dash\.role|allow_privileged_role/, "the hint names the setting ($role)");
}
reconfigure("ALTER SYSTEM SET pg_dash.allow_privileged_role = on; ALTER SYSTEM SET pg_dash.role = 'priv_bypass'");
$r = get_json('/api/query/whoami');
is($r->{status}, 200, 'pg_dash.allow_privileged_role = on allows BYPASSRLS');
reconfigure("ALTER SYSTEM SET pg_dash.role = 'priv_super'");
is(get_json('/api/query/whoami')->{status}, 503, 'but never a superuser');
reconfigure("ALTER SYSTEM RESET pg_dash.allow_privileged_role; ALTER SYSTEM SET pg_dash.role = 'dash_reader'");
is(get_json('/api/query/whoami')->{status}, 200, 'back to dash_reader');

# --- pg_cancel_backend() cancels the running request, never the process
my ($pid) = values %{ worker_pids($node) };
$node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
sleep 0.3;
is((values %{ worker_pids($node) })[0], $pid, 'cancelling an idle worker does not end it');
is(http($port, 'GET', '/healthz')->{status}, 200, 'and it answers');
is(get_json('/api/query/whoami')->{status}, 200, 'and the next request is not cancelled');
{
	my $out = '';
	my $t0 = time;
	my $h = IPC::Run::start([ 'curl', '-s', '-o', '/dev/stdout', '-w', '\n%{http_code}',
		"http://127.0.0.1:$port/api/query/slow?s=5" ], '>', \$out);
	my $runner;
	ok(wait_until(sub { $runner = $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE query LIKE 'pg_dash query slow%'"); $runner ne '' }, 5),
		'the slow query runs');
	$node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
	sleep 0.3;
	ok($node->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE pid = $runner") == 1,
		'cancelling the serving worker does not touch the query its executor runs');
	$node->safe_psql('postgres', "SELECT pg_cancel_backend($runner)");
	$h->finish;
	like($out, qr/57014/, 'the cancelled request answers 57014');
	like($out, qr/\n504$/, 'with 504');
	ok(time - $t0 < 4, 'without waiting for the query');
	is((values %{ worker_pids($node) })[0], $pid, 'the worker lives on');
	is($node->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE pid = $runner"), '1',
		'so does the executor');
	is(get_json('/api/query/whoami')->{status}, 200, 'and the next request is served');
}

# --- forged internal notifications deliver nothing false
{
	my $ws_b = PgDashWs->connect(port => $port, protocol => 'pg_dash.v1');
	$ws_b->recv_json(timeout => 5);
	$ws_b->send_json({ type => 'subscribe', channel => 'chan_b' });
	recv_type($ws_b, 'subscribed');
	$node->safe_psql('postgres',
		"SELECT pg_dash.publish('chan_a', jsonb_build_object('secret', repeat('s', 9000)))");
	my $id = $node->safe_psql('postgres', "SELECT max(id) FROM pg_dash.messages WHERE channel = 'chan_a'");
	ok($id, 'a large message is stored for chan_a');
	$node->safe_psql('postgres', "SELECT pg_notify('chan_b', E'\\x1fpg_dash:message:$id')");
	$node->safe_psql('postgres', "SELECT pg_dash.publish('chan_b', '{\"real\":1}')");
	my $m = recv_type($ws_b, 'notify');
	is_deeply($m && $m->{payload}, { real => 1 },
		'a forged stored-message marker replays nothing: the next message is the real one');

	my $tab = PgDashWs->connect(port => $port, protocol => 'pg_dash.v1',
		headers => { Cookie => "pg_dash_session=$token_a" });
	$tab->recv_json(timeout => 5);
	my $sid = $node->safe_psql('postgres',
		"SELECT id FROM pg_dash.session_state WHERE data ->> 'region' = 'North'");
	my $notify_id = $node->safe_psql('postgres',
		"SELECT notify_id FROM pg_dash.session_state WHERE id = '$sid'");
	$node->safe_psql('postgres', qq(SELECT pg_notify('pg_dash_state', '$sid {"region":"Forged"}')));
	$node->safe_psql('postgres', qq(SELECT pg_notify('pg_dash_state', 'garbage')));
	$node->safe_psql('postgres', qq(SELECT pg_notify('pg_dash_state', '$notify_id')));
	my @states;
	while (my $s = recv_type($tab, 'state', 2)) { push @states, $s }
	ok(@states >= 1, 'a notification naming the session makes the worker re-read it');
	ok(!(grep { ($_->{state}{region} // '') ne 'North' } @states), 'and it sends only the true state');
	unlike(join(',', map { JSON::PP->new->canonical->encode($_) } @states), qr/Forged/,
		'a forged state never reaches the tab');
}

done_testing();
