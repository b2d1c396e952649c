# Authorization: Bearer <JWT>: the token's role claim names the role the
# request runs as.  Valid, expired and not-yet-valid tokens, wrong
# signatures, alg none, HS/RS confusion, RS256 and ES256 with a key file,
# roles that may not be served, no CSRF token and no cookie session, and a
# token refused over plain HTTP from another machine (behind a trusted
# proxy, by X-Forwarded-For).
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
$r = api('GET', '/ws', $good, headers => [ 'Upgrade: websocket', 'Connection: Upgrade',
	'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13' ]);
is($r->{status}, 400, 'no bearer token on /ws');

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
