-- The extension, its settings and their bounds.
CREATE EXTENSION pg_dash;
SELECT nspname FROM pg_namespace WHERE nspname = 'pg_dash';

SHOW pg_dash.port;
SHOW pg_dash.listen_addresses;
SHOW pg_dash.database;
SHOW pg_dash.workers;
SHOW pg_dash.max_connections;
SHOW pg_dash.idle_timeout;
SELECT setting LIKE '%/pg_dash/www' AS default_www_dir FROM pg_settings WHERE name = 'pg_dash.www_dir';
SELECT name, context FROM pg_settings WHERE name LIKE 'pg_dash.%' ORDER BY name;

-- bounds are enforced with clear errors
ALTER SYSTEM SET pg_dash.port = 0;
ALTER SYSTEM SET pg_dash.port = 70000;
ALTER SYSTEM SET pg_dash.workers = 0;
ALTER SYSTEM SET pg_dash.workers = 'many';
ALTER SYSTEM SET pg_dash.idle_timeout = 0;
ALTER SYSTEM SET pg_dash.max_header_size = 10;
-- restart-only and reload-only settings cannot be SET in a session
SET pg_dash.port = 9000;
SET pg_dash.idle_timeout = 5;
-- the pg_dash. prefix is reserved: a typo is an error, not a silent no-op
SET pg_dash.no_such_setting = 1;

-- the workers run and are visible (give them a moment after startup)
DO $$
BEGIN
    FOR i IN 1 .. 100 LOOP
        EXIT WHEN (SELECT count(*) FROM pg_dash.workers) = 1;
        PERFORM pg_sleep(0.1);
    END LOOP;
END
$$;
SELECT count(*), min(application_name) FROM pg_dash.workers;
SELECT DISTINCT metric FROM pg_dash.stats WHERE metric LIKE 'pg_dash_requests%' ORDER BY 1;

-- drop and create again
DROP EXTENSION pg_dash;
SELECT count(*) FROM pg_namespace WHERE nspname = 'pg_dash';
CREATE EXTENSION pg_dash;
SELECT count(*) FROM pg_dash.workers;
