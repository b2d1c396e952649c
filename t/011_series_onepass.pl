# A chart's series in one pass (issue 18): a query whose x range would cost
# a full read is reduced on pg_dash.m4_grid's growing grid without reading
# the range first; a query whose range is two index probes keeps the exact
# two-step reduction; parallel workers give the same answer; a cached
# query's summary is made in the same one pass and records how fine it is.
use strict;
use warnings;

use PostgreSQL::Test::Utils;
use Test::More;
use lib 't';
use PgDashTest;

my $setup = <<'SQL';
CREATE ROLE dash_reader;
-- counts the rows a query's passes read in a setting local to the request's
-- transaction (which is read-only); y then shows the count so far, so the
-- largest y of a series is the rows read until its last row
CREATE FUNCTION count_row() RETURNS bool LANGUAGE plpgsql VOLATILE
    AS $$BEGIN
        PERFORM set_config('test.rows_read', (coalesce(nullif(current_setting('test.rows_read', true), ''), '0')::int + 1)::text, true);
        RETURN true;
    END$$;
SELECT pg_dash.define_query('gen', 'SELECT g AS id, ((g::bigint * 7919) % 1000)::float8 * 0.5 AS value FROM generate_series(1, 200000) g');
SELECT pg_dash.define_query('gen_ranged', 'SELECT g AS id, ((g::bigint * 7919) % 1000)::float8 * 0.5 AS value FROM generate_series(1, 200000) g',
    range_columns => ARRAY['id']);
SELECT pg_dash.define_query('gen_counted', 'SELECT g AS id, current_setting(''test.rows_read'')::float8 AS value FROM generate_series(1, 20000) g WHERE count_row()');
SELECT pg_dash.define_query('gen_cached', 'SELECT g AS id, ((g::bigint * 7919) % 1000)::float8 * 0.5 AS value FROM generate_series(1, 200000) g',
    range_columns => ARRAY['id'], cache_ttl => 600);
SELECT pg_dash.define_query('gen_cached_zoom', 'SELECT g AS id, ((g::bigint * 7919) % 1000)::float8 * 0.5 AS value FROM generate_series(1, 200000) g',
    range_columns => ARRAY['id'], cache_ttl => 600);
-- an index on x: the range is two index probes
CREATE TABLE pts (t bigint NOT NULL, v double precision);
INSERT INTO pts SELECT g, ((g * 7919) % 1000) / 10.0 FROM generate_series(1, 20000) g;
CREATE INDEX ON pts (t);
ANALYZE pts;
GRANT SELECT ON pts TO dash_reader;
SELECT pg_dash.define_query('pts_fresh', 'SELECT t, v FROM pts ORDER BY t');
SELECT pg_dash.define_query('pts_counted', 'SELECT t, current_setting(''test.rows_read'')::float8 AS v FROM pts WHERE count_row()');
-- a table without an index, read by parallel workers
CREATE TABLE big AS SELECT g::float8 / 3 AS x, ((g::bigint * 7919) % 1000)::float8 AS y FROM generate_series(1, 300000) g;
ANALYZE big;
GRANT SELECT ON big TO dash_reader;
SELECT pg_dash.define_query('big', 'SELECT x, y FROM big');
SQL

my ($node, $port) = start_node('series_onepass', workers => 1, setup => $setup,
	conf => join("\n", "pg_dash.role = 'dash_reader'", 'parallel_setup_cost = 0',
		'parallel_tuple_cost = 0', 'min_parallel_table_scan_size = 0',
		'max_parallel_workers_per_gather = 2'));

sub get_json
{
	my ($path) = @_;
	my $r = http($port, 'GET', $path);
	$r->{json} = eval { json_decode($r->{body}) };
	return $r;
}

# The pixel column (0 .. width - 1) of x over [lo, hi], as the server buckets.
sub pixel
{
	my ($x, $lo, $hi, $width) = @_;
	my $k = int(($x - $lo) / ($hi - $lo) * $width);
	return $k >= $width ? $width - 1 : $k;
}

