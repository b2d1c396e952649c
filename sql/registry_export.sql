-- pg_dash.export(): every definition as a script of define_*() calls.
-- quietly: the extension may exist already when the suites run together
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_dash;
RESET client_min_messages;

-- in a transaction that is rolled back, on an empty registry
BEGIN;
DELETE FROM pg_dash.pages;
DELETE FROM pg_dash.queries;
DELETE FROM pg_dash.actions;
DELETE FROM pg_dash.channels;
CREATE TABLE x_orders (id int, region text, note text);
CREATE FUNCTION x_reset(state jsonb, payload jsonb) RETURNS jsonb
LANGUAGE sql AS $$ SELECT '{}'::jsonb $$;

-- the script as it is, without psql's table around it
\pset format unaligned
\pset tuples_only on

-- an empty registry exports only the header
SELECT pg_dash.export();

-- every option of every kind; quotes and backslashes; NULLs
SELECT pg_dash.define_page('orders', E'# Orders\n<|{orders}|table|>\n<|Reset|button|on_action=reset|>\n',
                           description => 'Per region');
SELECT pg_dash.define_action('reset', 'x_reset(jsonb, jsonb)');
SELECT pg_dash.define_query('orders', $$SELECT id, note FROM x_orders WHERE region = :region AND note <> 'it''s \ here'$$,
                            'Orders of a region', 10, ARRAY['orders', 'refunds']);
SELECT pg_dash.define_query('all_orders', 'SELECT id FROM x_orders', sortable => '{id}', allow_count => true,
                            range_columns => '{*}');
SELECT pg_dash.define_channel('orders', 'New orders');
SELECT pg_dash.define_channel('bare');
SELECT pg_dash.export();
\pset format aligned
\pset tuples_only off
ROLLBACK;

-- only privileged roles may export
CREATE ROLE x_nobody;
SET ROLE x_nobody;
SELECT pg_dash.export();
RESET ROLE;
DROP ROLE x_nobody;
