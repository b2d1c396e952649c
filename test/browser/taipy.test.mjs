// Taipy pages as people write them: binding expressions evaluated in the
// browser (the server parses them, www/js/expr.js evaluates them, checked
// here against Python's answers), markdown around inline elements, raw HTML,
// comments, <style>, named blocks, leniency; and what is drawn.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, openPage, shot, sql, waitForChart, BASE } from './helpers.mjs';
import { evalTemplate, ExprError, str } from '../../www/js/expr.js';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

// Each case: an expression as written in a page, and what Python prints for
// f"{...}" with the state below (str() of the value, as Taipy shows it).
const STATE = {
  x: 3.14159, n: 7, big: 1234567.891, p: 0.256, neg: -42, s: 'héllo', flag: true, none: null,
  items: [3, 1, 2], d: { k: 'v', 'a b': 1 }, rows: [{ name: 'A', v: 2 }, { name: 'B', v: 5 }],
  day: '2024-03-05T14:07:09+00:00', half: 2.5, m: 2.675,
};
const CASES = [
  ['{x:.2f}', '3.14'], ['{big:,.2f}', '1,234,567.89'], ['{p:.1%}', '25.6%'], ['{n:05d}', '00007'],
  ['{neg:+d}', '-42'], ['{n:+d}', '+7'], ['{n:>4}|', '   7|'], ['{s:*^9}', '**héllo**'], ['{n:#x}', '0x7'],
  ['{big:_.0f}', '1_234_568'], ['{x:.3e}', '3.142e+00'], ['{x:g}', '3.14159'], ['{day:%d/%m/%Y %H:%M}', '05/03/2024 14:07'],
  ['{day:%A %B %j}', 'Tuesday March 065'],
  ['{n + 1}', '8'], ['{n / 2}', '3.5'], ['{n // 2}', '3'], ['{neg // 5}', '-9'], ['{neg % 5}', '3'], ['{-2 ** 2}', '-4'],
  ['{2 ** -1}', '0.5'], ['{2 ** 3 ** 2}', '512'], ['{1 + 2 * 3 - 4 / 2}', '5'], ['{(1 + 2) * 3}', '9'],
  ['{not flag}', 'False'], ['{flag and n}', '7'], ['{none or "empty"}', 'empty'], ['{0 < n <= 7}', 'True'],
  ['{n == 7.0}', 'True'], ['{"é" in s}', 'True'], ['{4 not in items}', 'True'], ['{none is None}', 'True'],
  ['{"big" if n > 5 else "small"}', 'big'], ['{len(items) > 0}', 'True'], ['{len(s)}', '5'], ['{len(d)}', '2'],
  ['{items[0]}', '3'], ['{items[-1]}', '2'], ['{items[1:]}', '[1, 2]'], ['{items[::-1]}', '[2, 1, 3]'], ['{s[1:3]}', 'él'],
  ['{d["k"]}', 'v'], ['{d["a b"]}', '1'], ['{d.k}', 'v'], ['{rows[1]["v"]}', '5'], ['{rows[0].name}', 'A'],
  ['{str(flag)}', 'True'], ['{str(none)}', 'None'], ['{int("12") + 1}', '13'], ['{int(-3.9)}', '-3'], ['{float("2.5")}', '2.5'],
  ['{round(half)}', '2'], ['{round(3.5)}', '4'], ['{round(m, 2)}', '2.67'], ['{round(x, 3)}', '3.142'], ['{abs(neg)}', '42'],
  ['{list(s)}', "['h', 'é', 'l', 'l', 'o']"], ['{list(d)}', "['k', 'a b']"], ['{list(items) + list()}', '[3, 1, 2]'],
  ['{min(items)}', '1'], ['{max(3, n, 5)}', '7'], ['{sum(items)}', '6'], ['{bool([])}', 'False'],
  ['{[1, "a", None, True]}', "[1, 'a', None, True]"], ['{(1, 2)}', '[1, 2]'], ['{ {"a": 1} }', "{'a': 1}"],
  ['{s!r}', "'héllo'"], ['{f"{n} item{\'s\' if n != 1 else \'\'}"}', '7 items'], ['{"ab" * 2}', 'abab'],
  ['{items + [4]}', '[3, 1, 2, 4]'], ['{{literal}} {n}', '{literal} 7'], ['Total: {n * 2} units', 'Total: 14 units'],
];

