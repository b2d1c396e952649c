# Session state over HTTP: cookie, sessions created only by state writes,
# the per-address and total budgets of new sessions, round trips, concurrent
# merge patches, notifications, expiry, rotation, bad cookies and bodies,
# cross-origin refusal, clean restart and crash.
use strict;
use warnings;

use Digest::SHA qw(sha256_hex);
use IPC::Run;
use MIME::Base64 qw(encode_base64url decode_base64url);
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep time);
use lib 't';
use PgDashTest;

my ($node, $port) = start_node('session',
	conf => join("\n",
		'pg_dash.session_sweep_interval = 1',
		'pg_dash.session_max_bytes = 65536',
		# this test creates many sessions from one address; the budget is tested on its own
		'pg_dash.max_new_sessions_per_ip = 100000',
		# the test's client plays the TLS-terminating proxy (X-Forwarded-Proto)
		"pg_dash.trusted_proxies = '127.0.0.1'"),
	setup => <<'SQL');
CREATE ROLE dash_reader;
GRANT USAGE ON SCHEMA pg_dash TO dash_reader;
CREATE FUNCTION noop(state jsonb, payload jsonb) RETURNS jsonb LANGUAGE sql AS 'SELECT NULL::jsonb';
CREATE FUNCTION nothing(state jsonb, payload jsonb) RETURNS jsonb LANGUAGE sql AS $$SELECT '{}'::jsonb$$;
CREATE FUNCTION count_up(state jsonb, payload jsonb) RETURNS jsonb LANGUAGE sql
  AS $$SELECT jsonb_build_object('n', coalesce((state->>'n')::int, 0) + 1)$$;
CREATE FUNCTION via_sql(state jsonb, payload jsonb) RETURNS jsonb LANGUAGE plpgsql
  AS $$BEGIN PERFORM pg_dash.set_state('by_sql', payload); RETURN NULL; END$$;
SELECT pg_dash.define_action('noop', 'noop(jsonb, jsonb)'::regprocedure);
SELECT pg_dash.define_action('nothing', 'nothing(jsonb, jsonb)'::regprocedure);
SELECT pg_dash.define_action('count_up', 'count_up(jsonb, jsonb)'::regprocedure);
SELECT pg_dash.define_action('via_sql', 'via_sql(jsonb, jsonb)'::regprocedure);
CREATE FUNCTION go_to(state jsonb, payload jsonb) RETURNS jsonb LANGUAGE plpgsql
  AS $$BEGIN PERFORM pg_dash.navigate(payload->>'to'); RETURN jsonb_build_object('went', payload->'to'); END$$;
SELECT pg_dash.define_action('go_to', 'go_to(jsonb, jsonb)'::regprocedure);
SELECT pg_dash.define_query('navigating', 'SELECT pg_dash.navigate(''x'')');
SELECT pg_dash.define_query('my_state', 'SELECT pg_dash.state() AS s');
SQL
$node->safe_psql('postgres', q{ALTER SYSTEM SET pg_dash.role = 'dash_reader'; SELECT pg_reload_conf()});

# The token in a response's Set-Cookie, or undef.
sub token_of
{
	my ($r) = @_;
	my $sc = $r->{headers}{'set-cookie'} // '';
	return $sc =~ /^pg_dash_session=([A-Za-z0-9_-]+);/ ? $1 : undef;
}

# The session id (hex SHA-256 of the raw token) the table is keyed by.
sub session_id { return sha256_hex(decode_base64url(shift)) }

