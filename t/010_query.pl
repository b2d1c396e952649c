# Named queries over HTTP: formats, types, errors, limits, safety, what a
# definition allows (ordering, counts, ranges), series reduced in the
# database, streaming, caching and metrics.
use strict;
use warnings;

use IO::Select;
use IO::Socket::INET;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use lib 't';
use PgDashTest;

my $setup = <<'SQL';
CREATE ROLE dash_reader;
CREATE TABLE items (id int PRIMARY KEY, kind text, price numeric, f float8, ok bool,
                    doc jsonb, raw json, ts timestamptz, d date, tags text[], owner text);
INSERT INTO items VALUES
  (1, 'a', 12345678901234567890.123456789, 1.5, true, '{"x": [1, 2]}', '{"y":null}',
   '2026-01-02 03:04:05.678+00', '2026-01-02', '{red,"blue green"}', 'alice'),
  (2, 'a', 0.5, 'NaN', false, NULL, NULL, NULL, NULL, '{}', 'bob'),
  (3, 'b', -1, 'Infinity', NULL, '"s"', '[]', '2026-06-01 00:00:00+00', '2026-06-01', NULL, 'alice'),
  (4, 'b', 2, '-Infinity', true, '3', '3', NULL, NULL, '{"a,b","c\"d"}', 'bob');
CREATE TABLE secrets (id int, secret text);
INSERT INTO secrets VALUES (1, 'hidden');
GRANT SELECT ON items TO dash_reader;
ALTER TABLE items ENABLE ROW LEVEL SECURITY;
CREATE POLICY only_alice ON items FOR SELECT TO dash_reader USING (owner = 'alice' OR kind = 'a');
SELECT pg_dash.define_query('items', 'SELECT id, kind, price, f, ok, doc, raw, ts, d, tags FROM items WHERE kind = :kind ORDER BY id');
SELECT pg_dash.define_query('all_items', 'SELECT id, owner FROM items ORDER BY id');
SELECT pg_dash.define_query('echo', 'SELECT :v::text AS v, :n::int AS n');
SELECT pg_dash.define_query('secret', 'SELECT secret FROM secrets');
SELECT pg_dash.define_query('slow', 'SELECT pg_sleep(:s::float8) AS slept');
SELECT pg_dash.define_query('series', 'SELECT g AS i, md5(g::text) AS h FROM generate_series(1, :n::int) g',
    sortable => ARRAY['i'], allow_count => true);
SELECT pg_dash.define_query('wave', 'SELECT timestamptz ''2026-01-01 00:00+00'' + g * interval ''1 second'' AS ts, (sin(g / 50.0) * 100)::numeric(12,3) AS amount, g::float8 AS x, md5(g::text) AS h FROM generate_series(1, :n::int) g ORDER BY g DESC',
    range_columns => ARRAY['ts']);
-- a series with an index on x, once cached and once not
CREATE TABLE points (t bigint NOT NULL, v double precision);
INSERT INTO points SELECT g, ((g * 7919) % 1000) / 10.0 FROM generate_series(1, 20000) g;
CREATE INDEX ON points (t);
GRANT SELECT ON points TO dash_reader;
SELECT pg_dash.define_query('zoom', 'SELECT t, v FROM points ORDER BY t', range_columns => ARRAY['t'],
    cache_ttl => 60, refresh_on => ARRAY['points_changed']);
SELECT pg_dash.define_query('zoom_fresh', 'SELECT t, v FROM points ORDER BY t', range_columns => ARRAY['t']);
SELECT pg_dash.define_query('zoom_last', 'SELECT t, v FROM points ORDER BY t DESC LIMIT 10', range_columns => ARRAY['*']);
SELECT pg_dash.define_query('wave_cached', 'SELECT g AS x, (g % 7)::float8 AS y FROM generate_series(1, 500) g', cache_ttl => 60);
SELECT pg_dash.define_query('kinds', $q$SELECT 7::int2 AS s, (-2147483648)::int4 AS i, (-9223372036854775808)::int8 AS b,
    12::oid AS o, v::float8 AS d, (CASE v WHEN '1.5e300' THEN '1.25' ELSE v END)::float4 AS r, 0.1::float8 AS tenth, '-0'::float8 AS z, '' AS empty, ' lead' AS lead,
    'trail ' AS trail, 'a,b' AS comma, 'cr' || chr(13) AS cr, '{"k": "v,w"}'::jsonb AS doc
    FROM unnest(ARRAY['NaN', 'Infinity', '-Infinity', '1.5e300']) v$q$);
SELECT pg_dash.define_query('cached', 'SELECT count(*) AS n, clock_timestamp() AS at FROM items', cache_ttl => 2, refresh_on => ARRAY['items_changed']);
SQL

my ($node, $port) = start_node('query', workers => 1, setup => $setup,
	conf => "pg_dash.role = 'dash_reader'\npg_dash.statement_timeout = '1s'");

