-- pg_dash 0.2.0: the SQL surface of pg_dash.
\echo Use "CREATE EXTENSION pg_dash" to load this file. \quit

-- Schema names starting with pg_ are reserved; creating this one needs
-- allow_system_table_mods for one statement (reverted when the script ends).
SET allow_system_table_mods = on;
CREATE SCHEMA pg_dash;
RESET allow_system_table_mods;

-- Every role may use what the schema grants it (e.g. pg_dash.state() from a
-- named query running as pg_dash.role); each object keeps its own grants.
GRANT USAGE ON SCHEMA pg_dash TO PUBLIC;

COMMENT ON SCHEMA pg_dash IS 'pg_dash: dashboards served by PostgreSQL';

-- The running pg_dash workers, as pg_stat_activity shows them.
CREATE VIEW pg_dash.workers AS
SELECT pid,
       application_name,
       backend_start,
       state,
       query
FROM pg_catalog.pg_stat_activity
WHERE backend_type = 'pg_dash';

COMMENT ON VIEW pg_dash.workers IS 'The running pg_dash background workers';

-- Every figure of /metrics, summed over all workers.
CREATE FUNCTION pg_dash.stats_series(OUT metric text, OUT labels text, OUT value double precision)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pg_dash_stats'
LANGUAGE C STRICT VOLATILE;

CREATE VIEW pg_dash.stats AS SELECT * FROM pg_dash.stats_series();
COMMENT ON VIEW pg_dash.stats IS 'pg_dash counters, the same series as GET /metrics';
