-- Realtime: channels, large messages, publish().

-- Channels WebSocket clients may subscribe to (besides queries' refresh_on).
CREATE TABLE pg_dash.channels (
    name        text PRIMARY KEY
                CHECK (name ~ '^[A-Za-z_][A-Za-z0-9_]{0,62}$'),
    description text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    -- Who may subscribe (0.2.0, hence last): role names or PUBLIC.
    access      text[] NOT NULL DEFAULT '{PUBLIC}'
);
SELECT pg_catalog.pg_extension_config_dump('pg_dash.channels', '');

-- Opens a channel to WebSocket clients; access is who may subscribe (NULL:
-- unchanged, PUBLIC for a new channel).
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
