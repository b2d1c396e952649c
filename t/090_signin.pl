# Sign-in and per-person data (pg_dash.auth = password): the password check
# and what refuses a role, the delays after failures, session fixation,
# sign-out, two roles reading the same named query under an RLS policy (over
# HTTP, through the cache and through a live watch), access lists on pages,
# queries, actions and channels, and the access log.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use IO::Socket::INET;
use IPC::Run;
use List::Util qw(min);
use lib 't';
use PgDashTest;
use PgDashWs;

my $setup = <<'SQL';
CREATE ROLE dash_users NOLOGIN;
CREATE ROLE dash_anon NOLOGIN;
CREATE ROLE alice LOGIN PASSWORD 'alice-pw' IN ROLE dash_users;
CREATE ROLE bob LOGIN PASSWORD 'bob-pw' IN ROLE dash_users;
CREATE ROLE carol NOLOGIN PASSWORD 'carol-pw' IN ROLE dash_users;
CREATE ROLE dave LOGIN PASSWORD 'dave-pw' VALID UNTIL '2001-01-01' IN ROLE dash_users;
CREATE ROLE erin LOGIN PASSWORD 'erin-pw';
CREATE ROLE root2 SUPERUSER LOGIN PASSWORD 'root-pw';
CREATE ROLE frank LOGIN PASSWORD 'frank-pw' CONNECTION LIMIT 1 IN ROLE dash_users;
CREATE ROLE henry LOGIN PASSWORD 'henry-pw' IN ROLE dash_users;
CREATE ROLE ivan LOGIN PASSWORD 'ivan-pw' BYPASSRLS IN ROLE dash_users;
SET password_encryption = 'md5';
CREATE ROLE mallory LOGIN PASSWORD 'md5-pw' IN ROLE dash_users;
RESET password_encryption;
-- roles for the timing comparison: one wrong password each, so no delay
CREATE ROLE t1 LOGIN PASSWORD 'x' IN ROLE dash_users;
CREATE ROLE t2 LOGIN PASSWORD 'x' IN ROLE dash_users;
CREATE ROLE t3 LOGIN PASSWORD 'x' IN ROLE dash_users;
CREATE ROLE t4 LOGIN PASSWORD 'x' IN ROLE dash_users;
CREATE ROLE t5 LOGIN PASSWORD 'x' IN ROLE dash_users;
CREATE ROLE t6 LOGIN PASSWORD 'x' IN ROLE dash_users;
REVOKE CONNECT ON DATABASE postgres FROM PUBLIC;
GRANT CONNECT ON DATABASE postgres TO alice, bob, carol, dave, erin, root2, frank, ivan, mallory,
    t1, t2, t3, t4, t5, t6;

CREATE TABLE notes (owner text NOT NULL, body text NOT NULL);
INSERT INTO notes VALUES ('alice', 'a1'), ('alice', 'a2'), ('bob', 'b1');
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_notes ON notes USING (owner = current_user);
GRANT SELECT ON notes TO dash_users, dash_anon;

SELECT pg_dash.define_query('my_notes', 'SELECT owner, body FROM notes ORDER BY body',
                            cache_ttl => 60, refresh_on => '{notes_changed}');
SELECT pg_dash.define_query('whoami', 'SELECT current_user AS u');
SELECT pg_dash.define_query('alice_q', 'SELECT 1 AS one', access => '{alice}');
SELECT pg_dash.define_channel('alice_ch', access => '{alice}');
SELECT pg_dash.define_channel('open_ch');
CREATE FUNCTION bump(state jsonb, payload jsonb) RETURNS jsonb LANGUAGE sql
    AS $$ SELECT jsonb_build_object('by', current_user::text) $$;
SELECT pg_dash.define_action('bump', 'bump(jsonb, jsonb)', access => '{alice}');
SELECT pg_dash.define_page('team', '# Team' || chr(10) || '<|{my_notes}|table|>', access => '{dash_users}');
SELECT pg_dash.define_page('alice-only', '# Alice', access => ARRAY['alice']);
SELECT pg_dash.define_page('open', '# Open');
SQL

