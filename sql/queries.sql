-- Named queries: definition, validation and type inference.
-- quietly: the extension may exist already when the suites run together
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_dash;
RESET client_min_messages;
CREATE TABLE q_sales (id int PRIMARY KEY, region text, amount numeric, ts timestamptz);

SELECT pg_dash.define_query('by_region', 'SELECT id, amount FROM q_sales WHERE region = :region AND amount > :min',
                            description => 'Sales of a region', cache_ttl => 30, refresh_on => ARRAY['sales']);
SELECT name, statement, params, param_types, columns, description, cache_ttl, refresh_on, reads_state
FROM pg_dash.queries WHERE name = 'by_region';

-- the same parameter twice is one parameter; casts are not parameters
SELECT pg_dash.define_query('since', 'SELECT count(*) AS n FROM q_sales WHERE ts > :t::timestamptz - :gap::interval OR ts > :t');
SELECT statement, params, param_types FROM pg_dash.queries WHERE name = 'since';

-- a parameter whose type cannot be inferred is text
SELECT pg_dash.define_query('echo', 'SELECT :anything AS v');
SELECT params, param_types, columns FROM pg_dash.queries WHERE name = 'echo';

-- replace keeps one row and takes the new text
SELECT pg_dash.define_query('echo', 'SELECT :anything::int + 1 AS v');
SELECT count(*), min(statement) FROM pg_dash.queries WHERE name = 'echo';

-- reading session state is detected
SELECT pg_dash.define_query('mine', 'SELECT pg_dash.state(''region'') AS r');
SELECT reads_state FROM pg_dash.queries WHERE name = 'mine';

-- what a client may ask besides the parameters: nothing by default
SELECT sortable, allow_count, range_columns FROM pg_dash.queries WHERE name = 'by_region';
SELECT pg_dash.define_query('sorted', 'SELECT id, region, amount, ts FROM q_sales',
                            sortable => ARRAY['id', 'region'], allow_count => true, range_columns => ARRAY['ts', 'id']);
SELECT sortable, allow_count, range_columns FROM pg_dash.queries WHERE name = 'sorted';
-- NULL is the same as nothing; '*' is every column
SELECT pg_dash.define_query('sorted', 'SELECT id, region FROM q_sales', sortable => NULL, allow_count => NULL,
                            range_columns => '{*}');
SELECT sortable, allow_count, range_columns FROM pg_dash.queries WHERE name = 'sorted';
SELECT pg_dash.define_query('x', 'SELECT id FROM q_sales', sortable => '{nope}');
SELECT pg_dash.define_query('x', 'SELECT id, region FROM q_sales', range_columns => '{region}');
SELECT pg_dash.define_query('x', 'SELECT id, ''{}''::json AS j FROM q_sales', sortable => '{j}');
SELECT pg_dash.define_query('x', 'SELECT id FROM q_sales', range_columns => ARRAY[NULL]);

-- channels named in refresh_on are open to WebSocket clients
SELECT pg_dash.channel_allowed('sales'), pg_dash.channel_allowed('other');

-- validation errors
SELECT pg_dash.define_query('bad name!', 'SELECT 1');
SELECT pg_dash.define_query('x', 'SELEC 1');
SELECT pg_dash.define_query('x', 'SELECT * FROM no_such_table');
SELECT pg_dash.define_query('x', 'SELECT 1; SELECT 2');
SELECT pg_dash.define_query('x', 'DELETE FROM q_sales');
SELECT pg_dash.define_query('x', 'SELECT $1');
SELECT pg_dash.define_query('x', 'SELECT :limit');
SELECT pg_dash.define_query('x', 'SELECT ''unterminated');
SELECT pg_dash.define_query('x', 'SELECT 1', cache_ttl => -1);
SELECT pg_dash.define_query('x', 'SELECT 1', refresh_on => ARRAY['bad channel']);
SELECT pg_dash.define_query(NULL, 'SELECT 1');
SELECT count(*) FROM pg_dash.queries WHERE name = 'x';

-- drop
SELECT pg_dash.drop_query('echo'), pg_dash.drop_query('echo');

-- statistics views exist and start empty for unused queries
SELECT count(*) >= 0 AS ok FROM pg_dash.query_stats;
SELECT count(*) > 0 AS has_series FROM pg_dash.stats;

-- only the owner may define queries
CREATE ROLE q_nobody;
SET ROLE q_nobody;
SELECT pg_dash.define_query('y', 'SELECT 1');
RESET ROLE;
DROP ROLE q_nobody;
