-- examples/demo.sql: loads the four demo dashboards and the generator.
--
--   psql -v scale=1 -f examples/demo.sql      (scripts/demo.sh does this)
--
-- scale sizes the data: 1 is the full demo (1M orders, 10M sensor
-- readings); examples/demo_small.sql loads it at 0.01 for tests.  Loading
-- again only redefines the queries, pages and actions: tables that have
-- rows are left alone.

\set ON_ERROR_STOP on
\if :{?scale}
\else
\set scale 1
\endif
SET synchronous_commit = off;
SET client_min_messages = warning;
\timing off
-- Print the \echo progress lines, not the results of define_query() & co.
\pset tuples_only on
\pset format unaligned

\ir sales.sql
\ir retention.sql
\ir monitoring.sql
\ir iot.sql
\ir generator.sql
\ir signin.sql

-- A front page for the demo, besides the list of pages at /.
SELECT pg_dash.define_page('demo', $page$
# pg_dash demo

Four dashboards served by PostgreSQL itself: the pages, the queries behind
them and the data are all in this database. Each page's SQL is in
`examples/` of the pg_dash repository.

* [Sales, live](/p/demo/sales): a million orders, new ones every second,
  a region and a period that only your browser sees, CSV export.
* [User retention](/p/demo/retention): day-1 and day-7 cohorts computed by SQL.
* [System monitoring](/p/demo/monitoring): live metrics, gauges, alert rules
  checked by a trigger, acknowledgements.
* [IoT sensors](/p/demo/iot): ten million readings at 1 kHz, downsampled
  charts, a device map.
* [My region](/p/demo/my-region): with sign-in on (`DEMO_AUTH=password`),
  demo_north and demo_south see their own region on the same page.
$page$, 'pg_dash demo', 'Start here: what the four demo dashboards show');

\echo demo: loaded
