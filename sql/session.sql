-- Session state from SQL: pg_dash.state(), pg_dash.set_state(),
-- pg_dash.bind_session() that simulates a request, the sessions view,
-- purge_sessions() and the merge patch.
SET client_min_messages = warning;
-- quietly: the extension may exist already when the suites run together
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_dash;
RESET client_min_messages;
RESET client_min_messages;

SHOW pg_dash.session_ttl;
SHOW pg_dash.session_sweep_interval;
SHOW pg_dash.session_max_bytes;
SET pg_dash.session_ttl = 5;

-- outside a request: clear errors; no setting carries a session
SHOW pg_dash.session_id;
SELECT count(*) FROM pg_settings WHERE name LIKE 'pg_dash.session_id%';
SELECT pg_dash.state();
SELECT pg_dash.state('region');
SELECT pg_dash.set_state('region', '"North"');

-- a session id is 64 lowercase hex digits
SELECT pg_dash.bind_session('not-a-session');
SELECT pg_dash.bind_session('ABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB');

-- inside a simulated request (the request pipeline does this in C)
BEGIN;
SELECT pg_dash.bind_session('abababababababababababababababababababababababababababababababab');
SELECT pg_dash.state();
SELECT pg_dash.set_state('region', '"North"');
SELECT pg_dash.set_state('n', '42');
SELECT pg_dash.set_state('filters', '{"year": 2026, "tags": ["a", "b"]}');
SELECT pg_dash.state('region'), pg_dash.state('region') ->> 0 AS text, pg_dash.state('n'),
       pg_dash.state('missing') IS NULL AS missing_is_null, pg_dash.state(NULL) IS NULL AS null_key;
SELECT pg_dash.set_state('n', NULL);
COMMIT;
BEGIN;
SELECT pg_dash.bind_session('abababababababababababababababababababababababababababababababab');
SELECT pg_dash.set_state(NULL, '1');
ROLLBACK;

-- the binding ended with the transaction
SELECT pg_dash.state();

-- the state outlives the request; a named query may filter on it
CREATE TEMP TABLE sales (region text, amount int);
INSERT INTO sales VALUES ('North', 10), ('South', 20), ('North', 5);
BEGIN;
SELECT pg_dash.bind_session('abababababababababababababababababababababababababababababababab');
SELECT pg_dash.state();
SELECT region, sum(amount) FROM sales WHERE region = pg_dash.state('region') ->> 0 GROUP BY region;
COMMIT;

-- writes in a rolled-back savepoint are not seen afterwards
BEGIN;
SELECT pg_dash.bind_session('abababababababababababababababababababababababababababababababab');
SAVEPOINT s;
SELECT pg_dash.set_state('draft', 'true');
SELECT pg_dash.state('draft');
ROLLBACK TO SAVEPOINT s;
SELECT pg_dash.state('draft') IS NULL AS draft_rolled_back;
COMMIT;

-- over pg_dash.session_max_bytes: refused, nothing stored
BEGIN;
SELECT pg_dash.bind_session('abababababababababababababababababababababababababababababababab');
SELECT pg_dash.set_state('big', to_jsonb(repeat('x', 1100000)));
ROLLBACK;

-- another session is separate
BEGIN;
SELECT pg_dash.bind_session('cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd');
SELECT pg_dash.state();
SELECT pg_dash.set_state('region', '"South"');
COMMIT;

-- the unprivileged role queries run as: cannot forge the session or read the table,
-- but reaches its own session's state through the functions
CREATE ROLE session_reader NOLOGIN;
GRANT USAGE ON SCHEMA pg_dash TO session_reader;
SET ROLE session_reader;
SELECT pg_dash.bind_session('cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd');
SELECT count(*) FROM pg_dash.session_state;
SELECT count(*) FROM pg_dash.sessions;
SELECT pg_dash.purge_sessions();
RESET ROLE;
BEGIN;
SELECT pg_dash.bind_session('abababababababababababababababababababababababababababababababab');
SET LOCAL ROLE session_reader;
SELECT pg_dash.state('region');
SELECT pg_dash.set_state('seen_by', '"session_reader"') -> 'seen_by';
COMMIT;

-- the admin view shows no ids, only a prefix of the hash
SELECT column_name FROM information_schema.columns
WHERE table_schema = 'pg_dash' AND table_name = 'sessions' ORDER BY ordinal_position;
SELECT id_prefix, keys, bytes, expired, data
FROM pg_dash.sessions WHERE id_prefix IN ('abababab', 'cdcdcdcd') ORDER BY id_prefix;

-- purge_sessions() deletes expired ones (in one transaction, so that the
-- sweep of worker 0 cannot take the row first)
BEGIN;
UPDATE pg_dash.session_state SET expires_at = now() - interval '1 second'
WHERE id = 'cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd';
SELECT pg_dash.purge_sessions();
COMMIT;
SELECT id_prefix FROM pg_dash.sessions WHERE id_prefix IN ('abababab', 'cdcdcdcd') ORDER BY 1;

-- session figures beside pg_dash.stats
SELECT active >= 1 AS has_active, expired_awaiting_sweep >= 0 AS counted FROM pg_dash.session_counts;
SELECT DISTINCT metric FROM pg_dash.stats WHERE metric LIKE 'pg_dash_sessions%' ORDER BY 1;

-- JSON merge patch, the examples of RFC 7386 appendix A
SELECT t, p, pg_dash.jsonb_merge_patch(t::jsonb, p::jsonb) AS result
FROM (VALUES
    ('{"a":"b"}', '{"a":"c"}'),
    ('{"a":"b"}', '{"b":"c"}'),
    ('{"a":"b"}', '{"a":null}'),
    ('{"a":"b","b":"c"}', '{"a":null}'),
    ('{"a":["b"]}', '{"a":"c"}'),
    ('{"a":"c"}', '{"a":["b"]}'),
    ('{"a":{"b":"c"}}', '{"a":{"b":"d","c":null}}'),
    ('{"a":[{"b":"c"}]}', '{"a":[1]}'),
    ('["a","b"]', '["c","d"]'),
    ('{"a":"b"}', '["c"]'),
    ('{"a":"foo"}', 'null'),
    ('{"a":"foo"}', '"bar"'),
    ('{"e":null}', '{"a":1}'),
    ('[1,2]', '{"a":"b","c":null}'),
    ('{}', '{"a":{"bb":{"ccc":null}}}')
) AS v(t, p);

-- clean up
DELETE FROM pg_dash.session_state WHERE id = 'abababababababababababababababababababababababababababababababab';
REVOKE USAGE ON SCHEMA pg_dash FROM session_reader;
DROP ROLE session_reader;
