# A hot standby's link to its primary (pg_dash.primary_conninfo): session
# state and actions asked of a standby live on the primary, reached as a
# dedicated non-superuser role that may only call pg_dash.forward_request().
# A session made through standby a is read and changed through standby b
# and the primary; an action called through a standby writes on the primary
# as pg_dash.role; with the primary stopped, reads keep working while state
# writes and actions answer 503, and everything resumes when it is back.
# How a client reached the standby (HTTPS, through a trusted proxy here)
# goes with its request: the primary sets Secure cookies and accepts a
# bearer token exactly when the standby would.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;
use lib 't';
use PgDashTest;
use PgDashWs;

my $secret = 'pg-dash-link-test-secret-0123456789abcdef';
my $setup = <<'SQL';
CREATE ROLE dash_reader;
CREATE ROLE dash_link LOGIN;
CREATE ROLE app_writer LOGIN;
GRANT USAGE ON SCHEMA pg_dash TO app_writer;
SELECT pg_dash.grant_link('dash_link');
GRANT USAGE ON SCHEMA pg_dash TO dash_reader;
SELECT pg_dash.define_query('my_region', 'SELECT pg_dash.state() ->> ''region'' AS region');
CREATE TABLE public.audit (region text, who name);
GRANT SELECT, INSERT ON public.audit TO dash_reader;
GRANT INSERT ON public.audit TO app_writer;
CREATE FUNCTION public.record(state jsonb, payload jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.audit VALUES (payload ->> 'region', current_user);
    RETURN jsonb_build_object('recorded', payload -> 'region');
END $$;
SELECT pg_dash.define_action('record', 'public.record(jsonb, jsonb)');
SELECT pg_dash.define_query('one', 'SELECT 1 AS x');
SQL

my ($primary, $pport) = start_node('primary', init => { allows_streaming => 1 },
	setup => $setup, conf => join("\n", "pg_dash.role = 'dash_reader'", 'max_connections = 40',
		"pg_dash.jwt_secret = '$secret'", "pg_dash.trusted_proxies = '127.0.0.1'"));
my $link = sprintf("host=%s port=%d dbname=postgres user=dash_link", $primary->host, $primary->port);
my ($sa, $aport) = start_standby($primary, 'standby_a', conf => "pg_dash.primary_conninfo = '$link'");
my ($sb, $bport) = start_standby($primary, 'standby_b', conf => "pg_dash.primary_conninfo = '$link'");

# One request to a port with an optional session cookie (and its CSRF token
# when it changes something) and a JSON body.
sub req
{
	my ($port, $method, $path, $token, %o) = @_;
	my @h;
	push @h, "Cookie: pg_dash_session=$token; pg_dash_csrf=" . csrf_of($token) if defined $token;
	push @h, 'X-CSRF-Token: ' . csrf_of($token) if defined $token && $method !~ /^(GET|HEAD)$/;
	push @h, 'Content-Type: application/json' if defined $o{body};
	my $r = http($port, $method, $path, headers => \@h, body => $o{body});
	$r->{json} = eval { json_decode($r->{body}) };
	return $r;
}

sub token_of
{
	my ($r) = @_;
	return ($r->{cookies}{pg_dash_session} // '') =~ /^pg_dash_session=([A-Za-z0-9_-]+);/ ? $1 : undef;
}

# --- a session made through standby a, read and changed everywhere
my $r = req($aport, 'PUT', '/api/state/region', undef, body => '"North"');
is($r->{status}, 200, 'a state write through standby a');
my $token = token_of($r);
ok(defined $token, 'creates a session: the cookie comes from the primary through the standby');
is($primary->safe_psql('postgres', 'SELECT count(*) FROM pg_dash.session_state'), 1,
	'the session lives on the primary');

is_deeply(req($bport, 'GET', '/api/state', $token)->{json}{state}, { region => 'North' },
	'standby b reads it');
is_deeply(req($pport, 'GET', '/api/state', $token)->{json}{state}, { region => 'North' },
	'the primary reads it');
$r = req($bport, 'PATCH', '/api/state', $token, body => '{"count": 1}');
is($r->{status}, 200, 'standby b changes it');
is_deeply(req($aport, 'GET', '/api/state', $token)->{json}{state}, { region => 'North', count => 1 },
	'standby a sees the change');
is(req($aport, 'GET', '/api/state/count', $token)->{json}{value}, 1, 'one key through a standby');
for my $s ([ 'a', $aport ], [ 'b', $bport ])
{
	$r = req($s->[1], 'GET', '/api/query/my_region', $token);
	is_deeply($r->{json}{rows}, [ ['North'] ], "standby $s->[0]: a named query that reads state sees it");
}
is_deeply(req($bport, 'GET', '/api/query/my_region')->{json}{rows}, [ [undef] ],
	'without a session it reads an empty state');
$r = req($aport, 'PUT', '/api/state/region', $token, body => '"South"');
is(req($pport, 'GET', '/api/state/region', $token)->{json}{value}, 'South',
	'a change through standby a is seen by the primary');
{
	my $h = http($aport, 'PUT', '/api/state/region', body => '"x"',
		headers => [ "Cookie: pg_dash_session=$token; pg_dash_csrf=" . csrf_of($token),
			'Content-Type: application/json' ]);
	is($h->{status}, 403, 'a forwarded state write without the CSRF token is refused');
}

# --- state changes reach the session's tabs on all three, and live queries
# that read state re-run on the standbys
my %tab;
for my $s ([ 'primary', $pport ], [ 'a', $aport ], [ 'b', $bport ])
{
	my $ws = PgDashWs->connect(port => $s->[1], protocol => 'pg_dash.v1',
		headers => { Cookie => "pg_dash_session=$token" });
	is($ws->recv_type('hello')->{session}, JSON::PP::true(), "a tab of the session on $s->[0]");
	$ws->send_json({ type => 'watch', id => 'r', name => 'my_region', params => {} });
	$ws->recv_type('result');
	$tab{ $s->[0] } = $ws;
}
sleep 1;    # the standbys' links LISTEN for state changes
is(req($bport, 'PATCH', '/api/state', $token, body => '{"region": "Central"}')->{status}, 200,
	'a state change through standby b');
# (an earlier change may still arrive first: it is read when delivered, so
# it shows the state of then)
for my $who (qw(primary a b))
{
	my $m = $tab{$who}->recv_until(sub { $_->{data} =~ /"type":"state".*"Central"/ }, timeout => 5);
	ok($m, "the tab on $who gets the new state");
	$m = $tab{$who}->recv_until(sub { $_->{data} =~ /"type":"result".*"Central"/ }, timeout => 5);
	ok($m, "and its live query that reads state re-runs with it");
}
$_->close for values %tab;

# --- an action through a standby writes on the primary as pg_dash.role
$r = req($bport, 'POST', '/api/action/record', $token, body => '{"payload":{"region":"West"}}');
is($r->{status}, 200, 'an action through standby b');
is($primary->safe_psql('postgres', q{SELECT region || ':' || who FROM public.audit}), 'West:dash_reader',
	'wrote on the primary as pg_dash.role');
is(req($aport, 'GET', '/api/state/recorded', $token)->{json}{value}, 'West',
	'and its state change is read through standby a');

# --- how the client reached the standby goes with its request (a trusted
# proxy in front of the standby says so)
my @over_https = ('X-Forwarded-Proto: https', 'X-Forwarded-For: 192.0.2.7');
my @over_http = ('X-Forwarded-Proto: http', 'X-Forwarded-For: 192.0.2.7');
my @json = ('Content-Type: application/json');
$r = http($aport, 'PUT', '/api/state/region', body => '"Isle"', headers => [ @over_https, @json ]);
like($r->{cookies}{pg_dash_session} // '', qr/; Secure/, 'a session made over HTTPS through a standby: Secure cookie');
ok($r->{headers}{'strict-transport-security'}, 'and HSTS');
$r = http($aport, 'PUT', '/api/state/region', body => '"Isle"', headers => [ @over_http, @json ]);
like($r->{cookies}{pg_dash_session} // '', qr/^pg_dash_session=/, 'over plain HTTP: a session too');
unlike($r->{cookies}{pg_dash_session}, qr/; Secure/, 'its cookie is not Secure');
ok(!$r->{headers}{'strict-transport-security'}, 'and no HSTS');
my $bearer = 'Authorization: Bearer ' . jwt_hs256($secret, role => 'app_writer', exp => time + 300);
$r = http($bport, 'POST', '/api/action/record', body => '{"payload":{"region":"Far"}}',
	headers => [ @over_https, $bearer, @json ]);
is($r->{status}, 200, 'an action with a bearer token over HTTPS through a standby')
  or diag($r->{body});
is($primary->safe_psql('postgres', q{SELECT who FROM public.audit WHERE region = 'Far'}), 'app_writer',
	"it ran on the primary as the token's role");
$r = http($bport, 'POST', '/api/action/record', body => '{"payload":{"region":"Plain"}}',
	headers => [ @over_http, $bearer, @json ]);
is($r->{status}, 401, 'over plain HTTP from another machine the token is refused');
is($primary->safe_psql('postgres', q{SELECT count(*) FROM public.audit WHERE region = 'Plain'}), 0,
	'and nothing ran');

# --- the link's function: its role only, its routes only
# The SQL that forwards raw HTTP bytes from a client with these facts.
sub forward_sql
{
	my ($bytes, $client, $https, $local) = @_;
	return sprintf("SELECT encode(substr(pg_dash.forward_request(decode('%s', 'hex'), %s, %s, %s), 1, 16), 'escape')",
		unpack('H*', $bytes), map { defined $_ ? "'$_'" : 'NULL' } $client, $https, $local);
}
my $get_state = "GET /api/state HTTP/1.1\r\nHost: x\r\n\r\n";
$primary->safe_psql('postgres', 'ALTER ROLE dash_reader LOGIN');
my ($ret, $out, $err) = $primary->psql('postgres', forward_sql($get_state, undef, undef, undef),
	extra_params => [ '-U', 'dash_reader' ]);
like($err, qr/permission denied for function forward_request/, 'other roles may not forward requests');
($ret, $out, $err) = $primary->psql('postgres', forward_sql("GET /api/query/one HTTP/1.1\r\nHost: x\r\n\r\n"),
	extra_params => [ '-U', 'dash_link' ]);
like($err, qr/only forwards session state and action requests/, 'the link forwards nothing else');
$out = $primary->safe_psql('postgres', forward_sql($get_state, '192.0.2.1', 'false', 'false'),
	extra_params => [ '-U', 'dash_link' ]);
like($out, qr/^KHTTP\/1\.1 200/, 'its answer: the keep-alive flag and the HTTP response');
my $body = '{"payload":{"region":"Direct"}}';
my $bearer_action = "POST /api/action/record HTTP/1.1\r\nHost: x\r\n$bearer\r\n"
  . "Content-Type: application/json\r\nContent-Length: " . length($body) . "\r\n\r\n$body";
like($primary->safe_psql('postgres', forward_sql($bearer_action, '192.0.2.1', undef, undef),
		extra_params => [ '-U', 'dash_link' ]),
	qr/^KHTTP\/1\.1 401/, 'unknown transport facts are the cautious ones: the bearer token is refused');
like($primary->safe_psql('postgres', forward_sql($bearer_action, '192.0.2.1', 'true', 'false'),
		extra_params => [ '-U', 'dash_link' ]),
	qr/^KHTTP\/1\.1 200/, 'a client that came over HTTPS may send one');

$primary->safe_psql('postgres', 'REVOKE EXECUTE ON FUNCTION pg_dash.forward_request(bytea, text, boolean, boolean) FROM dash_link');
$r = req($aport, 'PUT', '/api/state/region', $token, body => '"East"');
is($r->{status}, 503, 'a link role without EXECUTE: 503');
is($r->{json}{error}{code}, 'primary_refused', 'primary_refused');
like($r->{json}{error}{hint} // '', qr/grant_link/, 'with a hint');
$primary->safe_psql('postgres', 'SELECT pg_dash.grant_link(\'dash_link\')');

# --- the primary stopped: reads work, state writes and actions 503
$primary->stop('fast');
for my $s ([ 'a', $aport ], [ 'b', $bport ])
{
	my ($name, $port) = @$s;
	$r = req($port, 'GET', '/api/query/one');
	is($r->{status}, 200, "standby $name serves reads without the primary");
	$r = req($port, 'PUT', '/api/state/region', $token, body => '"East"');
	is($r->{status}, 503, "standby $name: a state write is 503");
	is($r->{json}{error}{code}, 'primary_unreachable', 'because the primary cannot be reached');
	ok($r->{headers}{'retry-after'}, 'with Retry-After');
	$r = req($port, 'POST', '/api/action/record', $token, body => '{"payload":{"region":"Gone"}}');
	is($r->{status}, 503, "standby $name: an action is 503");
	$r = req($port, 'GET', '/api/state', $token);
	is($r->{status}, 503, "standby $name: a state read is 503 too");
	is(req($port, 'GET', '/api/query/my_region', $token)->{status}, 503,
		"standby $name: so is a query that reads state");
}
$primary->start;
ok(wait_until(sub { req($aport, 'PUT', '/api/state/region', $token, body => '"East"')->{status} == 200 }, 20),
	'the primary back: state writes through standby a work again');
# each process of a standby retries its link a second after a failure
ok(wait_until(sub { (req($bport, 'GET', '/api/state/region', $token)->{json}{value} // '') eq 'East' }),
	'and standby b reads them: the session survived a clean restart');
ok(wait_until(sub { req($bport, 'POST', '/api/action/record', $token, body => '{"payload":{"region":"Back"}}')->{status} == 200 }),
	'actions work again');

# --- the link role must not be a superuser
($ret, $out, $err) = $primary->psql('postgres', "SELECT pg_dash.grant_link('postgres')");
like($err, qr/must not be a superuser/, 'grant_link refuses a superuser');

# --- a standby without a link says why
$sb->append_conf('postgresql.conf', "pg_dash.primary_conninfo = ''");
$sb->reload;
ok(wait_until(sub { (req($bport, 'PUT', '/api/state/region', $token, body => '"N"')->{json}{error}{code} // '') eq 'no_primary_link' }),
	'a standby without pg_dash.primary_conninfo answers no_primary_link');

$_->stop for ($primary, $sa, $sb);
done_testing();
