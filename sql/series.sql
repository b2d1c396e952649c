-- pg_dash.m4: the M4 reduction of a series (first, last, lowest and highest
-- point of each bucket), the aggregate behind charts' series.
-- quietly: the extension may exist already when the suites run together
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_dash;
RESET client_min_messages;

CREATE TABLE m4_points (x double precision, y double precision);
INSERT INTO m4_points VALUES (0, 1), (1, 5), (2, -1), (3, 2), (4, 2), (6, 7), (10, 0),
                             (NULL, 3), (5, NULL), ('NaN', 1), (7, 'Infinity'), (11, 100);

-- two buckets over [0, 10]: rows (x, y, rows of the bucket on its first point);
-- x outside the range, NULL and non-finite values are left out
SELECT pg_dash.m4(x, y, 0, 10, 2) FROM m4_points;
-- one bucket keeps at most four points; the input order does not matter
SELECT pg_dash.m4(x, y, 0, 10, 1) FROM m4_points;
SELECT pg_dash.m4(x, y, 0, 10, 1 ORDER BY x DESC) FROM m4_points;
-- as many buckets as rows: every row
SELECT pg_dash.m4(x, y, 0, 10, 11) FROM m4_points;
-- no rows: NULL; no row in the range: no points
SELECT pg_dash.m4(x, y, 0, 10, 2) FROM m4_points WHERE false;
SELECT pg_dash.m4(x, y, 20, 30, 2) FROM m4_points;

-- timestamps as seconds since the Unix epoch
SELECT m[1][1] AS x, to_timestamp(m[1][1]) AS at, m[1][3] AS rows
FROM (SELECT pg_dash.m4(t, v, timestamptz '2026-01-01 00:00+00', timestamptz '2026-01-02 00:00+00', 4) AS m
      FROM (VALUES (timestamptz '2026-01-01 10:00:00.000001+00', 1.5::float8)) AS s (t, v)) AS r;
SELECT pg_dash.m4(t, v, timestamp '2026-01-01', timestamp '2026-01-02', 1)
FROM (VALUES (timestamp '2026-01-01 06:00', 2::float8), (timestamp 'infinity', 3)) AS s (t, v);

-- bad arguments and states
SELECT pg_dash.m4(x, y, 10, 0, 2) FROM m4_points;
SELECT pg_dash.m4(x, y, 0, 10, 0) FROM m4_points;
SELECT pg_dash.m4(x, y, 0, 'Infinity', 2) FROM m4_points;
SELECT pg_dash.m4(x, y, NULL, 10, 2) FROM m4_points;
SELECT pg_dash.m4_finalfn('{1,2,3}');
SELECT pg_dash.m4_finalfn('{1,5,1,0,0,0,0,0,0,0,0,0}');
SELECT pg_dash.m4_combinefn('{2,0,1}', '{2,0,1}');
SELECT pg_dash.m4_combinefn('{1,0,1,0,0,0,0,0,0,0,0,0,0}', '{1,0,2,0,0,0,0,0,0,0,0,0,0}');
-- a state of the right shape is read, whoever made it
SELECT pg_dash.m4_finalfn(pg_dash.m4_combinefn('{1,0,1,0,0,0,0,0,0,0,0,0,0}', '{1,0,1,1,1,0.5,2,0.5,2,2,0.5,2,0.5}'));
SELECT pg_dash.m4_transfn(NULL, 1::float8, 1, 0, 1, 1);

-- pg_dash.m4_grid: the same points without lo and hi, over cells of a
-- power-of-two grid, the finest at which the x seen span at most n cells
-- (here x from 0 to 11 needs cells 4 wide: 0..3, 4..7, 8..11)
SELECT pg_dash.m4_grid(x, y, 4) FROM m4_points;
SELECT pg_dash.m4_grid(x, y, 4 ORDER BY x DESC) FROM m4_points;
-- cells as fine as the rows: every row
SELECT pg_dash.m4_grid(x, y, 100) FROM m4_points;
-- no rows: NULL; no finite row: no points
SELECT pg_dash.m4_grid(x, y, 4) FROM m4_points WHERE false;
SELECT pg_dash.m4_grid(x, y, 4) FROM m4_points WHERE x IS NULL OR x = 'NaN';
-- timestamps as seconds since the Unix epoch; infinite ones left out
SELECT pg_dash.m4_grid(t, v, 10)
FROM (VALUES (timestamptz '2026-01-01 00:00+00', 1::float8), (timestamptz '2026-01-02 00:00+00', 2),
             (timestamptz 'infinity', 3)) AS s (t, v);
