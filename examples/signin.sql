-- examples/signin.sql: two sales managers who sign in and see their own
-- region on the same page (README, "Who sees what").
--
-- With pg_dash.auth = 'password' (scripts/demo.sh: DEMO_AUTH=password)
-- demo_north (password "north") and demo_south (password "south") sign in
-- at /; /p/demo/my-region then shows each only the days of their region:
-- one named query, one page, and a row-level security policy on
-- demo.region_daily that decides.  Signed out (pg_dash.anonymous = on in the
-- demo) the other dashboards stay open and this page asks to sign in.

\if :{?scale}
\else
\set scale 1
\endif

-- The group that may sign in (pg_dash.login_group) and its two members.
-- They also get what the web role may read, so that the other dashboards
-- work for them too.
SELECT 'CREATE ROLE demo_team NOLOGIN'
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'demo_team') \gexec
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L IN ROLE demo_team', r, p)
FROM (VALUES ('demo_north', 'north'), ('demo_south', 'south')) AS v(r, p)
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = v.r) \gexec
SELECT format('GRANT %I TO demo_team', current_setting('pg_dash.role', true))
WHERE EXISTS (SELECT 1 FROM pg_roles WHERE rolname = current_setting('pg_dash.role', true)) \gexec

-- Who manages which region.
CREATE TABLE IF NOT EXISTS demo.region_managers (
    role   text PRIMARY KEY,
    region text NOT NULL
);
INSERT INTO demo.region_managers VALUES ('demo_north', 'North'), ('demo_south', 'South')
ON CONFLICT (role) DO UPDATE SET region = EXCLUDED.region;

-- Orders and revenue per region and day, from demo.orders.
CREATE TABLE IF NOT EXISTS demo.region_daily (
    day     date NOT NULL,
    region  text NOT NULL,
    orders  bigint NOT NULL,
    revenue numeric NOT NULL,
    PRIMARY KEY (day, region)
);
\echo signin: region_daily (from demo.orders; loaded only into an empty table)
INSERT INTO demo.region_daily
SELECT o.ts::date, o.region, count(*), sum(o.amount)
FROM demo.orders o
WHERE NOT EXISTS (SELECT 1 FROM demo.region_daily)
GROUP BY 1, 2;

-- Each manager sees the rows of their region; nobody else sees any.  The
-- table's owner (the superuser loading the demo) bypasses the policy: never
-- sign in as the owner of the tables.
ALTER TABLE demo.region_daily ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS own_region ON demo.region_daily;
CREATE POLICY own_region ON demo.region_daily
    USING (region = (SELECT m.region FROM demo.region_managers m WHERE m.role = current_user));
GRANT USAGE ON SCHEMA demo TO demo_team;
GRANT SELECT ON demo.region_daily, demo.region_managers TO demo_team;

SELECT pg_dash.define_query('demo_my_region', $sql$
SELECT day, region, orders, revenue
FROM demo.region_daily
ORDER BY day DESC
LIMIT 30
$sql$, 'The last 30 days of the signed-in manager''s region (row-level security)',
    access => '{demo_team}');

SELECT pg_dash.define_query('demo_my_totals', $sql$
SELECT current_user AS signed_in_as,
       coalesce(string_agg(DISTINCT region, ', '), 'none') AS region,
       coalesce(sum(orders), 0) AS orders,
       coalesce(sum(revenue), 0) AS revenue
FROM demo.region_daily
$sql$, 'The signed-in role and its region''s totals', access => '{demo_team}');

SELECT pg_dash.define_page('demo/my-region', $page$
# My region

Signed in as **{demo_my_totals.signed_in_as}**, region **{demo_my_totals.region}**.
The same page shows the other manager another region: a row-level security
policy on demo.region_daily decides (examples/signin.sql).

<|{demo_my_totals.orders}|metric|title=Orders|id=my_orders|>
<|{demo_my_totals.revenue}|metric|title=Revenue|format=%.2f|id=my_revenue|>

<|{demo_my_region}|chart|type=bar|x=day|y=revenue|title=Revenue per day|>

<|{demo_my_region}|table|page_size=10|>
$page$, 'My region', 'Sign in as demo_north or demo_south: each sees their own region',
    access => '{demo_team}');

\echo signin: loaded (sign in as demo_north / north or demo_south / south)
