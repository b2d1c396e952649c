# WebSocket /ws: handshake, hello, subscribe/NOTIFY, publish, query, watch,
# protocol errors, slow clients, keepalive and shutdown.
# (The fan-out to many clients on both workers is in 041_websocket_load.pl.)
use strict;
use warnings;

use IPC::Run;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use lib 't';
use PgDashTest;
use PgDashWs;

my $setup = <<'SQL';
CREATE ROLE dash_reader;
CREATE TABLE items (id serial PRIMARY KEY, kind text NOT NULL, name text NOT NULL);
INSERT INTO items (kind, name) VALUES ('fruit', 'apple'), ('fruit', 'pear'), ('veg', 'leek');
GRANT SELECT ON items TO dash_reader;
SELECT pg_dash.define_channel('news');
SELECT pg_dash.define_channel('big');
SELECT pg_dash.define_query('items_by_kind', 'SELECT id, name FROM items WHERE kind = :kind ORDER BY id',
                            refresh_on => ARRAY['items']);
SELECT pg_dash.define_query('item_by_id', 'SELECT name FROM items WHERE id = :id');
-- rows produced one at a time (a set-returning function in the select list)
SELECT pg_dash.define_query('many', 'SELECT generate_series(1, :n::int) AS i, repeat(''x'', 400) AS pad',
                            refresh_on => ARRAY['many']);
SQL

my ($node, $port) = start_node('ws', setup => $setup,
	conf => "pg_dash.role = 'dash_reader'");

# --- helpers -----------------------------------------------------------

# Opens a connection with the pg_dash.v1 subprotocol and reads the hello.
sub ws_open { return PgDashWs->open_dash(port => $port, @_) }

