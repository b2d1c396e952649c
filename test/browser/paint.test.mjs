// The way to a page's first chart has no needless waits (issue 18, "pages
// that paint in under a second"): the document of /p/<path> carries the
// page, so the browser never asks for it; the session state and the query
// list are asked for at once, not one after the other; the application is
// one module; and only the ECharts modules of the chart kinds a page shows
// are loaded, their chunks at once (the whole of ECharts only for a page
// that may show 3-D).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, launch, newPage, openPage, sql, waitForChart } from './helpers.mjs';

let browser;
before(async () => {
  browser = await launch();
  sql(`SELECT pg_dash.define_page('paint/line', $p$# Line
<|{sales_by_hour}|chart|type=line|x=hour|y=total|id=paint_line|>

[Bar and pie](/p/paint/bars)
$p$)`);
  sql(`SELECT pg_dash.define_page('paint/bars', $p$# Bars
<|{sales_by_hour}|chart|type=bar|x=hour|y=total|id=paint_bar|>
<|{sales_by_hour}|chart|type=pie|x=hour|y=total|id=paint_pie|>
$p$)`);
});
after(async () => {
  sql("SELECT pg_dash.drop_page('paint/line'), pg_dash.drop_page('paint/bars')");
  await browser?.close();
});

// Records the page's requests to the server: [{path, method, start, end}],
// times in ms from the first request.
function recordRequests(page) {
  const reqs = [];
  const t0 = Date.now();
  const find = (r) => reqs.find((x) => x.req === r);
  page.on('request', (r) => {
    if (!r.url().startsWith(BASE)) return;
    reqs.push({ req: r, path: new URL(r.url()).pathname, method: r.method(), start: Date.now() - t0, end: null });
  });
  const done = (r) => { const x = find(r); if (x && x.end === null) x.end = Date.now() - t0; };
  page.on('requestfinished', done);
  page.on('requestfailed', done);
  return reqs;
}

const echartsFiles = (reqs) => reqs.map((r) => r.path).filter((p) => /^\/vendor\/echarts[./]/.test(p) && !/chunk-/.test(p)).sort();

