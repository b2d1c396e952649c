// The demo dashboards (examples/*.sql) end to end in a real browser: every
// demo page loads without console errors and shows charts with data and
// tables with rows; a new order reaches the sales chart within 3 s; a
// breaching metric raises an alert within 3 s and acknowledging it removes
// it; the region selector filters for its own browser only.
//
// Runs with the other browser tests (scripts/run-browser-tests.sh): when
// the cluster has no demo, it loads examples/demo_small.sql (a hundredth of
// the rows) first.  Against a running `make demo`:
//   PG_DASH_URL=http://localhost:8080 \
//   PG_DASH_PSQL="psql -X -q -h $PWD/demo/run -p 54329 -U postgres -d postgres" \
//   node --test test/browser/demo.test.mjs
// DEMO_SCREENSHOTS=docs/screenshots also saves docs/screenshots/<page>.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { launch, newPage, openPage, shot, waitForChart, waitForState, chartSeries, tableRows, sql, BASE, dialColour, rgb, near, ensureDemo } from './helpers.mjs';

const DOC_SHOTS = process.env.DEMO_SCREENSHOTS || '';

let browser;
before(async () => {
  ensureDemo();
  browser = await launch();
});
after(async () => { await browser?.close(); });

// Saves the screenshot with the other test artifacts, and in
// docs/screenshots/ when DEMO_SCREENSHOTS says so.
async function screenshot(page, name) {
  await shot(page, `demo-${name}`);
  if (DOC_SHOTS) {
    fs.mkdirSync(DOC_SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(DOC_SHOTS, `${name}.png`), fullPage: true });
  }
}

// The y value of the point of a series whose x is the latest.
function lastY(series) {
  const d = series[0].data;
  const p = d[d.length - 1];
  return Array.isArray(p) ? p[1] : p;
}

async function waitForRows(page, selector, min = 1, timeout = 10000) {
  await page.waitForFunction(([sel, n]) => document.querySelectorAll(`${sel} tbody tr:not(.empty)`).length >= n,
    [selector, min], { timeout });
  return tableRows(page, selector);
}

const PAGES = {
  sales: { charts: ['#revenue_chart', '#users_chart', '#products_chart'], tables: ['#orders_table'] },
  retention: { charts: ['#cohort_chart', '#curve_chart', '#matrix_chart'], tables: ['#cohort_table'] },
  monitoring: { charts: ['#chart_web_1', '#chart_web_2', '#chart_db_1', '#chart_cache_1'], tables: ['#rules_table'] },
  iot: { charts: ['#vibration_chart', '#temperature_chart', '#device_map'], tables: ['#fleet_table'] },
};

