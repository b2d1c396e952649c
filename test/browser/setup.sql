-- Data, named queries, actions and pages for the browser tests
-- (scripts/run-browser-tests.sh loads it into a throw-away cluster where
-- the role dash_web, pg_dash.role, exists).

-- Sales per hour and region: the selector/chart/table page.
CREATE TABLE sales (hour timestamptz, region text, total double precision);
INSERT INTO sales
SELECT timestamptz '2026-01-01 00:00+00' + h * interval '1 hour', r.region,
       r.base + h * r.slope
FROM generate_series(0, 23) h,
     (VALUES ('North', 100, 1), ('South', 1000, 10), ('East', 50, 2), ('West', 500, -5)) r(region, base, slope);

-- Readings appended by the tests: INSERT + NOTIFY must reach the chart.
CREATE TABLE readings (ts timestamptz NOT NULL DEFAULT now(), value double precision NOT NULL);
INSERT INTO readings (ts, value)
SELECT timestamptz '2026-01-01 00:00+00' + i * interval '1 minute', i % 10 FROM generate_series(1, 5) i;

-- Many rows for table paging.
CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL, price numeric NOT NULL);
INSERT INTO items SELECT i, 'item ' || i, (i * 7 % 100) + 0.5 FROM generate_series(1, 95) i;

-- A series to zoom into (1 % of the ten million rows of the benchmark),
-- with an index on x.
CREATE TABLE zoom_series (ts timestamptz NOT NULL, v double precision NOT NULL);
INSERT INTO zoom_series
SELECT timestamptz '2026-01-01 00:00+00' + i * interval '1 second', sin(i / 500.0) * 50 + (i % 13)
FROM generate_series(1, 100000) i;
CREATE INDEX ON zoom_series (ts);
ANALYZE zoom_series;

-- Ten million points: the chart must ask for a downsampled series.
CREATE UNLOGGED TABLE big_series (t bigint PRIMARY KEY, v double precision NOT NULL);
INSERT INTO big_series SELECT i, sin(i / 100000.0) * 100 + (i % 97) / 10.0 FROM generate_series(1, 10000000) i;
ANALYZE big_series;

-- Fixture pages (/work/shared/fixtures/pages): orders, genes, query results, realtime data.
CREATE TABLE orders (id serial PRIMARY KEY, ts timestamptz NOT NULL DEFAULT now());
INSERT INTO orders (ts) SELECT now() - (i * interval '37 seconds') FROM generate_series(1, 90) i;
CREATE TABLE genes (gene text PRIMARY KEY);
INSERT INTO genes VALUES ('BRCA1'), ('EGFR'), ('TP53');
CREATE TABLE variations (gene text NOT NULL, chromosome text NOT NULL, position integer NOT NULL);
INSERT INTO variations
SELECT (ARRAY['BRCA1', 'EGFR', 'TP53'])[1 + i % 3], 'chr' || (1 + i % 7), (i * 7919) % 1000000
FROM generate_series(1, 3000) i;
CREATE TABLE realtime (ts timestamptz NOT NULL, value double precision NOT NULL);
INSERT INTO realtime SELECT timestamptz '2026-01-01 00:00+00' + i * interval '1 second', (i * 13) % 50 FROM generate_series(1, 60) i;

GRANT SELECT ON sales, readings, items, big_series, zoom_series, orders, genes, variations, realtime TO dash_web;

SELECT pg_dash.define_channel('readings');
SELECT pg_dash.define_channel('realtime');

SELECT pg_dash.define_query('sales_by_hour',
  'SELECT hour, sum(total) AS total FROM sales WHERE region = coalesce(:region, ''North'') GROUP BY hour ORDER BY hour',
  'Sales per hour of the selected region', 0, NULL);
SELECT pg_dash.define_query('readings_live', 'SELECT ts, value FROM readings ORDER BY ts',
  'Readings, refreshed on NOTIFY readings', 0, ARRAY['readings']);
SELECT pg_dash.define_query('items_all', 'SELECT id, name, price FROM items',
  'Rows for table paging', 0, NULL, sortable => ARRAY['id', 'name'], allow_count => true);
SELECT pg_dash.define_query('items_uncounted', 'SELECT id, name, price FROM items ORDER BY id',
  'Rows for table paging, neither sorted nor counted by clients', 0, NULL);
SELECT pg_dash.define_query('zoom_series', 'SELECT ts, v FROM zoom_series ORDER BY ts',
  'A series a chart zooms into', 60, NULL, range_columns => ARRAY['ts']);