# The next JSON message of a given type (others skipped); undef on timeout.
sub recv_type
{
	my ($ws, $type, $timeout) = @_;
	my $m = $ws->recv_until(sub {
		$_->{opcode} eq 'text' && $_->{data} =~ /"type":"\Q$type\E"/;
	}, timeout => $timeout // 5);
	return undef unless $m;
	return json_decode($m->{data});
}

# The next message that is not a ping/pong, decoded when it is JSON text.
sub next_json
{
	my ($ws, $timeout) = @_;
	my $m = $ws->recv_until(sub { $_->{opcode} ne 'ping' && $_->{opcode} ne 'pong' },
		timeout => $timeout // 5);
	return undef unless $m && $m->{opcode} eq 'text';
	return json_decode($m->{data});
}

# The close frame a server sends (skipping other messages), or undef.
sub recv_close
{
	my ($ws, $timeout) = @_;
	return $ws->recv_until(sub { $_->{opcode} eq 'close' }, timeout => $timeout // 5);
}

# Sends a ping with an id and checks that the connection still answers.
sub still_open
{
	my ($ws, $name) = @_;
	my $id = int(rand(1e9));
	$ws->send_json({ type => 'ping', id => $id });
	my $pong = recv_type($ws, 'pong', 3);
	ok($pong && defined $pong->{id} && $pong->{id} == $id, "$name: connection stays open (pong $id)");
}

# A pg_dash counter from /metrics (sum of all series).
sub metric
{
	my ($name) = @_;
	my $r = http($port, 'GET', '/metrics');
	my $sum = 0;
	$sum += $1 while $r->{body} =~ /^\Q$name\E(?:\{[^}]*\})? (\d+(?:\.\d+)?)/mg;
	return $sum;
}

# Sets pg_dash GUCs with ALTER SYSTEM and reloads.
sub set_conf
{
	my (%gucs) = @_;
	$node->safe_psql('postgres',
		join('', map { "ALTER SYSTEM SET $_ = '$gucs{$_}';\n" } sort keys %gucs));
	$node->reload;
	sleep 0.5;					# the workers read it at their next loop pass
}

# --- handshake -----------------------------------------------------------

my $r = http($port, 'GET', '/ws');
is($r->{status}, 426, 'GET /ws without Upgrade answers 426');
like($r->{headers}{upgrade} // '', qr/websocket/i, '426 names Upgrade: websocket');

my $err = eval { PgDashWs->connect(port => $port, version => 8); '' } // $@;
like($err, qr/upgrade refused: HTTP\/1\.1 426/, 'Sec-WebSocket-Version 8 answers 426');
like($err, qr/"status":426/, '426 has a JSON error body');

$err = eval { PgDashWs->connect(port => $port, headers => { 'Sec-WebSocket-Key' => undef }); '' } // $@;
like($err, qr/upgrade refused: HTTP\/1\.1 400/, 'missing Sec-WebSocket-Key answers 400');

$err = eval { PgDashWs->connect(port => $port, key => 'short'); '' } // $@;
like($err, qr/upgrade refused: HTTP\/1\.1 400/, 'malformed Sec-WebSocket-Key answers 400');

$err = eval { PgDashWs->connect(port => $port, protocol => 'chat.v2'); '' } // $@;
like($err, qr/upgrade refused: HTTP\/1\.1 400/, 'unsupported subprotocol answers 400');

my ($ws, $hello) = ws_open();
is($ws->response_headers->{'sec-websocket-protocol'}, 'pg_dash.v1', 'subprotocol pg_dash.v1 accepted');
like($hello->{version}, qr/^\d+\.\d+\.\d+$/, 'hello has the version');
is($hello->{protocol}, 'pg_dash.v1', 'hello has protocol pg_dash.v1');
my $pids = worker_pids($node);
ok(defined $hello->{worker} && defined $pids->{ $hello->{worker} }
	  && $pids->{ $hello->{worker} } == $hello->{pid},
	"hello names worker $hello->{worker} and its pid $hello->{pid}");

ok(defined $hello->{session} && !$hello->{session}, 'hello says the socket has no session');
{
	my ($with) = PgDashWs->connect(port => $port, protocol => 'pg_dash.v1',
		headers => { Cookie => 'pg_dash_session=' . ('A' x 43) });
	my $h = $with->recv_json(timeout => 5);
	ok($h && $h->{session}, 'hello says so when the handshake carried a session cookie');
	$with->disconnect;
}

my $plain = PgDashWs->connect(port => $port);
my $h2 = $plain->recv_json(timeout => 5);
is($h2 && $h2->{type}, 'hello', 'connection without a subprotocol also gets hello');
ok(!defined $plain->response_headers->{'sec-websocket-protocol'},
	'no subprotocol echoed when none was offered');
$plain->disconnect;

# --- ping ----------------------------------------------------------------

$ws->send_json({ type => 'ping', id => 7 });
my $m = next_json($ws);
is_deeply($m, { type => 'pong', id => 7 }, 'ping id 7 answered by pong id 7');
$ws->send_json({ type => 'ping', id => 'abc' });
$m = next_json($ws);
is_deeply($m, { type => 'pong', id => 'abc' }, 'string ping id echoed');
$ws->send_json({ type => 'ping' });
$m = next_json($ws);
is_deeply($m, { type => 'pong' }, 'ping without id gets pong without id');
$ws->send_ping('xyz');
$m = $ws->recv(timeout => 3);
ok($m && $m->{opcode} eq 'pong' && $m->{data} eq 'xyz', 'control ping answered by control pong with the same data');

# --- subscribe and NOTIFY ---------------------------------------------------

$ws->send_json({ type => 'subscribe', channel => 'news' });
is_deeply(next_json($ws), { type => 'subscribed', channel => 'news' }, 'subscribe news acknowledged');
$ws->send_json({ type => 'subscribe', channel => 'news' });
is_deeply(next_json($ws), { type => 'subscribed', channel => 'news' }, 'second subscribe to the same channel acknowledged');

my $t0 = time;
$node->safe_psql('postgres', q{NOTIFY news, '{"a": 1, "b": [true, null, "x"]}'});
$m = next_json($ws, 2);
my $latency = time - $t0;
is($m && $m->{type}, 'notify', 'notification delivered');
is($m && $m->{channel}, 'news', 'notification names its channel');
is_deeply($m && $m->{payload}, { a => 1, b => [ JSON::PP::true, undef, 'x' ] }, 'JSON payload parsed');
cmp_ok($latency, '<', 1.0, sprintf('delivered within 1 s (%.3f s)', $latency));
ok($m && abs($m->{ts} - time * 1000) < 5000, 'ts is milliseconds since the epoch');

$node->safe_psql('postgres', q[NOTIFY news, 'plain text, not {json']);
$m = next_json($ws, 2);
is($m && $m->{payload}, 'plain text, not {json', 'non-JSON payload arrives as a string');

$node->safe_psql('postgres', q{NOTIFY news, '42'});
$m = next_json($ws, 2);
ok($m && !ref($m->{payload}) && $m->{payload} == 42, 'scalar JSON payload parsed');

# payloads that start like JSON but are not JSON must arrive as strings, and
# the frame must stay valid JSON
for my $p ('42 apples', '[1] and more', 'true story', '{"a":1}x', '01', '1.', '-.5', '1e5x')
{
	$node->safe_psql('postgres', "SELECT pg_notify('news', '$p')");
	my $raw = $ws->recv_until(sub { $_->{opcode} eq 'text' }, timeout => 2);
	my $d = $raw && eval { json_decode($raw->{data}) };
	ok($d, "notify frame for payload '$p' is valid JSON")
	  or diag($raw ? "got: $raw->{data}" : 'got nothing');
	is($d && $d->{payload}, $p, "payload '$p' (not JSON) arrives as the same string");
}
# deeply nested JSON must not upset the worker
{
	my $deep = ('[' x 3000) . (']' x 3000);
	$node->safe_psql('postgres', "SELECT pg_notify('news', '$deep')");
	my $raw = $ws->recv_until(sub { $_->{opcode} eq 'text' }, timeout => 2);
	my $d = $raw && eval { json_decode($raw->{data}) };
	ok($d && $d->{type} eq 'notify', 'deeply nested payload delivered in a valid JSON frame');
}
$node->safe_psql('postgres', q{NOTIFY news, ' {"spaced": [1, 2]} '});
$m = next_json($ws, 2);
is_deeply($m && $m->{payload}, { spaced => [ 1, 2 ] }, 'JSON payload with surrounding blanks parsed');

$node->safe_psql('postgres', q{NOTIFY news, ''});
$m = next_json($ws, 2);
ok($m && defined $m->{payload} && $m->{payload} eq '', 'empty payload arrives as an empty string');

$node->safe_psql('postgres', q{SELECT pg_notify('news', 'caf' || chr(233) || ' "quoted" \\ back')});
$m = next_json($ws, 2);
is($m && $m->{payload}, "caf\x{e9} \"quoted\" \\ back", 'non-ASCII and escapes in a string payload');

# the same notification is not delivered twice to a double subscriber
$node->safe_psql('postgres', q{NOTIFY news, 'once'});
$m = next_json($ws, 2);
is($m && $m->{payload}, 'once', 'notification after double subscribe');
$m = next_json($ws, 0.5);
ok(!$m, 'double subscribe does not duplicate notifications');

# other channels are not delivered
$node->safe_psql('postgres', q{NOTIFY big, 'not for you'});
$node->safe_psql('postgres', q{NOTIFY news, 'for you'});
$m = next_json($ws, 2);
is($m && $m->{payload}, 'for you', 'notifications of unsubscribed channels are not delivered');

$ws->send_json({ type => 'unsubscribe', channel => 'news' });
is_deeply(next_json($ws), { type => 'unsubscribed', channel => 'news' }, 'unsubscribe acknowledged');
$node->safe_psql('postgres', q{NOTIFY news, 'after unsubscribe'});
$m = next_json($ws, 1.5);
ok(!$m, 'no notification after unsubscribe') or diag explain $m;

# a second client on the same channel keeps getting it after the first leaves
my ($ws2) = ws_open();
$ws2->send_json({ type => 'subscribe', channel => 'news' });
next_json($ws2);
$ws->send_json({ type => 'subscribe', channel => 'news' });
next_json($ws);
$ws->send_json({ type => 'unsubscribe', channel => 'news' });
next_json($ws);
$node->safe_psql('postgres', q{NOTIFY news, 'still listening'});
$m = next_json($ws2, 2);
is($m && $m->{payload}, 'still listening', 'other subscriber still served after one unsubscribes');
$ws2->disconnect;

# --- refused messages: error frame, connection stays open -----------------------

$ws->send_json({ type => 'subscribe', channel => 'secret' });
$m = next_json($ws);
is($m && $m->{type}, 'error', 'undeclared channel refused with an error frame');
is($m && $m->{error}{code}, 'channel_not_allowed', 'error code channel_not_allowed');
still_open($ws, 'refused channel');
$node->safe_psql('postgres', q{NOTIFY secret, 'leak'});
$m = next_json($ws, 1);
ok(!$m, 'refused channel delivers nothing');

for my $bad ('bad-name', '1abc', '', 'x' x 64, 'a b', "caf\x{e9}")
{
	$ws->send_json({ type => 'subscribe', channel => $bad });
	$m = next_json($ws);
	is($m && $m->{error}{code}, 'invalid_channel', "invalid channel name '" . substr($bad, 0, 10) . "' refused");
}
still_open($ws, 'invalid channel names');

$ws->send_json({ type => 'subscribe' });
$m = next_json($ws);
is($m && $m->{type}, 'error', 'subscribe without channel gets an error frame');

$ws->send_text('{"type": "ping", oops');
$m = next_json($ws);
is($m && $m->{error}{code}, 'invalid_json', 'malformed JSON gets error invalid_json');
still_open($ws, 'malformed JSON');

$ws->send_text('[1,2,3]');
$m = next_json($ws);
is($m && $m->{type}, 'error', 'JSON array (not an object) gets an error frame');

$ws->send_text('{"channel":"news"}');
$m = next_json($ws);
is($m && $m->{error}{code}, 'invalid_message', 'message without type gets invalid_message');

$ws->send_json({ type => 'frobnicate', id => 3 });
$m = next_json($ws);
is($m && $m->{error}{code}, 'unknown_type', 'unknown type gets error unknown_type');
like($m && $m->{error}{message}, qr/frobnicate/, 'unknown type error names the type');
still_open($ws, 'unknown type');

# --- query ---------------------------------------------------------------------

$ws->send_json({ type => 'query', id => 'q1', name => 'items_by_kind', params => { kind => 'fruit' } });
$m = next_json($ws);
is($m && $m->{type}, 'result', 'query answered by a result');
is($m && $m->{id}, 'q1', 'result carries the id');
is($m && $m->{name}, 'items_by_kind', 'result carries the name');
is_deeply($m && [ map { $_->{name} } @{ $m->{columns} } ], [ 'id', 'name' ], 'result columns');
is_deeply($m && $m->{rows}, [ [ 1, 'apple' ], [ 2, 'pear' ] ], 'result rows for kind=fruit');
is($m && $m->{row_count}, 2, 'row_count');

$ws->send_json({ type => 'query', id => 5, name => 'no_such_query', params => {} });
$m = next_json($ws);
is($m && $m->{type}, 'error', 'unknown query gets an error frame');
is($m && $m->{id}, 5, 'unknown query error carries the id');
is($m && $m->{error}{status}, 404, 'unknown query error has status 404');

$ws->send_json({ type => 'query', id => 'q3', name => 'item_by_id', params => { id => 'not a number' } });
$m = next_json($ws);
is($m && $m->{type}, 'error', 'bad parameter gets an error frame');
is($m && $m->{id}, 'q3', 'bad parameter error carries the id');
is($m && $m->{error}{status}, 400, 'bad parameter error has status 400');

$ws->send_json({ type => 'query', id => 'q4', name => 'item_by_id', params => { id => 3 } });
$m = next_json($ws);
is_deeply($m && $m->{rows}, [ ['leek'] ], 'query with an integer param');

# request options go with the parameters: a chart's series, and what the
# query's definition does not allow
$ws->send_json({ type => 'query', id => 'q5', name => 'items_by_kind',
	params => { kind => 'fruit', width => 10, x => 'id', y => 'id', x_from => 2 } });
$m = next_json($ws);
is($m && $m->{type}, 'error', 'a range the definition does not allow is refused');
like($m && $m->{error}{hint}, qr/range_columns/, '... naming the define_query argument');
$ws->send_json({ type => 'query', id => 'q6', name => 'items_by_kind',
	params => { kind => 'fruit', width => 10, x => 'id', y => 'id' } });
$m = next_json($ws);
is($m && $m->{id}, 'q6', 'a series over a WebSocket');
is_deeply($m && $m->{rows}, [ [ 1, 1 ], [ 2, 2 ] ], '... reduced at its width');
is_deeply($m && [ $m->{x_from}, $m->{x_to}, $m->{downsampled_from} ], [ 1, 2, 2 ], '... with its range and rows');
$ws->send_json({ type => 'query', id => 'q7', name => 'items_by_kind', params => { kind => 'fruit', order => 'name' } });
$m = next_json($ws);
is($m && $m->{error}{status}, 400, 'ordering the definition does not allow is refused');
still_open($ws, 'query errors');

# --- watch -----------------------------------------------------------------------

my ($calls0) = $node->safe_psql('postgres',
	q{SELECT coalesce(sum(calls), 0) FROM pg_dash.query_stats WHERE name = 'items_by_kind'});
$ws->send_json({ type => 'watch', id => 'w1', name => 'items_by_kind', params => { kind => 'veg' } });
$m = next_json($ws);
is($m && $m->{type}, 'result', 'watch answers a result at once');
is($m && $m->{id}, 'w1', 'watch result carries the id');
is_deeply($m && $m->{rows}, [ [ 3, 'leek' ] ], 'first watch result is current');

$node->safe_psql('postgres', q{INSERT INTO items (kind, name) VALUES ('veg', 'kale'); NOTIFY items});
$m = next_json($ws, 3);
is($m && $m->{id}, 'w1', 'watch re-run after INSERT + NOTIFY items');
is_deeply($m && $m->{rows}, [ [ 3, 'leek' ], [ 4, 'kale' ] ], 'new watch result has the new row');

# a burst of 100 NOTIFYs, each its own transaction, the last one after an INSERT
my $burst = join("\n", map { "NOTIFY items, 'n$_';" } 1 .. 99)
  . "\nINSERT INTO items (kind, name) VALUES ('veg', 'last'); NOTIFY items, 'n100';\n";
$node->safe_psql('postgres', $burst);
my @results;
while (my $r = next_json($ws, 1.5))
{
	push @results, $r if $r->{type} eq 'result' && $r->{id} eq 'w1';
}
my $reruns = scalar @results;
ok($reruns >= 1, "burst of 100 NOTIFYs re-ran the watch ($reruns times)");
cmp_ok($reruns, '<', 20, 'burst coalesced into far fewer than 100 re-runs');
is_deeply(@results ? $results[-1]{rows} : undef, [ [ 3, 'leek' ], [ 4, 'kale' ], [ 5, 'last' ] ],
	'last result after the burst is current');
my ($calls1) = $node->safe_psql('postgres',
	q{SELECT coalesce(sum(calls), 0) FROM pg_dash.query_stats WHERE name = 'items_by_kind'});
is($calls1 - $calls0, 2 + $reruns, "query_stats counts the watch runs (1 + 1 + $reruns)");

$ws->send_json({ type => 'unwatch', id => 'w1' });
is_deeply(next_json($ws), { type => 'unwatched', id => 'w1' }, 'unwatch acknowledged');
$node->safe_psql('postgres', q{NOTIFY items});
$m = next_json($ws, 1);
ok(!$m, 'no result after unwatch');

$ws->send_json({ type => 'watch', id => 'w2', name => 'no_such_query', params => {} });
$m = next_json($ws);
is($m && $m->{error}{status}, 404, 'watch of an unknown query gets a 404 error frame');
is($m && $m->{id}, 'w2', 'watch error carries the id');

# --- limits: result size, watches and subscriptions per socket ---------------------

# the sum of pg_dash_limit_hits_total{limit="$name"}
sub limit_hits
{
	my ($name) = @_;
	my $r = http($port, 'GET', '/metrics');
	return $r->{body} =~ /^pg_dash_limit_hits_total\{limit="\Q$name\E"\} (\d+)/m ? $1 : undef;
}

{
	my ($lw) = ws_open();
	my $bytes0 = limit_hits('ws_max_bytes');
	ok(defined $bytes0, 'pg_dash_limit_hits_total{limit="ws_max_bytes"} is in /metrics');

	# 100 million rows of 400 bytes: building stops at pg_dash.ws_max_bytes (8 MB)
	my $t0 = time;
	$lw->send_json({ type => 'query', id => 'huge', name => 'many', params => { n => 100_000_000 } });
	$m = next_json($lw, 30);
	my $took = time - $t0;
	is($m && $m->{type}, 'error', 'a result over ws_max_bytes gets an error frame');
	is($m && $m->{id}, 'huge', '... with the id');
	is($m && $m->{error}{status}, 413, '... status 413');
	is($m && $m->{error}{code}, 'result_too_large', '... code result_too_large');
	like($m && $m->{error}{detail}, qr/ws_max_bytes/, '... naming the setting');
	cmp_ok($took, '<', 5, sprintf('building stopped at the bound (%.1f s, not the whole result)', $took));
	is(limit_hits('ws_max_bytes'), $bytes0 + 1, 'counted in /metrics');
	still_open($lw, 'result over ws_max_bytes');

	set_conf('pg_dash.ws_max_rows' => 50);
	my $rows0 = limit_hits('ws_max_rows');
	$lw->send_json({ type => 'query', id => 'r50', name => 'many', params => { n => 50 } });
	$m = next_json($lw);
	is($m && $m->{row_count}, 50, 'a result of ws_max_rows rows is sent');
	$lw->send_json({ type => 'query', id => 'r51', name => 'many', params => { n => 51 } });
	$m = next_json($lw);
	is($m && $m->{error}{code}, 'result_too_large', 'one row more is refused');
	like($m && $m->{error}{message}, qr/more than 50 rows/, '... saying how many rows are allowed');
	$lw->send_json({ type => 'watch', id => 'rw', name => 'many', params => { n => 51 } });
	$m = next_json($lw);
	is($m && $m->{type}, 'error', 'a watch result over ws_max_rows is refused too');
	is($m && $m->{id}, 'rw', '... with the watch id');
	$node->safe_psql('postgres', 'NOTIFY many');
	$m = next_json($lw, 3);
	is($m && $m->{id}, 'rw', 'a re-run of that watch is refused again');
	is($m && $m->{error}{code}, 'result_too_large', '... as result_too_large');
	$lw->send_json({ type => 'unwatch', id => 'rw' });
	next_json($lw);
	cmp_ok(limit_hits('ws_max_rows'), '>=', $rows0 + 3, 'row refusals counted in /metrics');
	set_conf('pg_dash.ws_max_rows' => 100000);

	# the result bound never exceeds the queue bound, even for an empty queue
	set_conf('pg_dash.ws_max_queue' => 65536);
	$lw->send_json({ type => 'query', id => 'q1000', name => 'many', params => { n => 1000 } });
	$m = next_json($lw);
	is($m && $m->{error}{code}, 'result_too_large', 'a 420 kB result is refused with ws_max_queue = 64 kB');
	$lw->send_json({ type => 'query', id => 'q100', name => 'many', params => { n => 100 } });
	$m = next_json($lw);
	is($m && $m->{row_count}, 100, 'a 42 kB one is sent');
	set_conf('pg_dash.ws_max_queue' => 16 * 1024 * 1024);

	set_conf('pg_dash.ws_max_watches' => 2);
	my $watches0 = limit_hits('ws_max_watches');
	for my $id ('a', 'b')
	{
		$lw->send_json({ type => 'watch', id => $id, name => 'item_by_id', params => { id => 1 } });
		$m = next_json($lw);
		is($m && $m->{type}, 'result', "watch $id of 2 allowed");
	}
	$lw->send_json({ type => 'watch', id => 'c', name => 'item_by_id', params => { id => 1 } });
	$m = next_json($lw);
	is($m && $m->{type}, 'error', 'a third watch over ws_max_watches = 2 is refused');
	is($m && $m->{id}, 'c', '... with its id');
	is($m && $m->{error}{code}, 'too_many_watches', '... code too_many_watches');
	like($m && $m->{error}{hint}, qr/ws_max_watches/, '... naming the setting');
	is(limit_hits('ws_max_watches'), $watches0 + 1, 'counted in /metrics');
	$lw->send_json({ type => 'watch', id => 'a', name => 'item_by_id', params => { id => 1 } });
	$m = next_json($lw);
	is($m && $m->{id}, 'a', 'a duplicate id error carries the id as sent');
	$lw->send_json({ type => 'unwatch', id => 'a' });
	next_json($lw);
	$lw->send_json({ type => 'watch', id => 'c', name => 'item_by_id', params => { id => 1 } });
	$m = next_json($lw);
	is($m && $m->{type}, 'result', 'after an unwatch another watch is allowed');
	set_conf('pg_dash.ws_max_watches' => 100);

	set_conf('pg_dash.ws_max_subscriptions' => 2);
	my $subs0 = limit_hits('ws_max_subscriptions');
	for my $ch ('news', 'big')
	{
		$lw->send_json({ type => 'subscribe', channel => $ch });
		$m = next_json($lw);
		is($m && $m->{type}, 'subscribed', "subscription to $ch allowed");
	}
	$lw->send_json({ type => 'subscribe', channel => 'items' });
	$m = next_json($lw);
	is($m && $m->{type}, 'error', 'a third subscription over ws_max_subscriptions = 2 is refused');
	is($m && $m->{error}{code}, 'too_many_subscriptions', '... code too_many_subscriptions');
	is(limit_hits('ws_max_subscriptions'), $subs0 + 1, 'counted in /metrics');
	$lw->send_json({ type => 'subscribe', channel => 'news' });
	$m = next_json($lw);
	is($m && $m->{type}, 'subscribed', 'subscribing again to a channel it has is still fine');
	set_conf('pg_dash.ws_max_subscriptions' => 100);
	$lw->disconnect;
}

# --- publish -------------------------------------------------------------------------

$ws->send_json({ type => 'subscribe', channel => 'big' });
next_json($ws);
my $stored0 = $node->safe_psql('postgres', 'SELECT count(*) FROM pg_dash.messages');
$node->safe_psql('postgres', q{SELECT pg_dash.publish('big', '{"small": "hello"}')});
$m = next_json($ws, 2);
is_deeply($m && $m->{payload}, { small => 'hello' }, 'small publish delivered');
is($node->safe_psql('postgres', 'SELECT count(*) FROM pg_dash.messages'), $stored0,
	'small publish went through plain NOTIFY (nothing stored)');

$node->safe_psql('postgres',
	q{SELECT pg_dash.publish('big', jsonb_build_object('seq', 1, 'blob', repeat('0123456789abcdef', 65536)))});
$m = next_json($ws, 5);
is($m && $m->{channel}, 'big', '1 MB publish delivered');
is($m && length($m->{payload}{blob}), 1024 * 1024, '1 MB payload arrives whole');
ok($m && $m->{payload}{blob} eq '0123456789abcdef' x 65536, '1 MB payload content intact');
is($node->safe_psql('postgres', 'SELECT count(*) FROM pg_dash.messages'), $stored0 + 1,
	'large publish stored in pg_dash.messages');

# delivering large messages must not leave memory behind in the worker
{
	my $pid = $hello->{pid};
	my $grand_total = sub {
		my $off = -s $node->logfile;
		$node->safe_psql('postgres', "SELECT pg_log_backend_memory_contexts($pid)");
		my $total;
		wait_until(sub {
			my $log = PostgreSQL::Test::Utils::slurp_file($node->logfile, $off);
			($total) = $log =~ /\[$pid\] LOG:  Grand total: (\d+) bytes/;
			return defined $total;
		}, 10);
		return $total;
	};
	my $before = $grand_total->();
	$node->safe_psql('postgres',
		q{SELECT pg_dash.publish('big', jsonb_build_object('seq', i, 'blob', repeat('m', 1000000)))
		  FROM generate_series(1, 10) i});
	my $n = 0;
	while (my $x = next_json($ws, 3)) { $n++; last if $n == 10 }
	is($n, 10, 'ten 1 MB messages delivered');
	my $after = $grand_total->();
	ok(defined $before && defined $after, 'worker memory contexts logged');
	cmp_ok(($after // 0) - ($before // 0), '<', 2_000_000,
		sprintf('worker memory did not grow with delivered messages (%+d bytes)', ($after // 0) - ($before // 0)));
}
$ws->send_json({ type => 'unsubscribe', channel => 'big' });
next_json($ws);

# --- protocol errors close the connection --------------------------------------------------

{
	my ($c) = ws_open();
	$c->send_text('x' x (64 * 1024 + 1));
	my $cl = recv_close($c);
	is($cl && $cl->{close_code}, 1009, 'message over ws_max_message_size closed with 1009');
}
{
	my ($c) = ws_open();
	$c->send_frame(opcode => 'text', payload => 'x' x 10, length => 70000, len_form => 64, fin => 1);
	my $cl = recv_close($c);
	is($cl && $cl->{close_code}, 1009, 'frame header declaring an oversize length closed with 1009');
}
{
	my ($c) = ws_open();
	$c->send_text('{"type":', fin => 0);
	$c->send_frame(opcode => 'cont', payload => '"ping","id":"frag"}');
	my $p = next_json($c);
	is($p && $p->{id}, 'frag', 'fragmented message reassembled');
	$c->send_text('x' x 40000, fin => 0);
	$c->send_frame(opcode => 'cont', payload => 'y' x 40000);
	my $cl = recv_close($c);
	is($cl && $cl->{close_code}, 1009, 'fragments adding up over ws_max_message_size closed with 1009');
}
{
	my ($c) = ws_open();
	$c->send_binary("\x00\x01\x02");
	my $cl = recv_close($c);
	is($cl && $cl->{close_code}, 1003, 'binary frame closed with 1003');
	my $e = $c->recv(timeout => 5);
	is($e && $e->{opcode}, 'eof', 'server closes the TCP connection after the close handshake');
}
{
	my ($c) = ws_open();
	$c->send_frame(opcode => 'text', payload => '{"type":"ping"}', mask => 0);
	my $cl = recv_close($c);
	is($cl && $cl->{close_code}, 1002, 'unmasked frame closed with 1002');
}
{
	my ($c) = ws_open();
	$c->send_text("{\"type\":\"ping\",\"id\":\"\xff\xfe\"}");
	my $cl = recv_close($c);
	is($cl && $cl->{close_code}, 1007, 'invalid UTF-8 in a text frame closed with 1007');
}
{
	my ($c) = ws_open();
	$c->close(1000, 'bye');
	my $cl = recv_close($c);
	is($cl && $cl->{close_code}, 1000, 'client close 1000 echoed');
}
still_open($ws, 'after other clients misbehaved');

# --- slow client ------------------------------------------------------------------------------

set_conf('pg_dash.ws_max_queue' => 65536);
{
	my ($slow) = ws_open();
	my ($good) = ws_open();
	for my $c ($slow, $good)
	{
		$c->send_json({ type => 'subscribe', channel => 'big' });
		my $a = next_json($c);
		die 'subscribe big failed' unless $a && $a->{type} eq 'subscribed';
	}
	my $closed0 = metric('pg_dash_ws_slow_clients_closed_total');

	# a message larger than the queue still reaches a client that reads
	$node->safe_psql('postgres',
		q{SELECT pg_dash.publish('big', jsonb_build_object('seq', 0, 'blob', repeat('q', 200000)))});
	my $one = $good->recv_until(sub { $_->{opcode} eq 'text' || $_->{opcode} eq 'close' }, timeout => 5);
	ok($one && $one->{opcode} eq 'text' && length($one->{data}) > 200000,
		'a 200 kB message reaches a reading client with ws_max_queue = 64 kB')
	  or diag('got ' . PgDashWs::describe($one));
	my $s0 = $slow->recv_until(sub { $_->{opcode} eq 'text' || $_->{opcode} eq 'close' }, timeout => 5);
	die 'the slow client must still be open here: ' . PgDashWs::describe($s0)
	  unless $s0 && $s0->{opcode} eq 'text';

	# bursts of five 40 kB messages (200 kB, over the queue limit, arriving
	# together) every 20 ms
	my $sql = q{DO $$ BEGIN FOR i IN 0..119 LOOP
		PERFORM pg_dash.publish('big', jsonb_build_object('seq', i * 5 + j, 'blob', repeat('z', 40000)))
		  FROM generate_series(1, 5) j;
		COMMIT; PERFORM pg_sleep(0.02); END LOOP; END $$;};
	my ($out, $errout) = ('', '');
	my $h = IPC::Run::start([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres'),
		'-c', $sql ], '>', \$out, '2>', \$errout);
	my %got;
	my $good_closed;
	my $deadline = time + 30;
	while ($h->pumpable && time < $deadline)
	{
		$h->pump_nb;
		IO::Select->new($good->socket)->can_read(0.05);
		for my $msg ($good->pending_messages)
		{
			$good_closed .= PgDashWs::describe($msg) . " " if $msg->{opcode} eq 'close' || $msg->{opcode} eq 'eof';
			next unless $msg->{opcode} eq 'text';
			$got{$1}++ if $msg->{data} =~ /"seq"\s*:\s*(\d+)/;
		}
	}
	$h->finish;
	is($?, 0, 'publishing 600 x 40 kB messages succeeded') or diag $errout;
	for (1 .. 40)
	{
		last if keys %got >= 600;
		IO::Select->new($good->socket)->can_read(0.1);
		for my $msg ($good->pending_messages)
		{
			$good_closed .= PgDashWs::describe($msg) . " " if $msg->{opcode} eq 'close' || $msg->{opcode} eq 'eof';
			$got{$1}++ if $msg->{opcode} eq 'text' && $msg->{data} =~ /"seq"\s*:\s*(\d+)/;
		}
	}
	ok(!$good_closed, 'reading client was not closed') or diag "got $good_closed";
	is(scalar(keys %got), 600, 'reading client received all 600 messages');
	ok(!grep({ $_ != 1 } values %got), 'reading client received each message once');

	# now read what the slow client was sent: a 1008 close at the end
	my $cl = $slow->recv_until(sub { $_->{opcode} eq 'close' || $_->{opcode} eq 'eof' }, timeout => 10);
	is($cl && $cl->{close_code}, 1008, 'client that stopped reading closed with 1008');
	cmp_ok(metric('pg_dash_ws_slow_clients_closed_total'), '>', $closed0,
		'pg_dash_ws_slow_clients_closed_total moved');
}
set_conf('pg_dash.ws_max_queue' => 16 * 1024 * 1024);

# --- keepalive ------------------------------------------------------------------------------------

set_conf('pg_dash.ws_ping_interval' => 1);
{
	my ($quiet) = ws_open(keep_pings => 1);
	my ($deaf) = ws_open(keep_pings => 1);
	# the quiet client reads (PgDashWs answers pings); the deaf one never
	# reads, so never answers
	my $pings = 0;
	my $quiet_end;
	my $deadline = time + 5;
	while (time < $deadline)
	{
		IO::Select->new($quiet->socket)->can_read(0.2);
		for my $msg ($quiet->pending_messages)
		{
			$pings++ if $msg->{opcode} eq 'ping';
			$quiet_end = PgDashWs::describe($msg) if $msg->{opcode} =~ /^(close|eof)$/;
		}
	}
	cmp_ok($pings, '>=', 2, "a silent client gets server pings with ws_ping_interval = 1 ($pings in 5 s)");
	ok(!$quiet_end, 'a client answering pings stays connected') or diag "got $quiet_end";
	my @deaf = $deaf->pending_messages;
	my ($dc) = grep { $_->{opcode} eq 'close' } @deaf;
	ok($dc, 'client that never answers pings is closed')
	  or diag join(', ', map { PgDashWs::describe($_) } @deaf);
	ok(grep({ $_->{opcode} eq 'ping' } @deaf), 'it was pinged before being closed');
	my $e = $deaf->recv(timeout => 3);
	is($e && $e->{opcode}, 'eof', 'unresponsive client disconnected');
	still_open($quiet, 'client answering pings');
}
set_conf('pg_dash.ws_ping_interval' => 30);

# --- memory: JSON messages whose handling raises an ERROR leave nothing behind -----------------

# cJSON allocates in the request context (pg_dash.c): a message's tree, and
# whatever its handler built, is freed when the request context is reset,
# also when an ERROR unwinds.  300 messages of 60 kB, each running a query
# that raises division_by_zero, would leak 18 MB of trees otherwise.
$node->safe_psql('postgres',
	"SELECT pg_dash.define_query('boom', 'SELECT 1 / (:n::int - :n::int) AS x')");
{
	my ($ws, $hello) = ws_open();
	my $pid = $hello->{pid};
	my $rss = sub {
		open my $f, '<', "/proc/$pid/status" or return 0;
		my ($kb) = join('', <$f>) =~ /RssAnon:\s+(\d+)/;
		return $kb // 0;
	};
	my $pad = 'x' x 60000;
	my $errors = 0;
	my $send = sub {
		my ($n) = @_;
		for my $i (1 .. $n)
		{
			$ws->send_json({ type => 'query', id => "boom$i", name => 'boom',
				params => { n => 1 }, pad => $pad });
			my $m = recv_type($ws, 'error', 5);
			$errors++ if $m && $m->{id} eq "boom$i" && $m->{error}{code} eq '22012';
		}
	};
	$send->(50);
	my $before = $rss->();
	$send->(300);
	my $grew = $rss->() - $before;
	is($errors, 350, 'every message got its division_by_zero error frame');
	cmp_ok($grew, '<', 8192,
		"300 messages of 60 kB whose query raised an ERROR grew the worker by less than 8 MB ("
		  . int($grew / 1024) . ' MB)');
	still_open($ws, 'after the failed queries');
}

# --- shutdown ------------------------------------------------------------------------------------

my @clients = map { (ws_open())[0] } 1 .. 4;
$node->stop('fast');
my $n1001 = 0;
for my $c (@clients)
{
	my $cl = recv_close($c, 5);
	$n1001++ if $cl && $cl->{close_code} == 1001;
}
is($n1001, 4, 'pg_ctl stop -m fast sends 1001 to every connected client');
$ws->disconnect;

done_testing();