test('the page list links to the demo pages', async () => {
  const page = await newPage(browser);
  await page.goto(`${BASE}/`);
  await page.waitForSelector('.page-list a', { timeout: 10000 });
  const links = await page.$$eval('.page-list a', (as) => as.map((a) => [a.getAttribute('href'), a.textContent]));
  const hrefs = links.map((l) => l[0]);
  for (const p of ['demo', 'demo/sales', 'demo/retention', 'demo/monitoring', 'demo/iot']) {
    assert.ok(hrefs.includes(`/p/${p}`), `no link to /p/${p}: ${hrefs}`);
  }
  assert.ok(links.some((l) => l[1] === 'Sales, live'), 'the sales page has its title');
  await screenshot(page, 'index');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the demo front page links to the four dashboards', async () => {
  const page = await newPage(browser);
  await openPage(page, '/p/demo');
  const hrefs = await page.$$eval('article a', (as) => as.map((a) => (a.origin === location.origin ? a.pathname : a.href)));
  for (const p of ['sales', 'retention', 'monitoring', 'iot']) assert.ok(hrefs.includes(`/p/demo/${p}`), `links: ${hrefs}`);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

for (const [name, want] of Object.entries(PAGES)) {
  test(`demo page ${name} shows charts with data and tables with rows`, async () => {
    const page = await newPage(browser, { width: 1400, height: 1000 });
    await openPage(page, `/p/demo/${name}`);
    for (const c of want.charts) await waitForChart(page, c, 15000);
    for (const t of want.tables) await waitForRows(page, t, 1, 15000);
    await page.waitForTimeout(500); // let ECharts finish drawing
    await screenshot(page, name);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
}

test('iot: the gauge and the remaining-life bar have values', async () => {
  const page = await newPage(browser);
  await openPage(page, '/p/demo/iot');
  await page.waitForFunction(() => /\d/.test(document.querySelector('#temp_gauge .dial-value')?.textContent || ''), null, { timeout: 10000 });
  await page.waitForFunction(() => document.querySelector('#life_progress progress')?.hasAttribute('value'), null, { timeout: 10000 });
  // The selector shows the device the page shows (the queries' default while none is chosen).
  await page.waitForFunction(() => [...document.querySelectorAll('article p')].some((p) => /Remaining life of dev-01 in/.test(p.textContent)), null, { timeout: 10000 });
  const shown = await page.$eval('#device_selector select', (s) => s.selectedOptions[0]?.textContent);
  assert.match(shown, /^dev-01 \(/, 'the selector shows dev-01, not "—"');
  assert.equal(await page.$eval('#device_selector select', (s) => [...s.options].some((o) => o.textContent === '—')), false);
  // The dial is filled up to the temperature: the colour of its first half
  // of the fill is not the colour beyond it.
  const frac = Number(await page.$eval('#temp_gauge', (e) => e.dataset.frac));
  assert.ok(frac > 0.05 && frac < 0.95, `temperature gauge at ${frac}`);
  const inside = await dialColour(page, '#temp_gauge', frac * 90);
  const outside = await dialColour(page, '#temp_gauge', (frac * 180 + 180) / 2);
  const track = rgb(await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--code-bg').trim().replace(/^#(..)(..)(..)$/, (_, r, g, b) => `rgb(${parseInt(r, 16)}, ${parseInt(g, 16)}, ${parseInt(b, 16)})`)));
  assert.ok(near(outside, track, 10), `beyond the value the dial is the grey track: ${outside} vs ${track}`);
  assert.ok(!near(inside, track, 30), `up to the value the dial is filled: ${inside}`);
  // Another device: the gauge follows (dev-20's usual temperature differs from dev-01's).
  const before = await page.$eval('#temp_gauge [role=meter]', (e) => e.getAttribute('aria-valuenow'));
  await page.selectOption('#device_selector select', { label: 'dev-20 (Reykjavik)' });
  await page.waitForFunction((b) => document.querySelector('#temp_gauge [role=meter]')?.getAttribute('aria-valuenow') !== b,
    before, { timeout: 5000 });
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('sales: a new order reaches the chart and the table within 3 s', async () => {
  const page = await newPage(browser);
  await openPage(page, '/p/demo/sales');
  const s0 = await waitForChart(page, '#revenue_chart', 15000);
  await waitForRows(page, '#orders_table');
  const y0 = lastY(s0);
  const id = sql(`INSERT INTO demo.orders (ts, user_id, region, product, amount)
                  VALUES (now(), 1, 'North', 'Espresso machine', 9999.00) RETURNING id`).trim().split('\n')[0];
  const t0 = Date.now();
  await waitForChart(page, '#revenue_chart', 3000, (s) => s && s[0] && s[0].length && lastY(s) >= y0 + 9999);
  await page.waitForFunction((want) => document.querySelector('#orders_table tbody tr td')?.textContent === want,
    id, { timeout: Math.max(500, 3000 - (Date.now() - t0)) });
  assert.ok(Date.now() - t0 < 3500, `took ${Date.now() - t0} ms`);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('sales: the region selector filters for its own browser only', async () => {
  const a = await newPage(browser);
  const b = await newPage(browser);
  await openPage(a, '/p/demo/sales');
  await openPage(b, '/p/demo/sales');
  await waitForRows(a, '#orders_table', 5);
  await waitForRows(b, '#orders_table', 5);
  await a.selectOption('#region_selector select', { label: 'West' });
  await a.waitForFunction(() => {
    const cells = [...document.querySelectorAll('#orders_table tbody tr:not(.empty) td:nth-child(3)')];
    return cells.length > 0 && cells.every((td) => td.textContent === 'West');
  }, null, { timeout: 5000 });
  await b.waitForTimeout(1000);
  const regions = new Set((await tableRows(b, '#orders_table')).map((r) => r[2]));
  assert.ok(regions.size > 1, `the other browser is filtered too: ${[...regions]}`);
  // The CSV link of the first browser downloads its view.
  const href = await a.$eval('#orders_csv', (el) => el.getAttribute('href'));
  assert.match(href, /format=csv/);
  const csv = await a.evaluate(async (u) => (await fetch(u)).text(), href);
  const lines = csv.trim().split('\n');
  assert.ok(lines.length > 1, 'the CSV has rows');
  assert.ok(lines.slice(1).every((l) => l.split(',')[2] === 'West'), 'the CSV holds the West orders only');
  assert.deepEqual(a.errors, []);
  assert.deepEqual(b.errors, []);
  await a.context().close();
  await b.context().close();
});

test('monitoring: a breach raises an alert within 3 s; acknowledging removes it', async () => {
  const page = await newPage(browser);
  await openPage(page, '/p/demo/monitoring');
  await waitForChart(page, '#chart_web_1', 15000);
  await page.waitForSelector('#alerts_table table');
  const host = `test-${process.pid}-${Date.now() % 100000}`;
  sql(`INSERT INTO demo.system_metrics (ts, host, metric_name, value) VALUES (now(), '${host}', 'cpu', 99.5)`);
  const t0 = Date.now();
  await page.waitForFunction((h) => [...document.querySelectorAll('#alerts_table tbody td')].some((td) => td.textContent === h),
    host, { timeout: 3000 });
  assert.ok(Date.now() - t0 < 3500);
  // Pick it in the selector and acknowledge it.
  await page.waitForFunction((h) => [...document.querySelectorAll('#ack_selector option')].some((o) => o.textContent.includes(h)),
    host, { timeout: 3000 });
  const value = await page.$$eval('#ack_selector option', (os, h) => os.find((o) => o.textContent.includes(h)).value, host);
  await page.selectOption('#ack_selector select', value);
  await page.click('#ack_button button');
  await page.waitForFunction((h) => ![...document.querySelectorAll('#alerts_table tbody td')].some((td) => td.textContent === h),
    host, { timeout: 3000 });
  await page.waitForFunction(() => /acknowledged/.test(document.querySelector('#monitor_message')?.textContent || ''), null, { timeout: 3000 });
  assert.equal(sql(`SELECT count(*) FROM demo.alerts WHERE host = '${host}' AND acknowledged_at IS NOT NULL`).trim(), '1');
  assert.deepEqual(page.errors, []);
  sql(`DELETE FROM demo.system_metrics WHERE host = '${host}'; DELETE FROM demo.alerts WHERE host = '${host}'`);
  await page.context().close();
});

test('monitoring: the form adds an alert rule', async () => {
  const page = await newPage(browser);
  await openPage(page, '/p/demo/monitoring');
  await waitForRows(page, '#rules_table');
  const threshold = 50 + (Date.now() % 40) + 0.5;
  await page.selectOption('#rule_metric select', { label: 'disk' });
  await page.click('#rule_comparison button:has-text("below")');
  await page.fill('#rule_threshold input', String(threshold));
  await page.press('#rule_threshold input', 'Tab');
  // the form's state is written (the number field after a short delay) before the button reads it
  await waitForState(page, 'rule_metric', 'disk');
  await waitForState(page, 'rule_comparison', 'below');
  await waitForState(page, 'rule_threshold', threshold);
  await page.click('#add_rule_button button');
  await page.waitForFunction((t) => [...document.querySelectorAll('#rules_table tbody td')].some((td) => td.textContent === String(t)),
    threshold, { timeout: 3000 });
  assert.equal(sql(`SELECT count(*) FROM demo.alert_rules WHERE metric = 'disk' AND comparison = '<' AND threshold = ${threshold}`).trim(), '1');
  sql(`DELETE FROM demo.alert_rules WHERE metric = 'disk' AND comparison = '<' AND threshold = ${threshold}`);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
