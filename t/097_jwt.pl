# Authorization: Bearer <JWT>: the token's role claim names the role the
# request runs as.  Valid, expired and not-yet-valid tokens, wrong
# signatures, alg none, HS/RS confusion, RS256 and ES256 with a key file,
# roles that may not be served, no CSRF token and no cookie session, and a
# token refused over plain HTTP from another machine (behind a trusted
# proxy, by X-Forwarded-For); a WebSocket opened with a token: its queries,
# live queries and channels as the token's role, in the executors and
# without them, and closed when the token expires.
use strict;
use warnings;

use Digest::SHA qw(hmac_sha256);
use IPC::Run;
use JSON::PP;
use MIME::Base64 qw(encode_base64url);
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);
use lib 't';
use PgDashTest;
use PgDashWs;

my $dir = PostgreSQL::Test::Utils::tempdir();
my $secret = 'pg-dash-test-secret-0123456789abcdefghij';

my ($node, $port) = start_node('jwt',
	conf => join("\n",
		"pg_dash.role = 'dash_reader'",
		"pg_dash.jwt_secret = '$secret'",
		"pg_dash.trusted_proxies = '127.0.0.1'"),
	setup => <<'SQL');
CREATE ROLE dash_reader;
CREATE ROLE app_reader LOGIN;
CREATE ROLE no_login;
CREATE ROLE boss LOGIN SUPERUSER;
CREATE ROLE bypasser LOGIN BYPASSRLS;
GRANT USAGE ON SCHEMA pg_dash TO dash_reader, app_reader, no_login, bypasser;
CREATE TABLE secrets (v text);
INSERT INTO secrets VALUES ('for apps');
GRANT SELECT ON secrets TO app_reader;
SELECT pg_dash.define_query('whoami', 'SELECT current_user::text AS u');
SELECT pg_dash.define_query('secrets', 'SELECT v FROM secrets');
SELECT pg_dash.define_query('many', 'SELECT g, current_user::text AS u FROM generate_series(1, 5000) g');
SELECT pg_dash.define_query('whoami_live', 'SELECT current_user::text AS u', refresh_on => '{whoami_changed}');
SELECT pg_dash.define_channel('apps_only', access => '{app_reader}');
SELECT pg_dash.define_channel('readers_only', access => '{dash_reader}');
SQL

my $now = time;

# A compact token from a header and claims, signed by $sign->(signing input).
sub token
{
	my ($header, $claims, $sign) = @_;
	my $input = encode_base64url(encode_json($header)) . '.' . encode_base64url(encode_json($claims));
	return "$input." . encode_base64url($sign->($input));
}

sub hs { my ($key) = @_; return sub { hmac_sha256($_[0], $key) } }

# A signature by a PEM private key (openssl); ECDSA as R||S, as JWS wants it.
sub pkey_sign
{
	my ($keyfile, $ecdsa) = @_;
	return sub {
		my ($sig, $err);
		IPC::Run::run([ 'openssl', 'dgst', '-sha256', '-sign', $keyfile ], '<', \$_[0], '>', \$sig, '2>', \$err)
		  or die "openssl dgst: $err";
		return $sig unless $ecdsa;
		# DER: SEQUENCE { INTEGER r, INTEGER s }
		my $pos = 2 + ((ord(substr($sig, 1, 1)) & 0x80) ? 1 : 0);
		my @ints;
		for (1 .. 2)
		{
			my $len = ord(substr($sig, $pos + 1, 1));
			my $int = substr($sig, $pos + 2, $len);
			$int =~ s/^\x00+//;
			push @ints, ("\x00" x (32 - length $int)) . $int;
			$pos += 2 + $len;
		}
		return $ints[0] . $ints[1];
	};
}

my %ok_claims = (role => 'app_reader', exp => $now + 300);

