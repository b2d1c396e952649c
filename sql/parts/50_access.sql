-- Who may use what (README "Who sees what"): the access lists of pages,
-- named queries, actions and channels, and the access log.
--
-- Each definition table has an access column: role names, or PUBLIC.  A
-- viewer may use a definition when the list holds PUBLIC (every signed-in
-- role, and signed-out viewers where pg_dash serves them), or a role whose
-- privileges the viewer has (membership with INHERIT, as GRANTs work).  The
-- lists hold names, not OIDs, so that pg_dump and pg_dash.export() carry
-- them to another cluster; a role that no longer exists matches nobody.

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
