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

-- 10. Sign-in and per-person data (README "Who sees what"): a browser
-- signs in as a PostgreSQL role (POST /api/login) and its session records
-- the role; pages, named queries, actions and channels carry access lists
-- (role names or PUBLIC) that define_*() set and pg_dash.set_access(),
-- grant_access() and revoke_access() change; pg_dash.access_lists shows
-- them all and pg_dash.access_log the recent sign-ins and action calls.
-- Definitions made before this update stay open to every viewer (PUBLIC),
-- as they were.  export() (section 3) writes the access lists.
ALTER TABLE pg_dash.session_state ADD COLUMN role text;
ALTER TABLE pg_dash.session_state ADD COLUMN signed_in_at timestamptz;
CREATE OR REPLACE VIEW pg_dash.sessions AS
SELECT left(s.id, 8) AS id_prefix,
       s.created_at,
       s.last_seen,
       s.expires_at,
       s.expires_at <= now() AS expired,
       (SELECT count(*) FROM jsonb_object_keys(s.data)) AS keys,
       octet_length(s.data::text) AS bytes,
       s.data,
       s.role,
       s.signed_in_at
FROM pg_dash.session_state s;
ALTER TABLE pg_dash.queries ADD COLUMN access text[] NOT NULL DEFAULT '{PUBLIC}';
ALTER TABLE pg_dash.channels ADD COLUMN access text[] NOT NULL DEFAULT '{PUBLIC}';
ALTER TABLE pg_dash.pages ADD COLUMN access text[] NOT NULL DEFAULT '{PUBLIC}';
ALTER TABLE pg_dash.actions ADD COLUMN access text[] NOT NULL DEFAULT '{PUBLIC}';

