# Security headers (issue 11, item 12): every response carries the
# Content-Security-Policy, Referrer-Policy and nosniff headers; only the
# document of a page with 3-D charts allows 'unsafe-eval';
# pg_dash.frame_ancestors is reloadable and refuses values that would break
# out of the header.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;
use lib 't';
use PgDashTest;

my $setup = <<'SQL';
CREATE ROLE dash_reader;
SELECT pg_dash.define_query('one', 'SELECT 1 AS one');
SELECT pg_dash.define_query('series', 'SELECT g AS i FROM generate_series(1, 5000) g');
SELECT pg_dash.define_page('flat', '<|{one}|chart|type=line|x=one|y=one|>');
SELECT pg_dash.define_page('cube', '<|layout|columns=1 1|' || chr(10)
  || '<|{one}|chart|type=Scatter3D|x=one|y=one|z=one|>' || chr(10) || '|>');
SELECT pg_dash.define_page('chosen', '<|{one}|chart|type={kind}|x=one|y=one|>');
SQL

my ($node, $port) = start_node('csp', setup => $setup, conf => "pg_dash.role = 'dash_reader'");
my $policy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
  . "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors";

# --- the security headers are on every kind of response
my %responses = (
	'the start page' => http($port, 'GET', '/'),
	'a page view' => http($port, 'GET', '/p/whatever'),
	'a stylesheet' => http($port, 'GET', '/css/app.css'),
	'a gzip asset' => http($port, 'GET', '/vendor/echarts.min.js', headers => ['Accept-Encoding: gzip']),
	'a missing file' => http($port, 'GET', '/no-such-file.js'),
	'a JSON answer' => http($port, 'GET', '/api/pages'),
	'a JSON 404' => http($port, 'GET', '/api/no/such/thing'),
	'a 405' => http($port, 'POST', '/healthz', body => ''),
	'/healthz' => http($port, 'GET', '/healthz'),
	'/metrics' => http($port, 'GET', '/metrics'),
	'a query result' => http($port, 'GET', '/api/query/one'),
	'a streamed result' => http($port, 'GET', '/api/query/series'),
	'a CSV download' => http($port, 'GET', '/api/query/one?format=csv'),
	'a session reply' => http($port, 'GET', '/api/state'),
	'a HEAD' => http($port, 'HEAD', '/'));
my $etag = $responses{'the start page'}{headers}{etag};
$responses{'a 304'} = http($port, 'GET', '/', headers => ["If-None-Match: $etag"]);
$responses{'a 400 for a request that does not parse'} =
  PgDashTest::parse_response(raw_request($port, "GARBAGE\r\n\r\n"));
is($responses{'a streamed result'}{headers}{'transfer-encoding'}, 'chunked',
	'the streamed result is chunked (a download worker wrote it)');
is($responses{'a 304'}{status}, 304, 'the conditional request is a 304');
is($responses{'a 400 for a request that does not parse'}{status}, 400, 'the garbage gets 400');
for my $what (sort keys %responses)
{
	my $h = $responses{$what}{headers};
	is($h->{'content-security-policy'}, "$policy 'none'", "$what: Content-Security-Policy");
	is($h->{'referrer-policy'}, 'same-origin', "$what: Referrer-Policy");
	is($h->{'x-content-type-options'}, 'nosniff', "$what: X-Content-Type-Options");
}
unlike($policy, qr/unsafe/, 'the policy allows no inline script or style and no eval');

# --- 'unsafe-eval' only for the document of a page with a 3-D chart
for my $case ([ 'flat', 0 ], [ 'cube', 1 ], [ 'chosen', 1 ])
{
	my ($page, $eval) = @$case;
	my $want = $eval ? "default-src 'self'; script-src 'self' 'unsafe-eval'; " : "default-src 'self'; script-src 'self'; ";
	my $h = http($port, 'GET', "/p/$page")->{headers};
	is(substr($h->{'content-security-policy'}, 0, length $want), $want,
		"/p/$page: " . ($eval ? "'unsafe-eval'" : "no 'unsafe-eval'"));
	my $etag = $h->{etag};
	like(http($port, 'GET', "/p/$page", headers => ["If-None-Match: $etag"])->{headers}{'content-security-policy'},
		$eval ? qr/'unsafe-eval'/ : qr/^(?!.*unsafe-eval)/, "/p/$page: the same in a 304");
	is(json_decode(http($port, 'GET', "/api/page/$page")->{body})->{script_eval},
		$eval ? JSON::PP::true : JSON::PP::false, "/api/page/$page says script_eval " . ($eval ? 'true' : 'false'));
	unlike(http($port, 'GET', "/api/page/$page")->{headers}{'content-security-policy'}, qr/unsafe-eval/,
		"... and its JSON has no 'unsafe-eval'");
}
unlike(http($port, 'GET', '/')->{headers}{'content-security-policy'}, qr/unsafe-eval/,
	'the next response after a 3-D page has no \'unsafe-eval\'');
