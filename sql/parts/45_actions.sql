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
    updated_at  timestamptz NOT NULL DEFAULT now(),
    -- Who may call it (0.2.0, hence last): role names or PUBLIC.
    access      text[] NOT NULL DEFAULT '{PUBLIC}'
);
COMMENT ON TABLE pg_dash.actions IS 'Functions pages may call at /api/action/<name>; change them with define_action() and drop_action()';
SELECT pg_catalog.pg_extension_config_dump('pg_dash.actions', '');

-- Registers (or re-points) an action after checking the function's
-- signature: function(state jsonb, payload jsonb) RETURNS jsonb.  access is
-- who may call it (NULL: unchanged, PUBLIC for a new action).
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

-- Unregisters an action; false when there was none.
CREATE FUNCTION pg_dash.drop_action(name text)
RETURNS boolean
LANGUAGE sql
AS $$
    WITH d AS (DELETE FROM pg_dash.actions a WHERE a.name = drop_action.name RETURNING 1)
    SELECT count(*) > 0 FROM d
$$;

REVOKE ALL ON FUNCTION pg_dash.define_action(text, regprocedure, text, text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION pg_dash.drop_action(text) FROM PUBLIC;

-- Inside an action: the page the browser shows once the action returns, as
-- Taipy's navigate() (src/action.c).
CREATE FUNCTION pg_dash.navigate(path text)
RETURNS void
AS 'MODULE_PATHNAME', 'pg_dash_navigate'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION pg_dash.navigate(text) IS 'Inside an action: the page the browser shows once the action returns (NULL: stay)';
GRANT EXECUTE ON FUNCTION pg_dash.navigate(text) TO PUBLIC;