SELECT pg_dash.define_query('big_series', 'SELECT t, v FROM big_series ORDER BY t',
  'Ten million points', 0, NULL);
SELECT pg_dash.define_query('orders_last_hour',
  'SELECT date_trunc(''minute'', ts) AS minute, count(*) AS orders FROM orders WHERE ts > now() - interval ''1 hour'' GROUP BY 1 ORDER BY 1',
  'Orders per minute over the last hour', 0, NULL);
SELECT pg_dash.define_query('gene_list', 'SELECT gene FROM genes ORDER BY gene', 'Genes', 0, NULL);
SELECT pg_dash.define_query('variation_df',
  'SELECT position, chromosome FROM variations WHERE gene = coalesce(:selected_gene, ''BRCA1'') ORDER BY position',
  'SNPs of the selected gene', 0, NULL);
SELECT pg_dash.define_query('query_result', 'SELECT id, name, price FROM items ORDER BY id LIMIT 12',
  'Result of the query page', 0, NULL);
SELECT pg_dash.define_query('realtime_data', 'SELECT ts AS "timestamp", value FROM realtime ORDER BY ts',
  'Realtime values', 0, ARRAY['realtime']);

-- Actions: f(state jsonb, payload jsonb) RETURNS jsonb (the keys to change).
CREATE FUNCTION bump(state jsonb, payload jsonb) RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_build_object('counter', coalesce((state->>'counter')::int, 0) + 1,
                            'message', 'bumped to ' || (coalesce((state->>'counter')::int, 0) + 1))
