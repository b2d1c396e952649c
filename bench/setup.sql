-- pg_dash benchmark data and named queries.  Run by bench/run.py with psql
-- variables: items (rows in bench.items), sales (rows in bench.sales),
-- big (rows of the series10m query).  Named queries are defined separately
-- by run.py (define_query may not exist yet in the tree being measured).
\set ON_ERROR_STOP on
CREATE EXTENSION IF NOT EXISTS pg_dash;
DROP SCHEMA IF EXISTS bench CASCADE;
CREATE SCHEMA bench;

-- point lookups: a product catalogue
CREATE TABLE bench.items (
    id      integer PRIMARY KEY,
    name    text NOT NULL,
    price   numeric(10,2) NOT NULL,
    stock   integer NOT NULL,
    updated timestamptz NOT NULL
);
INSERT INTO bench.items
SELECT g, 'item ' || g, round((random() * 1000)::numeric, 2), (random() * 500)::int,
       now() - random() * interval '30 days'
FROM generate_series(1, :items) g;

-- aggregates and exports: sales over the last 30 days
CREATE TABLE bench.sales (
    id      bigint PRIMARY KEY,
    ts      timestamptz NOT NULL,
    region  text NOT NULL,
    product text NOT NULL,
    qty     integer NOT NULL,
    amount  numeric(12,2) NOT NULL
);
INSERT INTO bench.sales
SELECT g,
       now() - (g::float8 / :sales) * interval '30 days',
       (ARRAY['North','South','East','West'])[1 + g % 4],
       'product ' || (g % 50),
       1 + g % 7,
       round((random() * 200)::numeric, 2)
FROM generate_series(1, :sales) g;
CREATE INDEX sales_ts_idx ON bench.sales (ts);
VACUUM ANALYZE bench.items;
VACUUM ANALYZE bench.sales;

-- the anonymous role pg_dash runs requests as (and the peer connects as)
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bench_anon') THEN
        CREATE ROLE bench_anon LOGIN;
    END IF;
END $$;
GRANT USAGE ON SCHEMA bench TO bench_anon;
GRANT SELECT ON ALL TABLES IN SCHEMA bench TO bench_anon;
GRANT USAGE ON SCHEMA pg_dash TO bench_anon;
GRANT SELECT ON pg_dash.channels TO bench_anon;

SELECT pg_dash.define_channel('bench', 'benchmark fan-out');
-- the peer's clients and the libpq listener are held at the same time as
-- pg_dash's (figure 4 measures them in turns): each side has its channel
SELECT pg_dash.define_channel('bench_peer', 'benchmark fan-out, the peer''s clients');
