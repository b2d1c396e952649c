-- Export: every definition as one SQL script, for version control
-- (README "Backup, export and upgrade").

-- One define_*() call per definition, in dependency order (channels, named
-- queries, actions, pages) and by name (byte order) within each kind, so that
-- an unchanged registry exports the same text; every argument is written out
-- by name and quoted with %L.  Running the script in another database where
-- pg_dash and the tables, types and functions the definitions use exist
-- recreates them (define_*() replaces a definition of the same name; others
-- are left as they are).  search_path is pinned so that action functions
-- (regprocedure) come out schema-qualified.  A new define_*() argument is
-- added to its ARRAY below.
CREATE FUNCTION pg_dash.export()
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH calls (rank, key, function, args) AS (
        SELECT 1, c.name, 'define_channel',
               ARRAY[['name', c.name], ['description', c.description], ['access', c.access::text]]
        FROM pg_dash.channels c
        UNION ALL
        SELECT 2, q.name, 'define_query',
               ARRAY[['name', q.name], ['sql', q.sql], ['description', q.description],
                     ['cache_ttl', q.cache_ttl::text], ['refresh_on', q.refresh_on::text],
                     ['sortable', q.sortable::text], ['allow_count', q.allow_count::text],
                     ['range_columns', q.range_columns::text], ['access', q.access::text]]
        FROM pg_dash.queries q
        UNION ALL
        SELECT 3, a.name, 'define_action',
               ARRAY[['name', a.name], ['function', a.function::text], ['description', a.description],
                     ['access', a.access::text]]
        FROM pg_dash.actions a
        UNION ALL
        SELECT 4, p.path, 'define_page',
               ARRAY[['path', p.path], ['source', p.source], ['title', p.title],
                     ['description', p.description], ['access', p.access::text]]
        FROM pg_dash.pages p
    )
    SELECT format('-- pg_dash %s definitions, written by pg_dash.export().',
                  (SELECT e.extversion FROM pg_extension e WHERE e.extname = 'pg_dash'))
        || E'\n-- Run it with psql --single-transaction in a database with pg_dash;'
        || E'\n-- the tables, types and functions the definitions use must exist there.\n'
        || coalesce(string_agg(
               format(E'\nSELECT pg_dash.%s(\n%s);\n', c.function,
                      (SELECT string_agg(format('    %s => %L', c.args[i][1], c.args[i][2]),
                                         E',\n' ORDER BY i)
                       FROM generate_subscripts(c.args, 1) AS i)),
               '' ORDER BY c.rank, c.key COLLATE "C"), '')
    FROM calls c
$$;
COMMENT ON FUNCTION pg_dash.export() IS
    'Every pg_dash definition as a SQL script of define_*() calls, for version control';

REVOKE ALL ON FUNCTION pg_dash.export() FROM PUBLIC;
