# Pages and actions over HTTP and WebSocket: /api/pages, /api/page/<path>,
# the page view /p/<path>, POST /api/action/<name> (state changes, errors
# that roll back, unregistered functions, cross-origin refusal, the role),
# and page_changed when a page or a query it binds is redefined.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;
use lib 't';
use PgDashTest;
use PgDashWs;

my $setup = <<'SQL';
CREATE ROLE dash_reader LOGIN;
CREATE TABLE public.audit (region text);
GRANT SELECT, INSERT ON public.audit TO dash_reader;
CREATE TABLE public.secrets (secret text);
INSERT INTO public.secrets VALUES ('hidden');
SELECT pg_dash.define_query('sales_q', 'SELECT 1 AS hour, 2 AS total');
SELECT pg_dash.define_query('search_path', 'SELECT current_setting(''search_path'') AS p');

-- an action: records the region and counts the calls
CREATE FUNCTION public.set_region(state jsonb, payload jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.audit VALUES (payload ->> 'region');
    RETURN jsonb_build_object('region', payload -> 'region',
                              'count', coalesce((state ->> 'count')::int, 0) + 1,
                              'role', current_user);
END $$;
-- writes, then fails: nothing may stay
CREATE FUNCTION public.failing(state jsonb, payload jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.audit VALUES ('failing');
    PERFORM pg_dash.set_state('touched', 'true');
    RAISE EXCEPTION 'region % is not allowed', payload ->> 'region'
        USING HINT = 'Pick North or South.';
END $$;
CREATE FUNCTION public.clear_region(state jsonb, payload jsonb) RETURNS jsonb
LANGUAGE sql AS $$ SELECT '{"region": null}'::jsonb $$;
CREATE FUNCTION public.not_object(state jsonb, payload jsonb) RETURNS jsonb
LANGUAGE sql AS $$ SELECT '[1, 2]'::jsonb $$;
CREATE FUNCTION public.read_secret(state jsonb, payload jsonb) RETURNS jsonb
LANGUAGE sql AS $$ SELECT jsonb_build_object('secret', (SELECT secret FROM public.secrets)) $$;
CREATE FUNCTION public.leaky_settings(state jsonb, payload jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('search_path', 'nowhere', false);
    RETURN '{"leaked": false}';
END $$;
CREATE FUNCTION public.slow(state jsonb, payload jsonb) RETURNS jsonb
LANGUAGE sql AS $$ SELECT '{}'::jsonb FROM pg_sleep(5) $$;
-- a function with the right signature that is not registered
CREATE FUNCTION public.unregistered(state jsonb, payload jsonb) RETURNS jsonb
LANGUAGE sql AS $$ SELECT '{"hacked": true}'::jsonb $$;

SELECT pg_dash.define_action('set_region', 'public.set_region(jsonb, jsonb)', 'Sets the region');
SELECT pg_dash.define_action('failing', 'public.failing(jsonb, jsonb)');
SELECT pg_dash.define_action('clear_region', 'public.clear_region(jsonb, jsonb)');
SELECT pg_dash.define_action('not_object', 'public.not_object(jsonb, jsonb)');
SELECT pg_dash.define_action('read_secret', 'public.read_secret(jsonb, jsonb)');
SELECT pg_dash.define_action('leaky_settings', 'public.leaky_settings(jsonb, jsonb)');
SELECT pg_dash.define_action('slow', 'public.slow(jsonb, jsonb)');

SELECT pg_dash.define_page('sales', $page$
# Sales
<|layout|columns=1 2|
<|{region}|selector|lov=North;South|>
<|{sales_q}|chart|type=line|x=hour|y=total|>
|>
<|Go|button|on_action=set_region|>
$page$, description => 'Sales by hour');
SELECT pg_dash.define_page('ops/disk', '## Disk' || chr(10) || '<|{disk}|table|>');
SQL

my ($node, $port) = start_node('pages', setup => $setup,
	conf => "pg_dash.role = 'dash_reader'\npg_dash.statement_timeout = '1s'");

# One request; the decoded JSON body in {json}.
sub req
{
	my ($method, $path, %o) = @_;
	my @h = @{ $o{headers} // [] };
	push @h, "Cookie: pg_dash_session=$o{token}" if defined $o{token};
	push @h, 'X-CSRF-Token: ' . csrf_of($o{token}) if defined $o{token} && $method !~ /^(GET|HEAD)$/;
	push @h, 'Content-Type: application/json' if defined $o{body};
	my $r = http($port, $method, $path, headers => \@h, body => $o{body});
	$r->{json} = eval { json_decode($r->{body}) };
	return $r;
}

# --- pages over HTTP
my $r = req('GET', '/api/pages');
is($r->{status}, 200, 'GET /api/pages');
is_deeply([ map { $_->{path} } @{ $r->{json}{pages} } ], [ 'ops/disk', 'sales' ],
	'pages listed by path');
my ($sales) = grep { $_->{path} eq 'sales' } @{ $r->{json}{pages} };
is($sales->{title}, 'Sales', 'title from the first heading');
is($sales->{description}, 'Sales by hour', 'description');
ok($sales->{updated_at}, 'updated_at');

$r = req('GET', '/api/page/sales');
is($r->{status}, 200, 'GET /api/page/sales');
is($r->{json}{path}, 'sales', 'path');
like($r->{json}{source}, qr/<\|\{region\}\|selector/, 'source as written');
is($r->{json}{tree}{type}, 'page', 'tree is the parser\'s page node');
is_deeply($r->{json}{tree}{bindings}, [ 'region', 'sales_q' ], 'tree bindings');
is_deeply($r->{json}{tree}{actions}, ['set_region'], 'tree actions');
is($r->{json}{tree}{children}[1]{control}, 'layout', 'the layout block');
is($r->{json}{tree}{children}[1]{children}[1]{properties}{type}, 'line', 'chart properties');
is(req('GET', '/api/page/ops/disk')->{json}{title}, 'Disk', 'a nested path');

$r = req('GET', '/api/page/nope');
is($r->{status}, 404, 'a missing page is 404');
is($r->{json}{error}{code}, 'not_found', '404 in the JSON error format');
like($r->{json}{error}{message}, qr/no page "nope"/, '404 names the page');
is(req('GET', '/api/page/Bad%20Path')->{status}, 404, 'an invalid path is 404');
is(req('POST', '/api/pages', body => '{}')->{status}, 405, 'POST /api/pages is 405');

$r = req('GET', '/p/sales');
is($r->{status}, 200, 'GET /p/sales');
like($r->{headers}{'content-type'}, qr{^text/html}, '/p/<path> is HTML');
like($r->{body}, qr{<script type="module" src="/js/app\.js"></script>}, '/p/<path> serves the front end as one module');
# the page itself is in the document: the browser draws without asking for it
my ($block) = $r->{body} =~ m{<script type="application/json" id="pg-dash-page">([^<]*)</script>\n(?:<link [^>]*>\n)*</head>};
ok(defined $block, 'the page is embedded as a JSON data block at the end of <head>');
is_deeply(json_decode($block // 'null'), req('GET', '/api/page/sales')->{json}, '... what /api/page/sales answers');
# what the front end asks for first travels while its scripts load
like($r->{body}, qr{<link rel="preload" href="/api/queries" as="fetch" crossorigin>\n<link rel="preload" href="/api/state" as="fetch" crossorigin>\n</head>},
	'the query list and the state are preloaded');
my $etag = $r->{headers}{etag};
is(req('GET', '/p/sales', headers => ["If-None-Match: $etag"])->{status}, 304, 'the document revalidates by its ETag');
# text that would end the element or start markup in the document is escaped
my $tricky = "# Tricky\n</script><script>alert(1)</script> <!-- & --> <|{sales_q}|table|>\n";
$node->safe_psql('postgres', "SELECT pg_dash.define_page('tricky', \$t\$$tricky\$t\$)");
$r = req('GET', '/p/tricky');
($block) = $r->{body} =~ m{<script type="application/json" id="pg-dash-page">(.*?)</script>}s;
unlike($block // '<', qr/[<>&]/, 'no <, > or & in the data block');
is(json_decode($block // 'null')->{source}, $tricky, 'the source survives as \u escapes');
is(scalar(() = $r->{body} =~ /<script/g), 5, 'no script element besides the front end\'s and the data block');
$etag = $r->{headers}{etag};
$node->safe_psql('postgres', "SELECT pg_dash.define_page('tricky', '# Plain')");
$r = req('GET', '/p/tricky', headers => ["If-None-Match: $etag"]);
is($r->{status}, 200, 'a redefined page changes the document\'s ETag');
like($r->{body}, qr/# Plain/, '... and the document has the new page');
$node->safe_psql('postgres', "SELECT pg_dash.drop_page('tricky')");
is(req('GET', '/p/ops/disk/')->{status}, 200, 'a trailing slash is allowed');
$r = req('GET', '/p/nope');
is($r->{status}, 404, '/p/ of a missing page is 404');
like($r->{headers}{'content-type'}, qr{^text/html}, 'as HTML');
unlike($r->{body}, qr{rel="preload"}, '... which preloads nothing');

# --- actions
$r = req('PATCH', '/api/state', body => '{}');
my ($token) = ($r->{headers}{'set-cookie'} // '') =~ /^pg_dash_session=([A-Za-z0-9_-]+);/;
ok($token, 'a session cookie (from the first state write)');

$r = req('POST', '/api/action/set_region', token => $token, body => '{"payload":{"region":"North"}}');
is($r->{status}, 200, 'an action answers 200');
is_deeply($r->{json}{state}, { region => 'North', count => 1, role => 'dash_reader' },
	'its result is merged into the state');
is_deeply($r->{json}{changes}, { region => 'North', count => 1, role => 'dash_reader' },
	'changes are the keys it set');
like($r->{headers}{'cache-control'} // '', qr/no-store/, 'not cached');
$r = req('POST', '/api/action/set_region', token => $token, body => '{"payload":{"region":"South"}}');
is_deeply($r->{json}{state}, { region => 'South', count => 2, role => 'dash_reader' },
	'the function sees the current state');
is_deeply(req('GET', '/api/state', token => $token)->{json}{state},
	{ region => 'South', count => 2, role => 'dash_reader' }, 'the state was stored');
is($node->safe_psql('postgres', 'SELECT string_agg(region, \',\' ORDER BY region) FROM public.audit'),
	'North,South', 'actions run read-write');

$r = req('POST', '/api/action/clear_region', token => $token, body => '{}');
is($r->{status}, 200, 'an action without a payload');
is_deeply($r->{json}{changes}, { region => undef }, 'null in the result removes a key');
ok(!exists $r->{json}{state}{region}, 'the key is gone');

$r = req('POST', '/api/action/failing', token => $token, body => '{"payload":{"region":"West"}}');
is($r->{status}, 400, 'an action that raises answers 400');
is($r->{json}{error}{code}, 'P0001', 'with the SQLSTATE');
is($r->{json}{error}{message}, 'region West is not allowed', 'with the message');
is($r->{json}{error}{hint}, 'Pick North or South.', 'with the hint');
is($node->safe_psql('postgres', "SELECT count(*) FROM public.audit WHERE region = 'failing'"),
	0, 'its writes were rolled back');
is_deeply(req('GET', '/api/state', token => $token)->{json}{state},
	{ count => 2, role => 'dash_reader' }, 'the state did not change');

$r = req('POST', '/api/action/unregistered', token => $token, body => '{}');
is($r->{status}, 404, 'an unregistered function cannot be called');
like($r->{json}{error}{hint}, qr/define_action/, 'the 404 says how to register one');
is(req('POST', '/api/action/pg_sleep', token => $token, body => '{}')->{status}, 404,
	'nor a built-in one');
is(req('POST', '/api/action/a%20b', token => $token, body => '{}')->{status}, 404,
	'an invalid action name is 404');
ok(!exists req('GET', '/api/state', token => $token)->{json}{state}{hacked}, 'nothing ran');

$r = req('POST', '/api/action/read_secret', token => $token, body => '{}');
is($r->{status}, 403, 'actions run as pg_dash.role');
is($r->{json}{error}{code}, '42501', 'permission denied');

$r = req('POST', '/api/action/not_object', token => $token, body => '{}');
is($r->{status}, 500, 'a result that is not an object is refused');
like($r->{json}{error}{message}, qr/did not return a JSON object/, 'and explained');

$r = req('POST', '/api/action/leaky_settings', token => $token, body => '{}');
is($r->{status}, 200, 'an action that changes settings');
is(scalar(grep { ($_->{body} // '') =~ /nowhere/ } map { req('GET', '/api/query/search_path') } 1 .. 8),
	0, 'its settings do not leak into the worker');
$r = req('POST', '/api/action/set_region', token => $token, body => '{"payload":{"region":"East"}}');
is($r->{status}, 200, 'later actions still work');

$r = req('POST', '/api/action/slow', token => $token, body => '{}');
is($r->{status}, 504, 'pg_dash.statement_timeout applies');
is(req('GET', '/healthz')->{status}, 200, 'the worker carries on');

$r = req('POST', '/api/action/set_region', token => $token, body => '[1]');
is($r->{status}, 400, 'a body that is not an object is 400');
$r = req('POST', '/api/action/set_region', token => $token, body => '{"payload":');
is($r->{status}, 400, 'invalid JSON is 400');
$r = req('GET', '/api/action/set_region', token => $token);
is($r->{status}, 405, 'GET of an action is 405');
like($r->{headers}{allow} // '', qr/POST/, 'Allow: POST');

# cross-origin calls are refused, same-origin ones pass
$r = req('POST', '/api/action/set_region', token => $token, body => '{"payload":{"region":"X"}}',
	headers => ['Origin: http://evil.example']);
is($r->{status}, 403, 'a cross-origin action is refused');
is($r->{json}{error}{code}, 'forbidden', 'as forbidden');
$r = req('POST', '/api/action/set_region', token => $token, body => '{"payload":{"region":"X"}}',
	headers => ['Sec-Fetch-Site: cross-site']);
is($r->{status}, 403, 'Sec-Fetch-Site: cross-site is refused');
isnt(req('GET', '/api/state', token => $token)->{json}{state}{region}, 'X',
	'refused actions changed nothing');
$r = req('POST', '/api/action/set_region', token => $token, body => '{"payload":{"region":"Y"}}',
	headers => [ "Origin: http://127.0.0.1:$port", 'Sec-Fetch-Site: same-origin' ]);
is($r->{status}, 200, 'a same-origin action passes');

# without a usable role nothing runs
$node->safe_psql('postgres', "ALTER SYSTEM SET pg_dash.role = ''; SELECT pg_reload_conf();");
ok(wait_until(sub {
	req('POST', '/api/action/set_region', token => $token, body => '{}')->{status} == 503
}), 'actions answer 503 when pg_dash.role is unset');
$node->safe_psql('postgres', "ALTER SYSTEM RESET pg_dash.role; SELECT pg_reload_conf();");
ok(wait_until(sub {
	req('POST', '/api/action/set_region', token => $token, body => '{}')->{status} == 200
}), 'and work again once it is set');

# --- page_changed over WebSocket
my $ws = PgDashWs->connect(port => $port, protocol => 'pg_dash.v1');
my $hello = $ws->recv_json(timeout => 5);
is($hello->{type}, 'hello', 'WebSocket hello');

# The next JSON message of a type, others skipped; undef on timeout.
sub recv_type
{
	my ($type, $timeout) = @_;
	my $m = $ws->recv_until(sub {
		$_->{opcode} eq 'text' && $_->{data} =~ /"type":"\Q$type\E"/;
	}, timeout => $timeout // 5);
	return $m ? json_decode($m->{data}) : undef;
}

$ws->send_json({ type => 'page', path => 'sales' });
is_deeply(recv_type('page_subscribed'), { type => 'page_subscribed', path => 'sales' },
	'page subscription acknowledged');
$ws->send_json({ type => 'page', path => 'Not Valid' });
my $err = recv_type('error');
is($err->{error}{code} // $err->{code}, 'invalid_path', 'an invalid path is an error');

$node->safe_psql('postgres', "SELECT pg_dash.define_page('sales', '# Sales v2' || chr(10) || '<|{sales_q}|table|>')");
is_deeply(recv_type('page_changed'), { type => 'page_changed', path => 'sales' },
	'page_changed when the page is redefined');
is(req('GET', '/api/page/sales')->{json}{title}, 'Sales v2', 'the new version is served');

$node->safe_psql('postgres', "SELECT pg_dash.define_query('sales_q', 'SELECT 2 AS hour, 3 AS total')");
is_deeply(recv_type('page_changed'), { type => 'page_changed', path => 'sales' },
	'page_changed when a query it binds is redefined');

$node->safe_psql('postgres', "SELECT pg_dash.define_page('ops/disk', '## Disk 2')");
$node->safe_psql('postgres', "SELECT pg_dash.define_query('other_q', 'SELECT 1 AS x')");
$ws->send_json({ type => 'ping', id => 7 });
my $next = $ws->recv_until(sub { $_->{opcode} eq 'text' }, timeout => 5);
like($next->{data} // '', qr/"type":"pong"/, 'no page_changed for other pages or queries');

$node->safe_psql('postgres', "SELECT pg_dash.drop_page('sales')");
is_deeply(recv_type('page_changed'), { type => 'page_changed', path => 'sales' },
	'page_changed when the page is dropped');
is(req('GET', '/api/page/sales')->{status}, 404, 'a dropped page is 404');
$ws->close;

$node->stop;
done_testing();