# One request with an optional session cookie and JSON body.  Like a
# browser, it sends the CSRF cookie beside the session cookie and, when it
# changes something, the token in X-CSRF-Token (csrf => ... overrides it).
sub req
{
	my ($method, $path, $token, %o) = @_;
	my @h = @{ $o{headers} // [] };
	push @h, "Cookie: pg_dash_session=$token; pg_dash_csrf=" . csrf_of($token) if defined $token;
	my $csrf = exists $o{csrf} ? $o{csrf} : defined $token ? csrf_of($token) : undef;
	push @h, "X-CSRF-Token: $csrf" if defined $csrf && $method !~ /^(GET|HEAD)$/;
	push @h, 'Content-Type: application/json' if defined $o{body};
	return http($port, $method, $path, headers => \@h, body => $o{body});
}

sub state_of { my ($r) = @_; return json_decode($r->{body})->{state} }

sub rows_for
{
	my ($token) = @_;
	return $node->safe_psql('postgres',
		"SELECT count(*) FROM pg_dash.session_state WHERE id = '" . session_id($token) . "'");
}

sub session_rows { return $node->safe_psql('postgres', 'SELECT count(*) FROM pg_dash.session_state') }

# A pg_dash counter from /metrics: the sum of its series whose labels contain $labels.
sub metric
{
	my ($name, $labels) = @_;
	my $sum = 0;
	for my $line (split /\n/, http($port, 'GET', '/metrics')->{body})
	{
		next unless $line =~ /^\Q$name\E(\{[^}]*\})? (\d+(?:\.\d+)?)$/;
		next if defined $labels && index($1 // '', $labels) < 0;
		$sum += $2;
	}
	return $sum;
}

# Sets pg_dash settings with ALTER SYSTEM and waits for both workers to have them.
sub set_conf
{
	my (%gucs) = @_;
	$node->safe_psql('postgres', join('', map { "ALTER SYSTEM SET $_ = '$gucs{$_}';\n" } sort keys %gucs));
	$node->reload;
	sleep 0.5;
}

# --- a first visit reads an empty state and creates nothing
my $rows0 = session_rows();
my $r = req('GET', '/api/state');
is($r->{status}, 200, 'GET /api/state without a cookie answers 200');
is_deeply(state_of($r), {}, 'no session: an empty state');
ok(!defined $r->{headers}{'set-cookie'}, 'GET /api/state without a cookie sets none');
$r = req('GET', '/api/state/region');
is($r->{status}, 404, 'GET /api/state/<key> without a session is 404');
ok(!defined $r->{headers}{'set-cookie'}, '... and sets no cookie');
for my $case ([ 'DELETE', '/api/state' ], [ 'DELETE', '/api/state/k' ], [ 'POST', '/api/session/rotate' ])
{
	$r = req($case->[0], $case->[1]);
	is($r->{status}, 200, "$case->[0] $case->[1] without a session answers 200");
	is_deeply(state_of($r), {}, '... with an empty state');
	ok(!defined $r->{headers}{'set-cookie'}, '... and no cookie');
}
for my $action ('noop', 'nothing')
{
	$r = req('POST', "/api/action/$action", undef, body => '{"payload":1}');
	is($r->{status}, 200, "cookie-less action $action that writes no state answers 200");
	is_deeply(json_decode($r->{body}), { state => {}, changes => {} }, '... with {} state and changes');
	ok(!defined $r->{headers}{'set-cookie'}, '... and no cookie');
}
$r = req('GET', '/api/query/my_state');
is($r->{status}, 200, 'a query reading state without a session answers 200');
is_deeply(json_decode($r->{body})->{rows}, [ [ {} ] ], '... pg_dash.state() is {} there');
is(session_rows(), $rows0, 'reads, deletions, rotations and actions writing nothing created no session');

# --- the first write creates the session, with a cookie with the right attributes
$r = req('PATCH', '/api/state', undef, body => '{}');
is($r->{status}, 200, 'the first PATCH without a cookie answers 200');
is_deeply(state_of($r), {}, 'a new session has an empty state');
my $cookie = $r->{headers}{'set-cookie'} // '';
like($cookie, qr/^pg_dash_session=[A-Za-z0-9_-]{43}; /, 'cookie carries a 256-bit base64url token');
like($cookie, qr/; HttpOnly(;|$)/, 'cookie is HttpOnly');
like($cookie, qr/; SameSite=Lax(;|$)/, 'cookie is SameSite=Lax');
like($cookie, qr/; Path=\/(;|$)/, 'cookie has Path=/');
like($cookie, qr/; Max-Age=604800(;|$)/, 'Max-Age is pg_dash.session_ttl (7 days)');
unlike($cookie, qr/Secure/, 'no Secure over plain HTTP');
like($r->{headers}{'cache-control'} // '', qr/no-store/, 'state is not cached');
my $token = token_of($r);
is(rows_for($token), 1, 'the session row is keyed by the hash of the token');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM pg_dash.session_state s WHERE s::text LIKE '%$token%'"),
	0, 'the token itself is stored nowhere in the table');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM pg_dash.sessions s WHERE s::text LIKE '%" . session_id($token) . "%'"),
	0, 'the sessions view does not show the full id');

