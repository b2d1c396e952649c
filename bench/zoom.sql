-- The zoom benchmark's table (bench/run.py, section 7): :rows readings over
-- ten years, one every 31.6 s at ten million rows, with an index on the
-- time.  Not generate_series at request time: a real table, which a chart's
-- series reads through the index (a range) or in parallel (all of it).
\set ON_ERROR_STOP on
DROP TABLE IF EXISTS bench.zoom;
CREATE TABLE bench.zoom (t timestamptz NOT NULL, v double precision NOT NULL);
INSERT INTO bench.zoom
SELECT timestamptz '2016-01-01 00:00+00' + g * (interval '3652 days' / :rows),
       sin(g / 20000.0) * 100 + ((g::bigint * 7919) % 1000) / 100.0
FROM generate_series(1, :rows) AS g;
CREATE INDEX zoom_t_idx ON bench.zoom (t);
VACUUM ANALYZE bench.zoom;
GRANT SELECT ON bench.zoom TO bench_anon;
