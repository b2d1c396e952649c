// Live behaviour: NOTIFY pushes new data, table paging and sorting on the
// server, a 10-million-point series through server-side downsampling, a
// redefined page reloading in place.
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

test('a table pages and sorts on the server', async () => {
  const page = await newPage(browser);
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
  await shot(page, 'paging');
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
  assert.ok(s[0].length <= 2 * width + 2, `${s[0].length} points for a ${width} px chart: not downsampled`);
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
