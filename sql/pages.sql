-- Pages, actions and the lttb aggregate from SQL: define_page() with the
-- parser's errors, the fixture pages, drop_page() and page_list,
-- define_action() signature checks, and LTTB against reference output.
SET client_min_messages = warning;
-- quietly: the extension may exist already when the suites run together
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_dash;
RESET client_min_messages;
RESET client_min_messages;
\set VERBOSITY default

-- a valid page: the title comes from the first heading
SELECT pg_dash.define_page('sales', $page$
# Sales
<|layout|columns=1 2|
<|{region}|selector|lov=North;South|>
<|{sales}|chart|type=line|x=hour|y=total|>
|>
Type: <|Go|button|on_action=run_query|>
$page$, description => 'Sales by hour');
SELECT path, title, description, bindings, actions FROM pg_dash.page_list;
SELECT jsonb_pretty(tree) FROM pg_dash.pages WHERE path = 'sales';
SELECT created_at = updated_at AS fresh FROM pg_dash.pages WHERE path = 'sales';

-- an explicit title wins; redefining replaces
SELECT pg_dash.define_page('sales', '# Sales' || chr(10) || '<|{sales}|table|>', 'Sales table');
SELECT path, title, description, bindings, actions FROM pg_dash.page_list;

-- the title skips fenced code and closing hashes; no heading: no title
SELECT pg_dash.define_page('ops/disk-usage', $page$
```
# not a title
```
Some text.
## Disk usage ##
<|{disk}|table|>
$page$);
SELECT pg_dash.define_page('no-title', '<|{x}|text|>');
SELECT path, title FROM pg_dash.page_list ORDER BY path;

-- rejected pages: what cannot render, with its line and column
SELECT pg_dash.define_page('bad', $page$# Bad
<|{x}|chrt|type=line|>
$page$);
SELECT pg_dash.define_page('bad', 'Text <|{1x}|text|>');
SELECT pg_dash.define_page('bad', '|>');
SELECT pg_dash.define_page('bad', '<|{np.mean(x)}|text|>');
SELECT pg_dash.define_page('bad', '<|{lambda r: r.id}|selector|>');
SELECT pg_dash.define_page('bad', '<|{x:.2q}|text|>');
SELECT count(*) AS stored_bad FROM pg_dash.pages WHERE path = 'bad';

-- accepted as Taipy accepts them, each doubt a notice, kept in page_list
SELECT pg_dash.define_page('lenient', $page$# Lenient
<|{x}|chart|tpye=line|data={y}|>
<|layout|columns=1 2|
<|{total:,.2f} of {len(items)}|button|not label=1|>
$page$);
SELECT path, bindings, w ->> 'line' AS line, w ->> 'column' AS col, w ->> 'message' AS message
FROM pg_dash.page_list, jsonb_array_elements(warnings) w WHERE path = 'lenient';
SELECT jsonb_pretty(tree -> 'children' -> 1) AS chart FROM pg_dash.pages WHERE path = 'lenient';
-- a chart's Plotly names without an ECharts equivalent, an element left
-- without "|>", a title taken from a heading with markdown in it
SELECT pg_dash.define_page('lenient', $page$# Approximating **Pi**{: .color-primary}
<|{d}|chart|layout.xaxis.title=Time|layout.annotations=a|color[2]=red|text[2]=t|>
<|{t}|time|format=hh aa>
$page$);
SELECT title, w ->> 'line' AS line, w ->> 'column' AS col, w ->> 'message' AS message
FROM pg_dash.page_list, jsonb_array_elements(warnings) w WHERE path = 'lenient';
SELECT pg_dash.define_page('lenient', '<|{total:,.2f} of {len(items)}|text|>');
SELECT jsonb_pretty(tree) AS expressions, warnings FROM pg_dash.pages JOIN pg_dash.page_list USING (path) WHERE path = 'lenient';
SELECT pg_dash.drop_page('lenient');