sub api
{
	my ($method, $path, $token, %opts) = @_;
	my @h = @{ $opts{headers} // [] };
	push @h, "Authorization: Bearer $token" if defined $token;
	return http($port, $method, $path, headers => \@h, body => $opts{body});
}

sub user_of { my ($r) = @_; my $j = eval { json_decode($r->{body}) }; return $j ? $j->{rows}[0][0] : undef }

my $r = api('GET', '/api/query/whoami');
is(user_of($r), 'dash_reader', 'without a token: pg_dash.role');

my $good = token({ alg => 'HS256', typ => 'JWT' }, \%ok_claims, hs($secret));
$r = api('GET', '/api/query/whoami', $good);
is($r->{status}, 200, 'a valid HS256 token');
is(user_of($r), 'app_reader', 'runs as the role its claim names');
$r = api('GET', '/api/query/secrets', $good);
is_deeply(json_decode($r->{body})->{rows}, [ ['for apps'] ], 'with that role\'s grants');
is(api('GET', '/api/query/secrets')->{status}, 403, 'which pg_dash.role lacks');
$r = api('GET', '/api/query/many?format=csv', $good);
is($r->{status}, 200, 'a result larger than one batch');
like($r->{body}, qr/^5000,app_reader\r?$/m, 'streams as the token\'s role too');
ok(!exists $r->{cookies}{pg_dash_session}, 'no cookie for a bearer request');

# refused tokens: 401 with the RFC 6750 challenge
sub refused
{
	my ($token, $want, $name) = @_;
	my $r = api('GET', '/api/query/whoami', $token);
	is($r->{status}, 401, "$name: 401");
	like($r->{headers}{'www-authenticate'} // '', qr/^Bearer error="invalid_token"/, "$name: challenge");
	like($r->{body}, $want, "$name: the reason");
}
refused(token({ alg => 'HS256' }, { %ok_claims, exp => $now - 120 }, hs($secret)), qr/expired/, 'expired');
refused(token({ alg => 'HS256' }, { %ok_claims, nbf => $now + 120 }, hs($secret)), qr/not valid yet/, 'not yet valid');
refused(token({ alg => 'HS256' }, \%ok_claims, hs('another-secret-0123456789abcdefghijkl')), qr/signature/, 'wrong signature');
refused(token({ alg => 'none' }, \%ok_claims, sub { 'x' }), qr/HS256/, 'alg none');
refused(encode_base64url('{"alg":"none"}') . '.' . encode_base64url(encode_json(\%ok_claims)) . '.', qr/empty/,
	'alg none without a signature');
refused(token({ alg => 'HS256' }, { exp => $now + 300 }, hs($secret)), qr/role claim/, 'no role claim');
$r = api('GET', '/api/query/whoami', undef, headers => ['Authorization: Basic YTpi']);
is($r->{status}, 401, 'another scheme is refused');

# a valid token whose role may not be served: 403
for my $case ([ 'no_login', qr/may not sign in/ ], [ 'nobody', qr/does not exist/ ],
	[ 'boss', qr/superuser/ ], [ 'bypasser', qr/BYPASSRLS/ ])
{
	$r = api('GET', '/api/query/whoami', token({ alg => 'HS256' }, { %ok_claims, role => $case->[0] }, hs($secret)));
	is($r->{status}, 403, "role $case->[0] is refused");
	like($r->{body}, $case->[1], "role $case->[0]: the reason");
}

# no CSRF token and no cookie session for a bearer request
my $cookie = 'pg_dash_session=' . ('A' x 43);
$r = api('POST', '/api/query/whoami', undef, body => '{}', headers => [ "Cookie: $cookie", 'Content-Type: application/json' ]);
is($r->{status}, 403, 'with a session cookie a POST needs the CSRF token');
$r = api('POST', '/api/query/whoami', $good, body => '{}', headers => [ "Cookie: $cookie", 'Content-Type: application/json' ]);
is($r->{status}, 200, 'with a bearer token it does not');
is(user_of($r), 'app_reader', 'and runs as the token\'s role');
$r = api('PUT', '/api/state/k', $good, body => '"v"', headers => ['Content-Type: application/json']);
is($r->{status}, 400, 'a bearer request has no session state to write');
ok(!exists $r->{cookies}{pg_dash_session}, 'and gets no cookie');

# --- a WebSocket opened with a token: its messages and live queries run as
# the token's role, its channels are those the role may use, and it is
# closed when the token expires
sub ws_open
{
	my ($token, %headers) = @_;
	my ($ws) = PgDashWs->open_dash(port => $port,
		headers => { (defined $token ? (Authorization => "Bearer $token") : ()), %headers });
	return $ws;
}
sub ws_answer
{
	my ($ws, %msg) = @_;
	$ws->send_json(\%msg);
	my $m = $ws->recv_until(sub { $_->{opcode} ne 'text' || $_->{data} =~ /"id":"\Q$msg{id}\E"/ });
	return $m && $m->{opcode} eq 'text' ? decode_json($m->{data}) : $m;
}
my $ws = ws_open($good);
is_deeply(ws_answer($ws, type => 'query', id => 'q1', name => 'whoami')->{rows}, [ ['app_reader'] ],
	'a WebSocket with a token: its queries run as the role');
is_deeply(ws_answer($ws, type => 'query', id => 'q2', name => 'secrets')->{rows}, [ ['for apps'] ],
	'with its grants');
is_deeply(ws_answer($ws, type => 'watch', id => 'w1', name => 'whoami_live')->{rows}, [ ['app_reader'] ],
	'so do its live queries (run by the executors)');
$ws->send_json({ type => 'subscribe', channel => 'apps_only' });
is($ws->recv_json->{type}, 'subscribed', 'it may subscribe to a channel open to its role');
$ws->send_json({ type => 'subscribe', channel => 'readers_only' });
my $refusal = $ws->recv_json;
is($refusal->{error}{code}, 'forbidden', 'but not to one open to other roles');
like($refusal->{error}{detail}, qr/app_reader/, 'naming the role') or diag(explain($refusal));
$node->safe_psql('postgres', "NOTIFY whoami_changed");
my $again = $ws->recv_until(sub { $_->{opcode} eq 'text' && $_->{data} =~ /"id":"w1"/ });
is_deeply($again && decode_json($again->{data})->{rows}, [ ['app_reader'] ],
	'a live query re-run on its channel keeps the role');
my $anon = ws_open(undef);
is_deeply(ws_answer($anon, type => 'query', id => 'q1', name => 'whoami')->{rows}, [ ['dash_reader'] ],
	'beside it, a WebSocket without a token runs as pg_dash.role');
is(ws_answer($anon, type => 'query', id => 'q2', name => 'secrets')->{error}{status}, 403,
	'and is refused what pg_dash.role may not read');
is_deeply(ws_answer($anon, type => 'query', id => 'q3', name => 'whoami', bearer_role => 'app_reader',
		role => 'app_reader')->{rows}, [ ['dash_reader'] ],
	'a message naming a role gets none: only a token gives one');
$anon->close;

my $refused = eval { ws_open(token({ alg => 'HS256' }, { %ok_claims, exp => $now - 120 }, hs($secret))); '' } // $@;
like($refused, qr/401/, 'a WebSocket with an expired token is refused (401)');
$refused = eval { ws_open($good, 'X-Forwarded-For' => '203.0.113.7'); '' } // $@;
like($refused, qr/401/, 'and one with a token over plain HTTP from another machine');

# the executors' internal route, which carries a WebSocket's role, is a
# serving worker's own: a client naming it, directly or through /api, gets
# nothing run
my $internal = '{"name":"whoami","params":null,"session":null,"bearer_role":"app_reader","id":1,"prefix":""}';
for my $target ('/internal/ws-run', '/api/../internal/ws-run', '/api/%2e%2e/internal/ws-run')
{
	my $resp = raw_request($port, "POST $target HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
		  . 'Content-Length: ' . length($internal) . "\r\nConnection: close\r\n\r\n$internal");
	like($resp, qr/^HTTP\/1\.1 4\d\d/, "POST $target from a client: refused");
	unlike($resp, qr/app_reader/, '  and nothing ran as the role it names');
}

# expiry: the connection closes once the token's exp (plus the leeway) passes
$node->safe_psql('postgres', "ALTER SYSTEM SET pg_dash.jwt_leeway = 0; SELECT pg_reload_conf()");
sleep 0.5;
my $brief = ws_open(token({ alg => 'HS256' }, { %ok_claims, exp => time + 2 }, hs($secret)));
is_deeply(ws_answer($brief, type => 'query', id => 'q1', name => 'whoami')->{rows}, [ ['app_reader'] ],
	'a token about to expire still works');
my $closed = $brief->recv_until(sub { $_->{opcode} eq 'close' || $_->{opcode} eq 'eof' }, timeout => 6);
is($closed && $closed->{close_code}, 1008, 'the server closes the WebSocket when its token expires');
like($closed && $closed->{close_reason}, qr/expired/, 'saying why');
$node->safe_psql('postgres', "ALTER SYSTEM RESET pg_dash.jwt_leeway; SELECT pg_reload_conf()");
$ws->close;

# with no executor (no worker slot to spare) the serving worker runs them
# itself, as the token's role too
# (the slots: the two serving workers and the logical replication launcher)
$node->safe_psql('postgres', "ALTER SYSTEM SET max_worker_processes = 3");
$node->restart;
wait_for_workers($node, $port, 2);
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_dash executor'"),
	0, 'no executor runs');
my $here = ws_open($good);
is_deeply(ws_answer($here, type => 'query', id => 'q1', name => 'whoami')->{rows}, [ ['app_reader'] ],
	"without executors a token's WebSocket query runs as its role");
is_deeply(ws_answer($here, type => 'watch', id => 'w1', name => 'whoami_live')->{rows}, [ ['app_reader'] ],
	'its live query too');
$node->safe_psql('postgres', "NOTIFY whoami_changed");
$again = $here->recv_until(sub { $_->{opcode} eq 'text' && $_->{data} =~ /"id":"w1"/ });
is_deeply($again && decode_json($again->{data})->{rows}, [ ['app_reader'] ], 'and its re-run');
$here->close;
$node->safe_psql('postgres', "ALTER SYSTEM RESET max_worker_processes");
$node->restart;
wait_for_workers($node, $port, 2);

# only over a secure connection: the trusted proxy says where the client is
$r = api('GET', '/api/query/whoami', $good, headers => ['X-Forwarded-For: 203.0.113.7']);
is($r->{status}, 401, 'refused over plain HTTP from another machine');
like($r->{body}, qr/HTTPS/, 'saying why');
$r = api('GET', '/api/query/whoami', $good, headers => [ 'X-Forwarded-For: 203.0.113.7', 'X-Forwarded-Proto: https' ]);
is($r->{status}, 200, 'accepted when the proxy says the client used HTTPS');
$r = api('GET', '/api/query/whoami', $good, headers => ['X-Forwarded-For: 198.51.100.1, 127.0.0.1']);
is($r->{status}, 401, 'the rightmost untrusted address is the client');
$r = api('GET', '/api/query/whoami', $good, headers => ['X-Forwarded-For: 127.0.0.1']);
is($r->{status}, 200, 'a local client behind the proxy may use plain HTTP');
my ($out, $err);
IPC::Run::run([ 'curl', '-s', '-i', '--interface', '127.0.0.2', '-H', "Authorization: Bearer $good",
	'-H', 'X-Forwarded-For: 203.0.113.7', "http://127.0.0.1:$port/api/query/whoami" ], '>', \$out, '2>', \$err);
like($out, qr/^HTTP\/1\.1 200/, 'X-Forwarded-For from an untrusted address is ignored');

# issuer and audience
$node->safe_psql('postgres', "ALTER SYSTEM SET pg_dash.jwt_issuer = 'https://id.example.com'; "
	. "ALTER SYSTEM SET pg_dash.jwt_audience = 'dashboards'; SELECT pg_reload_conf()");
sleep 0.5;
refused($good, qr/issuer/, 'missing issuer');
$r = api('GET', '/api/query/whoami', token({ alg => 'HS256' },
	{ %ok_claims, iss => 'https://id.example.com', aud => [ 'other', 'dashboards' ] }, hs($secret)));
is(user_of($r), 'app_reader', 'matching issuer and audience');
refused(token({ alg => 'HS256' }, { %ok_claims, iss => 'https://id.example.com', aud => 'other' }, hs($secret)),
	qr/audience/, 'another audience');
$node->safe_psql('postgres', "ALTER SYSTEM RESET pg_dash.jwt_issuer; ALTER SYSTEM RESET pg_dash.jwt_audience; SELECT pg_reload_conf()");

# RS256 with a public key file, and HS/RS confusion
IPC::Run::run([ 'openssl', 'genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', "$dir/rsa.key" ], '>', \$out, '2>', \$err) or die $err;
IPC::Run::run([ 'openssl', 'pkey', '-in', "$dir/rsa.key", '-pubout', '-out', "$dir/rsa.pub" ], '>', \$out, '2>', \$err) or die $err;
$node->safe_psql('postgres', "ALTER SYSTEM SET pg_dash.jwt_algorithm = 'RS256'; "
	. "ALTER SYSTEM SET pg_dash.jwt_public_key_file = '$dir/rsa.pub'; SELECT pg_reload_conf()");
sleep 0.5;
$r = api('GET', '/api/query/whoami', token({ alg => 'RS256' }, \%ok_claims, pkey_sign("$dir/rsa.key")));
is($r->{status}, 200, 'a valid RS256 token');
is(user_of($r), 'app_reader', 'RS256: the claim\'s role');
my $pem = slurp_file("$dir/rsa.pub");
refused(token({ alg => 'HS256' }, \%ok_claims, hs($pem)), qr/RS256/, 'HS256 keyed with the RSA public key (confusion)');
refused($good, qr/RS256/, 'an HS256 token once RS256 is configured');
my $claims = encode_base64url(encode_json({ %ok_claims, role => 'boss' }));
my $rs = token({ alg => 'RS256' }, \%ok_claims, pkey_sign("$dir/rsa.key"));
$rs =~ s/^([^.]+)\.[^.]+\./$1.$claims./;
refused($rs, qr/signature/, 'an RS256 token with a changed payload');

# ES256
IPC::Run::run([ 'openssl', 'genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', "$dir/ec.key" ], '>', \$out, '2>', \$err) or die $err;
IPC::Run::run([ 'openssl', 'pkey', '-in', "$dir/ec.key", '-pubout', '-out', "$dir/ec.pub" ], '>', \$out, '2>', \$err) or die $err;
$node->safe_psql('postgres', "ALTER SYSTEM SET pg_dash.jwt_algorithm = 'ES256'; "
	. "ALTER SYSTEM SET pg_dash.jwt_public_key_file = '$dir/ec.pub'; SELECT pg_reload_conf()");
sleep 0.5;
$r = api('GET', '/api/query/whoami', token({ alg => 'ES256' }, \%ok_claims, pkey_sign("$dir/ec.key", 1)));
is(user_of($r), 'app_reader', 'a valid ES256 token');
refused(token({ alg => 'RS256' }, \%ok_claims, pkey_sign("$dir/rsa.key")), qr/ES256/, 'an RS256 token once ES256 is configured');

# a key file that does not fit the algorithm: refused, and the log says why
$node->safe_psql('postgres', "ALTER SYSTEM SET pg_dash.jwt_public_key_file = '$dir/rsa.pub'; SELECT pg_reload_conf()");
sleep 0.5;
my $offset = -s $node->logfile;
$r = api('GET', '/api/query/whoami', token({ alg => 'ES256' }, \%ok_claims, pkey_sign("$dir/ec.key", 1)));
is($r->{status}, 401, 'an RSA key file for ES256 verifies nothing');
like(slurp_file($node->logfile, $offset), qr/P-256/, 'the log names the problem');

# a short HS256 secret is refused as a setting
my ($ret, $o, $e) = $node->psql('postgres', "ALTER SYSTEM SET pg_dash.jwt_secret = 'short'");
like($e, qr/at least 32 bytes/, 'a short HS256 secret is refused');

$node->stop;
done_testing();