SELECT pg_dash.m4_grid(t, v, 10) FROM (VALUES (timestamp '2026-01-01 06:00', 2::float8)) AS s (t, v);
-- bad arguments and states: refused with the reason, never a crash
SELECT pg_dash.m4_grid(x, y, 1) FROM m4_points;
SELECT pg_dash.m4_grid(x, y, NULL) FROM m4_points;
SELECT pg_dash.m4_grid_transfn(NULL, 1::float8, 1, 4);
SELECT pg_dash.m4_grid_finalfn('{1,2,3}');
SELECT pg_dash.m4_grid_finalfn('{{1,2},{3,4}}');
SELECT pg_dash.m4_grid_finalfn(array_fill(0::float8, ARRAY[26]));
SELECT pg_dash.m4_grid_finalfn(array_fill(2::float8, ARRAY[26]));
SELECT pg_dash.m4_grid_finalfn(ARRAY[2::float8] || array_fill(0::float8, ARRAY[25]));
SELECT pg_dash.m4_grid_combinefn(ARRAY[2::float8] || array_fill(0::float8, ARRAY[25]),
                                 ARRAY[3::float8] || array_fill(0::float8, ARRAY[35]));
-- a state made elsewhere is checked like one of its own
CREATE AGGREGATE m4_grid_wide (double precision, double precision, integer) (
    SFUNC = pg_dash.m4_grid_transfn, STYPE = double precision[], FINALFUNC = pg_dash.m4_grid_finalfn,
    INITCOND = '{2,1,0,0,5,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}');
SELECT m4_grid_wide(x, y, 2) FROM m4_points;
CREATE AGGREGATE m4_grid_stuck (double precision, double precision, integer) (
    SFUNC = pg_dash.m4_grid_transfn, STYPE = double precision[], FINALFUNC = pg_dash.m4_grid_finalfn,
    INITCOND = '{2,1,1024,1,1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0}');
SELECT m4_grid_stuck(x, y, 2) FROM m4_points;
SELECT m4_grid_stuck(-x, y, 2) FROM m4_points;
DROP AGGREGATE m4_grid_wide(double precision, double precision, integer);
DROP AGGREGATE m4_grid_stuck(double precision, double precision, integer);

-- PostgreSQL runs it in parallel (partial aggregates combined), with the
-- same result as one process
CREATE TABLE m4_big AS SELECT g::float8 AS x, ((g * 7919) % 1000)::float8 AS y FROM generate_series(1, 50000) g;
ANALYZE m4_big;
CREATE TEMP TABLE m4_serial AS SELECT pg_dash.m4(x, y, 1, 50000, 7) AS m FROM m4_big;
CREATE TEMP TABLE m4_grid_serial AS SELECT pg_dash.m4_grid(x, y, 100) AS m FROM m4_big;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT pg_dash.m4(x, y, 1, 50000, 7) FROM m4_big;
SELECT pg_dash.m4(x, y, 1, 50000, 7) = (SELECT m FROM m4_serial) AS same FROM m4_big;
-- the grid too: workers' states of different widths combine to the same
EXPLAIN (COSTS OFF) SELECT pg_dash.m4_grid(x, y, 100) FROM m4_big;
SELECT pg_dash.m4_grid(x, y, 100) = (SELECT m FROM m4_grid_serial) AS same,
       array_length(pg_dash.m4_grid(x, y, 100), 1) AS points FROM m4_big;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
DROP TABLE m4_points, m4_big;