$node->safe_psql('postgres', "SELECT pg_dash.define_page('cube', '<|{one}|chart|type=bar|x=one|y=one|>')");
unlike(http($port, 'GET', '/p/cube')->{headers}{'content-security-policy'}, qr/unsafe-eval/,
	'a page redefined without 3-D charts loses it');

# --- pg_dash.frame_ancestors: reloadable, validated
$node->safe_psql('postgres',
	"ALTER SYSTEM SET pg_dash.frame_ancestors = '''self'' https://portal.example.com:8443'");
$node->reload;
ok(wait_until(sub {
	my @csp = map { http($port, 'GET', '/healthz')->{headers}{'content-security-policy'} } 1 .. 6;
	return !grep { $_ ne "$policy 'self' https://portal.example.com:8443" } @csp;
}), 'a reloaded frame_ancestors reaches every worker');

for my $bad (
	[ q{'self'; script-src *}, qr/semicolon/ ],
	[ q{'self', https://x.example}, qr/comma/ ],
	[ q{'self'} . "\n" . q{Set-Cookie: x=1}, qr/printable ASCII/ ],
	[ q{'self'} . "\r" . q{x}, qr/printable ASCII/ ],
	[ q{'self'} . "\t" . q{x}, qr/printable ASCII/ ],
	[ q{'none' 'self'}, qr/cannot be combined/ ],
	[ q{}, qr/empty/ ],
	[ q{none}, qr/single quotes/ ],
	[ q{'unsafe-inline'}, qr/quoted keywords/ ],
	[ q{https://exa"mple.com}, qr/Each source/ ])
{
	my ($value, $why) = @$bad;
	(my $literal = $value) =~ s/'/''/g;
	my ($rc, $out, $err) = $node->psql('postgres',
		"ALTER SYSTEM SET pg_dash.frame_ancestors = E'" . ($literal =~ s/\n/\\n/gr =~ s/\r/\\r/gr =~ s/\t/\\t/gr) . "'");
	my $shown = $value =~ s/([\r\n\t])/sprintf('\\x%02x', ord $1)/ger;
	isnt($rc, 0, "frame_ancestors refuses $shown");
	like($err, qr/invalid value for parameter "pg_dash\.frame_ancestors"/, "... naming the setting");
	like($err, $why, '... with the reason');
}
like(http($port, 'GET', '/healthz')->{headers}{'content-security-policy'},
	qr/frame-ancestors 'self' https:\/\/portal\.example\.com:8443$/, 'refused values change nothing');

# A bad value in postgresql.conf is refused at reload; the previous one stays.
$node->append_conf('postgresql.conf', "pg_dash.frame_ancestors = '''self''; script-src *'\n");
$node->reload;
sleep 1;
like(http($port, 'GET', '/healthz')->{headers}{'content-security-policy'},
	qr/frame-ancestors 'self' https:\/\/portal\.example\.com:8443$/,
	'a bad value in postgresql.conf keeps the previous one');
$node->adjust_conf('postgresql.conf', 'pg_dash.frame_ancestors', undef);
$node->safe_psql('postgres', 'ALTER SYSTEM RESET pg_dash.frame_ancestors');
$node->reload;
ok(wait_until(sub {
	my @csp = map { http($port, 'GET', '/healthz')->{headers}{'content-security-policy'} } 1 .. 6;
	return !grep { $_ ne "$policy 'none'" } @csp;
}), 'reset: frame-ancestors is back to none');

$node->stop;
done_testing();