test('the first view of a page: the page is in the document, the state and the queries are asked at once', async () => {
  const page = await newPage(browser);
  const reqs = recordRequests(page);
  await openPage(page, '/p/paint/line');
  await waitForChart(page, '#paint_line');
  const paths = reqs.map((r) => `${r.method} ${r.path}`);
  assert.ok(!paths.includes('GET /api/page/paint/line'), `the page was asked for again: ${paths.join(', ')}`);
  // a page at the top of a path could still have a frame above it: only
  // paths with a parent need the page list
  assert.ok(paths.includes('GET /api/pages'), 'paint/line looks for its frame in the page list');
  const state = reqs.find((r) => r.path === '/api/state');
  const queries = reqs.find((r) => r.path === '/api/queries');
  assert.ok(state && queries, `state and queries asked: ${paths.join(', ')}`);
  assert.ok(queries.start <= state.end && state.start <= queries.end,
    `/api/state (${state.start}-${state.end} ms) and /api/queries (${queries.start}-${queries.end} ms) overlap`);
  // the application is one module, not a cascade of imports
  const scripts = reqs.filter((r) => r.path.startsWith('/js/')).map((r) => r.path);
  assert.deepEqual(scripts, ['/js/app.js']);
  // the data is asked for once the state and the queries are known, not later
  const data = reqs.find((r) => r.path === '/api/query/sales_by_hour');
  assert.ok(data, 'the chart asked for its data over HTTP');
  // only the line chart's modules of ECharts
  assert.deepEqual(echartsFiles(reqs), ['/vendor/echarts/core.js', '/vendor/echarts/line.js']);
  assert.equal(await page.evaluate(() => typeof window.echarts.getInstanceByDom), 'function');

  // In-app to another page: that one is asked for (the document's page was
  // used once), and brings the modules of its own chart kinds.
  reqs.length = 0;
  await page.click('a[href$="/p/paint/bars"]');
  await waitForChart(page, '#paint_bar');
  await waitForChart(page, '#paint_pie');
  assert.ok(reqs.some((r) => r.path === '/api/page/paint/bars'), 'the next page is asked for');
  assert.deepEqual(echartsFiles(reqs), ['/vendor/echarts/bar.js', '/vendor/echarts/pie.js']);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a page at the top needs no page list, and its chart kinds load with the page', async () => {
  sql(`SELECT pg_dash.define_page('paint_top', $p$<|{sales_by_hour}|chart|type=bar|x=hour|y=total|id=paint_top_bar|>$p$)`);
  try {
    const page = await newPage(browser);
    // the order in which the module preload of ECharts and the chart come
    // into the page (the order of the DOM's own mutation records, not clocks)
    await page.addInitScript(() => {
      let n = 0;
      window.cameAt = {};
      const mark = (k) => { if (!(k in window.cameAt)) window.cameAt[k] = n++; };
      new MutationObserver((records) => {
        for (const r of records) {
          for (const node of r.addedNodes) {
            if (node.nodeType !== 1) continue;
            if (node.matches('link[rel="modulepreload"][href$="/vendor/echarts/core.js"]')) mark('preload');
            if (node.id === 'paint_top_bar' || node.querySelector('#paint_top_bar')) mark('chart');
          }
        }
      }).observe(document, { childList: true, subtree: true });
    });
    const reqs = recordRequests(page);
    await openPage(page, '/p/paint_top');
    await waitForChart(page, '#paint_top_bar');
    const paths = reqs.map((r) => `${r.method} ${r.path}`);
    assert.ok(!paths.includes('GET /api/page/paint_top'), `the page was asked for again: ${paths.join(', ')}`);
    assert.ok(!paths.includes('GET /api/pages'), 'no page list for a page without a parent');
    assert.deepEqual(echartsFiles(reqs), ['/vendor/echarts/bar.js', '/vendor/echarts/core.js']);
    // the chart modules were asked for as soon as the page was known, before
    // it was drawn (the state and the query list, preloaded by the document,
    // may well be back before the front end runs)
    const core = reqs.find((r) => r.path === '/vendor/echarts/core.js');
    const cameAt = await page.evaluate(() => window.cameAt);
    assert.ok(cameAt.preload !== undefined && cameAt.preload < cameAt.chart,
      `the preload of ECharts came before the chart: ${JSON.stringify(cameAt)}`);
    // the page's modules themselves are module preloads (fetched, run only when the chart draws)
    const preloads = await page.$$eval('link[rel="modulepreload"]', (ls) => ls.map((l) => new URL(l.href).pathname));
    assert.ok(preloads.includes('/vendor/echarts/core.js') && preloads.includes('/vendor/echarts/bar.js'),
      `core.js and bar.js preloaded: ${preloads.join(', ')}`);
    // the chunks core.js imports were asked for with it (modulepreload), not after it arrived
    const chunks = reqs.filter((r) => /^\/vendor\/echarts\/chunk-/.test(r.path));
    assert.ok(chunks.length > 0, 'ECharts chunks loaded');
    for (const c of chunks) assert.ok(c.start <= core.end, `${c.path} asked at ${c.start} ms, core.js done at ${core.end} ms`);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  } finally {
    sql("SELECT pg_dash.drop_page('paint_top')");
  }
});

test('a page that may show 3-D uses the whole of ECharts for every chart', async () => {
  const page = await newPage(browser);
  const reqs = recordRequests(page);
  await openPage(page, '/p/threed');
  await page.waitForFunction(() => Number(document.querySelector('#chart_3d')?.dataset.points) > 0, null, { timeout: 15000 });
  const files = echartsFiles(reqs);
  assert.ok(files.includes('/vendor/echarts.min.js'), files.join(', '));
  assert.ok(!files.some((f) => f.startsWith('/vendor/echarts/')), `no modular ECharts beside the whole: ${files.join(', ')}`);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
