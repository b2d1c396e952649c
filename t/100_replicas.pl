# pg_dash on hot standbys: a primary and two streaming standbys, each with
# its own workers.  Standbys serve pages, named queries, large (streamed)
# results and WebSocket clients from their replica; they write nothing
# (the session sweep runs on the primary only); /healthz says each one's
# role; definitions made on the primary are served by both standbys after
# replay, and a standby's browsers following a page hear that it changed
# (a WAL-logged invalidation, since NOTIFY is not replicated).
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;
use lib 't';
use PgDashTest;
use PgDashWs;

my $setup = <<'SQL';
CREATE ROLE dash_reader LOGIN;
CREATE TABLE public.sales (hour int, total int);
INSERT INTO public.sales SELECT h, h * 10 FROM generate_series(1, 24) h;
GRANT SELECT ON public.sales TO dash_reader;
SELECT pg_dash.define_query('sales_q', 'SELECT hour, total FROM public.sales WHERE hour <= :upto ORDER BY hour',
                            cache_ttl => 60);
SELECT pg_dash.define_query('many', 'SELECT g AS n FROM generate_series(1, 5000) g');
SELECT pg_dash.define_query('other_q', 'SELECT 1 AS x');
SELECT pg_dash.define_page('sales', '# Sales' || chr(10) || '<|{sales_q}|table|>');
SELECT pg_dash.define_page('ops', '# Ops');
SQL

my $conf = "pg_dash.role = 'dash_reader'\npg_dash.session_sweep_interval = 1";
my ($primary, $pport) = start_node('primary', init => { allows_streaming => 1 },
	setup => $setup, conf => $conf);
my ($sa, $aport) = start_standby($primary, 'standby_a');
my ($sb, $bport) = start_standby($primary, 'standby_b');
my %nodes = (primary => [ $primary, $pport ], a => [ $sa, $aport ], b => [ $sb, $bport ]);

sub get_json
{
	my ($port, $path) = @_;
	my $r = http($port, 'GET', $path);
	$r->{json} = eval { json_decode($r->{body}) };
	return $r;
}

