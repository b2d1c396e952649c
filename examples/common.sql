-- examples/common.sql: what the four demo dashboards share.
--
-- The demo lives in the schema "demo".  Every file can be loaded on its own
-- (psql -f examples/sales.sql) and loaded again: tables are filled only
-- when they are empty, and queries, pages and actions are (re)defined each
-- time.  The psql variable "scale" sizes the data (1 = the full demo, 0.01
-- for tests); scripts/demo.sh passes DEMO_SCALE.

\if :{?scale}
\else
\set scale 1
\endif

CREATE SCHEMA IF NOT EXISTS demo;
COMMENT ON SCHEMA demo IS 'The pg_dash demo dashboards (examples/*.sql)';

-- Settings of the demo, e.g. how many sensor readings to keep.
CREATE TABLE IF NOT EXISTS demo.settings (
    name  text PRIMARY KEY,
    value numeric NOT NULL
);
INSERT INTO demo.settings VALUES ('scale', :scale)
ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value;

-- A period picked with a date_range control, as [since, until).  The
-- control stores ["2026-01-01", "2026-01-31"] in the session state; the
-- front end passes it to the query as an array literal
-- {"2026-01-01","2026-01-31"} (POST, WebSocket) or as JSON (CSV links), so
-- take the dates out of the text whatever its shape.  Without two dates:
-- the last default_span.  Queries join it (CROSS JOIN demo.period(...) p)
-- and compare with p.since and p.until, which lets an index on the time
-- column do the work.
CREATE OR REPLACE FUNCTION demo.period(dates text, default_span interval DEFAULT interval '24 hours',
                            OUT since timestamptz, OUT until timestamptz)
RETURNS SETOF record
LANGUAGE sql STABLE
AS $$
    SELECT CASE WHEN cardinality(x.d) = 2 THEN least(x.d[1], x.d[2])::timestamptz
                ELSE now() - default_span END,
           CASE WHEN cardinality(x.d) = 2 THEN (greatest(x.d[1], x.d[2]) + 1)::timestamptz
                ELSE 'infinity'::timestamptz END
    FROM (SELECT ARRAY(SELECT m[1]::date
                       FROM regexp_matches(coalesce(dates, ''), '(\d{4}-\d{2}-\d{2})', 'g') AS m) AS d) AS x
$$;

-- Grants the web role (pg_dash.role, the role pages' queries run as) read
-- access to the demo schema.  Actions are SECURITY DEFINER functions: the
-- web role may call them but not write the tables itself.
CREATE OR REPLACE PROCEDURE demo.grant_web_role()
LANGUAGE plpgsql
AS $$
DECLARE
    r text := nullif(current_setting('pg_dash.role', true), '');
BEGIN
    IF r IS NULL OR NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
        RAISE NOTICE 'pg_dash.role is not set or does not exist: no grants';
        RETURN;
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA demo TO %I', r);
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA demo TO %I', r);
    EXECUTE format('GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA demo TO %I', r);
    EXECUTE format('GRANT USAGE ON SCHEMA pg_dash TO %I', r);
END
$$;
