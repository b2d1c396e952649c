# The CSRF token (issue 11): every cookie-authenticated request that
# changes something needs the session's token in X-CSRF-Token; the token is
# derived from the session token, handed out in the pg_dash_csrf cookie, and
# changes with rotation.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;
use lib 't';
use PgDashTest;

my $setup = <<'SQL';
CREATE ROLE dash_reader;
CREATE TABLE public.clicks (n int);
GRANT SELECT, INSERT ON public.clicks TO dash_reader;
SELECT pg_dash.define_query('one', 'SELECT 1 AS one');
CREATE FUNCTION public.bump(state jsonb, payload jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.clicks VALUES (1);
    RETURN jsonb_build_object('bumped', coalesce((state ->> 'bumped')::int, 0) + 1);
END $$;
SELECT pg_dash.define_action('bump', 'public.bump(jsonb, jsonb)');
SQL

# the test's client is its own TLS-terminating proxy (X-Forwarded-Proto below)
my ($node, $port) = start_node('csrf', setup => $setup,
	conf => "pg_dash.role = 'dash_reader'\npg_dash.allow_sql = on\npg_dash.trusted_proxies = '127.0.0.1'");

# --- the CSRF token: handed out beside the session cookie (sessions start
# with the first state write, which needs no token without a cookie)
sub first_write
{
	my (@headers) = @_;
	return http($port, 'PATCH', '/api/state', body => '{"first":1}',
		headers => [ 'Content-Type: application/json', @headers ]);
}
my $r = first_write();
my ($token) = ($r->{cookies}{pg_dash_session} // '') =~ /^pg_dash_session=([A-Za-z0-9_-]{43});/;
ok($token, 'a first write gets a session cookie');
my $csrf_cookie = $r->{cookies}{pg_dash_csrf} // '';
like($csrf_cookie, qr/^pg_dash_csrf=[0-9a-f]{64}; Path=\/; Max-Age=604800; SameSite=Strict$/,
	'and a CSRF cookie: readable by the page (not HttpOnly), SameSite=Strict, as long-lived');
my $csrf = csrf_of($token);
is(($csrf_cookie =~ /^pg_dash_csrf=([0-9a-f]{64})/)[0], $csrf,
	'the CSRF token is derived from the session token');
like(first_write('X-Forwarded-Proto: https')->{cookies}{pg_dash_csrf},
	qr/; SameSite=Strict; Secure$/, 'Secure behind a TLS-terminating proxy');
my ($other) = (first_write()->{cookies}{pg_dash_session} // '') =~
  /^pg_dash_session=([A-Za-z0-9_-]{43});/;
ok($other && $other ne $token, 'a second session');

my $both = "Cookie: pg_dash_session=$token; pg_dash_csrf=$csrf";
$r = http($port, 'GET', '/api/state', headers => [$both]);
ok(!defined $r->{headers}{'set-cookie'}, 'a browser with both cookies gets no new ones');
$r = http($port, 'GET', '/api/state', headers => ["Cookie: pg_dash_session=$token"]);
is(($r->{cookies}{pg_dash_csrf} // '') =~ /^pg_dash_csrf=([0-9a-f]{64})/ ? $1 : '', $csrf,
	'a browser that lost the CSRF cookie gets it again from GET /api/state');
$r = http($port, 'GET', '/api/state', headers => ["Cookie: pg_dash_session=$token; pg_dash_csrf=" . csrf_of($other)]);
ok(defined $r->{cookies}{pg_dash_csrf}, '... and so does one whose CSRF cookie is another session\'s');

# One request of an endpoint with the session cookie and the given token header.
sub with_token
{
	my ($method, $path, $body, $sent) = @_;
	my @h = ($both, 'Content-Type: application/json');
	push @h, "X-CSRF-Token: $sent" if defined $sent;
	my $res = http($port, $method, $path, headers => \@h, body => $body);
	$res->{json} = eval { json_decode($res->{body}) };
	return $res;
}

my @endpoints = (
	[ 'PATCH', '/api/state', '{"a":1}' ],
	[ 'PUT', '/api/state/b', '2' ],
	[ 'DELETE', '/api/state/b', undef ],
	[ 'POST', '/api/action/bump', '{"payload":null}' ],
	[ 'POST', '/api/query/one', '{}' ],
	[ 'POST', '/api/sql', '{"sql":"SELECT 1 AS one"}' ],
	[ 'DELETE', '/api/state', undef ]);
my $wrong = 'f' x 64;
for my $e (@endpoints)
{
	my ($method, $path, $body) = @$e;
	my $name = "$method $path";
	$r = with_token($method, $path, $body, undef);
	is($r->{status}, 403, "$name with the session cookie and no token: 403");
	is($r->{json}{error}{code}, 'csrf_token_missing', '... csrf_token_missing');
	like($r->{json}{error}{detail}, qr/X-CSRF-Token/, '... the detail names the header');
	like($r->{json}{error}{hint}, qr/pg_dash_csrf/, '... the hint names the cookie');
	$r = with_token($method, $path, $body, $wrong);
	is($r->{status}, 403, "$name with a wrong token: 403");
	is($r->{json}{error}{code}, 'csrf_token_invalid', '... csrf_token_invalid');
	is(with_token($method, $path, $body, csrf_of($other))->{status}, 403,
		"$name with another session's token: 403");
	is(with_token($method, $path, $body, substr($csrf, 0, 63))->{status}, 403,
		"$name with a truncated token: 403");
	is(with_token($method, $path, $body, uc $csrf)->{status}, 403,
		"$name with the token in upper case: 403");
	is(with_token($method, $path, $body, $csrf)->{status}, 200, "$name with the right token: 200");
}
is($node->safe_psql('postgres', 'SELECT count(*) FROM public.clicks'), 1,
	'the action ran once: only for the request with the right token');

# Requests without ambient authority need no token.
is(http($port, 'PATCH', '/api/state', headers => ['Content-Type: application/json'], body => '{"x":1}')->{status},
	200, 'a write without a session cookie needs no token');
is(http($port, 'POST', '/api/query/one', headers => ['Content-Type: application/json'], body => '{}')->{status},
	200, 'a query POST without a session cookie needs no token');
is(http($port, 'PATCH', '/api/state',
		headers => [ 'Cookie: pg_dash_session=not-a-token', 'Content-Type: application/json' ],
		body => '{"x":1}')->{status},
	200, 'a malformed session cookie (ignored, a fresh session) needs no token');
is(http($port, 'GET', '/api/state', headers => ["Cookie: pg_dash_session=$token"])->{status}, 200,
	'reads need no token');
is(http($port, 'POST', '/api/pages', headers => [$both], body => '{}')->{status}, 403,
	'the check comes before routing: any API write with the cookie needs the token');

# Rotation: a new token, a new CSRF token; the old one stops working.
$r = with_token('POST', '/api/session/rotate', '{}', $csrf);
is($r->{status}, 200, 'rotation with the right token');
my ($rotated) = ($r->{cookies}{pg_dash_session} // '') =~ /^pg_dash_session=([A-Za-z0-9_-]{43});/;
ok($rotated && $rotated ne $token, '... a new session token');
is(($r->{cookies}{pg_dash_csrf} // '') =~ /^pg_dash_csrf=([0-9a-f]{64})/ ? $1 : '', csrf_of($rotated),
	'... and its CSRF token in the cookie');
is(http($port, 'PATCH', '/api/state',
		headers => [ "Cookie: pg_dash_session=$rotated", "X-CSRF-Token: $csrf", 'Content-Type: application/json' ],
		body => '{"y":1}')->{status},
	403, 'the old CSRF token does not work with the new cookie');
is(http($port, 'PATCH', '/api/state',
		headers => [ "Cookie: pg_dash_session=$rotated", 'X-CSRF-Token: ' . csrf_of($rotated),
			'Content-Type: application/json' ],
		body => '{"y":1}')->{status},
	200, 'the new one does');
is(http($port, 'GET', '/healthz')->{status}, 200, 'the workers are fine');

$node->stop;
done_testing();
