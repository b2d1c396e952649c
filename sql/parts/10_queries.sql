
-- Named queries: SQL the database owner defines, served at /api/query/<name>.
CREATE TABLE pg_dash.queries (
    name        text PRIMARY KEY,
    sql         text NOT NULL,          -- as written, with :name parameters
    statement   text NOT NULL,          -- the same with $n parameters
    params      jsonb NOT NULL,         -- [{"name":..., "type":...}], in $n order
    columns     jsonb NOT NULL,         -- [{"name":..., "type":...}]
    description text,
    cache_ttl   integer CHECK (cache_ttl >= 0),  -- seconds; NULL: pg_dash.cache_ttl
    refresh_on  text[] NOT NULL DEFAULT '{}',
    reads_state boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    -- The type of each $n parameter.  regtype, not oid: pg_dump writes it as
    -- a type name, so a parameter of a user-defined type (an enum) finds its
    -- type again after a restore, where the type has another OID.  Last
    -- because 0.1.0 -> 0.2.0 added it (an upgraded table equals a new one).
    param_types regtype[] NOT NULL DEFAULT '{}',
    -- What a client may ask of the query besides its parameters (0.2.0,
    -- hence last).  Each costs the server more than the rows it returns:
    -- order= sorts every row for one page, count=exact reads every row once
    -- more, x_from/x_to read an index range.  So nothing is allowed unless
    -- the definition says so; '*' stands for every column of the result.
    sortable      text[] NOT NULL DEFAULT '{}',   -- columns order= may name
    allow_count   boolean NOT NULL DEFAULT false, -- count=exact
    range_columns text[] NOT NULL DEFAULT '{}',   -- columns x_from/x_to may filter (zoom)
    -- Who may use it (0.2.0, hence last): role names or PUBLIC
    -- (sql/parts/50_access.sql).
    access      text[] NOT NULL DEFAULT '{PUBLIC}'
);
COMMENT ON TABLE pg_dash.queries IS 'Named queries served by pg_dash; change them with define_query() and drop_query()';
-- pg_dump saves the definitions (the extension creates no rows of its own).
SELECT pg_catalog.pg_extension_config_dump('pg_dash.queries', '');

-- Tells every worker to reload its named queries when the table changes.
CREATE FUNCTION pg_dash.queries_invalidate()
RETURNS trigger
AS 'MODULE_PATHNAME', 'pg_dash_queries_invalidate'
LANGUAGE C;

CREATE TRIGGER queries_invalidate
AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pg_dash.queries
FOR EACH STATEMENT EXECUTE FUNCTION pg_dash.queries_invalidate();

-- Defines or replaces a named query after validating it.  sortable and
-- range_columns name result columns (NULL: none, like '{}'); access is who
-- may run it (NULL: unchanged, PUBLIC for a new query).
CREATE FUNCTION pg_dash.define_query(name text, sql text, description text DEFAULT NULL,
                                     cache_ttl integer DEFAULT NULL, refresh_on text[] DEFAULT '{}',
                                     sortable text[] DEFAULT '{}', allow_count boolean DEFAULT false,
                                     range_columns text[] DEFAULT '{}', access text[] DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'pg_dash_define_query'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;

-- Drops a named query; false when there was none.
CREATE FUNCTION pg_dash.drop_query(name text)
RETURNS boolean
LANGUAGE sql
AS $$
    WITH d AS (DELETE FROM pg_dash.queries q WHERE q.name = drop_query.name RETURNING 1)
    SELECT count(*) > 0 FROM d
$$;

-- Per named query: calls, time, rows and cache hits, summed over all workers.
CREATE FUNCTION pg_dash.query_stats_series(OUT name text, OUT calls bigint, OUT total_time_ms double precision,
                                           OUT max_time_ms double precision, OUT rows bigint,
                                           OUT cache_hits bigint, OUT errors bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pg_dash_query_stats'
LANGUAGE C STRICT VOLATILE;

CREATE VIEW pg_dash.query_stats AS
SELECT name, calls, total_time_ms, max_time_ms,
       CASE WHEN calls > 0 THEN total_time_ms / calls END AS mean_time_ms,
       rows, cache_hits, errors
FROM pg_dash.query_stats_series();
COMMENT ON VIEW pg_dash.query_stats IS 'Calls, time, rows and cache hits per named query, over all workers';

REVOKE ALL ON FUNCTION pg_dash.define_query(text, text, text, integer, text[], text[], boolean, text[], text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION pg_dash.drop_query(text) FROM PUBLIC;
