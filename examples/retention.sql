-- examples/retention.sql: "User retention", the second pg_dash demo dashboard.
--
-- user_events holds what the users of an app did, day by day.  A user's
-- cohort is the day of their first event; their day-N retention is whether
-- they came back N days later.  Everything is computed by SQL from the raw
-- events, for the cohorts of the period picked in the page (session
-- state "cohort_dates"; default the last 30 days).
--
-- Load with: psql -v scale=1 -f examples/retention.sql (needs pg_dash).

\ir common.sql

-- ---------------------------------------------------------------- data

-- The table is created, filled and indexed in one transaction: with
-- wal_level = minimal (the demo cluster's setting) PostgreSQL then
-- writes it without WAL, which makes the load about twice as fast.
BEGIN;
CREATE TABLE IF NOT EXISTS demo.user_events (
    user_id integer NOT NULL,
    ts      timestamptz NOT NULL,
    event   text NOT NULL
);

-- 20 000 users (times scale) who signed up over the last 60 days.  After
-- signing up, a user comes back on day k with a probability that falls
-- with 1/sqrt(k) and depends on how loyal they are: roughly 40 % on day 1,
-- 15 % on day 7.  One set-based statement; skipped when the table has rows.
\echo retention: user events (loaded only into an empty table)
INSERT INTO demo.user_events (user_id, ts, event)
SELECT u.user_id,
       (u.signup + k.k)::timestamptz + make_interval(secs => floor(random() * 86399)),
       CASE WHEN k.k = 0 THEN 'signup'
            ELSE (ARRAY['open', 'view', 'search', 'purchase'])[1 + floor(random() * 4)::integer] END
FROM (SELECT i AS user_id,
             current_date - floor(random() * 60)::integer AS signup,
             random() AS loyalty
      FROM generate_series(1, greatest(1, (20000 * :scale)::integer)) AS i) AS u
CROSS JOIN LATERAL generate_series(0, current_date - u.signup) AS k(k)
WHERE (k.k = 0 OR random() < least(0.95, (0.15 + 0.5 * u.loyalty) / sqrt(k.k)))
  AND NOT EXISTS (SELECT 1 FROM demo.user_events);

CREATE INDEX IF NOT EXISTS user_events_user_ts_idx ON demo.user_events (user_id, ts);
COMMIT;
ANALYZE demo.user_events;

-- Called every second by demo.generate(): now and then a new user signs
-- up (about 350 a day, as in the history) and a recent user comes back
-- (recent sign-ups return more often).
CREATE OR REPLACE FUNCTION demo.tick_retention()
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    last_user integer := (SELECT coalesce(max(user_id), 0) FROM demo.user_events);
BEGIN
    IF random() < 0.004 THEN
        INSERT INTO demo.user_events (user_id, ts, event) VALUES (last_user + 1, now(), 'signup');
    END IF;
    IF random() < 0.02 AND last_user > 0 THEN
        INSERT INTO demo.user_events (user_id, ts, event)
        VALUES (greatest(1, last_user - floor(random() ^ 3 * least(last_user, 20000))::integer), now(),
                (ARRAY['open', 'view', 'search', 'purchase'])[1 + floor(random() * 4)::integer]);
    END IF;
END
$$;

-- ---------------------------------------------------------------- queries

-- One row per cohort (the day of a user's first event) of the period:
-- its size and how many of its users came back on day 1 and day 7.
-- Cohorts too young to have a day 7 show NULL there.
SELECT pg_dash.define_query('retention_cohorts', $sql$
    WITH firsts AS (
        SELECT user_id, min(ts)::date AS cohort
        FROM demo.user_events
        GROUP BY user_id
    ), active AS (
        -- (user, day number since their cohort) for every day they were seen
        SELECT DISTINCT e.user_id, f.cohort, e.ts::date - f.cohort AS day_n
        FROM demo.user_events e
        JOIN firsts f USING (user_id)
        CROSS JOIN demo.period(:cohort_dates::text, interval '30 days') AS p
        WHERE f.cohort >= p.since AND f.cohort < p.until
    )
    SELECT cohort,
           count(*) FILTER (WHERE day_n = 0) AS users,
           count(*) FILTER (WHERE day_n = 1) AS day1_users,
           count(*) FILTER (WHERE day_n = 7) AS day7_users,
           CASE WHEN cohort + 1 < current_date
                THEN round(100.0 * count(*) FILTER (WHERE day_n = 1) / count(*) FILTER (WHERE day_n = 0), 1) END
               AS day1_pct,
           CASE WHEN cohort + 7 < current_date
                THEN round(100.0 * count(*) FILTER (WHERE day_n = 7) / count(*) FILTER (WHERE day_n = 0), 1) END
               AS day7_pct
    FROM active
    GROUP BY cohort
    ORDER BY cohort
$sql$, 'Day-1 and day-7 retention per daily cohort (period: cohort_dates)', cache_ttl => 10,
    sortable => ARRAY['*'], allow_count => true);

-- Retention curve: of the users of the period's cohorts, the share seen
-- again N days after their first day (only cohorts old enough count).
SELECT pg_dash.define_query('retention_curve', $sql$
    WITH firsts AS (
        SELECT user_id, min(ts)::date AS cohort
        FROM demo.user_events
        GROUP BY user_id
    ), cohorts AS (
        SELECT f.* FROM firsts f
        CROSS JOIN demo.period(:cohort_dates::text, interval '30 days') AS p
        WHERE f.cohort >= p.since AND f.cohort < p.until
    ), active AS (
        SELECT DISTINCT e.user_id, e.ts::date - c.cohort AS day_n
        FROM demo.user_events e
        JOIN cohorts c USING (user_id)
    )
    SELECT d.day_n,
           round(100.0 * (SELECT count(*) FROM active a WHERE a.day_n = d.day_n)
                 / nullif((SELECT count(*) FROM cohorts c WHERE c.cohort + d.day_n < current_date), 0), 1)::double precision
               AS retained_pct
    FROM generate_series(1, 30) AS d(day_n)
    -- only days that at least five cohorts have reached
    WHERE (SELECT count(DISTINCT c.cohort) FROM cohorts c WHERE c.cohort + d.day_n < current_date) >= 5
    ORDER BY d.day_n
$sql$, 'Share of users seen again N days after their first day (period: cohort_dates)', cache_ttl => 10);

-- Retention heatmap: cohort x day number (0 to 14) -> share retained.
SELECT pg_dash.define_query('retention_matrix', $sql$
    WITH firsts AS (
        SELECT user_id, min(ts)::date AS cohort
        FROM demo.user_events
        GROUP BY user_id
    ), active AS (
        SELECT DISTINCT e.user_id, f.cohort, e.ts::date - f.cohort AS day_n
        FROM demo.user_events e
        JOIN firsts f USING (user_id)
        CROSS JOIN demo.period(:cohort_dates::text, interval '30 days') AS p
        WHERE f.cohort >= p.since AND f.cohort < p.until
    ), sizes AS (
        SELECT cohort, count(*) AS users FROM active WHERE day_n = 0 GROUP BY cohort
    )
    SELECT a.day_n, to_char(a.cohort, 'YYYY-MM-DD') AS cohort,
           round(100.0 * count(*) / s.users, 1) AS retained_pct
    FROM active a JOIN sizes s USING (cohort)
    WHERE a.day_n BETWEEN 0 AND 14
    GROUP BY a.day_n, a.cohort, s.users
    ORDER BY a.cohort, a.day_n
$sql$, 'Share retained per cohort and day number, days 0 to 14 (period: cohort_dates)', cache_ttl => 10);

-- Summary figures of the period.
SELECT pg_dash.define_query('retention_summary', $sql$
    WITH firsts AS (
        SELECT user_id, min(ts)::date AS cohort FROM demo.user_events GROUP BY user_id
    )
    SELECT count(*) AS new_users,
           (SELECT count(DISTINCT user_id) FROM demo.user_events WHERE ts >= current_date) AS active_today
    FROM firsts f
    CROSS JOIN demo.period(:cohort_dates::text, interval '30 days') AS p
    WHERE f.cohort >= p.since AND f.cohort < p.until
$sql$, 'New users in the period and users active today', cache_ttl => 5);

-- ---------------------------------------------------------------- page

SELECT pg_dash.define_page('demo/retention', $page$
# User retention

Who comes back? Each **cohort** is the users whose first event was on that
day; **day-1** and **day-7 retention** are the shares of them seen again one
and seven days later. Computed by SQL from the raw `user_events` table.

<|layout|columns=2 1 1|
<|{cohort_dates}|date_range|label=Cohorts of (empty: the last 30 days)|label_start=From|label_end=To|id=cohort_dates|>
<|{retention_summary.new_users}|metric|title=New users in the period|id=kpi_new_users|>
<|{retention_summary.active_today}|metric|title=Active today|id=kpi_active_today|>
|>

<|layout|columns=1 1|
<|{retention_cohorts}|chart|type=bar|x=cohort|y=day1_pct|y[1]=day7_pct|title=Day-1 and day-7 retention per cohort (%)|id=cohort_chart|>
<|{retention_curve}|chart|type=line|x=day_n|y=retained_pct|title=Retention curve: % seen again on day N|id=curve_chart|>
|>

<|{retention_matrix}|chart|type=heatmap|x=day_n|y=cohort|z=retained_pct|title=Cohorts by day (% retained)|id=matrix_chart|>

## Cohorts
<|{retention_cohorts}|table|page_size=10|id=cohort_table|>
<|{retention_cohorts}|file_download|label=Download as CSV|name=cohorts.csv|>

The SQL behind this page: `examples/retention.sql`.
$page$, 'User retention', 'Day-1 and day-7 retention cohorts computed by SQL, with a cohort-date range');

CALL demo.grant_web_role();