$r = req('PATCH', '/api/state', undef, body => '{}', headers => ['X-Forwarded-Proto: https']);
like($r->{headers}{'set-cookie'} // '', qr/; Secure(;|$)/, 'Secure behind a TLS-terminating proxy');

# actions create a session only when they write state
$rows0 = session_rows();
$r = req('POST', '/api/action/count_up', undef, body => '{}');
is($r->{status}, 200, 'a cookie-less action that changes state answers 200');
is_deeply(json_decode($r->{body})->{state}, { n => 1 }, '... with the new state');
my $t_action = token_of($r);
ok(defined $t_action, '... and sets a cookie');
is(rows_for($t_action // ''), 1, '... of a stored session');
$r = req('POST', '/api/action/count_up', $t_action, body => '{}');
is_deeply(json_decode($r->{body})->{state}, { n => 2 }, 'the next call uses that session');
$r = req('POST', '/api/action/via_sql', undef, body => '{"payload":"x"}');
my $t_sql = token_of($r);
ok(defined $t_sql, 'a cookie-less action whose SQL calls set_state() sets a cookie');
is_deeply(json_decode($r->{body})->{state}, { by_sql => 'x' }, '... and answers what it stored');
is(session_rows(), $rows0 + 2, 'exactly those two sessions were created');
$r = req('POST', '/api/action/noop', $t_action, body => '{}');
is_deeply(json_decode($r->{body})->{state}, { n => 2 }, 'an action writing nothing keeps an existing session');

# an action sends the browser to another page with pg_dash.navigate()
$r = req('POST', '/api/action/go_to', $t_action, body => '{"payload":{"to":"app/details"}}');
is($r->{status}, 200, 'an action calling pg_dash.navigate() answers 200');
is_deeply(json_decode($r->{body}), { state => { n => 2, went => 'app/details' }, changes => { went => 'app/details' }, navigate => 'app/details' },
	'... with the page to show in "navigate"');
$r = req('POST', '/api/action/go_to', $t_action, body => '{"payload":{"to":null}}');
ok(!exists json_decode($r->{body})->{navigate}, 'pg_dash.navigate(NULL) asks for nothing');
$r = req('POST', '/api/action/count_up', $t_action, body => '{}');
ok(!exists json_decode($r->{body})->{navigate}, 'the next action does not inherit the page');
is_deeply(json_decode($r->{body})->{state}{n}, 3, '... and runs');
$r = req('POST', '/api/action/go_to', $t_action, body => '{"payload":{"to":"../Bad Path"}}');
is($r->{status}, 400, 'an invalid page path is refused');
like($r->{body}, qr/"code":"22023"/, '... as invalid_parameter_value');
$r = req('GET', '/api/query/navigating');
isnt($r->{status}, 200, 'pg_dash.navigate() outside an action is an error');
like($r->{body}, qr/"code":"55000"/, '... object_not_in_prerequisite_state');
$r = req('POST', '/api/action/count_up', $t_action, body => '{}');
ok(!exists json_decode($r->{body})->{navigate}, 'an action after the failed one has no page either');

# --- state round trip across requests
$r = req('PUT', '/api/state/region', $token, body => '"North"');
is($r->{status}, 200, 'PUT a key');
is_deeply(state_of($r), { region => 'North' }, 'PUT answers the whole state');
ok(!defined $r->{headers}{'set-cookie'}, 'a known, fresh session gets no new cookie');
$r = req('GET', '/api/state/region', $token);
is_deeply(json_decode($r->{body}), { key => 'region', value => 'North' }, 'GET one key');
$r = req('GET', '/api/state/missing', $token);
is($r->{status}, 404, 'an unset key is 404');
is(json_decode($r->{body})->{error}{code}, 'not_found', '404 in the error format');
$r = req('PATCH', '/api/state', $token, body => '{"n":1,"filters":{"year":2026}}');
is($r->{status}, 200, 'PATCH a merge patch');
$r = req('PATCH', '/api/state', $token, body => '{"n":null,"filters":{"month":1}}');
is_deeply(state_of($r), { region => 'North', filters => { year => 2026, month => 1 } },
	'merge patch: null removes, objects merge');
$r = req('PUT', '/api/state/my%20key', $token, body => '[1,2,{"a":null}]');
is_deeply(state_of($r)->{'my key'}, [ 1, 2, { a => undef } ], 'percent-encoded key, any JSON value');
$r = req('DELETE', '/api/state/my%20key', $token);
is_deeply(state_of($r), { region => 'North', filters => { year => 2026, month => 1 } }, 'DELETE one key');
$r = req('GET', '/api/state', $token);
is_deeply(state_of($r), { region => 'North', filters => { year => 2026, month => 1 } },
	'the state persists across requests');
$r = req('HEAD', '/api/state', $token);
is($r->{status}, 200, 'HEAD /api/state');
$r = req('POST', '/api/state', $token, body => '{}');
is($r->{status}, 405, 'POST /api/state is 405');
like($r->{headers}{allow} // '', qr/PATCH/, '405 names the allowed methods');
$r = req('GET', '/api/session/rotate', $token);
is($r->{status}, 405, 'GET /api/session/rotate is 405');

# --- notifications on pg_dash_state for HTTP and SQL changes: any role can
# LISTEN there, so they carry only the row's opaque notify_id, never the
# session id nor a state value
{
	my ($in, $out, $err) = ("LISTEN pg_dash_state;\n", '', '');
	my $psql = IPC::Run::start([ 'psql', '-XAtq', '-d', $node->connstr('postgres') ],
		'<', \$in, '>', \$out, '2>', \$err);
	my $wait_for = sub {
		my ($re) = @_;
		my $deadline = time + 10;
		while ($out !~ $re && time < $deadline)
		{
			$in .= "SELECT 1;\n";
			$psql->pump_nb;
			sleep 0.1;
		}
		return $out =~ $re;
	};
	$wait_for->(qr/^1$/m);
	my $id = session_id($token);
	my $notify_id = $node->safe_psql('postgres',
		"SELECT notify_id FROM pg_dash.session_state WHERE id = '$id'");
	like($notify_id, qr/^\d+$/, 'the session has a notify_id');
	req('PATCH', '/api/state', $token, body => '{"from_http":{"x":1},"region":null}');
	ok($wait_for->(qr/payload "\Q$notify_id\E"/), 'HTTP change announced by notify_id');
	$node->safe_psql('postgres',
		"BEGIN; SELECT pg_dash.bind_session('$id'); SELECT pg_dash.set_state('from_sql', '42'); COMMIT;");
	$out = '';
	ok($wait_for->(qr/payload "\Q$notify_id\E"/), 'set_state() change announced');
	$out = '';
	req('PUT', '/api/state/big', $token, body => '"' . ('y' x 8000) . '"');
	ok($wait_for->(qr/payload "\Q$notify_id\E"/), 'a large change is announced the same way');
	$out = '';
	$node->safe_psql('postgres',
		"UPDATE pg_dash.session_state SET data = data || '{\"by_admin\":1}' WHERE id = '$id'");
	ok($wait_for->(qr/payload "\Q$notify_id\E"/), 'an administrator\'s UPDATE is announced too');
	$node->safe_psql('postgres',
		"UPDATE pg_dash.session_state SET data = data - 'by_admin' WHERE id = '$id'");
	req('DELETE', '/api/state/big', $token);
	$r = req('GET', '/api/state', $token);
	is_deeply(state_of($r), { from_http => { x => 1 }, from_sql => 42, filters => { year => 2026, month => 1 } },
		'the SQL change is visible over HTTP');
	$in .= "SELECT 'done';\n";
	$wait_for->(qr/^done$/m);
	unlike($out, qr/\Q$id\E|\Q$token\E|from_http|from_sql|yyyy/,
		'no notification carried the session id, token or a state value');
	$in .= "\\q\n";
	$psql->finish;
}

# --- DELETE all
$r = req('DELETE', '/api/state', $token);
is_deeply(state_of($r), {}, 'DELETE /api/state empties the state');

# --- two tabs of one session patching different keys at once lose nothing
{
	my @runs;
	for my $prefix ('a', 'b')
	{
		my @cmd = ('curl', '--http1.1');
		for my $i (1 .. 200)
		{
			push @cmd, '--next' if $i > 1;
			push @cmd, '-s', '-o', '/dev/null', '-w', '%{http_code}\n', '-X', 'PATCH',
			  '-H', "Cookie: pg_dash_session=$token", '-H', 'X-CSRF-Token: ' . csrf_of($token),
			  '-H', 'Content-Type: application/json',
			  '--data-binary', "{\"$prefix$i\":$i}", "http://127.0.0.1:$port/api/state";
		}
		my $out = '';
		push @runs, [ IPC::Run::start(\@cmd, '>', \$out), \$out ];
	}
	my @ok;
	for my $run (@runs)
	{
		$run->[0]->finish;
		push @ok, scalar(() = ${ $run->[1] } =~ /^200$/mg);
	}
	is_deeply(\@ok, [ 200, 200 ], 'two clients: 200 PATCHes each answered 200');
	my $state = state_of(req('GET', '/api/state', $token));
	is(scalar(keys %$state), 400, 'all 400 keys are in the state');
	is_deeply($state, { map { my $i = $_; ("a$i" => $i, "b$i" => $i) } 1 .. 200 },
		'every key has its value');
	req('DELETE', '/api/state', $token);
}

# --- other origins may not change state
$r = req('PATCH', '/api/state', $token, body => '{"evil":1}',
	headers => ['Origin: http://evil.example']);
is($r->{status}, 403, 'PATCH from another Origin is 403');
is(json_decode($r->{body})->{error}{code}, 'forbidden', '403 in the error format');
$r = req('PATCH', '/api/state', $token, body => '{"evil":1}', headers => ['Sec-Fetch-Site: cross-site']);
is($r->{status}, 403, 'PATCH marked Sec-Fetch-Site: cross-site is 403');
$r = req('DELETE', '/api/state', $token, headers => ['Origin: null']);
is($r->{status}, 403, 'DELETE from Origin: null is 403');
$r = req('POST', '/api/session/rotate', $token, headers => ["Origin: http://127.0.0.1:" . ($port + 1)]);
is($r->{status}, 403, 'rotate from another port is 403');
is_deeply(state_of(req('GET', '/api/state', $token)), {}, 'nothing was written by refused requests');
$r = req('PATCH', '/api/state', $token, body => '{"ok":1}',
	headers => [ "Origin: http://127.0.0.1:$port", 'Sec-Fetch-Site: same-origin' ]);
is($r->{status}, 200, 'PATCH from the same origin is allowed');

# --- bodies that are not JSON: 400; state over session_max_bytes: 413
for my $case ([ 'PATCH', '/api/state', 'not json' ], [ 'PATCH', '/api/state', '[1,2]' ],
	[ 'PATCH', '/api/state', '"x"' ], [ 'PUT', '/api/state/k', '{"a":' ],
	[ 'PUT', '/api/state/k', '' ], [ 'PUT', '/api/state/k', '"\u0000"' ])
{
	$r = req($case->[0], $case->[1], $token, body => $case->[2]);
	is($r->{status}, 400, "$case->[0] with body '$case->[2]' is 400");
	ok(json_decode($r->{body})->{error}{message}, '400 says why');
}
$r = req('PUT', '/api/state/big', $token, body => '"' . ('x' x 70000) . '"');
is($r->{status}, 413, 'PUT of a value over session_max_bytes is 413');
$r = req('PUT', '/api/state/a', $token, body => '"' . ('x' x 40000) . '"');
is($r->{status}, 200, 'PUT of 40 kB fits');
$r = req('PATCH', '/api/state', $token, body => '{"b":"' . ('x' x 30000) . '","c":1}');
is($r->{status}, 413, 'PATCH making the state larger than session_max_bytes is 413');
is(json_decode($r->{body})->{error}{code}, 'state_too_large', '413 in the error format');
$r = req('GET', '/api/state', $token);
is_deeply([ sort keys %{ state_of($r) } ], [ 'a', 'ok' ], 'nothing of the refused patch was stored');
req('DELETE', '/api/state', $token);

# --- forged and malformed cookies are no session, never an error
my $forged = encode_base64url(join('', map { chr(int(rand(256))) } 1 .. 32));
for my $case ([ 'unknown token', "pg_dash_session=$forged" ],
	[ 'malformed token', 'pg_dash_session=!!!not-base64!!!' ],
	[ 'truncated token', 'pg_dash_session=' . substr($token, 0, 42) ],
	[ 'overlong token', 'pg_dash_session=' . ('A' x 3000) ],
	[ 'empty token', 'pg_dash_session=' ],
	[ 'token with padding', "pg_dash_session=$token=" ])
{
	$r = http($port, 'GET', '/api/state', headers => ["Cookie: $case->[1]"]);
	is($r->{status}, 200, "$case->[0]: 200");
	ok(!defined $r->{headers}{'set-cookie'}, "$case->[0]: no cookie for a read");
	is_deeply(state_of($r), {}, "$case->[0]: an empty state");
}
$r = http($port, 'PATCH', '/api/state', headers => ["Cookie: pg_dash_session=$forged",
		'X-CSRF-Token: ' . csrf_of($forged)], body => '{"x":1}');
is($r->{status}, 200, 'a write with an unknown token succeeds');
ok(token_of($r) && token_of($r) ne $forged, '... in a fresh session with a new cookie');
is(rows_for($forged), 0, 'the forged token never becomes a session');
req('PUT', '/api/state/mine', $token, body => 'true');
$r = http($port, 'GET', '/api/state',
	headers => ["Cookie: other=1; pg_dash_session=$token; theme=dark; pg_dash_csrf=" . csrf_of($token)]);
is_deeply(state_of($r), { mine => JSON::PP::true }, 'the session cookie is found among others');
ok(!defined $r->{headers}{'set-cookie'}, '... and kept');

# --- a WebSocket handshake with a session cookie (hashed outside any transaction)
for my $c ("pg_dash_session=$token", 'pg_dash_session=garbage', "pg_dash_session=$forged")
{
	$r = raw_request($port,
		"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		  . "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
		  . "Cookie: $c\r\n\r\n", until => qr/\r\n\r\n/, timeout => 3);
	like($r, qr{^HTTP/1\.1 101}, 'WebSocket upgrade with a cookie: ' . substr($c, 0, 24));
}
is(http($port, 'GET', '/healthz')->{status}, 200, 'workers healthy after WebSocket handshakes');

# --- rotation: new token, same data, the old token stops working
$r = req('POST', '/api/session/rotate', $token);
is($r->{status}, 200, 'POST /api/session/rotate');
my $rotated = token_of($r);
ok(defined $rotated && $rotated ne $token, 'rotation sets a new cookie');
is_deeply(state_of($r), { mine => JSON::PP::true }, 'rotation keeps the data');
$r = req('GET', '/api/state', $rotated);
is_deeply(state_of($r), { mine => JSON::PP::true }, 'the new token reaches the data');
ok(!defined $r->{headers}{'set-cookie'}, '... without another cookie');
$r = req('GET', '/api/state', $token);
ok(!defined $r->{headers}{'set-cookie'}, 'the old token is no session any more');
is_deeply(state_of($r), {}, '... without the data');
is(rows_for($token), 0, 'the old id is gone from the table');
$token = $rotated;

# --- an expired session is replaced, the expiry slides with use, the sweep removes rows
{
	my $t = token_of(req('PUT', '/api/state/x', undef, body => '1'));
	$node->safe_psql('postgres',
		"UPDATE pg_dash.session_state SET expires_at = now() - interval '1 second' WHERE id = '"
		  . session_id($t) . "'");
	$r = req('GET', '/api/state', $t);
	ok(!defined $r->{headers}{'set-cookie'}, 'an expired token is no session');
	is_deeply(state_of($r), {}, '... and reads an empty state');
	is(rows_for($t), 0, '... and its row is gone');
	$r = req('PATCH', '/api/state', $t, body => '{"y":2}');
	ok(token_of($r) && token_of($r) ne $t, 'a write with an expired token gets a fresh cookie');
}
$node->append_conf('postgresql.conf', "pg_dash.session_ttl = 2\n");
$node->reload;
ok(wait_until(sub { (req('PATCH', '/api/state', undef, body => '{}')->{headers}{'set-cookie'} // '') =~ /Max-Age=2;/ }),
	'session_ttl reloaded: Max-Age=2');
ok(wait_until(sub {
	my @ages = map { (req('PATCH', '/api/state', undef, body => '{}')->{headers}{'set-cookie'} // '') =~ /Max-Age=(\d+);/ } 1 .. 6;
	return !grep { $_ != 2 } @ages;
}), 'every worker uses the reloaded TTL');
{
	my $t = token_of(req('PUT', '/api/state/x', undef, body => '1'));
	my ($alive, $refreshed) = (1, 0);
	my $start = time;
	while (time - $start < 4)
	{
		sleep 0.4;
		$r = req('GET', '/api/state', $t);
		$alive = 0 unless $r->{status} == 200 && (state_of($r)->{x} // 0) == 1;
		$refreshed++ if (token_of($r) // '') eq $t;
	}
	ok($alive, 'a session in use outlives its 2 s TTL');
	ok($refreshed > 0, 'use refreshes the same cookie');
	ok(wait_until(sub { rows_for($t) == 0 }, 10), 'the sweep deletes the idle session');
	my $metrics = http($port, 'GET', '/metrics')->{body};
	like($metrics, qr/^pg_dash_sessions_created_total [1-9]/m, 'sessions created counted in /metrics');
	like($metrics, qr/^pg_dash_sessions_expired_total [1-9]/m, 'expired sessions counted in /metrics');
	my ($active) = $metrics =~ /^pg_dash_sessions_active (\d+)/m;
	ok(defined $active, 'the active-session gauge is in /metrics');
	$r = req('GET', '/api/state', $t);
	ok(!defined $r->{headers}{'set-cookie'}, 'the next read gets no cookie');
	is_deeply(state_of($r), {}, '... and an empty state');
}
$node->append_conf('postgresql.conf', "pg_dash.session_ttl = 3600\n");
$node->reload;
ok(wait_until(sub {
	my @ages = map { (req('PATCH', '/api/state', undef, body => '{}')->{headers}{'set-cookie'} // '') =~ /Max-Age=(\d+);/ } 1 .. 6;
	return !grep { $_ != 3600 } @ages;
}), 'session_ttl back to an hour');

# --- new sessions per address and in all are budgeted: 429/503 with Retry-After, nothing stored
{
	set_conf('pg_dash.max_new_sessions_per_ip' => 3);
	my $hits0 = metric('pg_dash_limit_hits_total', 'limit="max_new_sessions_per_ip"');
	my $rows = session_rows();
	# the per-address window may already hold sessions of this minute
	my @codes;
	push @codes, req('PATCH', '/api/state', undef, body => '{"a":1}')->{status} for 1 .. 4;
	ok((grep { $_ == 429 } @codes) >= 1, 'a 4th new session from one address within a minute is refused')
	  or diag "@codes";
	$r = req('PATCH', '/api/state', undef, body => '{"a":1}');
	is($r->{status}, 429, 'over pg_dash.max_new_sessions_per_ip: 429');
	my $e = json_decode($r->{body})->{error};
	is($e->{code}, 'too_many_new_sessions', '... with a reason code');
	like($e->{detail}, qr/max_new_sessions_per_ip/, '... naming the setting');
	like($r->{headers}{'retry-after'} // '', qr/^\d+$/, '... and Retry-After');
	ok(!defined $r->{headers}{'set-cookie'}, '... and no cookie');
	$r = req('POST', '/api/action/count_up', undef, body => '{}');
	is($r->{status}, 429, 'a cookie-less action writing state is refused the same way');
	$r = req('POST', '/api/action/noop', undef, body => '{}');
	is($r->{status}, 200, 'one writing nothing still runs');
	is(session_rows(), $rows + scalar(grep { $_ == 200 } @codes), 'refused requests stored nothing');
	$r = req('PATCH', '/api/state', $token, body => '{"known":1}');
	is($r->{status}, 200, 'a client with a session keeps writing');
	cmp_ok(metric('pg_dash_limit_hits_total', 'limit="max_new_sessions_per_ip"'), '>', $hits0,
		'per-address refusals counted in /metrics');

	set_conf('pg_dash.max_new_sessions_per_ip' => 100000, 'pg_dash.max_sessions' => session_rows() + 1);
	my $full0 = metric('pg_dash_limit_hits_total', 'limit="max_sessions"');
	is(req('PATCH', '/api/state', undef, body => '{"b":1}')->{status}, 200, 'one session below max_sessions');
	$r = req('PATCH', '/api/state', undef, body => '{"b":2}');
	is($r->{status}, 503, 'at pg_dash.max_sessions: 503');
	is(json_decode($r->{body})->{error}{code}, 'too_many_sessions', '... with a reason code');
	like($r->{headers}{'retry-after'} // '', qr/^\d+$/, '... and Retry-After');
	cmp_ok(metric('pg_dash_limit_hits_total', 'limit="max_sessions"'), '>', $full0,
		'total refusals counted in /metrics');
	$node->safe_psql('postgres', 'SELECT pg_dash.purge_sessions()');
	$node->safe_psql('postgres',
		"DELETE FROM pg_dash.session_state WHERE id <> '" . session_id($token) . "'");
	sleep 1.1;					# a full total is counted again at most once a second
	is(req('PATCH', '/api/state', undef, body => '{"b":3}')->{status}, 200,
		'after sessions are gone a new one is counted again and admitted');
	set_conf('pg_dash.max_sessions' => 100000);
}

# --- a clean restart keeps sessions
$token = token_of(req('PUT', '/api/state/keep', undef, body => '"me"'));
$node->restart;
wait_for_workers($node, $port, 2);
$r = req('GET', '/api/state', $token);
is_deeply(state_of($r), { keep => 'me' }, 'clean restart keeps the state');
ok(!defined $r->{headers}{'set-cookie'}, '... and the cookie');

# --- a crash empties the UNLOGGED table; clients recover with fresh sessions
$node->stop('immediate');
$node->start;
wait_for_workers($node, $port, 2);
is($node->safe_psql('postgres', 'SELECT count(*) FROM pg_dash.session_state'), 0,
	'crash recovery empties the sessions');
$r = req('GET', '/api/state', $token);
is($r->{status}, 200, 'after a crash the old cookie gets 200');
is_deeply(state_of($r), {}, '... and an empty state');
$r = req('PATCH', '/api/state', $token, body => '{"again":1}');
is($r->{status}, 200, 'a write with the lost cookie works too');
ok(token_of($r) && token_of($r) ne $token, '... with a fresh cookie');
is_deeply(state_of($r), { again => 1 }, '... in a fresh session');

$node->stop;
done_testing();
