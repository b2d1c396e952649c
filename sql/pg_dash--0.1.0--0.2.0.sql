-- pg_dash 0.1.0 -> 0.2.0, run by ALTER EXTENSION pg_dash UPDATE.
\echo Use "ALTER EXTENSION pg_dash UPDATE TO '0.2.0'" to load this file. \quit

-- How this file grows: every change made to sql/parts/*.sql for 0.2.0 adds
-- here the statements that bring an installed 0.1.0 to the same state, so
-- that an updated install equals a new one: the same objects, columns in the
-- same order, defaults, constraints, comments and grants (t/060_backup.pl
-- compares the two object by object).  Append one section per change,
-- headed by a comment saying what changes and why.  A new column goes last
-- in its CREATE TABLE in sql/parts too, since ALTER TABLE ADD COLUMN appends.
-- A new table that holds definitions is marked with
-- pg_extension_config_dump() in both places.
--
-- The library is replaced before this script runs, so C code must also work
-- with the 0.1.0 objects until then: a C function whose SQL declaration
-- gains arguments checks PG_NARGS(), code that uses a new column checks that
-- it exists (as src/query_registry.c does for param_types).

-- 1. Backups keep every definition.  The registry tables become extension
-- configuration tables, so pg_dump saves their rows (the extension itself
-- creates none, hence no filter).  No sequence is involved: their keys are
-- names.  pg_dash.messages and pg_dash.session_state are transient
-- (UNLOGGED) and are not dumped.
SELECT pg_catalog.pg_extension_config_dump('pg_dash.queries', '');
SELECT pg_catalog.pg_extension_config_dump('pg_dash.channels', '');
SELECT pg_catalog.pg_extension_config_dump('pg_dash.pages', '');
SELECT pg_catalog.pg_extension_config_dump('pg_dash.actions', '');

-- 2. Parameter types survive a dump and restore.  0.1.0 kept each type as an
-- OID inside params ("type_oid"); a user-defined type (an enum) has another
-- OID after a restore.  0.2.0 keeps them in param_types regtype[], which
-- pg_dump writes as type names, and params keeps the names and the types as
-- text.
ALTER TABLE pg_dash.queries ADD COLUMN param_types regtype[] NOT NULL DEFAULT '{}';
UPDATE pg_dash.queries q
SET param_types = ARRAY(SELECT (e.p ->> 'type_oid')::oid::regtype
                        FROM jsonb_array_elements(q.params) WITH ORDINALITY AS e(p, ord)
                        ORDER BY e.ord),
    params = (SELECT coalesce(jsonb_agg(e.p - 'type_oid' ORDER BY e.ord), '[]')
              FROM jsonb_array_elements(q.params) WITH ORDINALITY AS e(p, ord));

-- 3. pg_dash.export(): every definition as one SQL script, for version
-- control (sql/parts/90_export.sql has the commented original).
CREATE FUNCTION pg_dash.export()
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH calls (rank, key, function, args) AS (
        SELECT 1, c.name, 'define_channel',
               ARRAY[['name', c.name], ['description', c.description]]
        FROM pg_dash.channels c
        UNION ALL
        SELECT 2, q.name, 'define_query',
               ARRAY[['name', q.name], ['sql', q.sql], ['description', q.description],
                     ['cache_ttl', q.cache_ttl::text], ['refresh_on', q.refresh_on::text],
                     ['sortable', q.sortable::text], ['allow_count', q.allow_count::text],
                     ['range_columns', q.range_columns::text]]
        FROM pg_dash.queries q
        UNION ALL
        SELECT 3, a.name, 'define_action',
               ARRAY[['name', a.name], ['function', a.function::text], ['description', a.description]]
        FROM pg_dash.actions a
        UNION ALL
        SELECT 4, p.path, 'define_page',
               ARRAY[['path', p.path], ['source', p.source], ['title', p.title],
                     ['description', p.description]]
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

-- 4. Least privilege (request.c): the request's session no longer reaches SQL
-- through the setting pg_dash.session_id (request SQL could read it, and a
-- superuser session could set it); the state functions read a binding the
-- request pipeline makes in C.  bind_session() is the superuser's way to
-- simulate a request by hand.
CREATE FUNCTION pg_dash.bind_session(id text)
RETURNS void
AS 'MODULE_PATHNAME', 'pg_dash_bind_session'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION pg_dash.bind_session(text) IS 'Binds a session to the current transaction, as a request would (superusers only)';
REVOKE ALL ON FUNCTION pg_dash.bind_session(text) FROM PUBLIC;

-- 5. State-change notifications carry no secrets.  0.1.0 announced
-- "<session id> <changed keys>" on pg_dash_state, which any role can LISTEN
-- to (and NOTIFY forged changes on).  Now a trigger announces only the row's
-- opaque notify_id, and workers read the session's true state from the table.
ALTER TABLE pg_dash.session_state ADD COLUMN notify_id bigint GENERATED ALWAYS AS IDENTITY;
CREATE UNIQUE INDEX session_state_notify_id_idx ON pg_dash.session_state (notify_id);
CREATE FUNCTION pg_dash.session_state_changed()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM pg_notify('pg_dash_state', NEW.notify_id::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER session_state_inserted
    AFTER INSERT ON pg_dash.session_state
    FOR EACH ROW WHEN (NEW.data <> '{}'::jsonb)
    EXECUTE FUNCTION pg_dash.session_state_changed();
CREATE TRIGGER session_state_changed
    AFTER UPDATE OF data ON pg_dash.session_state
    FOR EACH ROW WHEN (OLD.data IS DISTINCT FROM NEW.data)
    EXECUTE FUNCTION pg_dash.session_state_changed();

-- 6. Taipy pages as people write them: binding expressions, warnings.
-- page_list shows the warnings of each page.
CREATE OR REPLACE VIEW pg_dash.page_list AS
SELECT p.path, p.title, p.description, p.bindings, p.actions,
       octet_length(p.source) AS source_bytes, p.created_at, p.updated_at,
       COALESCE(p.tree -> 'warnings', '[]'::jsonb) AS warnings
FROM pg_dash.pages p;
COMMENT ON VIEW pg_dash.page_list IS 'Dashboard pages: path, title, the names they bind, the actions they call and the warnings of their source';

-- The stored trees change form (expressions, warnings): parse every page
-- again.  A page the new parser refuses keeps its old tree, with a warning.
DO $$
DECLARE
    pg record;
BEGIN
    FOR pg IN SELECT path, source, title, description, updated_at FROM pg_dash.pages ORDER BY path LOOP
        BEGIN
            PERFORM pg_dash.define_page(pg.path, pg.source, pg.title, pg.description);
            -- the page itself did not change
            UPDATE pg_dash.pages SET updated_at = pg.updated_at WHERE path = pg.path;
        EXCEPTION WHEN syntax_error THEN
            RAISE WARNING 'page "%" was not converted: %', pg.path, SQLERRM;
        END;
    END LOOP;
END
$$;

-- 7. Charts are reduced in the database: the M4 aggregate, which
-- PostgreSQL runs in parallel, keeps at most four points per pixel column
-- (sql/parts/48_lttb.sql has the commented original).
CREATE FUNCTION pg_dash.m4_transfn(double precision[], double precision, double precision,
                                   double precision, double precision, integer)
RETURNS double precision[]
AS 'MODULE_PATHNAME', 'pg_dash_m4_transfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION pg_dash.m4_transfn(double precision[], timestamp, double precision,
                                   timestamp, timestamp, integer)
RETURNS double precision[]
AS 'MODULE_PATHNAME', 'pg_dash_m4_transfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION pg_dash.m4_transfn(double precision[], timestamptz, double precision,
                                   timestamptz, timestamptz, integer)
RETURNS double precision[]
AS 'MODULE_PATHNAME', 'pg_dash_m4_transfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION pg_dash.m4_combinefn(double precision[], double precision[])
RETURNS double precision[]
AS 'MODULE_PATHNAME', 'pg_dash_m4_combinefn'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION pg_dash.m4_finalfn(double precision[])
RETURNS double precision[]
AS 'MODULE_PATHNAME', 'pg_dash_m4_finalfn'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE pg_dash.m4(x double precision, y double precision, lo double precision,
                            hi double precision, buckets integer) (
    SFUNC = pg_dash.m4_transfn,
    STYPE = double precision[],
    FINALFUNC = pg_dash.m4_finalfn,
    COMBINEFUNC = pg_dash.m4_combinefn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE pg_dash.m4(double precision, double precision, double precision, double precision, integer) IS
    'Reduces a series to the first, last, lowest and highest point of each of n buckets over [lo, hi] (M4) as rows (x, y, rows)';
CREATE AGGREGATE pg_dash.m4(x timestamp, y double precision, lo timestamp, hi timestamp,
                            buckets integer) (
    SFUNC = pg_dash.m4_transfn,
    STYPE = double precision[],
    FINALFUNC = pg_dash.m4_finalfn,
    COMBINEFUNC = pg_dash.m4_combinefn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE pg_dash.m4(timestamp, double precision, timestamp, timestamp, integer) IS
    'Reduces a time series to the first, last, lowest and highest point of each of n buckets over [lo, hi] (M4) as rows (epoch seconds, y, rows)';
CREATE AGGREGATE pg_dash.m4(x timestamptz, y double precision, lo timestamptz, hi timestamptz,
                            buckets integer) (
    SFUNC = pg_dash.m4_transfn,
    STYPE = double precision[],
    FINALFUNC = pg_dash.m4_finalfn,
    COMBINEFUNC = pg_dash.m4_combinefn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE pg_dash.m4(timestamptz, double precision, timestamptz, timestamptz, integer) IS
    'Reduces a time series to the first, last, lowest and highest point of each of n buckets over [lo, hi] (M4) as rows (epoch seconds, y, rows)';

-- 8. What a client may ask of a named query besides its parameters is part
-- of its definition (sql/parts/10_queries.sql says why): the result columns
-- order= may name, whether count=exact is answered, and the columns a
-- chart may zoom into with x_from/x_to.  Nothing is allowed unless the
-- definition says so, queries defined before this update included: define
-- them again with the new arguments to allow it.  export() (section 3)
-- writes the new arguments.
ALTER TABLE pg_dash.queries ADD COLUMN sortable text[] NOT NULL DEFAULT '{}';
ALTER TABLE pg_dash.queries ADD COLUMN allow_count boolean NOT NULL DEFAULT false;
ALTER TABLE pg_dash.queries ADD COLUMN range_columns text[] NOT NULL DEFAULT '{}';
DROP FUNCTION pg_dash.define_query(text, text, text, integer, text[]);
CREATE FUNCTION pg_dash.define_query(name text, sql text, description text DEFAULT NULL,
                                     cache_ttl integer DEFAULT NULL, refresh_on text[] DEFAULT '{}',
                                     sortable text[] DEFAULT '{}', allow_count boolean DEFAULT false,
                                     range_columns text[] DEFAULT '{}')
RETURNS void
AS 'MODULE_PATHNAME', 'pg_dash_define_query'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
REVOKE ALL ON FUNCTION pg_dash.define_query(text, text, text, integer, text[], text[], boolean, text[]) FROM PUBLIC;

-- width, x_from and x_to became request options (a chart's series at its
-- pixel width, and the x range it zooms into): a parameter of that name can
-- no longer be given.  Say which queries have one.
DO $$
DECLARE
    clash text;
BEGIN
    SELECT string_agg(format('%s (:%s)', q.name, p ->> 'name'), ', ' ORDER BY q.name)
    INTO clash
    FROM pg_dash.queries q, jsonb_array_elements(q.params) AS p
    WHERE p ->> 'name' IN ('width', 'x_from', 'x_to');
    IF clash IS NOT NULL THEN
        RAISE WARNING 'these named queries have a parameter whose name is now a request option: %', clash
            USING HINT = 'Rename the parameter and define the query again with pg_dash.define_query().';
    END IF;
END
$$;

-- 9. Multi-page apps: an action may send the browser to another page, as
-- Taipy's navigate() does (src/action.c).
CREATE FUNCTION pg_dash.navigate(path text)
RETURNS void
AS 'MODULE_PATHNAME', 'pg_dash_navigate'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION pg_dash.navigate(text) IS 'Inside an action: the page the browser shows once the action returns (NULL: stay)';
GRANT EXECUTE ON FUNCTION pg_dash.navigate(text) TO PUBLIC;

-- 10. Hot standbys reload pages too (src/page_ws.c).  NOTIFY is not
-- replicated, so pages no longer announce changes on the channel
-- pg_dash_pages; a statement trigger invalidates pg_dash.pages' relcache
-- entry instead, which is WAL-logged and reaches the workers of standbys,
-- and the changes of the queries a page binds are seen through the
-- existing trigger on pg_dash.queries.
DROP TRIGGER pages_query_changed ON pg_dash.queries;
DROP FUNCTION pg_dash.pages_query_changed();
CREATE FUNCTION pg_dash.pages_invalidate()
RETURNS trigger
AS 'MODULE_PATHNAME', 'pg_dash_queries_invalidate'
LANGUAGE C;
CREATE TRIGGER pages_invalidate
AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pg_dash.pages
FOR EACH STATEMENT EXECUTE FUNCTION pg_dash.pages_invalidate();
CREATE OR REPLACE FUNCTION pg_dash.drop_page(path text)
RETURNS boolean
LANGUAGE plpgsql
AS $$
BEGIN
    DELETE FROM pg_dash.pages p WHERE p.path = drop_page.path;
    RETURN FOUND;
END
$$;

-- 11. Hot standbys forward session state and actions to the primary
-- (src/primary_forward.c): the function their link's role calls.
CREATE FUNCTION pg_dash.forward_request(request bytea, client text)
RETURNS bytea
AS 'MODULE_PATHNAME', 'pg_dash_forward_request'
LANGUAGE C CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION pg_dash.forward_request(bytea, text) IS 'Runs a hot standby''s session-state or action request on the primary; for the role of pg_dash.primary_conninfo only';
REVOKE ALL ON FUNCTION pg_dash.forward_request(bytea, text) FROM PUBLIC;

-- 12. Named queries that read session state work on hot standbys: they read
-- it from the primary through this function (src/primary_state.c).
CREATE FUNCTION pg_dash.forward_state(session text)
RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT s.data FROM pg_dash.session_state s
    WHERE s.id = forward_state.session AND s.expires_at > now()
$$;
COMMENT ON FUNCTION pg_dash.forward_state(text) IS 'A session''s state, for a hot standby''s pg_dash.state(); for the role of pg_dash.primary_conninfo only';
REVOKE ALL ON FUNCTION pg_dash.forward_state(text) FROM PUBLIC;

-- 13. State changes reach the WebSocket tabs of hot standbys: their
-- serving workers read the changed session on the primary
-- (src/primary_state.c).
CREATE FUNCTION pg_dash.forward_changed_session(notify_id bigint)
RETURNS TABLE (id text, data jsonb)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT s.id, s.data FROM pg_dash.session_state s
    WHERE s.notify_id = forward_changed_session.notify_id AND s.expires_at > now()
$$;
COMMENT ON FUNCTION pg_dash.forward_changed_session(bigint) IS 'The session a state notification names, for a hot standby''s tabs; for the role of pg_dash.primary_conninfo only';
REVOKE ALL ON FUNCTION pg_dash.forward_changed_session(bigint) FROM PUBLIC;

-- 14. Large realtime messages reach the subscribers of hot standbys: their
-- workers read the stored payload on the primary (src/primary_state.c).
CREATE FUNCTION pg_dash.forward_message(id bigint, channel text)
RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT m.payload FROM pg_dash.messages m
    WHERE m.id = forward_message.id AND m.channel = forward_message.channel
$$;
COMMENT ON FUNCTION pg_dash.forward_message(bigint, text) IS 'A message publish() stored, for a hot standby''s subscribers; for the role of pg_dash.primary_conninfo only';
REVOKE ALL ON FUNCTION pg_dash.forward_message(bigint, text) FROM PUBLIC;

-- 15. One call lets a role be the standbys' link (docs/replicas.md).
CREATE FUNCTION pg_dash.grant_link(link regrole)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    IF (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.oid = link) THEN
        RAISE EXCEPTION 'the link role % must not be a superuser', link
            USING HINT = 'Create a role of its own for the standbys: CREATE ROLE dash_link LOGIN.';
    END IF;
    EXECUTE format('GRANT EXECUTE ON FUNCTION pg_dash.forward_request(bytea, text), '
                   'pg_dash.forward_state(text), pg_dash.forward_changed_session(bigint), '
                   'pg_dash.forward_message(bigint, text) TO %s', link);
END
$$;
COMMENT ON FUNCTION pg_dash.grant_link(regrole) IS 'Lets a role be the link of hot standbys (pg_dash.primary_conninfo)';
REVOKE ALL ON FUNCTION pg_dash.grant_link(regrole) FROM PUBLIC;