# A non-loopback address of this machine, if it has one: a sign-in over
# plain HTTP from there must be refused.
my ($lan) = grep { /^\d+\.\d+\.\d+\.\d+$/ && !/^127\./ } split ' ', (`hostname -I 2>/dev/null` // '');

my ($node, $port) = start_node('signin', setup => $setup, conf => join("\n",
	($lan ? "pg_dash.listen_addresses = '127.0.0.1,$lan'" : ()),
	"pg_dash.role = 'dash_anon'",
	"pg_dash.auth = 'password'",
	"pg_dash.login_group = 'dash_users'"));

my %cookies;    # user => session token

sub cookie_headers
{
	my ($token, $csrf) = @_;
	return () unless defined $token;
	return ("Cookie: pg_dash_session=$token",
		$csrf ? ('X-CSRF-Token: ' . csrf_of($token)) : ());
}

sub login
{
	my ($user, $pw, %o) = @_;
	my $t0 = time;
	my $r = http($port, 'POST', '/api/login',
		headers => ['Content-Type: application/json', cookie_headers($o{cookie})],
		body => JSON::PP->new->encode({ username => $user, password => $pw }));
	$r->{elapsed} = time - $t0;
	if (($r->{cookies}{pg_dash_session} // '') =~ /^pg_dash_session=([^;]*)/)
	{
		$r->{token} = $1;
	}
	return $r;
}

sub get_as
{
	my ($user, $path) = @_;
	return http($port, 'GET', $path, headers => [cookie_headers($cookies{$user})]);
}

sub err_code { my $r = shift; return eval { json_decode($r->{body})->{error}{code} } // '' }

# --- signed out, with pg_dash.anonymous off --------------------------------------
my $r = http($port, 'GET', '/api/pages');
is($r->{status}, 401, 'signed out: /api/pages is 401');
is(err_code($r), 'sign_in_required', '... sign_in_required');
is(http($port, 'GET', '/api/query/my_notes')->{status}, 401, 'signed out: a named query is 401');
$r = http($port, 'GET', '/api/me');
is($r->{status}, 401, 'signed out: /api/me is 401');
is(http($port, 'GET', '/api/login')->{status}, 405, 'GET /api/login: 405');
is(http($port, 'POST', '/api/login', headers => ['Content-Type: application/json'], body => '[1')->{status},
	400, 'a body that is not JSON: 400');
is(http($port, 'POST', '/api/login', headers => ['Content-Type: application/json'],
	body => '{"username":"alice"}')->{status}, 400, 'no password: 400');
$r = http($port, 'POST', '/api/login',
	headers => ['Content-Type: application/json', 'Origin: http://evil.example'],
	body => '{"username":"alice","password":"alice-pw"}');
is($r->{status}, 403, 'a sign-in from another origin is refused');

SKIP:
{
	skip 'this machine has no non-loopback IPv4 address', 2 unless $lan;
	my ($out, $err);
	IPC::Run::run(['curl', '-s', '-i', '--max-time', '10', '-H', 'Content-Type: application/json',
		'--data-binary', '{"username":"alice","password":"alice-pw"}', "http://$lan:$port/api/login"],
		'>', \$out, '2>', \$err);
	my $lr = PgDashTest::parse_response($out);
	is($lr->{status}, 403, "a sign-in over plain HTTP from $lan is refused");
	like($lr->{body}, qr/insecure_connection/, '... as an insecure connection');
}

# --- the password check ------------------------------------------------------------
$r = login('alice', 'nope');
is($r->{status}, 401, 'wrong password: 401');
is(err_code($r), 'sign_in_failed', '... sign_in_failed');
ok(!$r->{token}, '... and no session');
my $unknown = login('nobody_here', 'nope');
is($unknown->{status}, 401, 'unknown role: 401');
is($unknown->{body}, $r->{body}, '... with the same answer as a wrong password');
$r = login('carol', 'carol-pw');
is($r->{status}, 403, 'NOLOGIN role with the right password: 403');
like($r->{body}, qr/not permitted to log in/, '... saying why');
is(login('carol', 'wrong')->{status}, 401, 'NOLOGIN role with a wrong password: 401');
$r = login('dave', 'dave-pw');
is($r->{status}, 401, 'expired rolvaliduntil: 401 like a wrong password');
$r = login('erin', 'erin-pw');
is($r->{status}, 403, 'a role outside pg_dash.login_group: 403');
like($r->{body}, qr/login_group/, '... naming the setting');
$r = login('root2', 'root-pw');
is($r->{status}, 403, 'a superuser never signs in');
$r = login('henry', 'henry-pw');
is($r->{status}, 403, 'a role without CONNECT on the database: 403');
like($r->{body}, qr/CONNECT/, '... saying so');
$r = login('ivan', 'ivan-pw');
is($r->{status}, 403, 'a BYPASSRLS role is refused like pg_dash.role would be');
$r = login('mallory', 'md5-pw');
is($r->{status}, 200, 'an MD5 password signs in');
$cookies{mallory} = $r->{token};

my $log = slurp_file($node->logfile);
like($log, qr/password authentication failed for user "alice" from 127\.0\.0\.1.*\n.*DETAIL:\s+Password does not match for user "alice"/,
	'a wrong password is logged like PostgreSQL logs it');
like($log, qr/password authentication failed for user "nobody_here".*\n.*DETAIL:\s+Role "nobody_here" does not exist/,
	'an unknown role is logged with its reason');
like($log, qr/password authentication failed for user "dave".*\n.*DETAIL:.*expired password/,
	'an expired password is logged with its reason');

# rolconnlimit counts sign-ins
$r = login('frank', 'frank-pw');
is($r->{status}, 200, 'frank signs in once');
$r = login('frank', 'frank-pw');
is($r->{status}, 403, 'rolconnlimit 1: a second sign-in is refused');
like($r->{body}, qr/rolconnlimit/, '... naming it');

# --- fixation: the pre-sign-in id stops working; the state stays ---------------------
$r = http($port, 'PUT', '/api/state/draft', headers => ['Content-Type: application/json'], body => '"hello"');
is($r->{status}, 200, 'a signed-out browser writes state (a session)');
my ($pre) = ($r->{cookies}{pg_dash_session} // '') =~ /^pg_dash_session=([^;]*)/;
ok($pre, '... and has a session cookie');
$r = login('alice', 'alice-pw', cookie => $pre);
is($r->{status}, 200, 'alice signs in with that browser');
is(json_decode($r->{body})->{role}, 'alice', '... the answer names her role');
ok($r->{token} && $r->{token} ne $pre, '... with a new session id');
$cookies{alice} = $r->{token};
is(http($port, 'GET', '/api/me', headers => [cookie_headers($pre)])->{status}, 401,
	'the pre-sign-in id no longer signs anyone in');
is(json_decode(http($port, 'GET', '/api/state', headers => [cookie_headers($pre)])->{body})->{state}{draft},
	undef, '... nor reaches the state');
$r = get_as('alice', '/api/me');
is($r->{status}, 200, '/api/me with the new id: 200');
is(json_decode($r->{body})->{role}, 'alice', '... alice');
is(json_decode(get_as('alice', '/api/state')->{body})->{state}{draft}, 'hello', 'the state moved with the session');

$r = login('bob', 'bob-pw');
is($r->{status}, 200, 'bob signs in');
$cookies{bob} = $r->{token};

# --- per-person data: RLS through the same named query -------------------------------
sub bodies
{
	my ($user) = @_;
	my $res = get_as($user, '/api/query/my_notes');
	return "status $res->{status}" unless $res->{status} == 200;
	return join ',', map { $_->[1] } @{ json_decode($res->{body})->{rows} };
}
for my $round (1 .. 3)
{
	is(bodies('alice'), 'a1,a2', "alice reads only her rows (round $round)");
	is(bodies('bob'), 'b1', "bob reads only his rows (round $round)");
}
my $hits = $node->safe_psql('postgres', "SELECT cache_hits FROM pg_dash.query_stats WHERE name = 'my_notes'");
cmp_ok($hits, '>', 0, 'the rounds were served from the cache, per role');
is(json_decode(get_as('bob', '/api/query/whoami')->{body})->{rows}[0][0], 'bob',
	'current_user in a query is the signed-in role');

# the same through live watches
my %ws;
for my $user ('alice', 'bob')
{
	$ws{$user} = PgDashWs->connect(port => $port, protocol => 'pg_dash.v1',
		headers => { Cookie => "pg_dash_session=$cookies{$user}" });
	my $hello = recv_type($ws{$user}, qr/^hello$/);
	is($hello && $hello->{auth}, 'password', "the hello frame tells $user's front end that people sign in");
	$ws{$user}->send_json({ type => 'watch', id => 'w', name => 'my_notes' });
}
# The next JSON message whose type matches, skipping others (undef after 5 s).
sub recv_type
{
	my ($ws, $re) = @_;
	my $deadline = time + 5;
	while (time < $deadline)
	{
		my $m = $ws->recv_json(timeout => $deadline - time) or return undef;
		return $m if $m->{type} =~ $re;
	}
	return undef;
}
sub watch_bodies
{
	my ($m) = @_;
	return join ',', map { $_->[1] } @{ $m->{rows} // [] };
}
my $m = recv_type($ws{alice}, qr/^result$/);
is(watch_bodies($m), 'a1,a2', 'alice\'s watch shows her rows');
$m = recv_type($ws{bob}, qr/^result$/);
is(watch_bodies($m), 'b1', 'bob\'s watch shows his');
$node->safe_psql('postgres', "INSERT INTO notes VALUES ('alice', 'a3'); NOTIFY notes_changed");
$m = recv_type($ws{alice}, qr/^result$/);
is(watch_bodies($m), 'a1,a2,a3', 'a change re-runs alice\'s watch as alice');
$m = recv_type($ws{bob}, qr/^result$/);
is(watch_bodies($m), 'b1', '... and bob\'s as bob');

# --- access lists ----------------------------------------------------------------
sub page_paths { return join ',', map { $_->{path} } @{ json_decode(get_as($_[0], '/api/pages')->{body})->{pages} } }
is(page_paths('alice'), 'alice-only,open,team', 'alice lists the pages she may open');
is(page_paths('bob'), 'open,team', 'bob lists only his');
is(get_as('bob', '/api/page/alice-only')->{status}, 403, 'bob may not open alice\'s page: 403');
is(get_as('alice', '/api/page/alice-only')->{status}, 200, 'alice may');
is(get_as('bob', '/api/page/missing')->{status}, 404, 'a missing page is still 404');
is(get_as('bob', '/api/query/alice_q')->{status}, 403, 'bob may not run alice\'s query');
is(get_as('alice', '/api/query/alice_q')->{status}, 200, 'alice may');
ok(!grep({ $_->{name} eq 'alice_q' } @{ json_decode(get_as('bob', '/api/queries')->{body})->{queries} }),
	'/api/queries does not list it for bob');
ok(grep({ $_->{name} eq 'alice_q' } @{ json_decode(get_as('alice', '/api/queries')->{body})->{queries} }),
	'... but for alice');
$r = http($port, 'POST', '/api/action/bump', headers => ['Content-Type: application/json', cookie_headers($cookies{bob}, 1)],
	body => '{}');
is($r->{status}, 403, 'bob may not call alice\'s action');
$r = http($port, 'POST', '/api/action/bump', headers => ['Content-Type: application/json', cookie_headers($cookies{alice}, 1)],
	body => '{}');
is($r->{status}, 200, 'alice may');
is(json_decode($r->{body})->{state}{by}, 'alice', '... and it runs as alice');

$ws{bob}->send_json({ type => 'subscribe', channel => 'alice_ch' });
$m = recv_type($ws{bob}, qr/^(error|subscribed)$/);
is($m && $m->{type}, 'error', 'bob\'s subscription to alice\'s channel is refused with an error frame');
is($m->{code} // $m->{error}{code}, 'forbidden', '... forbidden');
$ws{alice}->send_json({ type => 'subscribe', channel => 'alice_ch' });
$m = recv_type($ws{alice}, qr/^(error|subscribed)$/);
is($m && $m->{type}, 'subscribed', 'alice subscribes to it');
$_->close for values %ws;

is($node->safe_psql('postgres', "SELECT access FROM pg_dash.access_lists WHERE kind = 'page' AND name = 'alice-only'"),
	'{alice}', 'pg_dash.access_lists shows a page\'s list');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_dash.access_lists"), '9',
	'... and every definition');
$node->safe_psql('postgres', "SELECT pg_dash.grant_access('page', 'alice-only', 'bob')");
is(get_as('bob', '/api/page/alice-only')->{status}, 200, 'grant_access() lets bob in');
$node->safe_psql('postgres', "SELECT pg_dash.revoke_access('page', 'alice-only', 'bob')");
is(get_as('bob', '/api/page/alice-only')->{status}, 403, 'revoke_access() takes it back');
$node->safe_psql('postgres', "SELECT pg_dash.set_access('query', 'alice_q', '{dash_users}')");
is(get_as('bob', '/api/query/alice_q')->{status}, 200, 'set_access() with a group lets its members in');
$node->safe_psql('postgres', "SELECT pg_dash.define_query('alice_q', 'SELECT 2 AS two')");
is(get_as('bob', '/api/query/alice_q')->{status}, 200, 'redefining without access keeps the list');
my ($ret, $out, $err) = $node->psql('postgres', "SELECT pg_dash.set_access('page', 'open', '{no_such_role}')");
like($err, qr/role "no_such_role" does not exist/, 'an access list naming a missing role is refused');
like($node->safe_psql('postgres', 'SELECT pg_dash.export()'), qr/access => '\{alice\}'/,
	'pg_dash.export() carries the access lists');

# --- delays after failures, never a lock-out ------------------------------------------
is(login('bob', 'w1')->{status}, 401, 'failure 1');
is(login('bob', 'w2')->{status}, 401, 'failure 2');
$r = login('bob', 'w3');
is($r->{status}, 401, 'failure 3');
$r = login('bob', 'bob-pw');
is($r->{status}, 429, 'right after failure 3 even the right password waits: 429');
ok($r->{headers}{'retry-after'}, '... with Retry-After');
my ($wait1) = $r->{body} =~ /checked in (\d+) ms/;
ok(defined $wait1 && $wait1 <= 500, "... a short wait ($wait1 ms)");
is(login('alice', 'alice-pw')->{status}, 200, 'another role from the same address is not delayed');
sleep(($wait1 + 50) / 1000);
is(login('bob', 'w4')->{status}, 401, 'failure 4 after the wait is checked');
$r = login('bob', 'bob-pw');
is($r->{status}, 429, 'and delays again');
my ($wait2) = $r->{body} =~ /checked in (\d+) ms/;
cmp_ok($wait2, '>', 600, "... for longer ($wait2 ms)");
sleep(($wait2 + 50) / 1000);
$r = login('bob', 'bob-pw');
is($r->{status}, 200, 'after the wait the right password signs in: no lock-out');
is(login('bob', 'w5')->{status}, 401, 'a success forgets the failures');
is(login('bob', 'bob-pw')->{status}, 200, '... so one more failure costs no wait');

# --- an unknown role costs what a wrong password costs ---------------------------------
# Timed over one kept-alive connection, so that only the server's work counts.
my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp')
  or die "connect: $!";
$sock->autoflush(1);
sub timed_login
{
	my ($user) = @_;
	my $body = qq({"username":"$user","password":"wrong"});
	my $t0 = time;
	print $sock "POST /api/login HTTP/1.1\r\nHost: 127.0.0.1:$port\r\nContent-Type: application/json\r\n"
	  . "Content-Length: " . length($body) . "\r\n\r\n$body";
	my $resp = '';
	while ($resp !~ /\r\n\r\n/ || length($resp) < index($resp, "\r\n\r\n") + 4 + ($resp =~ /Content-Length: (\d+)/i ? $1 : 0))
	{
		sysread($sock, my $buf, 65536) or last;
		$resp .= $buf;
	}
	my $elapsed = time - $t0;
	die "unexpected answer: $resp" unless $resp =~ m{^HTTP/1\.1 401};
	return $elapsed;
}
# both executors build their dummy secret first
timed_login($_) for ('t5', 't6', 'ghost_w1', 'ghost_w2');
my (@wrong, @unknown);
for my $i (1 .. 8)
{
	push @wrong, timed_login('t' . (($i - 1) % 4 + 1));    # two failures each: no delay
	push @unknown, timed_login("ghost_$i");
}
close $sock;
# the fastest of each: what the work costs, without the noise of a shared machine
my ($mw, $mu) = (min(@wrong), min(@unknown));
diag(sprintf('fastest sign-in failure: wrong password %.1f ms, unknown role %.1f ms', $mw * 1000, $mu * 1000));
cmp_ok($mu, '>', 0.5 * $mw, 'an unknown role is not answered faster than a wrong password');
# generous upwards: on a loaded machine one side can miss every quiet moment
cmp_ok($mu, '<', 3 * $mw + 0.010, '... nor much slower');

# --- what ends a sign-in ------------------------------------------------------------
$node->safe_psql('postgres', 'ALTER ROLE bob NOLOGIN');
is(get_as('bob', '/api/me')->{status}, 401, 'taking LOGIN away ends the sign-in at once');
$node->safe_psql('postgres', 'ALTER ROLE bob LOGIN');
is(get_as('bob', '/api/me')->{status}, 200, '... and giving it back restores it');
$node->safe_psql('postgres',
	"UPDATE pg_dash.session_state SET signed_in_at = now() - interval '9 hours' WHERE role = 'mallory'");
is(get_as('mallory', '/api/me')->{status}, 401, 'a sign-in older than pg_dash.signin_lifetime has ended');

# sign-out
$r = http($port, 'POST', '/api/logout', headers => [cookie_headers($cookies{alice})]);
is($r->{status}, 403, 'sign-out without the CSRF token is refused');
$r = http($port, 'POST', '/api/logout', headers => [cookie_headers($cookies{alice}, 1)]);
is($r->{status}, 200, 'alice signs out');
like($r->{cookies}{pg_dash_session}, qr/Max-Age=0/, '... and the cookie is removed');
is(get_as('alice', '/api/me')->{status}, 401, 'her old session id signs nobody in');
is(get_as('alice', '/api/query/my_notes')->{status}, 401, '... nor reads anything');

# a form post
$r = http($port, 'POST', '/api/login', headers => ['Content-Type: application/x-www-form-urlencoded'],
	body => 'username=alice&password=alice-pw');
is($r->{status}, 303, 'a form post signs in and redirects');
is($r->{headers}{location}, '/', '... to the start page');

# --- the access log ---------------------------------------------------------------
my $events = $node->safe_psql('postgres',
	"SELECT string_agg(DISTINCT event || ':' || coalesce(role, ''), ' ' ORDER BY event || ':' || coalesce(role, '')) FROM pg_dash.access_log");
like($events, qr/signin:alice/, 'the access log has sign-ins');
like($events, qr/signin_failed:nobody_here/, '... failures');
like($events, qr/signout:alice/, '... sign-outs');
like($events, qr/action:alice/, '... and action calls');
is($node->safe_psql('postgres',
	"SELECT client_addr FROM pg_dash.access_log WHERE event = 'signout' LIMIT 1"), '127.0.0.1',
	'... with the client address');
$log = slurp_file($node->logfile);
like($log, qr/user "alice" signed in from 127\.0\.0\.1/, 'the server log has sign-ins');
like($log, qr/user "alice" signed out from 127\.0\.0\.1/, '... sign-outs');
like($log, qr/action "bump" called by role "alice" from 127\.0\.0\.1: 200/, '... and action calls');

# --- signed-out viewers with pg_dash.anonymous = on -------------------------------------
$node->append_conf('postgresql.conf', "pg_dash.anonymous = on");
$node->reload;
ok(wait_until(sub { http($port, 'GET', '/api/pages')->{status} == 200 }), 'anonymous on: /api/pages answers');
is(join(',', map { $_->{path} } @{ json_decode(http($port, 'GET', '/api/pages')->{body})->{pages} }),
	'open', '... listing only the PUBLIC pages');
is(http($port, 'GET', '/api/page/team')->{status}, 401, 'a page for members: 401 (signing in helps)');
$r = http($port, 'GET', '/api/query/whoami');
is(json_decode($r->{body})->{rows}[0][0], 'dash_anon', 'signed-out queries run as pg_dash.role');
is(err_code(http($port, 'GET', '/api/me')), 'not_signed_in', '/api/me says nobody is signed in');

# --- pg_dash.auth = none: today's behaviour ------------------------------------------
$node->append_conf('postgresql.conf', "pg_dash.auth = 'none'");
$node->reload;
ok(wait_until(sub { http($port, 'POST', '/api/login', headers => ['Content-Type: application/json'],
	body => '{"username":"alice","password":"alice-pw"}')->{status} == 404 }), 'auth none: /api/login is 404');
is(json_decode(get_as('bob', '/api/query/whoami')->{body})->{rows}[0][0], 'dash_anon',
	'... and a signed-in session is served as pg_dash.role again');

$node->stop;
done_testing();