sub get_json
{
	my ($path, %o) = @_;
	my $r = http($port, $o{method} // 'GET', $path, %o);
	$r->{json} = eval { json_decode($r->{body}) };
	return $r;
}

# JSON, types
my $r = get_json('/api/query/items?kind=a');
is($r->{status}, 200, 'named query answers 200');
like($r->{headers}{'content-type'}, qr{^application/json}, 'JSON content type');
my $j = $r->{json};
is_deeply([ map { $_->{name} } @{ $j->{columns} } ],
	[qw(id kind price f ok doc raw ts d tags)], 'columns named in order');
is($j->{columns}[2]{type}, 'numeric', 'column types reported');
is($j->{row_count}, 2, 'row_count');
ok(!$j->{truncated}, 'not truncated');
like($r->{body}, qr/\[1,"a",12345678901234567890\.123456789,1\.5,true,\{"x": \[1, 2\]\},\{"y":null\},"2026-01-02T03:04:05\.678\+00:00","2026-01-02",\["red","blue green"\]\]/,
	'numbers, numeric precision, booleans, json, jsonb, ISO 8601 times, arrays');
like($r->{body}, qr/\[2,"a",0\.5,"NaN",false,null,null,null,null,\[\]\]/, 'NaN as a string, NULL as null');
$r = get_json('/api/query/items?kind=b');
is(scalar @{ $r->{json}{rows} }, 1, 'row-level security applies to pg_dash.role');
like($r->{body}, qr/"Infinity"/, 'Infinity as a string');
$r = get_json('/api/query/all_items');
is_deeply([ map { $_->[0] } @{ $r->{json}{rows} } ], [ 1, 2, 3 ], 'RLS policy limits rows');

# shapes and formats
$r = get_json('/api/query/items?kind=a&shape=objects');
is($r->{json}{rows}[0]{kind}, 'a', 'shape=objects gives objects');
$r = http($port, 'GET', '/api/query/items?kind=b&format=csv');
is($r->{status}, 200, 'CSV answered');
like($r->{headers}{'content-type'}, qr{^text/csv}, 'CSV content type');
like($r->{headers}{'content-disposition'}, qr/attachment; filename="items\.csv"/, 'CSV is a download');
is($r->{body}, "id,kind,price,f,ok,doc,raw,ts,d,tags\r\n3,b,-1,Infinity,,\"\"\"s\"\"\",[],2026-06-01T00:00:00+00:00,2026-06-01,\r\n",
	'CSV rows quoted per RFC 4180, NULL empty');
# the values the writer prints itself (integers, floats)
# and the text that must be quoted, in CSV and in JSON
$r = http($port, 'GET', '/api/query/kinds?format=csv');
my $kinds_row = sub { my ($d, $f4) = @_;
	"7,-2147483648,-9223372036854775808,12,$d,$f4,0.1,-0,\"\",\" lead\",\"trail \",\"a,b\",\"cr\r\",\"{\"\"k\"\": \"\"v,w\"\"}\"\r\n" };
is($r->{body}, "s,i,b,o,d,r,tenth,z,empty,lead,trail,comma,cr,doc\r\n"
	. join('', map { $kinds_row->(@$_) } [ 'NaN', 'NaN' ], [ 'Infinity', 'Infinity' ],
		[ '-Infinity', '-Infinity' ], [ '1.5e+300', '1.25' ]),
	'CSV: integers, floats with their special values, quoting only where needed');
$r = get_json('/api/query/kinds');
like($r->{body}, qr/"rows":\[\[7,-2147483648,-9223372036854775808,12,"NaN","NaN",0\.1,-0,"",/,
	'JSON: the same integers, NaN as a string');
like($r->{body}, qr/\[7,-2147483648,-9223372036854775808,12,1\.5e\+300,1\.25,0\.1,-0,""," lead","trail ","a,b","cr\\r",\{"k": "v,w"\}\]\]/,
	'JSON: floats printed exactly, text escaped, jsonb inlined');
$r = http($port, 'GET', '/api/query/items?kind=a', headers => ['Accept: text/csv']);
like($r->{headers}{'content-type'}, qr{^text/csv}, 'format chosen by the Accept header');
$r = http($port, 'GET', '/api/query/items?kind=a&format=ndjson');
my @lines = split /\n/, $r->{body};
is(scalar @lines, 2, 'NDJSON has a line per row');
is(json_decode($lines[1])->{id}, 2, 'NDJSON lines are objects');
$r = get_json('/api/query/items?kind=a&format=xml');
is($r->{status}, 400, 'unknown format is 400');

# POST with a JSON body, paging, ordering, count
$r = get_json('/api/query/echo', method => 'POST', body => '{"v": "hi", "n": 7}',
	headers => ['Content-Type: application/json']);
is_deeply($r->{json}{rows}, [ [ 'hi', 7 ] ], 'POST body parameters');
$r = get_json('/api/query/series?n=10&limit=3&offset=2&order=i.desc&count=exact');
is_deeply([ map { $_->[0] } @{ $r->{json}{rows} } ], [ 8, 7, 6 ], 'limit, offset and order');
is($r->{json}{total}, 10, 'exact total count');
$r = get_json('/api/query/series?n=3&order=nope');
is($r->{status}, 400, 'ordering by a non-column is 400');

# what a definition allows: ordering by its sortable columns, count=exact
# with allow_count; everything else is refused, naming define_query
$r = get_json('/api/query/series?n=3&order=h');
is($r->{status}, 400, 'ordering by a column the definition does not list is refused');
like($r->{json}{error}{message}, qr/cannot be ordered by "h"/, '... saying which column');
like($r->{json}{error}{detail}, qr/allows ordering by: i\./, '... and which are allowed');
like($r->{json}{error}{hint}, qr/define_query\(.*sortable =>/, '... and how the owner allows it');
$r = get_json('/api/query/all_items?order=id');
like($r->{json}{error}{detail}, qr/allows no ordering/, 'a query defined without sortable allows no ordering');
$r = get_json('/api/query/items?kind=a&count=exact&limit=1');
is($r->{status}, 400, 'count=exact is refused without allow_count');
like($r->{json}{error}{hint}, qr/define_query\(.*allow_count => true/, '... naming define_query');
$r = get_json('/api/query/items?kind=a&limit=1');
is($r->{json}{row_count}, 1, 'limit and offset need no permission');
$r = get_json('/api/query/series', method => 'POST', body => '{"n": 4, "order": "h.desc"}');
is($r->{status}, 400, 'the same in a POST body');
$node->safe_psql('postgres', "SELECT pg_dash.define_query('all_items', 'SELECT id, owner FROM items ORDER BY id', sortable => '{*}')");
is_deeply([ map { $_->[1] } @{ get_json('/api/query/all_items?order=owner')->{json}{rows} } ],
	[ 'alice', 'alice', 'bob' ], "'*' allows every column");
my ($ok, $stdout, $stderr) = (0, '', '');
for my $bad (
	[ "sortable => '{nope}'", qr/sortable names "nope", which is not a column of the result/ ],
	[ "sortable => ARRAY[NULL]", qr/sortable must not hold NULL/ ],
	[ "range_columns => '{owner}'", qr/column "owner" of type text cannot be in range_columns/ ],
	[ "range_columns => '{x}'", qr/range_columns names "x"/ ])
{
	$node->psql('postgres', "SELECT pg_dash.define_query('bad', 'SELECT id, owner FROM items', $bad->[0])",
		stderr => \$stderr);
	like($stderr, $bad->[1], "define_query checks $bad->[0]");
}
$node->psql('postgres', q{SELECT pg_dash.define_query('bad', 'SELECT 1 AS a, ''{}''::json AS j', sortable => '{j}')},
	stderr => \$stderr);
like($stderr, qr/column "j" of type json cannot be in sortable/, 'a column without an ordering cannot be sortable');
like($node->safe_psql('postgres', 'SELECT pg_dash.export()'),
	qr/name => 'series',.*sortable => '\{i\}',\n    allow_count => 'true',\n    range_columns => '\{\}'/s,
	'export() writes what a definition allows');

# server-side downsampling (LTTB) keeps the shape: first and last points,
# numeric and time columns, any input order
$r = get_json('/api/query/wave?n=10000&downsample=50&x=ts&y=amount');
is($r->{status}, 200, 'downsampled series answered');
is($r->{json}{row_count}, 50, 'downsampled to the points asked for');
is($r->{json}{downsampled_from}, 10000, 'from every row');
is($r->{json}{rows}[0][0], '2026-01-01T00:00:01+00:00', 'first point kept, in x order');
is($r->{json}{rows}[-1][0], '2026-01-01T02:46:40+00:00', 'last point kept');
my @ys = map { $_->[1] } @{ $r->{json}{rows} };
my ($max) = sort { $b <=> $a } @ys;
cmp_ok($max, '>', 99, 'peaks kept');
get_json('/api/query/wave_cached') for 1 .. 3;    # cached in its full shape
$r = get_json('/api/query/wave_cached?downsample=10&x=x&y=y');
is($r->{json}{row_count}, 10, 'a downsampled request is not answered from the cache of the full result');
is($r->{json}{downsampled_from}, 500, '... it is downsampled');
is(get_json('/api/query/wave_cached')->{json}{row_count}, 500, 'and the full result stays whole');
$r = get_json('/api/query/wave?n=10&downsample=50&x=x&y=amount');
is($r->{json}{row_count}, 10, 'fewer rows than asked: all of them');
$r = get_json('/api/query/wave?n=10&downsample=5&x=ts&y=h');
is($r->{status}, 400, 'a text y cannot be downsampled');
$r = get_json('/api/query/wave?n=10&downsample=5&x=ts');
is($r->{status}, 400, 'downsample needs x and y');
$r = get_json('/api/query/wave?n=10&downsample=5&x=nope&y=amount');
is($r->{status}, 400, 'x must be a column');

# a series reduced in the database (M4): at most four points per pixel of
# width, each a row of the result, the extremes of every pixel column kept
my %v = map { $_ => ((($_ * 7919) % 1000) / 10.0) } 1 .. 20000;
my $fresh = get_json('/api/query/zoom_fresh?width=50&x=t&y=v');
is($fresh->{status}, 200, 'a series at a width');
cmp_ok($fresh->{json}{row_count}, '<=', 200, 'at most four points per pixel');
cmp_ok($fresh->{json}{row_count}, '>=', 100, 'and more than one');
is($fresh->{json}{downsampled_from}, 20000, 'chosen from every row');
is_deeply([ $fresh->{json}{x_from}, $fresh->{json}{x_to} ], [ 1, 20000 ], 'over the whole x range');
is(scalar(grep { $v{ $_->[0] } != $_->[1] } @{ $fresh->{json}{rows} }), 0, 'every point is a row');
my @sorted = sort { $a->[0] <=> $b->[0] } @{ $fresh->{json}{rows} };
is_deeply($fresh->{json}{rows}, \@sorted, 'in x order');
my $bad_buckets = 0;
for my $k (0 .. 49)
{
	# the rows of pixel column $k: its first, last, lowest and highest are kept
	my @in = grep { int(($_ - 1) / 19999 * 50) == $k || ($k == 49 && $_ == 20000) } 1 .. 20000;
	my %got = map { $_->[0] => 1 } grep { $_->[0] >= $in[0] && $_->[0] <= $in[-1] } @{ $fresh->{json}{rows} };
	my ($lo) = sort { $v{$a} <=> $v{$b} || $a <=> $b } @in;
	my ($hi) = sort { $v{$b} <=> $v{$a} || $a <=> $b } @in;
	$bad_buckets++ unless $got{ $in[0] } && $got{ $in[-1] } && $got{$lo} && $got{$hi} && keys %got <= 4;
}
is($bad_buckets, 0, 'each pixel column keeps its first, last, lowest and highest row, no more');
$r = get_json('/api/query/zoom_fresh?width=100&downsample=20&x=t&y=v');
is($r->{json}{row_count}, 20, 'downsample then keeps that many of them (LTTB)');

# x_from and x_to are inclusive; a bound left out is the data's
$r = get_json('/api/query/zoom_fresh?width=101&x=t&y=v&x_from=100&x_to=200');
is_deeply([ map { $_->[0] } @{ $r->{json}{rows} } ], [ 100 .. 200 ], 'a range keeps both edges, nothing outside');
is($r->{json}{downsampled_from}, 101, 'and counts its rows');
$r = get_json('/api/query/zoom_fresh?width=100&x=t&y=v&x_from=19990');
is_deeply([ map { $_->[0] } @{ $r->{json}{rows} } ], [ 19990 .. 20000 ], 'only x_from: up to the last row');
$r = get_json('/api/query/zoom_fresh?width=100&x=t&y=v&x_to=3');
is_deeply([ map { $_->[0] } @{ $r->{json}{rows} } ], [ 1 .. 3 ], 'only x_to: from the first row');
$r = get_json('/api/query/zoom_fresh?width=100&x=t&y=v&x_from=30000&x_to=40000');
is_deeply([ $r->{json}{row_count}, $r->{json}{rows} ], [ 0, [] ], 'a range without rows is empty');
$r = get_json('/api/query/wave?n=100&width=11&x=ts&y=amount&x_from=2026-01-01T00:00:10%2B00:00&x_to=2026-01-01T00:00:20Z');
is_deeply([ map { substr($_->[0], 17, 2) } @{ $r->{json}{rows} } ], [ 10 .. 20 ], 'time bounds are inclusive');
$r = get_json('/api/query/wave?n=100&width=11&x=ts&y=amount&x_from=2026-01-01T00:00:10.000001Z&x_to=2026-01-01T00:00:20Z');
is($r->{json}{rows}[0][0], '2026-01-01T00:00:11+00:00', 'to the microsecond');
$r = get_json('/api/query/zoom_last?width=100&x=t&y=v');
is_deeply([ map { $_->[0] } @{ $r->{json}{rows} } ], [ 19991 .. 20000 ], 'a query with LIMIT keeps its ORDER BY');

# what is refused, and why
for my $bad (
	[ 'zoom_fresh?width=100&x=t&y=v&x_from=1.5', qr/invalid x_from "1\.5"/, qr/of type bigint/ ],
	[ 'zoom_fresh?width=100&x=t&y=v&x_from=5&x_to=4', qr/x_from is after x_to/ ],
	[ 'wave?n=9&width=100&x=ts&y=amount&x_from=soon', qr/invalid x_from "soon"/, qr/timestamp with time zone/ ],
	[ 'wave?n=9&width=100&x=ts&y=amount&x_to=infinity', qr/x_to must be finite/ ],
	[ 'wave?n=9&width=100&x=x&y=amount&x_from=1', qr/cannot be restricted to a range of "x"/ ],
	[ 'zoom_fresh?width=0&x=t&y=v', qr/invalid width "0"/ ],
	[ 'zoom_fresh?width=20001&x=t&y=v', qr/invalid width "20001"/ ],
	[ 'zoom_fresh?x_from=1', qr/a series needs x, y and width or downsample/ ],
	[ 'zoom_fresh?width=10&x=t&y=v&limit=5', qr/a series takes no limit/ ],
	[ 'zoom_fresh?width=10&x=t&y=v&format=csv', qr/only available as JSON/ ])
{
	$r = get_json("/api/query/$bad->[0]");
	is($r->{status}, 400, "$bad->[0] is refused");
	like($r->{json}{error}{message}, $bad->[1], '... saying why');
	like($r->{json}{error}{detail}, $bad->[2], '... and what x is') if $bad->[2];
}
like(get_json('/api/query/wave?n=9&width=100&x=x&y=amount&x_from=1')->{json}{error}{hint},
	qr/define_query\(.*range_columns =>/, 'a range is allowed by define_query');

# a cached query keeps a summary of the whole series: requests it is fine
# enough for are answered from it, the same as from the rows; narrower
# ranges read the rows; NOTIFY on a refresh channel renews it
get_json('/api/query/zoom?width=50&x=t&y=v');    # the worker starts to LISTEN
sleep 0.3;
$r = get_json('/api/query/zoom?width=50&x=t&y=v');
is($r->{headers}{'x-pg-dash-cache'}, 'miss', 'the first series of a cached query makes its summary');
is_deeply($r->{json}{rows}, $fresh->{json}{rows}, '... and answers from it as from the rows');
$r = get_json('/api/query/zoom?width=50&x=t&y=v');
is($r->{headers}{'x-pg-dash-cache'}, 'hit', 'the next one is answered from the summary');
is_deeply($r->{json}{rows}, $fresh->{json}{rows}, '... the same');
$r = get_json('/api/query/zoom?width=100&x=t&y=v&x_from=5000&x_to=15000');
is($r->{headers}{'x-pg-dash-cache'}, 'hit', 'so is a wide range');
is_deeply($r->{json}{rows}, get_json('/api/query/zoom_fresh?width=100&x=t&y=v&x_from=5000&x_to=15000')->{json}{rows},
	'... the same as from the rows');
$r = get_json('/api/query/zoom?width=101&x=t&y=v&x_from=100&x_to=200');
ok(!defined $r->{headers}{'x-pg-dash-cache'}, 'a narrow range reads the rows');
is_deeply([ map { $_->[0] } @{ $r->{json}{rows} } ], [ 100 .. 200 ], '... every one of them');
$node->safe_psql('postgres', 'INSERT INTO points VALUES (20001, 5); NOTIFY points_changed');
ok(wait_until(sub { get_json('/api/query/zoom?width=50&x=t&y=v')->{json}{x_to} == 20001 }, 5),
	'NOTIFY renews the summary');

# parameter errors name the parameter
$r = get_json('/api/query/items');
is($r->{status}, 400, 'missing parameter is 400');
like($r->{json}{error}{message}, qr/missing parameter "kind"/, 'missing parameter named');
$r = get_json('/api/query/items?kind=a&color=red');
is($r->{status}, 400, 'unknown parameter is 400');
like($r->{json}{error}{message}, qr/unknown parameter "color"/, 'unknown parameter named');
$r = get_json('/api/query/echo?v=x&n=seven');
is($r->{status}, 400, 'unconvertible parameter is 400');
like($r->{json}{error}{message}, qr/invalid value for parameter "n"/, 'unconvertible parameter named');
like($r->{json}{error}{detail}, qr/integer/, 'the reason names the type');
$r = get_json('/api/query/items?kind=%zz');
is($r->{status}, 400, 'malformed query string is 400');
$r = get_json('/api/query/echo', method => 'POST', body => 'not json');
is($r->{status}, 400, 'non-JSON body is 400');

# SQL injection comes back as data and changes nothing
my $evil = "'; DROP TABLE items; --";
(my $enc = $evil) =~ s/([^A-Za-z0-9])/sprintf('%%%02X', ord $1)/ge;
$r = get_json("/api/query/echo?v=$enc&n=1");
is($r->{json}{rows}[0][0], $evil, 'injection attempt returned as data');
$r = get_json("/api/query/items?kind=$enc");
is($r->{json}{row_count}, 0, 'injection attempt as a filter matches nothing');
is($node->safe_psql('postgres', 'SELECT count(*) FROM items'), '4', 'table intact');

# errors map to statuses with SQLSTATE
$r = get_json('/api/query/nope');
is($r->{status}, 404, 'unknown query is 404');
is($r->{json}{error}{code}, '42704', 'unknown query has its SQLSTATE');
$r = get_json('/api/query/secret');
is($r->{status}, 403, 'insufficient privilege is 403');
is($r->{json}{error}{code}, '42501', 'with SQLSTATE 42501');
$r = get_json('/api/query/slow?s=3');
is($r->{status}, 504, 'statement timeout is 504');
is($r->{json}{error}{code}, '57014', 'with SQLSTATE 57014');
$r = get_json('/api/query/slow?s=0');
is($r->{status}, 200, 'the next request works after a timeout');

# max_rows cuts and says so
$node->safe_psql('postgres', "ALTER SYSTEM SET pg_dash.max_rows = 5");
$node->reload;
ok(wait_until(sub { get_json('/api/query/series?n=20')->{json}{truncated} }, 10), 'max_rows truncates');
$r = get_json('/api/query/series?n=20');
is($r->{json}{row_count}, 5, 'truncated to max_rows');
is($r->{headers}{'x-pg-dash-truncated'}, 'true', 'truncation also in a header');
$r = get_json('/api/query/series?n=5');
ok(!$r->{json}{truncated}, 'exactly max_rows is not truncated');
$node->safe_psql('postgres', "ALTER SYSTEM RESET pg_dash.max_rows");
$node->reload;
wait_until(sub { !get_json('/api/query/series?n=20')->{json}{truncated} }, 10);

# ETag and 304
$r = http($port, 'GET', '/api/query/items?kind=a');
my $etag = $r->{headers}{etag};
ok($etag, 'results carry an ETag');
$r = http($port, 'GET', '/api/query/items?kind=a', headers => ["If-None-Match: $etag"]);
is($r->{status}, 304, 'If-None-Match answers 304');

# cache: hit, invalidation by NOTIFY, TTL expiry
get_json('/api/query/cached');    # first call makes the worker LISTEN
sleep 0.3;
my $first = get_json('/api/query/cached');
my $second = get_json('/api/query/cached');
is($second->{headers}{'x-pg-dash-cache'}, 'hit', 'second call served from the cache');
is($second->{json}{rows}[0][1], $first->{json}{rows}[0][1], 'cached result is the same');
like($first->{headers}{'cache-control'}, qr/max-age=2/, 'Cache-Control follows the TTL');
$r = http($port, 'GET', '/api/query/cached', headers => ["If-None-Match: $second->{headers}{etag}"]);
is($r->{status}, 304, 'cached result answers 304 too');
$node->safe_psql('postgres', "INSERT INTO items VALUES (5, 'a', 1, 1, true, NULL, NULL, NULL, NULL, NULL, 'alice'); NOTIFY items_changed");
ok(wait_until(sub { get_json('/api/query/cached')->{json}{rows}[0][0] == 4 }, 3),
	'NOTIFY on a refresh_on channel invalidates the cache');
$node->safe_psql('postgres', "SELECT pg_dash.define_query('wave_cached', 'SELECT g AS x, (g % 7)::float8 AS y FROM generate_series(1, 500) g', cache_ttl => 60);
SELECT pg_dash.define_query('cached', 'SELECT count(*) + 100 AS n, clock_timestamp() AS at FROM items', cache_ttl => 2, refresh_on => ARRAY['items_changed'])");
ok(wait_until(sub { get_json('/api/query/cached')->{json}{rows}[0][0] == 104 }, 3),
	'redefining a query does not serve results of the old definition');
$first = get_json('/api/query/cached');
sleep 2.2;
$second = get_json('/api/query/cached');
isnt($second->{json}{rows}[0][1], $first->{json}{rows}[0][1], 'TTL expiry refreshes the result');

# streaming a million rows: every row once, flat memory, others served while
# it is produced (by a download worker) and sent
$node->safe_psql('postgres', "ALTER SYSTEM SET pg_dash.statement_timeout = '60s'");
$node->reload;
wait_until(sub { get_json('/api/query/slow?s=1.2')->{status} == 200 }, 10);

# private resident memory (RssAnon, without shared buffers) in kB of a process
sub rss_kb
{
	my ($p) = @_;
	open my $f, '<', "/proc/$p/status" or return 0;
	my ($kb) = join('', <$f>) =~ /RssAnon:\s+(\d+)/;
	return $kb // 0;
}

# pids of this node's running download workers
sub download_pids
{
	my @pids;
	for my $c (glob '/proc/[0-9]*/cmdline')
	{
		my ($p) = $c =~ m{/proc/(\d+)/};
		open my $f, '<', $c or next;
		my $cmd = <$f> // '';
		next unless $cmd =~ /pg_dash (download|executor)/;
		open my $st, '<', "/proc/$p/stat" or next;
		my @stat = split / /, scalar <$st>;
		push @pids, $p if $stat[3] == $node->{_pid};
	}
	return @pids;
}

# downloads n rows as CSV, reading slowly at first; returns the rows, the
# peak RSS of the serving and download workers, and the time to close
sub stream_csv
{
	my ($n, $during) = @_;
	my $pid = worker_pids($node)->{0};
	my %peak = (serving => rss_kb($pid), download => 0);
	my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp') or die;
	print $sock "GET /api/query/series?n=$n&format=csv HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
	my $buf = '';
	sysread($sock, $buf, 65536, length $buf) for 1 .. 3;
	$during->() if $during;
	my $t0 = time;
	while (1)
	{
		my $got = sysread($sock, $buf, 1 << 20, length $buf);
		last unless $got;
		my $s = rss_kb($pid);
		$peak{serving} = $s if $s > $peak{serving};
		for my $d (download_pids())
		{
			my $r = rss_kb($d);
			$peak{download} = $r if $r > $peak{download};
		}
	}
	my $closed_after = time - $t0;
	close $sock;
	my ($head, $body) = split /\r\n\r\n/, $buf, 2;
	my $data = '';
	while ($body =~ /\G([0-9a-f]+)\r\n/gc)
	{
		my $len = hex $1;
		last if $len == 0;
		$data .= substr($body, pos($body), $len);
		pos($body) += $len + 2;
	}
	my @rows = split /\r\n/, $data;
	shift @rows;
	return ($head, \@rows, \%peak, $closed_after);
}

my $rss_before = rss_kb(worker_pids($node)->{0});
my ($head, $rows, $peak, $closed_after) = stream_csv(1_000_000, sub {
	my $t0 = time;
	my $h = http($port, 'GET', '/healthz', timeout => 5);
	is($h->{status}, 200, 'another client is answered during a large download');
	cmp_ok(time - $t0, '<', 1, 'and promptly');
});
like($head, qr/Transfer-Encoding: chunked/i, 'large result streamed with chunked encoding');
like($head, qr{Content-Type: text/csv}i, 'with its content type');
cmp_ok($closed_after, '<', 20, 'connection closed after the last chunk, as Connection: close asked');
is(scalar @$rows, 1_000_000, 'every row streamed');
my %seen;
my $dupes = grep { $seen{ (split /,/)[0] }++ } @$rows;
is($dupes, 0, 'each row exactly once');
is((split /,/, $rows->[-1])[0], 1000000, 'last row present');
cmp_ok($peak->{serving} - $rss_before, '<', 64 * 1024,
	"serving worker memory grew by less than 64 MB (before $rss_before kB, peak $peak->{serving} kB)");
cmp_ok($peak->{download}, '>', 0, 'an executor produced the result');
cmp_ok($peak->{download}, '<', 32 * 1024, "its memory stayed under 32 MB (peak $peak->{download} kB)");

# at most pg_dash.max_downloads results stream at once, each for at most
# pg_dash.download_timeout, waiting for the client included

# the value of pg_dash_limit_hits_total{limit="$name"}
sub limit_hits
{
	my ($name) = @_;
	my $body = http($port, 'GET', '/metrics')->{body};
	return $body =~ /^pg_dash_limit_hits_total\{limit="\Q$name\E"\} (\d+)/m ? $1 : undef;
}

# starts a CSV download of n rows and reads only its head; the socket and the head
sub open_download
{
	my ($n) = @_;
	my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp') or die;
	print $sock "GET /api/query/series?n=$n&format=csv HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
	my $buf = '';
	my $sel = IO::Select->new($sock);
	my $deadline = time + 10;
	while (index($buf, "\r\n\r\n") < 0 && time < $deadline)
	{
		last unless $sel->can_read($deadline - time);
		last unless sysread($sock, $buf, 4096, length $buf);
	}
	return ($sock, substr($buf, 0, index($buf, "\r\n\r\n")));
}

# reads a socket slowly (4 kB every 50 ms) for $slow seconds, then as fast
# as it can (what the kernel still holds) for up to 5 s; returns the last
# bytes read and whether the server had closed the connection
sub read_slowly
{
	my ($sock, $slow) = @_;
	my $sel = IO::Select->new($sock);
	my ($t0, $buf, $closed) = (time, '', 0);
	while (time - $t0 < $slow + 5)
	{
		my $fast = time - $t0 > $slow;
		sleep 0.05 unless $fast;
		next unless $sel->can_read(0.2);
		my $got = sysread($sock, $buf, $fast ? 1 << 20 : 4096, length $buf);
		if (!$got)
		{
			$closed = 1;
			last;
		}
		$buf = substr($buf, -16) if length $buf > 16;
	}
	return ($buf, $closed);
}

# executors busy with a request (a large result streams from one)
sub download_backends
{
	my $body = http($port, 'GET', '/metrics')->{body};
	return $body =~ /^pg_dash_executors\{state="busy"\} (\d+)/m ? $1 : -1;
}

$node->safe_psql('postgres',
	"ALTER SYSTEM SET pg_dash.max_downloads = 1; ALTER SYSTEM SET pg_dash.download_timeout = '3s'");
$node->reload;
sleep 0.5;
{
	my $busy0 = limit_hits('max_downloads');
	my $late0 = limit_hits('download_timeout');
	ok(defined $busy0 && defined $late0, 'pg_dash_limit_hits_total{limit="max_downloads"|"download_timeout"} in /metrics');
	my $t0 = time;
	my ($slow, $head) = open_download(2_000_000);
	like($head, qr{^HTTP/1\.1 200}, 'a large download starts') or diag $head;
	ok(wait_until(sub { download_backends() == 1 }, 5), 'an executor streams it');
	sleep 1;
	is(download_backends(), 1, '... held while its client does not read');

	$r = get_json('/api/query/series?n=5000&format=csv');
	is($r->{status}, 503, 'a second large result over pg_dash.max_downloads = 1 is 503');
	like($r->{headers}{'retry-after'} // '', qr/^\d+$/, '... with Retry-After');
	is($r->{json}{error}{code}, 'too_many_downloads', '... and a reason code');
	like($r->{json}{error}{detail}, qr/max_downloads/, '... naming the setting');
	is(limit_hits('max_downloads'), $busy0 + 1, 'counted in /metrics');
	is(get_json('/api/query/series?n=10')->{status}, 200, 'a result of one batch is not a download');

	my ($tail, $closed) = read_slowly($slow, 3 + 1.5 - (time - $t0));
	ok($closed, 'the slow reader was disconnected at pg_dash.download_timeout (3 s)');
	ok($tail !~ /\r\n0\r\n\r\n$/, '... without the final chunk: the body is visibly incomplete');
	ok(wait_until(sub { download_backends() == 0 }, 5), 'the executor let go of it');
	is(limit_hits('download_timeout'), $late0 + 1, 'counted in /metrics');
	close $slow;
	$r = http($port, 'GET', '/api/query/series?n=5000&format=csv');
	is($r->{status}, 200, 'the slot is free again: a large result streams');
	is(scalar(() = $r->{body} =~ /^\d+,/mg), 5000, '... whole');
}
$node->safe_psql('postgres',
	"ALTER SYSTEM RESET pg_dash.max_downloads; ALTER SYSTEM RESET pg_dash.download_timeout");
$node->reload;
sleep 0.5;

# free SQL: off by default, then on
$r = get_json('/api/sql', method => 'POST', body => '{"sql":"SELECT 1 AS one"}');
is($r->{status}, 403, 'free SQL off by default');
like($r->{json}{error}{hint}, qr/pg_dash\.allow_sql/, 'hint names the setting');
$node->safe_psql('postgres', "ALTER SYSTEM SET pg_dash.allow_sql = on");
$node->reload;
ok(wait_until(sub { get_json('/api/sql', method => 'POST', body => '{"sql":"SELECT 1 AS one"}')->{status} == 200 }, 10),
	'free SQL on');
$r = get_json('/api/sql', method => 'POST',
	body => '{"sql":"SELECT g AS x, g * 2 AS y FROM generate_series(1, 100) g ORDER BY g","width":10,"x":"x","y":"y","x_from":95}');
is_deeply([ map { $_->[0] } @{ $r->{json}{rows} } ], [ 95 .. 100 ], 'free SQL may ask for any series and range');
$r = get_json('/api/sql', method => 'POST', body => '{"sql":"DELETE FROM items"}');
is($r->{status}, 400, 'free SQL refuses writes');
$r = get_json('/api/sql', method => 'POST', body => '{"sql":"SELECT * FROM secrets"}');
is($r->{status}, 403, 'free SQL runs as pg_dash.role');
is($node->safe_psql('postgres', 'SELECT count(*) FROM items'), '5', 'nothing deleted');

# role checks: unset, missing, superuser
for my $case ([ "''", 'not set' ], [ "'no_such_role'", 'does not exist' ], [ "'postgres'", 'superuser' ])
{
	$node->safe_psql('postgres', "ALTER SYSTEM SET pg_dash.role = $case->[0]");
	$node->reload;
	ok(wait_until(sub { get_json('/api/query/items?kind=a')->{status} == 503 }, 10),
		"503 when pg_dash.role is $case->[1]");
	like(get_json('/api/query/items?kind=a')->{json}{error}{hint}, qr/pg_dash\.role/, 'hint says what to set');
}
$node->safe_psql('postgres', "ALTER SYSTEM SET pg_dash.role = 'dash_reader'");
$node->reload;
wait_until(sub { get_json('/api/query/items?kind=a')->{status} == 200 }, 10);

# the list of queries, stats and metrics
$r = get_json('/api/queries');
my ($items) = grep { $_->{name} eq 'items' } @{ $r->{json}{queries} };
is_deeply($items->{params}, [ { name => 'kind', type => 'text' } ], '/api/queries lists parameters');
is(scalar @{ $items->{columns} }, 10, '/api/queries lists columns');
is_deeply([ @$items{qw(sortable allow_count range_columns)} ], [ [], JSON::PP::false, [] ],
	'/api/queries: by default nothing is allowed');
my ($series) = grep { $_->{name} eq 'series' } @{ $r->{json}{queries} };
is_deeply([ @$series{qw(sortable allow_count range_columns)} ], [ ['i'], JSON::PP::true, [] ],
	'/api/queries lists what a query allows');
my $stats = $node->safe_psql('postgres', "SELECT calls > 0, errors > 0 FROM pg_dash.query_stats WHERE name = 'slow'");
is($stats, 't|t', 'query_stats counts calls and errors');
is($node->safe_psql('postgres', "SELECT cache_hits > 0 FROM pg_dash.query_stats WHERE name = 'cached'"), 't',
	'query_stats counts cache hits');
$r = http($port, 'GET', '/metrics');
like($r->{body}, qr/^pg_dash_cache_hits_total [1-9]/m, 'cache hits in /metrics');
like($r->{body}, qr/^pg_dash_errors_total\{class="57"\} [1-9]/m, 'errors by SQLSTATE class in /metrics');
like($r->{body}, qr/^pg_dash_requests_total\{route="api",status="5xx"\} [1-9]/m, 'API 5xx counted');
is($node->safe_psql('postgres', "SELECT value > 0 FROM pg_dash.stats WHERE metric = 'pg_dash_bytes_sent_total'"),
	't', 'the same figures in pg_dash.stats');

is($node->safe_psql('postgres', 'SELECT count(*) FROM pg_dash.session_state'), '0',
	'cookie-less query requests create no sessions');
ok(!defined get_json('/api/query/items?kind=a')->{headers}{'set-cookie'}, 'and set no cookie');
is(http($port, 'GET', '/healthz')->{status}, 200, 'worker survived every error');

# with no background worker slot to spare, the serving worker streams it
# from a holdable cursor itself
$node->safe_psql('postgres', "ALTER SYSTEM SET max_worker_processes = 2");
$node->restart;
wait_for_workers($node, $port, 1);
($head, $rows, $peak) = stream_csv(200_000);
is(scalar @$rows, 200_000, 'without a download worker every row is streamed too');
is($peak->{download}, 0, 'and no download worker ran');
$node->safe_psql('postgres', "ALTER SYSTEM SET pg_dash.download_timeout = '2s'");
$node->reload;
sleep 0.5;
{
	my $t0 = time;
	my ($slow, $h) = open_download(500_000);
	like($h, qr{^HTTP/1\.1 200}, 'a large result streams from a holdable cursor');
	my ($tail, $closed) = read_slowly($slow, 2 + 1.5 - (time - $t0));
	ok($closed, 'its slow reader is disconnected at pg_dash.download_timeout (2 s) too');
	ok($tail !~ /\r\n0\r\n\r\n$/, '... before the end of the body');
	close $slow;
	is(get_json('/api/query/series?n=10')->{status}, 200, 'the worker serves on');
}
$node->safe_psql('postgres', "ALTER SYSTEM RESET max_worker_processes");
$node->restart;
wait_for_workers($node, $port, 1);
$node->stop;
done_testing();