# --- roles in /healthz
my $h = get_json($pport, '/healthz')->{json};
is($h->{role}, 'primary', 'the primary says so in /healthz');
ok(!exists $h->{replay_lag_bytes}, 'and reports no replay lag');
for my $s (qw(a b))
{
	my $port = $nodes{$s}[1];
	$h = get_json($port, '/healthz')->{json};
	is($h->{role}, 'standby', "standby $s says so in /healthz");
	like($h->{replay_lag_bytes} // '', qr/^\d+$/, "standby $s reports its replay lag in bytes");
	like($h->{replay_lag_seconds} // '', qr/^\d+(\.\d+)?$/, 'and in seconds');
	ok(wait_until(sub { get_json($port, '/healthz')->{json}{streaming} }),
		"standby $s streams from the primary");
}

# --- reads served by each standby
for my $s (qw(a b))
{
	my $port = $nodes{$s}[1];
	my $r = get_json($port, '/api/query/sales_q?upto=3');
	is($r->{status}, 200, "standby $s serves a named query");
	is_deeply([ map { $_->[1] } @{ $r->{json}{rows} // [] } ], [ 10, 20, 30 ],
		'with the rows of its replica');
	$r = get_json($port, '/api/query/sales_q?upto=3');
	is_deeply([ map { $_->[1] } @{ $r->{json}{rows} // [] } ], [ 10, 20, 30 ],
		'and the same again (from its cache)');
	$r = get_json($port, '/api/page/sales');
	is($r->{status}, 200, "standby $s serves a page");
	is($r->{json}{title}, 'Sales', 'the page as defined on the primary');
	$r = http($port, 'GET', '/api/query/many?format=csv');
	is($r->{status}, 200, "standby $s streams a large result");
	is(scalar(() = $r->{body} =~ /\n/g), 5001, 'every row of it, and the header');
	is($r->{headers}{'transfer-encoding'} // '', 'chunked', 'streamed (a result over one batch)');
	is(http($port, 'GET', '/p/sales')->{status}, 200, "standby $s serves the page view");
}

# --- a standby's WebSocket client follows a page defined on the primary
my $ws = PgDashWs->connect(port => $aport, protocol => 'pg_dash.v1');
is($ws->recv_json(timeout => 5)->{type}, 'hello', 'a WebSocket client of standby a');

$ws->send_json({ type => 'page', path => 'sales' });
is($ws->recv_type('page_subscribed')->{path}, 'sales', 'follows the page sales');
$ws->send_json({ type => 'page', path => 'fresh' });
is($ws->recv_type('page_subscribed')->{path}, 'fresh', 'and the page fresh, not defined yet');

# definitions made on the primary
$primary->safe_psql('postgres', q{
	SELECT pg_dash.define_query('fresh_q', 'SELECT 42 AS answer');
	SELECT pg_dash.define_page('fresh', '# Fresh' || chr(10) || '<|{fresh_q}|table|>');
	SELECT pg_dash.define_page('sales', '# Sales v2' || chr(10) || '<|{sales_q}|table|>');
});
$primary->wait_for_catchup($_) for ($sa, $sb);
for my $s (qw(a b))
{
	my $port = $nodes{$s}[1];
	ok(wait_until(sub { (get_json($port, '/api/query/fresh_q')->{json}{rows}[0][0] // 0) == 42 }),
		"standby $s serves a query defined on the primary after replay");
	is(get_json($port, '/api/page/fresh')->{json}{title}, 'Fresh',
		"standby $s serves a page defined on the primary");
	is(get_json($port, '/api/page/sales')->{json}{title}, 'Sales v2',
		"standby $s serves the page redefined on the primary");
}
my %changed;
for (1 .. 2)
{
	my $m = $ws->recv_type('page_changed');
	$changed{ $m->{path} }++ if $m;
}
is_deeply(\%changed, { sales => 1, fresh => 1 },
	"the standby's client hears that both pages changed, once each");

# a query the page binds, redefined on the primary
$primary->safe_psql('postgres', "SELECT pg_dash.define_query('sales_q', 'SELECT 1 AS hour, 2 AS total')");
is_deeply($ws->recv_type('page_changed'), { type => 'page_changed', path => 'sales' },
	'page_changed on the standby when a query the page binds is redefined');

# changes to other pages and queries are not announced
$primary->safe_psql('postgres', q{
	SELECT pg_dash.define_page('ops', '# Ops 2');
	SELECT pg_dash.define_query('other_q', 'SELECT 2 AS x');
});
$primary->wait_for_catchup($sa);
sleep 2;
$ws->send_json({ type => 'ping', id => 1 });
my $next = $ws->recv_until(sub { $_->{opcode} eq 'text' }, timeout => 5);
like($next->{data} // '', qr/"type":"pong"/, 'no page_changed for other pages or queries');

$primary->safe_psql('postgres', "SELECT pg_dash.drop_page('fresh')");
is_deeply($ws->recv_type('page_changed'), { type => 'page_changed', path => 'fresh' },
	'page_changed on the standby when the page is dropped on the primary');
$ws->close;

# --- a standby writes nothing: the session sweep runs on the primary only
# (pg_dash.session_sweep_interval = 1 s on all three nodes)
sleep 2;
for my $s (qw(a b))
{
	my $log = slurp_file($nodes{$s}[0]->logfile);
	unlike($log, qr/could not delete expired sessions|unlogged relations during recovery/,
		"standby $s does not sweep sessions");
	unlike($log, qr/pg_dash worker \d+ .*(FATAL|terminated)|background worker "pg_dash.*exited/,
		"no worker of standby $s ended");
}

$_->[0]->stop for values %nodes;
done_testing();
