// Live behaviour: NOTIFY pushes new data, table paging and sorting on the
// server (only what the query's definition allows), a 10-million-point
// series reduced on the server, a redefined page reloading in place.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, openPage, shot, waitForChart, tableRows, sql } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('INSERT + NOTIFY updates the chart within 2 s without reload', async () => {
  const page = await newPage(browser);
  await openPage(page, '/p/live');
  const s = await waitForChart(page, '#live_chart');
  const n = s[0].length;
  await page.waitForFunction(() => document.getElementById('ws-status').dataset.state === 'open', null, { timeout: 5000 });
  await page.evaluate(() => { window.__marker = 1; });
  const t0 = Date.now();
  sql("INSERT INTO readings (ts, value) VALUES (now(), 42); NOTIFY readings");
  await waitForChart(page, '#live_chart', 2000, (x) => x && x[0] && x[0].length === n + 1);
  const dt = Date.now() - t0;
  assert.equal(await page.evaluate(() => window.__marker), 1, 'the page was reloaded');
  assert.ok(dt < 2000, `took ${dt} ms`);
  await shot(page, 'live');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

// The request bodies of /api/query/<name> a page sends.
function queryRequests(page, name) {
  const bodies = [];
  page.on('request', (r) => { if (r.url().endsWith(`/api/query/${name}`)) bodies.push(JSON.parse(r.postData() || '{}')); });
  return bodies;
}

test('a table pages and sorts on the server', async () => {
  const page = await newPage(browser);
  const sent = queryRequests(page, 'items_all');
  await openPage(page, '/p/paging');
  await page.waitForFunction(() => document.querySelector('#items_table')?.dataset.total === '95', null, { timeout: 10000 });
  let rows = await tableRows(page, '#items_table');
  assert.equal(rows.length, 10);
  assert.equal(rows[0][0], '1');
  await page.click('#items_table .pager-next');
  await page.waitForFunction(() => document.querySelector('#items_table tbody td')?.textContent === '11', null, { timeout: 5000 });
  await page.click('#items_table .pager-last');
  await page.waitForFunction(() => document.querySelector('#items_table tbody td')?.textContent === '91', null, { timeout: 5000 });
  rows = await tableRows(page, '#items_table');
  assert.equal(rows.length, 5);
  // Sort by id descending: click the header twice.
  await page.click('#items_table th:nth-child(1)');
  await page.waitForFunction(() => document.querySelector('#items_table tbody td')?.textContent === '1', null, { timeout: 5000 });
  await page.click('#items_table th:nth-child(1)');
  await page.waitForFunction(() => document.querySelector('#items_table tbody td')?.textContent === '95', null, { timeout: 5000 });
  assert.match(await page.$eval('#items_table .pager-info', (e) => e.textContent), /1–10 of 95/);
  // price is not in the query's sortable: its header offers nothing
  const heads = await page.$$eval('#items_table th', (ths) => ths.map((th) => [th.textContent.trim(), th.getAttribute('aria-sort'), th.classList.contains('sortable'), th.tabIndex]));
  assert.deepEqual(heads.map((x) => x[0].replace(/[▲▼\s]/g, '')), ['id', 'name', 'price']);
  assert.deepEqual(heads.map((x) => x[2]), [true, true, false], 'only id and name are sortable');
  assert.equal(heads[2][1], null, 'price has no aria-sort');
  assert.equal(heads[2][3], -1, 'price cannot be focused to sort');
  const before = sent.length;
  await page.click('#items_table th:nth-child(3)');
  await page.waitForTimeout(500);
  assert.equal(sent.length, before, 'clicking price sends no request');
  assert.equal(await page.$eval('#items_table tbody td', (td) => td.textContent), '95', 'and keeps the order');
  assert.ok(sent.every((b) => !b.order || /^(id|name)(\.desc)?$/.test(b.order)), JSON.stringify(sent));
  await shot(page, 'paging');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a table of a query without allow_count or sortable pages without a count', async () => {
  const page = await newPage(browser);
  const sent = queryRequests(page, 'items_uncounted');
  await openPage(page, '/p/paging_uncounted');
  await page.waitForFunction(() => document.querySelectorAll('#uncounted_table tbody tr').length === 10, null, { timeout: 10000 });
  assert.equal(await page.$eval('#uncounted_table', (e) => e.dataset.total), '', 'no total');
  assert.match(await page.$eval('#uncounted_table .pager-info', (e) => e.textContent), /^1–10 · page 1$/);
  assert.equal(await page.$eval('#uncounted_table .pager-last', (e) => e.disabled), true, 'no last page without a count');
  assert.equal(await page.$$eval('#uncounted_table th.sortable, #uncounted_table th[aria-sort]', (x) => x.length), 0, 'no sortable column');
  // next until there is no more
  for (let i = 0; i < 9; i++) {
    const want = String(11 + 10 * i);
    await page.click('#uncounted_table .pager-next');
    await page.waitForFunction((w) => document.querySelector('#uncounted_table tbody td')?.textContent === w, want, { timeout: 5000 });
  }
  assert.deepEqual((await tableRows(page, '#uncounted_table')).map((r) => r[0]), ['91', '92', '93', '94', '95']);
  assert.match(await page.$eval('#uncounted_table .pager-info', (e) => e.textContent), /^91–95 \(last\) · page 10$/);
  assert.equal(await page.$eval('#uncounted_table .pager-next', (e) => e.disabled), true, 'the last page has no next');
  assert.ok(sent.length >= 10 && sent.every((b) => b.count === undefined && b.order === undefined && b.limit === 11), JSON.stringify(sent));
  await shot(page, 'paging-uncounted');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a 10-million-point series renders within a few seconds', async () => {
  const page = await newPage(browser);
  const t0 = Date.now();
  await openPage(page, '/p/big');
  const s = await waitForChart(page, '#big_chart', 15000);
  const dt = Date.now() - t0;
  const width = await page.$eval('#big_chart .chart-canvas', (e) => e.clientWidth);
  assert.ok(s[0].length > 100, `only ${s[0].length} points`);
  assert.ok(s[0].length <= 4 * width, `${s[0].length} points for a ${width} px chart: not reduced`);
  assert.ok(dt < 8000, `took ${dt} ms`);
  await shot(page, 'big');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a redefined page reloads in place, keeping the state', async () => {
  const page = await newPage(browser);
  await openPage(page, '/p/live');
  await waitForChart(page, '#live_chart');
  await page.waitForFunction(() => document.getElementById('ws-status').dataset.state === 'open', null, { timeout: 5000 });
  await page.evaluate(() => { window.__marker = 1; });
  sql(`SELECT pg_dash.define_page('live', $p$
# Live readings, again

<|{readings_live}|chart|type=bar|x=ts|y=value|id=live_chart|>
$p$, 'Live')`);
  await page.waitForFunction(() => document.querySelector('article h1')?.textContent === 'Live readings, again', null, { timeout: 5000 });
  assert.equal(await page.evaluate(() => window.__marker), 1, 'the page was reloaded');
  await waitForChart(page, '#live_chart');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
