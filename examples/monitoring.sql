-- examples/monitoring.sql: "System monitoring", the third pg_dash demo dashboard.
--
-- Four hosts report cpu, memory and disk use every second into
-- system_metrics.  A trigger on system_metrics checks each new row against
-- alert_rules and records breaches in alerts, then announces them on the
-- channel "alerts": the alerts panel of every open browser shows a breach
-- within a second.  Buttons acknowledge alerts and a small form adds
-- rules; both are SQL functions fn(state jsonb, payload jsonb) RETURNS
-- jsonb registered with pg_dash.define_action.
--
-- Load with: psql -v scale=1 -f examples/monitoring.sql (needs pg_dash).

\ir common.sql

-- ---------------------------------------------------------------- data

CREATE TABLE IF NOT EXISTS demo.hosts (
    host  text PRIMARY KEY,
    phase double precision NOT NULL      -- shifts the host's daily pattern
);
INSERT INTO demo.hosts VALUES ('web-1', 0), ('web-2', 1.3), ('db-1', 2.1), ('cache-1', 4.2)
ON CONFLICT (host) DO NOTHING;

-- The table is created, filled and indexed in one transaction: with
-- wal_level = minimal (the demo cluster's setting) PostgreSQL then
-- writes it without WAL, which makes the load about twice as fast.
BEGIN;
CREATE TABLE IF NOT EXISTS demo.system_metrics (
    ts          timestamptz NOT NULL,
    host        text NOT NULL,
    metric_name text NOT NULL,
    value       double precision NOT NULL
);

CREATE TABLE IF NOT EXISTS demo.alert_rules (
    id         serial PRIMARY KEY,
    metric     text NOT NULL,
    comparison text NOT NULL CHECK (comparison IN ('>', '<')),
    threshold  double precision NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (metric, comparison, threshold)
);
INSERT INTO demo.alert_rules (metric, comparison, threshold)
VALUES ('cpu', '>', 90), ('memory', '>', 90), ('disk', '>', 88)
ON CONFLICT DO NOTHING;

CREATE TABLE IF NOT EXISTS demo.alerts (
    id              bigserial PRIMARY KEY,
    rule_id         integer NOT NULL REFERENCES demo.alert_rules ON DELETE CASCADE,
    host            text NOT NULL,
    metric          text NOT NULL,
    value           double precision NOT NULL,
    rule            text NOT NULL,            -- e.g. "cpu > 90"
    raised_at       timestamptz NOT NULL DEFAULT now(),
    acknowledged_at timestamptz
);
CREATE INDEX IF NOT EXISTS alerts_open_idx ON demo.alerts (rule_id, host) WHERE acknowledged_at IS NULL;

-- A plausible reading of a metric of a host at time t (seconds since the
-- epoch): a slow wave per host, noise, and now and then a cpu spike.
CREATE OR REPLACE FUNCTION demo.metric_value(metric text, phase double precision, t double precision)
RETURNS double precision
LANGUAGE sql VOLATILE
AS $$
    SELECT round(least(100, greatest(0, CASE metric
        WHEN 'cpu' THEN 45 + 20 * sin(t / 90 + phase) + 8 * random()
                        + CASE WHEN random() < 0.002 THEN 40 ELSE 0 END
        WHEN 'memory' THEN 70 + 10 * sin(t / 900 + phase) + 3 * random()
        ELSE 72 + 12 * sin(t / 3600 + phase) + random()
    END))::numeric, 2)::double precision
$$;

-- The last hour, one reading a second per host and metric (skipped when
-- the table has rows).
\echo monitoring: the last hour of metrics (loaded only into an empty table)
INSERT INTO demo.system_metrics (ts, host, metric_name, value)
SELECT t.ts, h.host, m.metric, demo.metric_value(m.metric, h.phase, extract(epoch FROM t.ts))
FROM generate_series(now() - interval '1 hour', now() - interval '1 second', interval '1 second') AS t(ts)
CROSS JOIN demo.hosts h
CROSS JOIN (VALUES ('cpu'), ('memory'), ('disk')) AS m(metric)
WHERE NOT EXISTS (SELECT 1 FROM demo.system_metrics);

CREATE INDEX IF NOT EXISTS system_metrics_idx ON demo.system_metrics (metric_name, host, ts);
COMMIT;
ANALYZE demo.system_metrics;

-- Checks the new rows of an INSERT against the rules: a breach raises an
-- alert unless the same rule already has an open (unacknowledged) alert
-- for that host.  New alerts are announced on "alerts"; every insert is
-- announced on "metrics" (the live charts and gauges).
CREATE OR REPLACE FUNCTION demo.check_alert_rules()
RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    raised jsonb;
BEGIN
    WITH breaches AS (
        SELECT DISTINCT ON (r.id, n.host)
               r.id AS rule_id, n.host, n.metric_name, n.value,
               format('%s %s %s', r.metric, r.comparison, r.threshold) AS rule
        FROM new_metrics n
        JOIN demo.alert_rules r ON r.metric = n.metric_name
        WHERE CASE r.comparison WHEN '>' THEN n.value > r.threshold ELSE n.value < r.threshold END
        ORDER BY r.id, n.host, n.ts DESC
    ), inserted AS (
        INSERT INTO demo.alerts (rule_id, host, metric, value, rule)
        SELECT b.rule_id, b.host, b.metric_name, b.value, b.rule
        FROM breaches b
        WHERE NOT EXISTS (SELECT 1 FROM demo.alerts a
                          WHERE a.rule_id = b.rule_id AND a.host = b.host AND a.acknowledged_at IS NULL)
        RETURNING id, host, rule, value
    )
    SELECT jsonb_agg(to_jsonb(i)) INTO raised FROM inserted i;
    IF raised IS NOT NULL THEN
        PERFORM pg_dash.publish('alerts', jsonb_build_object('raised', raised));
    END IF;
    PERFORM pg_dash.publish('metrics', jsonb_build_object('ts', now()));
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER check_alert_rules
AFTER INSERT ON demo.system_metrics
REFERENCING NEW TABLE AS new_metrics
FOR EACH STATEMENT EXECUTE FUNCTION demo.check_alert_rules();

-- Rule changes are announced too (the rules table follows).
CREATE OR REPLACE FUNCTION demo.alert_rules_changed()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM pg_dash.publish('alert_rules', jsonb_build_object('op', TG_OP));
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER alert_rules_changed
AFTER INSERT OR UPDATE OR DELETE ON demo.alert_rules
FOR EACH STATEMENT EXECUTE FUNCTION demo.alert_rules_changed();

SELECT pg_dash.define_channel('alerts', 'Alerts raised or acknowledged');
SELECT pg_dash.define_channel('metrics', 'New system metrics (once a second)');
SELECT pg_dash.define_channel('alert_rules', 'Alert rules changed');

-- Called every second by demo.generate(): one reading per host and metric;
-- readings older than a day are deleted once a minute.
CREATE OR REPLACE FUNCTION demo.tick_monitoring()
RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    INSERT INTO demo.system_metrics (ts, host, metric_name, value)
    SELECT now(), h.host, m.metric, demo.metric_value(m.metric, h.phase, extract(epoch FROM now()))
    FROM demo.hosts h CROSS JOIN (VALUES ('cpu'), ('memory'), ('disk')) AS m(metric);
    IF extract(second FROM now()) < 1 THEN
        DELETE FROM demo.system_metrics WHERE ts < now() - interval '1 day';
    END IF;
END
$$;

-- ---------------------------------------------------------------- queries
-- :monitor_metric is the state key of the metric selector (default cpu).

-- One live chart per host: the chosen metric over the last 10 minutes.
-- The queries are made from the hosts table: monitor_host_web_1, ...
DO $$
DECLARE
    h record;
BEGIN
    FOR h IN SELECT host FROM demo.hosts ORDER BY host LOOP
        PERFORM pg_dash.define_query(
            'monitor_host_' || replace(h.host, '-', '_'),
            format($sql$
                SELECT ts, value
                FROM demo.system_metrics
                WHERE host = %L
                  AND metric_name = coalesce(nullif(:monitor_metric::text, ''), 'cpu')
                  AND ts > now() - interval '10 minutes'
                ORDER BY ts
            $sql$, h.host),
            format('The chosen metric of %s over the last 10 minutes', h.host),
            refresh_on => ARRAY['metrics']);
    END LOOP;
END
$$;

-- The latest value of the chosen metric, one column per host (the gauges).
SELECT pg_dash.define_query('monitor_latest', $sql$
    SELECT max(l.value) FILTER (WHERE h.host = 'web-1') AS web_1,
           max(l.value) FILTER (WHERE h.host = 'web-2') AS web_2,
           max(l.value) FILTER (WHERE h.host = 'db-1') AS db_1,
           max(l.value) FILTER (WHERE h.host = 'cache-1') AS cache_1
    FROM demo.hosts h
    CROSS JOIN LATERAL (SELECT m.value
                        FROM demo.system_metrics m
                        WHERE m.host = h.host
                          AND m.metric_name = coalesce(nullif(:monitor_metric::text, ''), 'cpu')
                        ORDER BY m.ts DESC
                        LIMIT 1) AS l
$sql$, 'The latest value of the chosen metric per host', refresh_on => ARRAY['metrics']);

-- Open alerts, newest first.
SELECT pg_dash.define_query('monitor_alerts', $sql$
    SELECT id, raised_at, host, rule, value
    FROM demo.alerts
    WHERE acknowledged_at IS NULL
    ORDER BY raised_at DESC, id DESC
$sql$, 'Open (unacknowledged) alerts', refresh_on => ARRAY['alerts'],
    sortable => ARRAY['*'], allow_count => true);

-- The same as a list of values for the "acknowledge" selector: (id, label).
SELECT pg_dash.define_query('monitor_alert_choices', $sql$
    SELECT id, format('#%s %s: %s (%s)', id, host, rule, value) AS label
    FROM demo.alerts
    WHERE acknowledged_at IS NULL
    ORDER BY raised_at DESC, id DESC
$sql$, 'Open alerts as (id, label) for a selector', refresh_on => ARRAY['alerts']);

SELECT pg_dash.define_query('monitor_open_count', $sql$
    SELECT count(*) AS open_alerts FROM demo.alerts WHERE acknowledged_at IS NULL
$sql$, 'How many alerts are open', refresh_on => ARRAY['alerts']);

SELECT pg_dash.define_query('monitor_rules', $sql$
    SELECT id, metric, comparison, threshold, created_at FROM demo.alert_rules ORDER BY id
$sql$, 'The alert rules', refresh_on => ARRAY['alert_rules'],
    sortable => ARRAY['*'], allow_count => true);

-- ---------------------------------------------------------------- actions
-- SECURITY DEFINER: the web role (pg_dash.role) may call them, but has no
-- write access to the tables itself.

-- Acknowledges the alert picked in the selector (state key "ack_alert"),
-- or the one whose id is in the payload.
CREATE OR REPLACE FUNCTION demo.ack_alert(state jsonb, payload jsonb)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    alert_id bigint;
    done bigint;
BEGIN
    alert_id := coalesce(CASE WHEN jsonb_typeof(payload) = 'object' AND payload ? 'alert_id'
                              THEN (payload ->> 'alert_id')::bigint END,
                         (state ->> 'ack_alert')::bigint);
    IF alert_id IS NULL THEN
        RETURN jsonb_build_object('monitor_message', 'Pick an alert to acknowledge first.');
    END IF;
    UPDATE demo.alerts SET acknowledged_at = now()
    WHERE id = alert_id AND acknowledged_at IS NULL
    RETURNING id INTO done;
    IF done IS NULL THEN
        RETURN jsonb_build_object('ack_alert', NULL,
                                  'monitor_message', format('Alert #%s is not open.', alert_id));
    END IF;
    PERFORM pg_dash.publish('alerts', jsonb_build_object('acknowledged', jsonb_build_array(done)));
    RETURN jsonb_build_object('ack_alert', NULL,
                              'monitor_message', format('Alert #%s acknowledged.', done));
END
$$;

-- Acknowledges every open alert.
CREATE OR REPLACE FUNCTION demo.ack_all_alerts(state jsonb, payload jsonb)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n bigint;
BEGIN
    WITH a AS (UPDATE demo.alerts SET acknowledged_at = now()
               WHERE acknowledged_at IS NULL RETURNING id)
    SELECT count(*) INTO n FROM a;
    IF n > 0 THEN
        PERFORM pg_dash.publish('alerts', jsonb_build_object('acknowledged', n));
    END IF;
    RETURN jsonb_build_object('ack_alert', NULL,
                              'monitor_message', format('%s alert(s) acknowledged.', n));
END
$$;

-- Adds a rule from the form: state keys rule_metric (cpu, memory, disk),
-- rule_comparison (above, below) and rule_threshold (a number).
CREATE OR REPLACE FUNCTION demo.add_alert_rule(state jsonb, payload jsonb)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    m text := coalesce(state ->> 'rule_metric', 'cpu');
    c text := CASE coalesce(state ->> 'rule_comparison', 'above') WHEN 'below' THEN '<' ELSE '>' END;
    t double precision;
BEGIN
    IF m NOT IN ('cpu', 'memory', 'disk') THEN
        RETURN jsonb_build_object('monitor_message', format('Unknown metric "%s".', m));
    END IF;
    BEGIN
        t := (state ->> 'rule_threshold')::double precision;
    EXCEPTION WHEN invalid_text_representation THEN
        t := NULL;
    END;
    IF t IS NULL OR t < 0 OR t > 100 THEN
        RETURN jsonb_build_object('monitor_message', 'Give a threshold between 0 and 100.');
    END IF;
    INSERT INTO demo.alert_rules (metric, comparison, threshold) VALUES (m, c, t)
    ON CONFLICT DO NOTHING;
    RETURN jsonb_build_object('monitor_message', format('Rule added: %s %s %s.', m, c, t));
END
$$;

-- Deletes the rule picked in the rules selector (state key "drop_rule").
CREATE OR REPLACE FUNCTION demo.drop_alert_rule(state jsonb, payload jsonb)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    rid integer := (state ->> 'drop_rule')::integer;
BEGIN
    IF rid IS NULL THEN
        RETURN jsonb_build_object('monitor_message', 'Pick a rule to delete first.');
    END IF;
    DELETE FROM demo.alert_rules WHERE id = rid;
    PERFORM pg_dash.publish('alerts', jsonb_build_object('rule_deleted', rid));
    RETURN jsonb_build_object('drop_rule', NULL, 'monitor_message', format('Rule #%s deleted.', rid));
END
$$;

SELECT pg_dash.define_action('ack_alert', 'demo.ack_alert(jsonb, jsonb)', 'Acknowledges an alert');
SELECT pg_dash.define_action('ack_all_alerts', 'demo.ack_all_alerts(jsonb, jsonb)', 'Acknowledges every open alert');
SELECT pg_dash.define_action('add_alert_rule', 'demo.add_alert_rule(jsonb, jsonb)', 'Adds an alert rule');
SELECT pg_dash.define_action('drop_alert_rule', 'demo.drop_alert_rule(jsonb, jsonb)', 'Deletes an alert rule');

SELECT pg_dash.define_query('monitor_rule_choices', $sql$
    SELECT id, format('#%s %s %s %s', id, metric, comparison, threshold) AS label
    FROM demo.alert_rules ORDER BY id
$sql$, 'Alert rules as (id, label) for a selector', refresh_on => ARRAY['alert_rules']);

-- ---------------------------------------------------------------- page

SELECT pg_dash.define_page('demo/monitoring', $page$
# System monitoring

Four hosts report every second. A trigger checks each reading against the
alert rules; a breach shows up below within a second.

<|layout|columns=1 3|
<|{monitor_metric or "cpu"}|selector|lov=cpu;memory;disk|label=Metric|id=metric_selector|>
<|{monitor_open_count.open_alerts}|metric|title=Open alerts|id=open_alerts|>
|>

<|layout|columns=1 1 1 1|
<|{monitor_latest.web_1}|gauge|min=0|max=100|threshold=90|title=web-1|format=%.1f|id=gauge_web_1|>
<|{monitor_latest.web_2}|gauge|min=0|max=100|threshold=90|title=web-2|format=%.1f|id=gauge_web_2|>
<|{monitor_latest.db_1}|gauge|min=0|max=100|threshold=90|title=db-1|format=%.1f|id=gauge_db_1|>
<|{monitor_latest.cache_1}|gauge|min=0|max=100|threshold=90|title=cache-1|format=%.1f|id=gauge_cache_1|>
|>

<|layout|columns=1 1|
<|{monitor_host_web_1}|chart|type=line|x=ts|y=value|title=web-1|id=chart_web_1|>
<|{monitor_host_web_2}|chart|type=line|x=ts|y=value|title=web-2|id=chart_web_2|>
<|{monitor_host_db_1}|chart|type=line|x=ts|y=value|title=db-1|id=chart_db_1|>
<|{monitor_host_cache_1}|chart|type=line|x=ts|y=value|title=cache-1|id=chart_cache_1|>
|>

## Alerts
<|{monitor_message}|text|id=monitor_message|>

<|layout|columns=3 1 1|
<|{ack_alert}|selector|lov={monitor_alert_choices}|label=Alert|id=ack_selector|>
<|Acknowledge|button|on_action=ack_alert|id=ack_button|>
<|Acknowledge all|button|on_action=ack_all_alerts|id=ack_all_button|>
|>

<|{monitor_alerts}|table|page_size=10|id=alerts_table|>

## Alert rules
<|layout|columns=1 1 1 1|
<|{rule_metric}|selector|lov=cpu;memory;disk|label=Metric|id=rule_metric|>
<|{rule_comparison}|toggle|lov=above;below|label=When|id=rule_comparison|>
<|{rule_threshold}|number|min=0|max=100|label=Threshold|id=rule_threshold|>
<|Add rule|button|on_action=add_alert_rule|id=add_rule_button|>
|>

<|layout|columns=3 1|
<|{drop_rule}|selector|lov={monitor_rule_choices}|label=Rule|id=drop_rule_selector|>
<|Delete rule|button|on_action=drop_alert_rule|id=drop_rule_button|>
|>

<|{monitor_rules}|table|page_size=10|id=rules_table|>

The SQL behind this page: `examples/monitoring.sql`.
$page$, 'System monitoring', 'Live metrics per host, gauges, alert rules checked by a trigger, acknowledgements');

CALL demo.grant_web_role();