# Checks a series answer over [lo, hi]: in x order, each point a row (by
# $value_of), at most four points per pixel column, the first and last rows
# kept, every row counted.
sub check_series
{
	my ($what, $r, $lo, $hi, $width, $rows, $value_of) = @_;
	my @p = @{ $r->{json}{rows} // [] };
	is($r->{status}, 200, "$what: answered");
	is_deeply([ $r->{json}{x_from}, $r->{json}{x_to} ], [ $lo, $hi ], "$what: over the data's x range");
	is($r->{json}{downsampled_from}, $rows, "$what: chosen from every row");
	is_deeply([ $p[0][0], $p[-1][0] ], [ $lo, $hi ], "$what: first and last rows kept");
	is(scalar(grep { $p[$_][0] <= $p[ $_ - 1 ][0] } 1 .. $#p), 0, "$what: in x order");
	is(scalar(grep { $_->[1] != $value_of->($_->[0]) } @p), 0, "$what: every point is a row") if $value_of;
	my %per;
	$per{ pixel($_->[0], $lo, $hi, $width) }++ for @p;
	is(scalar(grep { $_ > 4 } values %per), 0, "$what: at most four points per pixel column");
	return @p;
}

# The rows a counted series read: its largest y.
sub rows_read
{
	my ($r) = @_;
	my ($max) = sort { $b <=> $a } map { $_->[1] } @{ $r->{json}{rows} };
	return $max;
}

# a generated series: no index, so one pass on the grid
my $saw = sub { (($_[0] * 7919) % 1000) * 0.5 };
my $r = get_json('/api/query/gen?width=1200&x=id&y=value');
my @grid = check_series('a generated series', $r, 1, 200000, 1200, 200000, $saw);
cmp_ok(scalar(@grid), '>', 1200 * 2, '... with more than two points per pixel');

# its extremes are those of the exact reduction (both bounds given: the
# exact path) wherever they are not within a grid cell of a pixel's edge
my $exact = get_json('/api/query/gen_ranged?width=1200&x=id&y=value&x_from=1&x_to=200000');
my @ex = check_series('the exact reduction', $exact, 1, 200000, 1200, 200000, $saw);
my $cell = 2 * 199999 / 32766;    # the grid's cells are no wider
my (%gmin, %gmax, %emin, %emax);
for (@grid)
{
	my $k = pixel($_->[0], 1, 200000, 1200);
	$gmin{$k} = $_->[1] if !defined $gmin{$k} || $_->[1] < $gmin{$k};
	$gmax{$k} = $_->[1] if !defined $gmax{$k} || $_->[1] > $gmax{$k};
}
my $checked = 0;
my $differ = 0;
for my $k (0 .. 1199)
{
	my @in = grep { pixel($_->[0], 1, 200000, 1200) == $k } @ex;
	my ($mn) = sort { $a->[1] <=> $b->[1] } @in;
	my ($mx) = sort { $b->[1] <=> $a->[1] } @in;
	my $left = 1 + $k * 199999 / 1200;
	my $right = 1 + ($k + 1) * 199999 / 1200;
	for ([ $mn, \%gmin ], [ $mx, \%gmax ])
	{
		my ($p, $got) = @$_;
		next if $p->[0] - $left <= $cell || $right - $p->[0] <= $cell;
		$checked++;
		$differ++ if !defined $got->{$k} || $got->{$k} != $p->[1];
	}
}
cmp_ok($checked, '>', 1000, 'most pixel columns have an extreme away from their edges');
is($differ, 0, '... and the grid keeps every one of them');

# the x range is not read first: every row is read once
$r = get_json('/api/query/gen_counted?width=100&x=id&y=value');
check_series('a counted generated series', $r, 1, 20000, 100, 20000);
is(rows_read($r), 20000, 'one pass over the rows, no x range query');

# with an index on x the range is two probes: the exact two-step path
$r = get_json('/api/query/pts_counted?width=50&x=t&y=v');
check_series('a counted indexed table', $r, 1, 20000, 50, 20000);
cmp_ok(rows_read($r), '>', 20000, 'the x range is read first ...');
cmp_ok(rows_read($r), '<', 20100, '... through the index, not by reading the rows');
$r = get_json('/api/query/pts_fresh?width=50&x=t&y=v');
my %v = map { $_ => ((($_ * 7919) % 1000) / 10.0) } 1 .. 20000;
my @idx = check_series('an indexed table', $r, 1, 20000, 50, 20000, sub { $v{ $_[0] } });
my $bad = 0;
for my $k (0 .. 49)
{
	# exact: every pixel keeps its first, last, lowest and highest row
	my @in = grep { pixel($_, 1, 20000, 50) == $k } 1 .. 20000;
	my %got = map { $_->[0] => 1 } grep { pixel($_->[0], 1, 20000, 50) == $k } @idx;
	my ($lo) = sort { $v{$a} <=> $v{$b} || $a <=> $b } @in;
	my ($hi) = sort { $v{$b} <=> $v{$a} || $a <=> $b } @in;
	$bad++ unless $got{ $in[0] } && $got{ $in[-1] } && $got{$lo} && $got{$hi};
}
is($bad, 0, '... and every pixel column keeps its first, last, lowest and highest row');

# parallel workers build the grid in parts: the same answer as one process
like($node->safe_psql('postgres',
		"SET ROLE dash_reader; EXPLAIN (COSTS OFF) SELECT pg_dash.m4_grid(q.x::float8, q.y::float8, 32768) FROM (SELECT x, y FROM big) q"),
	qr/Partial Aggregate.*Parallel Seq Scan on big/s, 'the grid of a table is built in parallel');
my $parallel = get_json('/api/query/big?width=700&x=x&y=y');
check_series('a parallel series', $parallel, 1 / 3, 100000, 700, 300000,
	sub { (((int($_[0] * 3 + 0.5)) * 7919) % 1000) });
$node->safe_psql('postgres', 'ALTER SYSTEM SET max_parallel_workers_per_gather = 0; SELECT pg_reload_conf()');
ok(wait_until(sub { $node->safe_psql('postgres', 'SHOW max_parallel_workers_per_gather') eq '0' }, 5),
	'parallel query off');
sleep 1;    # the serving worker reloads on its next pass
my $serial = get_json('/api/query/big?width=700&x=x&y=y');
is($serial->{body}, $parallel->{body}, 'one process gives the same answer');

# a cached query makes its summary in the same one pass: the whole series,
# then zooms it is fine enough for; narrower ones read their rows
$r = get_json('/api/query/gen_cached?width=1200&x=id&y=value');
is($r->{headers}{'x-pg-dash-cache'}, 'miss', 'the first series of a cached query makes its summary');
is($r->{body}, get_json('/api/query/gen?width=1200&x=id&y=value')->{body}, '... the same as without a cache');
$r = get_json('/api/query/gen_cached?width=1200&x=id&y=value');
is($r->{headers}{'x-pg-dash-cache'}, 'hit', 'the next one is answered from the summary');
$r = get_json('/api/query/gen_cached?width=100&x=id&y=value&x_from=1&x_to=100000');
is($r->{headers}{'x-pg-dash-cache'}, 'hit', 'so is a zoom with buckets many cells wide');
# 200000 rows in cells 8 wide: a bucket of 13 is under two cells, though
# over two of 32768 buckets over the range; the summary does not serve it
$r = get_json('/api/query/gen_cached?width=100&x=id&y=value&x_from=1&x_to=1301');
ok(!defined $r->{headers}{'x-pg-dash-cache'}, 'a zoom under two cells per bucket reads the rows');
is_deeply([ $r->{json}{rows}[0][0], $r->{json}{rows}[-1][0], $r->{json}{downsampled_from} ], [ 1, 1301, 1301 ],
	'... all of them');
# the first request of a cached query is a deep zoom with one bound: the
# summary is made, and the zoom reads its rows up to the data's last x
$r = get_json('/api/query/gen_cached_zoom?width=100&x=id&y=value&x_from=199000');
is_deeply([ $r->{json}{rows}[0][0], $r->{json}{rows}[-1][0], $r->{json}{downsampled_from}, $r->{json}{x_to} ],
	[ 199000, 200000, 1001, 200000 ], 'a first request narrower than the summary reads its rows');
$r = get_json('/api/query/gen_cached_zoom?width=1200&x=id&y=value');
is($r->{headers}{'x-pg-dash-cache'}, 'hit', '... and leaves the summary for the next');
is($r->{body}, get_json('/api/query/gen?width=1200&x=id&y=value')->{body}, '... the whole series');

$node->stop;
done_testing();
