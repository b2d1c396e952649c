-- examples/demo_small.sql: the demo with a hundredth of the rows (10 000
-- orders, 100 000 sensor readings), for tests:
--
--   psql -f examples/demo_small.sql
--
-- (the same as psql -v scale=0.01 -f examples/demo.sql).

\set scale 0.01
\ir demo.sql
