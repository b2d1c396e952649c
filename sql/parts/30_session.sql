-- Session state: per-browser state with expiry (docs/session.md).

-- One row per browser session.  UNLOGGED: fast, emptied by crash recovery
-- (clients then get fresh sessions), kept by a clean restart.  id is the
-- hex SHA-256 of the cookie token, never the token itself.
CREATE UNLOGGED TABLE pg_dash.session_state (
    id          text PRIMARY KEY,
    data        jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(data) = 'object'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    last_seen   timestamptz NOT NULL DEFAULT now(),  -- refreshed at most every session_ttl / 10
    expires_at  timestamptz NOT NULL,
    -- what state-change notifications carry instead of the id (see below)
    notify_id   bigint GENERATED ALWAYS AS IDENTITY,
    -- the role signed in with this session (POST /api/login) and when;
    -- NULL for a signed-out browser (0.2.0, hence last)
    role        text,
    signed_in_at timestamptz
) WITH (fillfactor = 70);
CREATE INDEX session_state_expires_at_idx ON pg_dash.session_state (expires_at);
CREATE UNIQUE INDEX session_state_notify_id_idx ON pg_dash.session_state (notify_id);
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
       s.data,
       s.role,
       s.signed_in_at
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

-- Every change of a session's state, however it is made (the state API,
-- an action, set_state(), or an administrator's UPDATE), tells the workers
-- on channel pg_dash_state.  Any role can LISTEN or NOTIFY there, so the
-- payload is only the row's notify_id: a worker reads the session's current
-- state from the table and sends it to that session's tabs.  A forged
-- notification can make a worker re-read, never deliver anything false.
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

-- The state of the session of the request being served.  SECURITY DEFINER:
-- queries run as an unprivileged role that cannot read the table; the
-- session is bound by the request pipeline in C, never through a setting.
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

-- Binds a session to the current transaction by hand, as a request would
-- (superusers only: for trying state() and set_state() in psql and tests).
CREATE FUNCTION pg_dash.bind_session(id text)
RETURNS void
AS 'MODULE_PATHNAME', 'pg_dash_bind_session'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION pg_dash.bind_session(text) IS 'Binds a session to the current transaction, as a request would (superusers only)';
REVOKE ALL ON FUNCTION pg_dash.bind_session(text) FROM PUBLIC;

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