test('expressions parsed by the server evaluate as Python does', async () => {
  const source = CASES.map(([e]) => `<|${e.replace(/\|/g, '\\|')}|text|>`).join('\n');
  sql(`SELECT pg_dash.define_page('test/expr-cases', $p$${source}$p$)`);
  const tree = await (await fetch(`${BASE}/api/page/test/expr-cases`)).json();
  const nodes = (tree.tree || tree).children.filter((c) => c.type === 'control');
  assert.equal(nodes.length, CASES.length);
  const lookup = (name) => STATE[name];
  const got = nodes.map((node) => {
    const v = evalTemplate(node.exprs.value, lookup);
    return typeof v === 'string' ? v : str(v);
  });
  for (let i = 0; i < CASES.length; i++) assert.equal(got[i], CASES[i][1], `${CASES[i][0]}`);
  // Python's errors are errors
  const err = (src) => {
    sql(`SELECT pg_dash.define_page('test/expr-err', $p$<|${src}|text|>$p$)`);
    return fetch(`${BASE}/api/page/test/expr-err`).then((r) => r.json()).then((t) => {
      const node = (t.tree || t).children[0];
      return () => evalTemplate(node.exprs.value, lookup);
    });
  };
  assert.throws(await err('{n / 0}'), ExprError);
  assert.throws(await err('{items[7]}'), ExprError);
  assert.throws(await err('{s + n}'), ExprError);
  assert.throws(await err('{d["nope"]}'), ExprError);
  // no way to the prototype chain or to globals
  assert.throws(await err('{d["constructor"]}'), ExprError);
  assert.throws(await err('{d.constructor}'), ExprError);
  assert.throws(await err('{rows[0]["__proto__"]}'), ExprError);
  assert.equal((await err('{window}'))(), undefined);
});

const PAGE = `<style>
body { background: red; }
</style>
[comment]: <> (This page is written as Taipy apps write them)
# Report for <|{who}|text|>

### Count: <|{n * 2}|>
*<|{n}|>* items, <center>centered</center> <br/> and **bold**

Numbers {: .lead}
<!-- <|{hidden}|chrt|> -->

| what | value |
|------|-------|
| double | <|{n * 2:,}|> |
| label | <|{"many" if n > 3 else "few"}|text|> |

<side|part|class_name=sidebar|
    Indented **markdown** in a block
    <|{n}|slider|min=0|max=100|id=n_slider|>
|side>
<|Details|expanded=False|expandable|
Inside
|>
<|{x}|chart|tpye=line|>
<|layout|columns=1 1|
Unclosed at the end: <|{n:03d}|>
`;

