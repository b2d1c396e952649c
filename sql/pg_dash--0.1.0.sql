-- pg_dash 0.1.0: the SQL surface of pg_dash.
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

-- Named queries: SQL the database owner defines, served at /api/query/<name>.
CREATE TABLE pg_dash.queries (
    name        text PRIMARY KEY,
    sql         text NOT NULL,          -- as written, with :name parameters
    statement   text NOT NULL,          -- the same with $n parameters
    params      jsonb NOT NULL,         -- [{"name":..., "type":..., "type_oid":...}]
    columns     jsonb NOT NULL,         -- [{"name":..., "type":...}]
    description text,
    cache_ttl   integer CHECK (cache_ttl >= 0),  -- seconds; NULL: pg_dash.cache_ttl
    refresh_on  text[] NOT NULL DEFAULT '{}',
    reads_state boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE pg_dash.queries IS 'Named queries served by pg_dash; change them with define_query() and drop_query()';

-- Tells every worker to reload its named queries when the table changes.
CREATE FUNCTION pg_dash.queries_invalidate()
RETURNS trigger
AS 'MODULE_PATHNAME', 'pg_dash_queries_invalidate'
LANGUAGE C;

CREATE TRIGGER queries_invalidate
AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pg_dash.queries
FOR EACH STATEMENT EXECUTE FUNCTION pg_dash.queries_invalidate();

-- Defines or replaces a named query after validating it.
CREATE FUNCTION pg_dash.define_query(name text, sql text, description text DEFAULT NULL,
                                     cache_ttl integer DEFAULT NULL, refresh_on text[] DEFAULT '{}')
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

REVOKE ALL ON FUNCTION pg_dash.define_query(text, text, text, integer, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION pg_dash.drop_query(text) FROM PUBLIC;
-- Realtime: channels, large messages, publish().

-- Channels WebSocket clients may subscribe to (besides queries' refresh_on).
CREATE TABLE pg_dash.channels (
    name        text PRIMARY KEY
                CHECK (name ~ '^[A-Za-z_][A-Za-z0-9_]{0,62}$'),
    description text,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Opens a channel to WebSocket clients.
CREATE FUNCTION pg_dash.define_channel(name text, description text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    IF name IS NULL OR name !~ '^[A-Za-z_][A-Za-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION 'invalid channel name "%"', name
            USING ERRCODE = 'invalid_name',
                  HINT = 'Channel names are identifiers: letters, digits and underscores, at most 63 bytes, not starting with a digit.';
    END IF;
    INSERT INTO pg_dash.channels AS c (name, description)
    VALUES (define_channel.name, define_channel.description)
    ON CONFLICT ON CONSTRAINT channels_pkey DO UPDATE SET description = EXCLUDED.description;
END
$$;

REVOKE ALL ON FUNCTION pg_dash.define_channel(text, text) FROM PUBLIC;

-- Closes a channel to new subscriptions.
CREATE FUNCTION pg_dash.drop_channel(name text)
RETURNS boolean
LANGUAGE sql
AS $$
    WITH d AS (DELETE FROM pg_dash.channels c WHERE c.name = drop_channel.name RETURNING 1)
    SELECT count(*) > 0 FROM d
$$;

-- Messages over NOTIFY's payload limit, read by the workers by id.
CREATE UNLOGGED TABLE pg_dash.messages (
    id         bigserial PRIMARY KEY,
    channel    text NOT NULL,
    payload    text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_created_at_idx ON pg_dash.messages (created_at);

-- Sends a realtime message of any size to a channel's subscribers.
CREATE FUNCTION pg_dash.publish(channel text, payload jsonb)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    body text := payload::text;
    stored bigint;
BEGIN
    IF channel IS NULL OR channel !~ '^[A-Za-z_][A-Za-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION 'invalid channel name "%"', channel
            USING ERRCODE = 'invalid_name';
    END IF;
    -- NOTIFY carries up to 7999 bytes; larger payloads go through a table
    IF octet_length(body) < 7900 THEN
        PERFORM pg_notify(channel, body);
    ELSE
        INSERT INTO pg_dash.messages (channel, payload) VALUES (channel, body)
        RETURNING id INTO stored;
        PERFORM pg_notify(channel, E'\x1f' || 'pg_dash:message:' || stored);
    END IF;
END
$$;

-- Deletes stored messages older than the given age.
CREATE FUNCTION pg_dash.purge_messages(older_than interval DEFAULT '5 minutes')
RETURNS bigint
LANGUAGE sql
AS $$
    WITH d AS (DELETE FROM pg_dash.messages WHERE created_at < now() - older_than RETURNING 1)
    SELECT count(*) FROM d
$$;

-- Whether WebSocket clients may subscribe to a channel.
CREATE FUNCTION pg_dash.channel_allowed(name text)
RETURNS boolean
LANGUAGE sql STABLE
AS $$
    SELECT EXISTS (SELECT 1 FROM pg_dash.channels c WHERE c.name = channel_allowed.name)
        OR EXISTS (SELECT 1 FROM pg_dash.queries q WHERE channel_allowed.name = ANY (q.refresh_on))
$$;

REVOKE ALL ON FUNCTION pg_dash.drop_channel(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION pg_dash.purge_messages(interval) FROM PUBLIC;
-- Session state: per-browser state with expiry (docs/session.md).

-- One row per browser session.  UNLOGGED: fast, emptied by crash recovery
-- (clients then get fresh sessions), kept by a clean restart.  id is the
-- hex SHA-256 of the cookie token, never the token itself.
CREATE UNLOGGED TABLE pg_dash.session_state (
    id          text PRIMARY KEY,
    data        jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(data) = 'object'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    last_seen   timestamptz NOT NULL DEFAULT now(),  -- refreshed at most every session_ttl / 10
    expires_at  timestamptz NOT NULL
) WITH (fillfactor = 70);
CREATE INDEX session_state_expires_at_idx ON pg_dash.session_state (expires_at);
COMMENT ON TABLE pg_dash.session_state IS
    'pg_dash browser sessions (UNLOGGED); read it through pg_dash.sessions';
REVOKE ALL ON pg_dash.session_state FROM PUBLIC;

-- The sessions without their ids: only a short prefix of the hashed id.
CREATE VIEW pg_dash.sessions AS
SELECT left(s.id, 8) AS id_prefix,
       s.created_at,
       s.last_seen,
       s.expires_at,
       s.expires_at <= now() AS expired,
       (SELECT count(*) FROM jsonb_object_keys(s.data)) AS keys,
       octet_length(s.data::text) AS bytes,
       s.data
FROM pg_dash.session_state s;
COMMENT ON VIEW pg_dash.sessions IS 'pg_dash browser sessions, without tokens or full ids';
REVOKE ALL ON pg_dash.sessions FROM PUBLIC;

-- RFC 7386 JSON merge patch: null removes a key, objects merge recursively,
-- anything else replaces.
CREATE FUNCTION pg_dash.jsonb_merge_patch(target jsonb, patch jsonb)
RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN patch IS NULL THEN target
        WHEN jsonb_typeof(patch) <> 'object' THEN patch
        ELSE (
            SELECT coalesce(jsonb_object_agg(m.key, m.value), '{}'::jsonb)
            FROM (
                SELECT t.key, t.value
                FROM jsonb_each(CASE WHEN jsonb_typeof(target) = 'object' THEN target
                                     ELSE '{}'::jsonb END) AS t
                WHERE NOT patch ? t.key
                UNION ALL
                SELECT p.key,
                       pg_dash.jsonb_merge_patch(CASE WHEN jsonb_typeof(target) = 'object'
                                                      THEN target -> p.key END,
                                                 p.value)
                FROM jsonb_each(patch) AS p
                WHERE jsonb_typeof(p.value) <> 'null'
            ) AS m
        )
    END
$$;
COMMENT ON FUNCTION pg_dash.jsonb_merge_patch(jsonb, jsonb) IS 'Applies a JSON merge patch (RFC 7386)';

-- The state of the session of the request being served.  SECURITY DEFINER:
-- queries run as an unprivileged role that cannot read the table; the
-- session comes from pg_dash.session_id, which only pg_dash (a superuser)
-- sets.
CREATE FUNCTION pg_dash.state()
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pg_dash_state'
LANGUAGE C STABLE PARALLEL RESTRICTED SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION pg_dash.state() IS 'The whole session state of the request being served';

CREATE FUNCTION pg_dash.state(key text)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pg_dash_state_key'
LANGUAGE C STABLE STRICT PARALLEL RESTRICTED SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION pg_dash.state(text) IS 'One value of the session state of the request being served; NULL when unset';

-- Sets one key (a NULL value removes it); returns the new state.
CREATE FUNCTION pg_dash.set_state(key text, value jsonb)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pg_dash_set_state'
LANGUAGE C VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION pg_dash.set_state(text, jsonb) IS 'Sets one key of the session state of the request being served';

GRANT EXECUTE ON FUNCTION pg_dash.state(), pg_dash.state(text),
    pg_dash.set_state(text, jsonb) TO PUBLIC;

-- Deletes expired sessions now (worker 0 also does it every
-- pg_dash.session_sweep_interval); returns how many.
CREATE FUNCTION pg_dash.purge_sessions()
RETURNS bigint
LANGUAGE sql
AS $$
    WITH d AS (DELETE FROM pg_dash.session_state WHERE expires_at <= now() RETURNING 1)
    SELECT count(*) FROM d
$$;
REVOKE ALL ON FUNCTION pg_dash.purge_sessions() FROM PUBLIC;

-- Sessions right now (pg_dash.stats has the counters and the gauge of the last sweep).
CREATE VIEW pg_dash.session_counts AS
SELECT count(*) FILTER (WHERE expires_at > now()) AS active,
       count(*) FILTER (WHERE expires_at <= now()) AS expired_awaiting_sweep
FROM pg_dash.session_state;
COMMENT ON VIEW pg_dash.session_counts IS
    'Unexpired sessions, and expired ones the sweep has not deleted yet';
-- Pages: dashboards written in Taipy's markdown control syntax
-- (docs/page-syntax.md), parsed and validated when saved, served at
-- /api/page/<path> and shown at /p/<path> (docs/pages.md).

-- A page path is 1 to 128 bytes: lower-case segments of letters, digits,
-- '_' and '-' separated by single '/', each starting with a letter or digit
-- ("sales", "ops/disk-usage", "2026/q1").  No leading, trailing or double
-- slash, no dots, no upper case: the path appears as is in URLs.
CREATE TABLE pg_dash.pages (
    path        text PRIMARY KEY
                CHECK (length(path) <= 128
                       AND path ~ '^[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9_-]*)*$'),
    title       text,
    description text,
    source      text NOT NULL,           -- as written
    tree        jsonb NOT NULL,          -- the parser's tree (docs/page-syntax.md section 8)
    bindings    text[] NOT NULL DEFAULT '{}',  -- every {name} the page uses
    actions     text[] NOT NULL DEFAULT '{}',  -- every on_*= action name
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pages_bindings_idx ON pg_dash.pages USING gin (bindings);
COMMENT ON TABLE pg_dash.pages IS 'Dashboard pages served by pg_dash; change them with define_page() and drop_page()';

-- Parses, validates and stores a page (replacing one with the same path);
-- the title defaults to the page's first markdown heading.  Announces the
-- change on the channel pg_dash_pages.
CREATE FUNCTION pg_dash.define_page(path text, source text, title text DEFAULT NULL,
                                    description text DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'pg_dash_define_page'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;

-- Drops a page; false when there was none.
CREATE FUNCTION pg_dash.drop_page(path text)
RETURNS boolean
LANGUAGE plpgsql
AS $$
BEGIN
    DELETE FROM pg_dash.pages p WHERE p.path = drop_page.path;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM pg_catalog.pg_notify('pg_dash_pages', drop_page.path);
    RETURN true;
END
$$;

REVOKE ALL ON FUNCTION pg_dash.define_page(text, text, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION pg_dash.drop_page(text) FROM PUBLIC;

-- The pages without their source and tree.
CREATE VIEW pg_dash.page_list AS
SELECT p.path, p.title, p.description, p.bindings, p.actions,
       octet_length(p.source) AS source_bytes, p.created_at, p.updated_at
FROM pg_dash.pages p;
COMMENT ON VIEW pg_dash.page_list IS 'Dashboard pages: path, title, the names they bind and the actions they call';

-- A page that binds a named query reloads when the query is (re)defined or
-- dropped: announce the path of every page whose bindings name it.
CREATE FUNCTION pg_dash.pages_query_changed()
RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    qname text := CASE WHEN TG_OP = 'DELETE' THEN OLD.name ELSE NEW.name END;
BEGIN
    PERFORM pg_catalog.pg_notify('pg_dash_pages', p.path)
    FROM pg_dash.pages p
    WHERE p.bindings @> ARRAY[qname]
       OR (TG_OP = 'UPDATE' AND OLD.name <> NEW.name AND p.bindings @> ARRAY[OLD.name::text]);
    RETURN NULL;
END
$$;

CREATE TRIGGER pages_query_changed
AFTER INSERT OR UPDATE OR DELETE ON pg_dash.queries
FOR EACH ROW EXECUTE FUNCTION pg_dash.pages_query_changed();
-- Actions: SQL functions a page calls (on_action=..., on_change=...) through
-- POST /api/action/<name>.  Only registered actions can be called.  Each
-- takes the session state and the request's payload and returns the state
-- keys to change (docs/pages.md).

CREATE TABLE pg_dash.actions (
    name        text PRIMARY KEY
                CHECK (name ~ '^[A-Za-z_][A-Za-z0-9_]{0,62}$'),
    function    regprocedure NOT NULL,
    description text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE pg_dash.actions IS 'Functions pages may call at /api/action/<name>; change them with define_action() and drop_action()';

-- Registers (or re-points) an action after checking the function's
-- signature: function(state jsonb, payload jsonb) RETURNS jsonb.
CREATE FUNCTION pg_dash.define_action(name text, function regprocedure, description text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    p pg_catalog.pg_proc%ROWTYPE;
BEGIN
    IF name IS NULL OR name !~ '^[A-Za-z_][A-Za-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION 'invalid action name "%"', name
            USING ERRCODE = 'invalid_name',
                  HINT = 'Action names are identifiers: letters, digits and underscores, at most 63 bytes, not starting with a digit.';
    END IF;
    IF function IS NULL THEN
        RAISE EXCEPTION 'action function must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT * INTO p FROM pg_catalog.pg_proc WHERE oid = function;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'function with OID % does not exist', function::oid
            USING ERRCODE = 'undefined_function';
    END IF;
    IF p.prokind <> 'f' THEN
        RAISE EXCEPTION '% is not a plain function', function
            USING ERRCODE = 'wrong_object_type',
                  HINT = 'An action is a function(state jsonb, payload jsonb) RETURNS jsonb.';
    END IF;
    IF p.pronargs <> 2 OR p.proargtypes[0] <> 'jsonb'::regtype OR p.proargtypes[1] <> 'jsonb'::regtype
       OR p.prorettype <> 'jsonb'::regtype OR p.proretset THEN
        RAISE EXCEPTION 'function % does not have the signature of an action', function
            USING ERRCODE = 'invalid_function_definition',
                  DETAIL = format('It takes (%s) and returns %s%s.',
                                  pg_catalog.pg_get_function_identity_arguments(function),
                                  CASE WHEN p.proretset THEN 'setof ' ELSE '' END,
                                  p.prorettype::regtype),
                  HINT = 'An action is a function(state jsonb, payload jsonb) RETURNS jsonb that returns the state keys to change.';
    END IF;
    INSERT INTO pg_dash.actions AS a (name, function, description)
    VALUES (define_action.name, define_action.function, define_action.description)
    ON CONFLICT ON CONSTRAINT actions_pkey DO UPDATE
    SET function = EXCLUDED.function, description = EXCLUDED.description, updated_at = now();
END
$$;

-- Unregisters an action; false when there was none.
CREATE FUNCTION pg_dash.drop_action(name text)
RETURNS boolean
LANGUAGE sql
AS $$
    WITH d AS (DELETE FROM pg_dash.actions a WHERE a.name = drop_action.name RETURNING 1)
    SELECT count(*) > 0 FROM d
$$;

REVOKE ALL ON FUNCTION pg_dash.define_action(text, regprocedure, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION pg_dash.drop_action(text) FROM PUBLIC;
-- Downsampling for big charts (src/lttb_agg.c, src/lib/lttb.c).

-- Largest-Triangle-Three-Buckets downsampling for big charts: keeps n of the
-- aggregated points (the first, the last, and the most significant one of
-- each of n - 2 buckets) and returns them ordered by x as a jsonb array of
-- [x, y] pairs.  Rows with a NULL x or y are ignored.  The input need not be
-- ordered.  With the timestamptz overload x is an ISO 8601 string.
CREATE FUNCTION pg_dash.lttb_transfn(internal, double precision, double precision, integer)
RETURNS internal
AS 'MODULE_PATHNAME', 'pg_dash_lttb_transfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION pg_dash.lttb_transfn(internal, timestamptz, double precision, integer)
RETURNS internal
AS 'MODULE_PATHNAME', 'pg_dash_lttb_transfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;

CREATE FUNCTION pg_dash.lttb_finalfn(internal)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pg_dash_lttb_finalfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE pg_dash.lttb(x double precision, y double precision, n integer) (
    SFUNC = pg_dash.lttb_transfn,
    STYPE = internal,
    FINALFUNC = pg_dash.lttb_finalfn
);
COMMENT ON AGGREGATE pg_dash.lttb(double precision, double precision, integer) IS
    'Downsamples a series to n points (Largest-Triangle-Three-Buckets) as [[x, y], ...]';

CREATE AGGREGATE pg_dash.lttb(x timestamptz, y double precision, n integer) (
    SFUNC = pg_dash.lttb_transfn,
    STYPE = internal,
    FINALFUNC = pg_dash.lttb_finalfn
);
COMMENT ON AGGREGATE pg_dash.lttb(timestamptz, double precision, integer) IS
    'Downsamples a time series to n points (Largest-Triangle-Three-Buckets) as [["<ISO 8601>", y], ...]';