DROP FUNCTION pg_dash.define_query(text, text, text, integer, text[], text[], boolean, text[]);
CREATE FUNCTION pg_dash.define_query(name text, sql text, description text DEFAULT NULL,
                                     cache_ttl integer DEFAULT NULL, refresh_on text[] DEFAULT '{}',
                                     sortable text[] DEFAULT '{}', allow_count boolean DEFAULT false,
                                     range_columns text[] DEFAULT '{}', access text[] DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'pg_dash_define_query'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
REVOKE ALL ON FUNCTION pg_dash.define_query(text, text, text, integer, text[], text[], boolean, text[], text[]) FROM PUBLIC;

DROP FUNCTION pg_dash.define_page(text, text, text, text);
CREATE FUNCTION pg_dash.define_page(path text, source text, title text DEFAULT NULL,
                                    description text DEFAULT NULL, access text[] DEFAULT NULL)
RETURNS void
AS 'MODULE_PATHNAME', 'pg_dash_define_page'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
REVOKE ALL ON FUNCTION pg_dash.define_page(text, text, text, text, text[]) FROM PUBLIC;

DROP FUNCTION pg_dash.define_channel(text, text);
CREATE FUNCTION pg_dash.define_channel(name text, description text DEFAULT NULL,
                                       access text[] DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    IF name IS NULL OR name !~ '^[A-Za-z_][A-Za-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION 'invalid channel name "%"', name
            USING ERRCODE = 'invalid_name',
                  HINT = 'Channel names are identifiers: letters, digits and underscores, at most 63 bytes, not starting with a digit.';
    END IF;
    INSERT INTO pg_dash.channels AS c (name, description, access)
    VALUES (define_channel.name, define_channel.description,
            coalesce(pg_dash.access_normalize(define_channel.access), '{PUBLIC}'))
    ON CONFLICT ON CONSTRAINT channels_pkey DO UPDATE
    SET description = EXCLUDED.description,
        access = coalesce(pg_dash.access_normalize(define_channel.access), c.access);
END
$$;
REVOKE ALL ON FUNCTION pg_dash.define_channel(text, text, text[]) FROM PUBLIC;

DROP FUNCTION pg_dash.define_action(text, regprocedure, text);
CREATE FUNCTION pg_dash.define_action(name text, function regprocedure, description text DEFAULT NULL,
                                      access text[] DEFAULT NULL)
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
    INSERT INTO pg_dash.actions AS a (name, function, description, access)
    VALUES (define_action.name, define_action.function, define_action.description,
            coalesce(pg_dash.access_normalize(define_action.access), '{PUBLIC}'))
    ON CONFLICT ON CONSTRAINT actions_pkey DO UPDATE
    SET function = EXCLUDED.function, description = EXCLUDED.description, updated_at = now(),
        access = coalesce(pg_dash.access_normalize(define_action.access), a.access);
END
$$;
REVOKE ALL ON FUNCTION pg_dash.define_action(text, regprocedure, text, text[]) FROM PUBLIC;

CREATE OR REPLACE FUNCTION pg_dash.export()
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

-- Checks and normalizes an access list: PUBLIC in any case becomes PUBLIC,
-- every other entry must name an existing role; duplicates are dropped.
-- NULL stays NULL (define_*() then keep the current list).
CREATE FUNCTION pg_dash.access_normalize(access text[])
RETURNS text[]
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    entry text;
    result text[] := '{}';
BEGIN
    IF access IS NULL THEN
        RETURN NULL;
    END IF;
    FOREACH entry IN ARRAY access LOOP
        IF entry IS NULL OR entry = '' THEN
            RAISE EXCEPTION 'an access list entry must not be empty'
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Name roles, or PUBLIC for every viewer.';
        END IF;
        IF upper(entry) = 'PUBLIC' THEN
            entry := 'PUBLIC';
        ELSIF NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = entry) THEN
            RAISE EXCEPTION 'role "%" does not exist', entry
                USING ERRCODE = 'undefined_object',
                      HINT = 'Create the role first; an access list names roles (exactly as spelled) or PUBLIC.';
        END IF;
        IF NOT entry = ANY (result) THEN
            result := result || entry;
        END IF;
    END LOOP;
    RETURN result;
END
$$;
COMMENT ON FUNCTION pg_dash.access_normalize(text[]) IS
    'Checks an access list (role names or PUBLIC) and removes duplicates';

-- Whether a viewer (a role OID) may use a definition with this access list:
-- PUBLIC, or a listed role whose privileges the viewer has.  The same test
-- the server makes (src/access.c).
CREATE FUNCTION pg_dash.access_allows(access text[], viewer oid)
RETURNS boolean
AS 'MODULE_PATHNAME', 'pg_dash_access_allows'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION pg_dash.access_allows(text[], oid) IS
    'Whether a role may use a definition with this access list (PUBLIC, or a role it has the privileges of)';

-- The table of one kind of definition, or a clear error.
CREATE FUNCTION pg_dash.access_table(kind text)
RETURNS regclass
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE kind
        WHEN 'page' THEN 'pg_dash.pages'::regclass
        WHEN 'query' THEN 'pg_dash.queries'::regclass
        WHEN 'action' THEN 'pg_dash.actions'::regclass
        WHEN 'channel' THEN 'pg_dash.channels'::regclass
    END
$$;

-- Replaces (set), extends (grant) or shrinks (revoke) the access list of a
-- definition; returns the new list.
CREATE FUNCTION pg_dash.change_access(kind text, name text, change text, roles text[])
RETURNS text[]
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tbl regclass := pg_dash.access_table(kind);
    keycol text := CASE kind WHEN 'page' THEN 'path' ELSE 'name' END;
    normalized text[] := pg_dash.access_normalize(roles);
    result text[];
BEGIN
    IF tbl IS NULL THEN
        RAISE EXCEPTION 'unknown kind of definition "%"', kind
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The kinds are page, query, action and channel.';
    END IF;
    IF normalized IS NULL THEN
        RAISE EXCEPTION 'the access list must not be null'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass ''{}'' for nobody, or ''{PUBLIC}'' for every viewer.';
    END IF;
    EXECUTE format('UPDATE %s t SET access = CASE $1 '
                   '    WHEN ''set'' THEN $2 '
                   '    WHEN ''grant'' THEN t.access || ARRAY(SELECT r FROM unnest($2) r WHERE r <> ALL (t.access)) '
                   '    ELSE ARRAY(SELECT a FROM unnest(t.access) WITH ORDINALITY AS e(a, i) WHERE a <> ALL ($2) ORDER BY i) END '
                   'WHERE t.%I = $3 RETURNING t.access', tbl, keycol)
        INTO result USING change, normalized, name;
    IF result IS NULL THEN
        RAISE EXCEPTION 'no % "%"', kind, name
            USING ERRCODE = 'undefined_object',
                  HINT = 'pg_dash.access_lists lists every definition.';
    END IF;
    IF kind = 'page' THEN
        PERFORM pg_catalog.pg_notify('pg_dash_pages', name);
    END IF;
    RETURN result;
END
$$;

-- Sets who may use a definition: kind is page, query, action or channel.
CREATE FUNCTION pg_dash.set_access(kind text, name text, access text[])
RETURNS text[]
LANGUAGE sql
AS $$ SELECT pg_dash.change_access(kind, name, 'set', access) $$;
COMMENT ON FUNCTION pg_dash.set_access(text, text, text[]) IS
    'Sets the access list of a page, query, action or channel (role names or PUBLIC)';

-- Adds roles to the access list of a definition.
CREATE FUNCTION pg_dash.grant_access(kind text, name text, VARIADIC roles text[])
RETURNS text[]
LANGUAGE sql
AS $$ SELECT pg_dash.change_access(kind, name, 'grant', roles) $$;
COMMENT ON FUNCTION pg_dash.grant_access(text, text, text[]) IS
    'Adds roles (or PUBLIC) to the access list of a page, query, action or channel';

-- Removes roles from the access list of a definition.
CREATE FUNCTION pg_dash.revoke_access(kind text, name text, VARIADIC roles text[])
RETURNS text[]
LANGUAGE sql
AS $$ SELECT pg_dash.change_access(kind, name, 'revoke', roles) $$;
COMMENT ON FUNCTION pg_dash.revoke_access(text, text, text[]) IS
    'Removes roles (or PUBLIC) from the access list of a page, query, action or channel';

REVOKE ALL ON FUNCTION pg_dash.change_access(text, text, text, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION pg_dash.set_access(text, text, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION pg_dash.grant_access(text, text, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION pg_dash.revoke_access(text, text, text[]) FROM PUBLIC;

-- Every definition with its access list, in one place.
CREATE VIEW pg_dash.access_lists AS
SELECT 'page'::text AS kind, p.path AS name, p.access, p.title AS description FROM pg_dash.pages p
UNION ALL
SELECT 'query', q.name, q.access, q.description FROM pg_dash.queries q
UNION ALL
SELECT 'action', a.name, a.access, a.description FROM pg_dash.actions a
UNION ALL
SELECT 'channel', c.name, c.access, c.description FROM pg_dash.channels c;
COMMENT ON VIEW pg_dash.access_lists IS
    'Every page, named query, action and channel with the roles that may use it';

-- Recent sign-ins, sign-outs, failed sign-ins and action calls, newest
-- first (a ring in shared memory: the server log keeps them all).
CREATE FUNCTION pg_dash.access_events(OUT at timestamptz, OUT event text, OUT role text,
                                      OUT client_addr text, OUT detail text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pg_dash_access_events'
LANGUAGE C STRICT VOLATILE;
REVOKE ALL ON FUNCTION pg_dash.access_events() FROM PUBLIC;

CREATE VIEW pg_dash.access_log AS SELECT * FROM pg_dash.access_events();
COMMENT ON VIEW pg_dash.access_log IS
    'Recent sign-ins, sign-outs, failed sign-ins and action calls (the server log has them all)';
REVOKE ALL ON pg_dash.access_log FROM PUBLIC;

-- 11. Hot standbys reload pages too (src/page_ws.c).  NOTIFY is not
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

-- 12. Hot standbys forward session state and actions to the primary
-- (src/primary_forward.c): the function their link's role calls.
CREATE FUNCTION pg_dash.forward_request(request bytea, client text)
RETURNS bytea
AS 'MODULE_PATHNAME', 'pg_dash_forward_request'
LANGUAGE C CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION pg_dash.forward_request(bytea, text) IS 'Runs a hot standby''s session-state or action request on the primary; for the role of pg_dash.primary_conninfo only';
REVOKE ALL ON FUNCTION pg_dash.forward_request(bytea, text) FROM PUBLIC;

-- 13. Named queries that read session state work on hot standbys: they read
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

-- 14. State changes reach the WebSocket tabs of hot standbys: their
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

-- 15. Large realtime messages reach the subscribers of hot standbys: their
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

-- 16. One call lets a role be the standbys' link (docs/replicas.md).
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

-- 17. A chart's series in one pass over the query (issue 18): M4 on a
-- power-of-two grid that grows with the data, so that no x range has to be
-- read first (sql/parts/48_lttb.sql has the commented original).
CREATE FUNCTION pg_dash.m4_grid_transfn(double precision[], double precision, double precision, integer)
RETURNS double precision[]
AS 'MODULE_PATHNAME', 'pg_dash_m4_grid_transfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION pg_dash.m4_grid_transfn(double precision[], timestamp, double precision, integer)
RETURNS double precision[]
AS 'MODULE_PATHNAME', 'pg_dash_m4_grid_transfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION pg_dash.m4_grid_transfn(double precision[], timestamptz, double precision, integer)
RETURNS double precision[]
AS 'MODULE_PATHNAME', 'pg_dash_m4_grid_transfn'
LANGUAGE C CALLED ON NULL INPUT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION pg_dash.m4_grid_combinefn(double precision[], double precision[])
RETURNS double precision[]
AS 'MODULE_PATHNAME', 'pg_dash_m4_grid_combinefn'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION pg_dash.m4_grid_finalfn(double precision[])
RETURNS double precision[]
AS 'MODULE_PATHNAME', 'pg_dash_m4_grid_finalfn'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE pg_dash.m4_grid(x double precision, y double precision, buckets integer) (
    SFUNC = pg_dash.m4_grid_transfn,
    STYPE = double precision[],
    FINALFUNC = pg_dash.m4_grid_finalfn,
    COMBINEFUNC = pg_dash.m4_grid_combinefn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE pg_dash.m4_grid(double precision, double precision, integer) IS
    'Reduces a series to the first, last, lowest and highest point of each cell of a power-of-two grid of at most n cells over its x range (M4) as rows (x, y, rows)';
CREATE AGGREGATE pg_dash.m4_grid(x timestamp, y double precision, buckets integer) (
    SFUNC = pg_dash.m4_grid_transfn,
    STYPE = double precision[],
    FINALFUNC = pg_dash.m4_grid_finalfn,
    COMBINEFUNC = pg_dash.m4_grid_combinefn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE pg_dash.m4_grid(timestamp, double precision, integer) IS
    'Reduces a time series to the first, last, lowest and highest point of each cell of a power-of-two grid of at most n cells over its x range (M4) as rows (epoch seconds, y, rows)';
CREATE AGGREGATE pg_dash.m4_grid(x timestamptz, y double precision, buckets integer) (
    SFUNC = pg_dash.m4_grid_transfn,
    STYPE = double precision[],
    FINALFUNC = pg_dash.m4_grid_finalfn,
    COMBINEFUNC = pg_dash.m4_grid_combinefn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE pg_dash.m4_grid(timestamptz, double precision, integer) IS
    'Reduces a time series to the first, last, lowest and highest point of each cell of a power-of-two grid of at most n cells over its x range (M4) as rows (epoch seconds, y, rows)';

-- 18. A forwarded request keeps how its client reached the standby: over
-- TLS (Secure cookies, HSTS) and from the standby's machine, so that a
-- bearer token sent to a standby over HTTPS is accepted by the primary as it
-- would be by the standby (src/primary_forward.c).  The function gains two
-- arguments; grant_link() grants the new one.
DROP FUNCTION pg_dash.forward_request(bytea, text);
CREATE FUNCTION pg_dash.forward_request(request bytea, client text, client_https boolean, client_local boolean)
RETURNS bytea
AS 'MODULE_PATHNAME', 'pg_dash_forward_request'
LANGUAGE C CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION pg_dash.forward_request(bytea, text, boolean, boolean) IS 'Runs a hot standby''s session-state or action request on the primary; for the role of pg_dash.primary_conninfo only';
REVOKE ALL ON FUNCTION pg_dash.forward_request(bytea, text, boolean, boolean) FROM PUBLIC;
CREATE OR REPLACE FUNCTION pg_dash.grant_link(link regrole)
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    IF (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.oid = link) THEN
        RAISE EXCEPTION 'the link role % must not be a superuser', link
            USING HINT = 'Create a role of its own for the standbys: CREATE ROLE dash_link LOGIN.';
    END IF;
    EXECUTE format('GRANT EXECUTE ON FUNCTION pg_dash.forward_request(bytea, text, boolean, boolean), '
                   'pg_dash.forward_state(text), pg_dash.forward_changed_session(bigint), '
                   'pg_dash.forward_message(bigint, text) TO %s', link);
END
$$;