test('a Taipy page draws its expressions, markdown and HTML, without literal markup', async () => {
  sql(`SELECT pg_dash.define_page('test/taipy', $p$${PAGE}$p$)`);
  const warnings = sql("SELECT string_agg(w->>'message', ' / ') FROM pg_dash.page_list, jsonb_array_elements(warnings) w WHERE path = 'test/taipy'");
  assert.match(warnings, /<style> block is dropped/);
  assert.match(warnings, /unknown property "tpye" for control "chart" is ignored/);
  assert.match(warnings, /block "layout" is not closed/);
  const page = await newPage(browser);
  await openPage(page, '/p/test/taipy?n=5&who=Ada');
  await page.waitForFunction(() => document.querySelector('article h3')?.textContent.includes('10'), null, { timeout: 10000 });
  const text = await page.$eval('article', (a) => a.innerText);
  for (const markup of ['<|', '|>', '<br/>', '{:', '###', '<center>', '[comment]', 'chrt', 'background']) {
    assert.ok(!text.includes(markup), `"${markup}" is visible in: ${text}`);
  }
  assert.equal(await page.$eval('article h1', (e) => e.textContent.trim()), 'Report for Ada');
  assert.equal(await page.$eval('article h3', (e) => e.textContent.trim()), 'Count: 10');
  assert.equal(await page.$eval('article em', (e) => e.textContent.trim()), '5');
  assert.equal(await page.$eval('article center', (e) => e.textContent), 'centered');
  assert.equal(await page.$$eval('article br', (x) => x.length) > 0, true);
  assert.equal(await page.$eval('article p.lead', (e) => e.textContent.trim()), 'Numbers');
  const cells = await page.$$eval('article table td', (tds) => tds.map((t) => t.textContent.trim()));
  assert.deepEqual(cells, ['double', '10', 'label', 'many']);
  assert.equal(await page.$eval('.sidebar strong', (e) => e.textContent), 'markdown');
  assert.equal(await page.$$eval('.sidebar pre, .sidebar code', (x) => x.length), 0);
  assert.equal(await page.$eval('details summary, .ctl-expandable', (e) => e.textContent.includes('Details')), true);
  assert.match(text, /Unclosed at the end: 005/);
  assert.equal(await page.$$eval('style', (x) => x.filter((s) => s.textContent.includes('background: red')).length), 0);
  assert.notEqual(await page.evaluate(() => getComputedStyle(document.body).backgroundColor), 'rgb(255, 0, 0)');
  await shot(page, 'taipy');

  // expressions re-render when the state they read changes
  await page.evaluate(() => {
    const input = document.querySelector('#n_slider input');
    input.value = '2';
    input.dispatchEvent(new Event('input', { bubbles: true }));
    input.dispatchEvent(new Event('change', { bubbles: true }));
  });
  await page.waitForFunction(() => document.querySelector('article h3')?.textContent.trim() === 'Count: 4', null, { timeout: 10000 });
  const cells2 = await page.$$eval('article table td', (tds) => tds.map((t) => t.textContent.trim()));
  assert.deepEqual(cells2, ['double', '4', 'label', 'few']);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

// The ECharts option of the chart inside selector.
const chartOption = (page, selector) => page.evaluate((sel) => {
  const box = document.querySelector(`${sel} .chart-canvas`);
  const inst = box && window.echarts && window.echarts.getInstanceByDom(box);
  if (!inst) return null;
  const o = inst.getOption();
  return { xAxis: o.xAxis, yAxis: o.yAxis, legend: o.legend, title: o.title, color: o.color,
    series: o.series.map((s) => ({ type: s.type, name: s.name, itemStyle: s.itemStyle, lineStyle: s.lineStyle,
      symbolSize: s.symbolSize, yAxisIndex: s.yAxisIndex, stack: s.stack, areaStyle: s.areaStyle })) };
}, selector);

test('a chart applies Taipy\'s Plotly-style layout and trace properties; a layout has mobile columns', async () => {
  sql("SELECT pg_dash.define_query('test_plotly', 'SELECT g AS x, g * 2 AS a, g * 3 AS b FROM generate_series(1, 5) g')");
  sql(`SELECT pg_dash.define_page('test/plotly', $p$# Plotly
<|{test_plotly}|chart|id=pc|x=x|y[1]=a|y[2]=b|color[1]=#ff0000|type[2]=bar|name[2]=Bees|line.dash[1]=dot|marker.size=9|layout.xaxis.title=Time axis|layout.yaxis.range=[0, 20]|layout.showlegend=False|options.opacity=0.5|layout.annotations=x|>
<|{test_plotly}|chart|id=pc2|x=x|y=a|y[2]=b|yaxis[2]=y2|options[2]={ {"fill": "tozeroy"} }|layout={ {"xaxis": {"title": {"text": "From dict"}}, "yaxis2": {"title": "Right"}, "colorway": ["#00aa00", "#0000aa"], "bogus": 1} }|>
<|layout|id=lay|columns=1 1 1|columns[mobile]=1 1|
a

b

c
|>
$p$)`);
  const warnings = sql("SELECT string_agg(w->>'message', ' / ') FROM pg_dash.page_list, jsonb_array_elements(warnings) w WHERE path = 'test/plotly'");
  assert.match(warnings, /chart property "layout.annotations" has no equivalent in pg_dash's charts and is ignored/);
  assert.doesNotMatch(warnings, /layout.xaxis.title|color\[1\]|line.dash|yaxis\[2\]|options\[2\]/);
  const page = await newPage(browser);
  const consoleWarnings = [];
  page.on('console', (m) => { if (m.type() === 'warning') consoleWarnings.push(m.text()); });
  await openPage(page, '/p/test/plotly');
  await waitForChart(page, '#pc');
  await waitForChart(page, '#pc2');
  const o = await chartOption(page, '#pc');
  assert.equal(o.xAxis[0].name, 'Time axis');
  assert.deepEqual([o.yAxis[0].min, o.yAxis[0].max], [0, 20]);
  assert.equal(o.legend[0].show, false);
  assert.equal(o.series[0].type, 'line');
  assert.equal(o.series[0].itemStyle.color, '#ff0000');
  assert.equal(o.series[0].lineStyle.type, 'dotted');
  assert.equal(o.series[0].symbolSize, 9);
  assert.equal(o.series[0].itemStyle.opacity, 0.5);
  assert.equal(o.series[1].type, 'bar');
  assert.equal(o.series[1].name, 'Bees');
  const o2 = await chartOption(page, '#pc2');
  assert.equal(o2.xAxis[0].name, 'From dict');
  assert.equal(o2.yAxis.length, 2);
  assert.equal(o2.yAxis[1].name, 'Right');
  assert.equal(o2.series[1].yAxisIndex, 1);
  assert.ok(o2.series[1].areaStyle, 'options[2].fill gives an area');
  assert.equal(o2.series[0].areaStyle, undefined);
  assert.deepEqual(o2.color, ['#00aa00', '#0000aa']);
  assert.ok(consoleWarnings.some((w) => /without an ECharts equivalent are ignored: bogus/.test(w)), consoleWarnings.join('\n'));
  const cols = (p) => p.$eval('#lay', (e) => getComputedStyle(e).gridTemplateColumns.split(' ').length);
  assert.equal(await cols(page), 3);
  await shot(page, 'taipy-plotly');
  assert.deepEqual(page.errors, []);
  await page.context().close();
  const narrow = await newPage(browser, { width: 500, height: 900 });
  await openPage(narrow, '/p/test/plotly');
  await narrow.waitForSelector('#lay', { timeout: 10000 });
  assert.equal(await cols(narrow), 2);
  assert.deepEqual(narrow.errors, []);
  await narrow.context().close();
});