-- the 0.2.0 upgrade parses stored pages again (trees without "exprs" are
-- 0.1.0's); the loop of sql/pg_dash--0.1.0--0.2.0.sql
INSERT INTO pg_dash.pages (path, source, tree)
VALUES ('old-form', '# Old' || chr(10) || '<|{x}|text|>' || chr(10) || '<|{y}|chart|tpye=bar|>',
        '{"type":"page","bindings":["x"],"actions":[],"children":[]}');
SET client_min_messages = warning;
DO $$
DECLARE
    pg record;
BEGIN
    FOR pg IN SELECT path, source, title, description, updated_at FROM pg_dash.pages ORDER BY path LOOP
        BEGIN
            PERFORM pg_dash.define_page(pg.path, pg.source, pg.title, pg.description);
            -- the page itself did not change
            UPDATE pg_dash.pages SET updated_at = pg.updated_at WHERE path = pg.path;
        EXCEPTION WHEN syntax_error THEN
            RAISE WARNING 'page "%" was not converted: %', pg.path, SQLERRM;
        END;
    END LOOP;
END
$$;
RESET client_min_messages;
SELECT title, bindings, tree -> 'children' -> 1 -> 'exprs' AS exprs, jsonb_array_length(warnings) AS warnings
FROM pg_dash.page_list JOIN pg_dash.pages USING (path, title, bindings) WHERE path = 'old-form';
SELECT pg_dash.drop_page('old-form');

-- invalid paths and nulls
SELECT pg_dash.define_page('Sales', '# x');
SELECT pg_dash.define_page('/sales', '# x');
SELECT pg_dash.define_page('a//b', '# x');
SELECT pg_dash.define_page('a/', '# x');
SELECT pg_dash.define_page('_a', '# x');
SELECT pg_dash.define_page(repeat('a', 129), '# x');
SELECT pg_dash.define_page(NULL, '# x');
SELECT pg_dash.define_page('x', NULL);
\set VERBOSITY terse
INSERT INTO pg_dash.pages (path, source, tree) VALUES ('Bad Path', '', '{}');
\set VERBOSITY default

-- the fixture pages of /work/shared/fixtures/pages are accepted
SELECT pg_dash.define_page('fixtures/auto-refresh', $page$# Orders in the last hour

<|{None}|schedule|on_action=run_query|interval=5000|>

<|{orders_last_hour}|chart|type=bar|x=minute|y=orders|>
$page$);
SELECT pg_dash.define_page('fixtures/big-data-platform', $page$# 大數據分析平台

<|{query_input}|input|label=輸入查詢|>
<|提交|button|on_action=submit_query|>

## 處理狀態
<|{processing_status}|text|>

## 分析結果
<|{result_data}|text|>

## 實時數據流
<|{realtime_data}|text|id=realtime_section|>
$page$);
SELECT pg_dash.define_page('fixtures/genome', $page$# Genome variation

<|{selected_gene}|selector|lov={gene_list}|on_change=run_blast|>

<|{variation_df}|chart|type=density|title=SNP分布熱圖|x=position|y=chromosome|>
$page$);
SELECT pg_dash.define_page('fixtures/query-dashboard', $page$<|layout.columns|
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
SELECT path, title, bindings, actions FROM pg_dash.page_list WHERE path LIKE 'fixtures/%' ORDER BY path;
SELECT jsonb_pretty(tree) FROM pg_dash.pages WHERE path = 'fixtures/query-dashboard';

-- redefining a named query that pages bind runs the invalidating trigger
SELECT pg_dash.define_query('orders_last_hour', 'SELECT 1 AS minute, 2 AS orders');
SELECT pg_dash.drop_query('orders_last_hour');

-- drop_page
SELECT pg_dash.drop_page('no-title');
SELECT pg_dash.drop_page('no-title');
SELECT count(*) FROM pg_dash.page_list;

-- only the owner may change pages and actions
SELECT p.proname, bool_or(a.grantee = 0) AS public_can_execute
FROM pg_proc p CROSS JOIN LATERAL aclexplode(p.proacl) a
WHERE p.pronamespace = 'pg_dash'::regnamespace
  AND p.proname IN ('define_page', 'drop_page', 'define_action', 'drop_action')
GROUP BY p.proname ORDER BY p.proname;

-- actions: function(state jsonb, payload jsonb) RETURNS jsonb
CREATE FUNCTION public.pick_region(state jsonb, payload jsonb) RETURNS jsonb
LANGUAGE sql AS $$ SELECT jsonb_build_object('region', payload) $$;
CREATE FUNCTION public.one_arg(state jsonb) RETURNS jsonb LANGUAGE sql AS $$ SELECT state $$;
CREATE FUNCTION public.returns_text(state jsonb, payload jsonb) RETURNS text LANGUAGE sql AS $$ SELECT '' $$;
CREATE FUNCTION public.returns_set(state jsonb, payload jsonb) RETURNS SETOF jsonb LANGUAGE sql AS $$ SELECT state $$;
CREATE FUNCTION public.json_args(state json, payload json) RETURNS jsonb LANGUAGE sql AS $$ SELECT '{}'::jsonb $$;
CREATE PROCEDURE public.a_procedure(state jsonb, payload jsonb) LANGUAGE sql AS $$ SELECT 1 $$;
SELECT pg_dash.define_action('pick_region', 'public.pick_region(jsonb, jsonb)', 'Sets the region');
SELECT pg_dash.define_action('one_arg', 'public.one_arg(jsonb)');
SELECT pg_dash.define_action('returns_text', 'public.returns_text(jsonb, jsonb)');
SELECT pg_dash.define_action('returns_set', 'public.returns_set(jsonb, jsonb)');
SELECT pg_dash.define_action('json_args', 'public.json_args(json, json)');
SELECT pg_dash.define_action('a_procedure', 'public.a_procedure(jsonb, jsonb)');
SELECT pg_dash.define_action('bad name', 'public.pick_region(jsonb, jsonb)');
SELECT pg_dash.define_action('missing', 'public.nothing_here(jsonb, jsonb)');
SELECT pg_dash.define_action('gone', 1::regprocedure);
SELECT pg_dash.define_action('pick_region', 'public.pick_region(jsonb, jsonb)', 'Sets the region, again');
SELECT name, function, description FROM pg_dash.actions ORDER BY name;
SELECT pg_dash.drop_action('pick_region');
SELECT pg_dash.drop_action('pick_region');

-- lttb on the reference series: the indices kept are those of the
-- reference implementation (downsample-lttb 0.0.1 and downsample 1.4.0,
-- see test/unit/test_lttb.c)
CREATE TEMP TABLE series AS
SELECT i, i * 3 + (i % 4) * 0.5 AS x, ((i * 37 + 11) % 101) - 50 + (i % 7) * 2.5 AS y
FROM generate_series(0, 999) AS i;
CREATE FUNCTION pg_temp.kept(points jsonb) RETURNS int[] LANGUAGE sql AS $$
    SELECT array_agg(s.i ORDER BY s.i)
    FROM jsonb_array_elements(points) AS p JOIN series s ON s.x = (p ->> 0)::float8
$$;
SELECT pg_temp.kept(pg_dash.lttb(x, y, 10)) FROM series WHERE i < 100;
SELECT pg_temp.kept(pg_dash.lttb(x, y, 17)) FROM series WHERE i < 100;
SELECT pg_temp.kept(pg_dash.lttb(x, y, 3)) FROM series WHERE i < 100;
SELECT pg_temp.kept(pg_dash.lttb(x, y, 8)) FROM series WHERE i < 57;
SELECT pg_temp.kept(pg_dash.lttb(x, y, 25)) FROM series;
-- the order of the input does not matter
SELECT pg_temp.kept(pg_dash.lttb(x, y, 10)) FROM (SELECT * FROM series WHERE i < 100 ORDER BY y) s;
-- the result itself
SELECT pg_dash.lttb(x, y, 10) FROM series WHERE i < 100;
-- fewer rows than n: all of them; NULLs are skipped; no rows: NULL
SELECT pg_dash.lttb(x, y, 10) FROM series WHERE i < 4;
SELECT pg_dash.lttb(x, CASE WHEN i = 1 THEN NULL ELSE y END, 10) FROM series WHERE i < 4;
SELECT pg_dash.lttb(x, y, 10) FROM series WHERE false;
SELECT pg_dash.lttb(x, y, 3) FROM (VALUES (1, 'NaN'::float8), (2, 'Infinity'), (3, 1), (4, '-Infinity')) v(x, y);
SELECT pg_dash.lttb(x, y, 2) FROM series;
SELECT pg_dash.lttb(x, y, NULL) FROM series;
-- per group
SELECT i % 2 AS g, jsonb_array_length(pg_dash.lttb(x, y, 5)) FROM series GROUP BY 1 ORDER BY 1;
-- timestamptz: the same points, x as ISO 8601
SET timezone = 'UTC';
SELECT pg_temp.kept((SELECT jsonb_agg(jsonb_build_array(
           extract(epoch FROM (p ->> 0)::timestamptz - '2026-01-01') , p -> 1))
       FROM jsonb_array_elements(pg_dash.lttb('2026-01-01'::timestamptz + x * interval '1 second', y, 10)) p))
FROM series WHERE i < 100;
SELECT pg_dash.lttb('2026-01-01'::timestamptz + x * interval '1 second', y, 4) FROM series WHERE i < 20;
