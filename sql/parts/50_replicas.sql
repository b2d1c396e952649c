-- Hot standbys (docs/replicas.md): what a standby's workers ask of the
-- primary over pg_dash.primary_conninfo.

-- Runs a standby's session-state or action request (HTTP bytes) in the
-- primary's executor pool and returns its answer: a flag byte ('C': close
-- the connection after it, 'K': keep it) and the HTTP response.  client is
-- the address of the standby's client, for the per-address budgets;
-- client_https and client_local say how it reached the standby (over TLS,
-- from the standby's machine), for Secure cookies, HSTS and bearer tokens.
-- Only the link's role may call it: grant EXECUTE to it.
CREATE FUNCTION pg_dash.forward_request(request bytea, client text, client_https boolean, client_local boolean)
RETURNS bytea
AS 'MODULE_PATHNAME', 'pg_dash_forward_request'
LANGUAGE C CALLED ON NULL INPUT VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION pg_dash.forward_request(bytea, text, boolean, boolean) IS 'Runs a hot standby''s session-state or action request on the primary; for the role of pg_dash.primary_conninfo only';
REVOKE ALL ON FUNCTION pg_dash.forward_request(bytea, text, boolean, boolean) FROM PUBLIC;

-- The state of a session, for a hot standby whose named queries call
-- pg_dash.state(): it cannot read the UNLOGGED table.  Only the link's role
-- may call it: grant EXECUTE to it.
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

-- The session a state notification names (its notify_id), for a hot
-- standby whose WebSocket tabs follow their session's state.  Only the
-- link's role may call it: grant EXECUTE to it.
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

-- The payload of a message pg_dash.publish() stored for a channel, for a
-- hot standby whose subscribers get it.  Only the link's role may call it:
-- grant EXECUTE to it.
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

-- Lets a role be the link of hot standbys: EXECUTE on the four functions
-- above, nothing else.  The role must not be a superuser.
CREATE FUNCTION pg_dash.grant_link(link regrole)
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
COMMENT ON FUNCTION pg_dash.grant_link(regrole) IS 'Lets a role be the link of hot standbys (pg_dash.primary_conninfo)';
REVOKE ALL ON FUNCTION pg_dash.grant_link(regrole) FROM PUBLIC;