$$;
CREATE FUNCTION fail_action(state jsonb, payload jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the action failed on purpose' USING HINT = 'This is what the test expects.';
END
$$;
CREATE FUNCTION submit_query(state jsonb, payload jsonb) RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_build_object('processing_status', '處理完成',
                            'result_data', '查詢: ' || coalesce(state->>'query_input', ''))
$$;
CREATE FUNCTION run_query(state jsonb, payload jsonb) RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_build_object('last_run', now()::text)
$$;
CREATE FUNCTION run_blast(state jsonb, payload jsonb) RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_build_object('blast_gene', state->'selected_gene')
$$;
GRANT EXECUTE ON FUNCTION bump(jsonb, jsonb), fail_action(jsonb, jsonb), submit_query(jsonb, jsonb),
  run_query(jsonb, jsonb), run_blast(jsonb, jsonb) TO dash_web;

SELECT pg_dash.define_action('bump', 'bump(jsonb, jsonb)');
SELECT pg_dash.define_action('fail_action', 'fail_action(jsonb, jsonb)');
SELECT pg_dash.define_action('submit_query', 'submit_query(jsonb, jsonb)');
SELECT pg_dash.define_action('run_query', 'run_query(jsonb, jsonb)');
SELECT pg_dash.define_action('run_blast', 'run_blast(jsonb, jsonb)');

-- Test pages.
SELECT pg_dash.define_page('sales', $page$
# Sales 銷售

Pick a *region*; the chart and the table follow. Raw HTML is sanitized: <b onclick="window.__xss=1">bold</b> <a href="javascript:window.__xss=2">link</a><script>window.__xss=3</script>

<|layout|columns=1 2|
<|{region}|selector|lov=North;South;East;West|dropdown|label=Region|id=region_selector|>
<|{sales_by_hour}|chart|type=line|x=hour|y=total|id=sales_chart|title=Sales|>
|>

<|{sales_by_hour}|table|page_size=10|id=sales_table|>
$page$, 'Sales');

SELECT pg_dash.define_page('actions', $page$
# Actions

<|Bump|button|on_action=bump|id=bump_button|>
<|Fail|button|on_action=fail_action|id=fail_button|>

Counter: <|{counter}|text|id=counter_text|>

<|{message}|text|id=message_text|>
$page$, 'Actions');

SELECT pg_dash.define_page('live', $page$
# Live readings

<|{readings_live}|chart|type=bar|x=ts|y=value|id=live_chart|>
$page$, 'Live');

SELECT pg_dash.define_page('paging', $page$
# Paging

<|{items_all}|table|page_size=10|id=items_table|>
$page$, 'Paging');

SELECT pg_dash.define_page('paging_uncounted', $page$
# Paging without a count

<|{items_uncounted}|table|page_size=10|id=uncounted_table|>
$page$, 'Paging without a count');

SELECT pg_dash.define_page('zoom', $page$
# Zoom

<|{zoom_series}|chart|type=line|x=ts|y=v|id=zoom_chart|>
$page$, 'Zoom');

SELECT pg_dash.define_page('big', $page$
# Ten million points

<|{big_series}|chart|type=line|x=t|y=v|id=big_chart|>
$page$, 'Big');

SELECT pg_dash.define_page('widgets', $page$
# Widgets

<|{name}|input|label=Name|id=name_input|>
<|{n}|number|min=0|max=10|id=n_number|>
<|{level}|slider|min=0|max=100|step=5|id=level_slider|>
<|{flag}|toggle|id=flag_toggle|>
<|{day}|date|id=day_date|>
<|{level}|metric|title=Level|max=100|threshold=80|>
<|{level}|gauge|min=0|max=100|title=Gauge|>
<|{level}|progress|>
<|{level}|indicator|min=0|max=100|>
<|Hello {name}!|text|id=greeting|>
<|{items_all}|file_download|label=CSV|id=csv_link|>
<|{items_all}|chart|type=pie|x=name|y=price|>
<|{items_all}|chart|type=histogram|x=price|>
<|{items_all}|chart|type=scatter|x=id|y=price|size=price|>
<|Details|expandable|
More text inside.
|>
$page$, 'Widgets');

-- Values from the session state in a download link, an image and markdown
-- text: url.test.mjs feeds them every known way of hiding a javascript: URL.
SELECT pg_dash.define_page('links', $page$
# Links

<|{dl}|file_download|label=File|id=dl_link|>
<|{img}|image|label=Picture|id=img_box|>
<|{md}|text|mode=markdown|id=md_text|>
$page$, 'Links');

-- A 3-D chart: echarts-gl needs eval, so only this page's document has
-- 'unsafe-eval' in its Content-Security-Policy.
SELECT pg_dash.define_page('threed', $page$
# Three dimensions

<|{items_all}|chart|type=scatter3d|x=id|y=price|z=id|id=chart_3d|>
$page$, '3-D');

-- The fixture pages, as shipped in /work/shared/fixtures/pages.
SELECT pg_dash.define_page('auto_refresh', $page$
# Orders in the last hour

<|{None}|schedule|on_action=run_query|interval=5000|>

<|{orders_last_hour}|chart|type=bar|x=minute|y=orders|>
$page$);
SELECT pg_dash.define_page('big_data_platform', $page$
# 大數據分析平台

<|{query_input}|input|label=輸入查詢|>
<|提交|button|on_action=submit_query|>

## 處理狀態
<|{processing_status}|text|>

## 分析結果
<|{result_data}|text|>

## 實時數據流
<|{realtime_data}|text|id=realtime_section|>
$page$);
SELECT pg_dash.define_page('genome', $page$
# Genome variation

<|{selected_gene}|selector|lov={gene_list}|on_change=run_blast|>

<|{variation_df}|chart|type=density|title=SNP分布熱圖|x=position|y=chromosome|>
$page$);
SELECT pg_dash.define_page('query_dashboard', $page$
<|layout.columns|
<|
## 數據查詢
<|{current_query}|input|multiline=True|class_name=fullwidth|>
<|運行查詢|button|on_action=run_query|>

### 查詢結果
<|{query_result}|table|page_size=5|>
|>

<|
## 可視化配置
圖表類型：<|{chart_type}|selector|lov=line;bar;pie|>

### 實時數據流
<|{realtime_data}|chart|type={chart_type}|x=timestamp|y=value|id=realtime_chart|>
|>
|>
$page$);

-- Taipy's missing elements (test/browser/elements.test.mjs): a multi-page
-- app under a frame page, uploads, chat, tree, menu, scenario panels and
-- unbound values.
CREATE TABLE uploads (id serial PRIMARY KEY, name text NOT NULL, encoding text NOT NULL,
                      bytes bytea NOT NULL, at timestamptz NOT NULL DEFAULT now());
CREATE FUNCTION store_upload(state jsonb, payload jsonb) RETURNS jsonb LANGUAGE sql AS $$
    INSERT INTO uploads (name, encoding, bytes)
    VALUES (payload ->> 'name', payload ->> 'encoding',
            CASE payload ->> 'encoding' WHEN 'base64' THEN decode(payload ->> 'content', 'base64')
                 ELSE convert_to(payload ->> 'content', 'UTF8') END)
    RETURNING jsonb_build_object('uploaded_bytes', octet_length(bytes))
$$;
CREATE TABLE chat (id serial PRIMARY KEY, body text NOT NULL, sender text NOT NULL);
CREATE FUNCTION send_chat(state jsonb, payload jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO chat (body, sender) VALUES (payload ->> 'message', payload ->> 'sender_id');
    PERFORM pg_notify('chat', '');
    RETURN NULL;
END
$$;
CREATE FUNCTION go_home(state jsonb, payload jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_dash.navigate('test/app/home');
    RETURN jsonb_build_object('came_from', 'about');
END
$$;
CREATE FUNCTION menu_pick(state jsonb, payload jsonb) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object('picked', payload -> 'value')
$$;
CREATE TABLE places (id text PRIMARY KEY, label text NOT NULL, parent text REFERENCES places);
INSERT INTO places VALUES ('eu', 'Europe', NULL), ('fr', 'France', 'eu'), ('de', 'Germany', 'eu'),
    ('paris', 'Paris', 'fr'), ('as', 'Asia', NULL), ('jp', 'Japan', 'as');
GRANT SELECT, INSERT ON uploads, chat TO dash_web;
GRANT USAGE ON SEQUENCE uploads_id_seq, chat_id_seq TO dash_web;
GRANT SELECT ON places TO dash_web;
SELECT pg_dash.define_action('store_upload', 'store_upload(jsonb, jsonb)'::regprocedure);
SELECT pg_dash.define_action('send_chat', 'send_chat(jsonb, jsonb)'::regprocedure);
SELECT pg_dash.define_action('go_home', 'go_home(jsonb, jsonb)'::regprocedure);
SELECT pg_dash.define_action('menu_pick', 'menu_pick(jsonb, jsonb)'::regprocedure);
SELECT pg_dash.define_query('chat_messages', 'SELECT id, body, sender FROM chat ORDER BY id',
  'The chat, newest last', 0, ARRAY['chat']);
SELECT pg_dash.define_query('place_tree', 'SELECT id, label, parent FROM places ORDER BY label',
  'Places as (id, label, parent)', 0, NULL);

SELECT pg_dash.define_page('test/app', $page$
# Field office
<|navbar|id=app_nav|>
<|toggle|theme|id=theme_toggle|>
<|content|>
$page$);
SELECT pg_dash.define_page('test/app/about', $page$
## About
<|Back home|button|on_action=go_home|id=go_home|>
$page$, 'About');
SELECT pg_dash.define_page('test/app/home', $page$
## Home
Read [about us](about).
Came from: <|{came_from}|text|id=came_from|>
$page$, 'Home');
SELECT pg_dash.define_page('test/upload', $page$
# Upload
<|{upload_name}|file_selector|label=Send a file|on_action=store_upload|extensions=.csv,.bin,.txt|id=up|>
<|{big_name}|file_selector|label=Small files only|on_action=store_upload|max_file_size=100|id=up_small|>
<|{huge_name}|file_selector|label=Anything|on_action=store_upload|max_file_size=10000000|id=up_huge|>
<|Uploaded: {upload_name}|id=up_done|>
$page$);
SELECT pg_dash.define_page('test/chat', $page$
# Chat
<|{chat_messages}|chat|users={[("alice", "Alice"), ("bob", "Bob")]}|sender_id={me or "alice"}|show_sender|on_action=send_chat|id=chat|>
$page$);
SELECT pg_dash.define_page('test/tree', $page$
# Places
<|{place}|tree|lov={place_tree}|label=Place|id=places|>
<|Chosen: {place}|id=chosen|>
$page$);
SELECT pg_dash.define_page('test/menu', $page$
# Menu
<|menu|lov={[("r", "Reports"), ("s", "Settings"), ("x", "Archive")]}|inactive_ids=x|on_action=menu_pick|label=Sections|id=sections|>
<|menu|label=Pages|id=pages_menu|>
<|Picked: {picked}|id=picked|>
$page$);
SELECT pg_dash.define_page('test/scenario', $page$
# Plan
<|{sc}|scenario_selector|>
<|{sc}|scenario|>
<|{dn}|data_node|>
After the panels: <|{2 + 2}|id=after|>
$page$);
SELECT pg_dash.define_page('test/unbound', $page$
# Not yet
<|{nothing_here}|text|id=t_empty|>
<|{nothing_chart}|chart|type=line|x=a|y=b|title=Arrives later|id=c_empty|>
<|{nothing_n}|slider|min=10|max=90|id=s_empty|>
<|{g}|gauge|min=0|max=100|title=Load|id=g1|>
$page$);
