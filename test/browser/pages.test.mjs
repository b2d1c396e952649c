// Pages render: the page list, a chart with data and a table, a selector
// that changes only its own browser's chart, a tab that follows the session
// created after it opened, actions, widgets, and every
// fixture page of /work/shared/fixtures/pages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { launch, newPage, openPage, shot, waitForChart, waitForPaint, waitForState, chartSeries, tableRows, BASE, FIXTURES } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

// The first y value of a chart's first series.
const firstY = (series) => {
  const d = series[0].data[0];
  return Array.isArray(d) ? d[1] : d;
};

test('the page list links to the pages', async () => {
  const page = await newPage(browser);
  await page.goto(`${BASE}/`);
  await page.waitForSelector('.page-list a, .error-box', { timeout: 10000 });
  const links = await page.$$eval('.page-list a', (as) => as.map((a) => a.getAttribute('href')));
  assert.ok(links.includes('/p/sales'), `links: ${links}`);
  await shot(page, 'page-list');
  await page.click('.page-list a[href="/p/sales"]');
  await page.waitForSelector('article.page', { timeout: 10000 });
  assert.equal(new URL(page.url()).pathname, '/p/sales');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a page renders its chart with data and its table', async () => {
  const page = await newPage(browser);
  await openPage(page, '/p/sales?region=North');
  const series = await waitForChart(page, '#sales_chart');
  assert.equal(series[0].length, 24);
  assert.equal(firstY(series), 100);
  await waitForPaint(page, '#sales_chart');
  // Hovering shows the tooltip, drawn in the canvas (ECharts' HTML tooltip
  // needs style attributes, which the CSP refuses: a violation fails the test).
  const box = await page.$eval('#sales_chart canvas', (c) => { const r = c.getBoundingClientRect(); return { x: r.x, y: r.y, w: r.width, h: r.height }; });
  await page.mouse.move(box.x + box.w / 2, box.y + box.h / 2);
  await page.waitForFunction(() => {
    const inst = window.echarts.getInstanceByDom(document.querySelector('#sales_chart .chart-canvas'));
    const tip = inst._componentsViews.find((v) => v && v.type === 'tooltip')?._tooltipContent;
    return tip && tip._show && /total/.test(tip.el?.style?.text || '');
  }, null, { timeout: 5000 });
  assert.equal(await page.$$eval('#sales_chart div', (ds) => ds.filter((d) => d.style.zIndex === '9999999').length), 0, 'an HTML tooltip');
  await page.waitForFunction(() => document.querySelectorAll('#sales_table tbody tr:not(.empty)').length === 10, null, { timeout: 10000 });
  const rows = await tableRows(page, '#sales_table');
  assert.equal(rows[0][1], '100');
  assert.equal(await page.$eval('h1', (e) => e.textContent), 'Sales 銷售');
  // Raw HTML in markdown is sanitized: <b> stays, handlers, javascript: and scripts go.
  assert.equal(await page.$$eval('article b', (bs) => bs.length), 1);
  assert.equal(await page.$$eval('article [onclick], article script', (xs) => xs.length), 0);
  assert.equal(await page.$eval('article .md a', (a) => a.getAttribute('href')), null);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  await shot(page, 'sales');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a selector changes the chart for its own browser only', async () => {
  const a = await newPage(browser);
  const b = await newPage(browser);
  await openPage(a, '/p/sales?region=North');
  await openPage(b, '/p/sales?region=North');
  await waitForChart(a, '#sales_chart');
  await waitForChart(b, '#sales_chart');
  await a.selectOption('#region_selector select', { label: 'South' });
  const s = await waitForChart(a, '#sales_chart', 5000, (x) => x && x[0] && x[0].length && firstY(x) === 1000);
  assert.equal(firstY(s), 1000);
  const rows = await a.waitForFunction(() => document.querySelector('#sales_table tbody td:nth-child(2)')?.textContent === '1000', null, { timeout: 5000 });
  assert.ok(rows);
  await b.waitForTimeout(1000);
  assert.equal(firstY(await chartSeries(b, '#sales_chart')), 100, 'the other browser changed too');
  assert.equal((await tableRows(b, '#sales_table'))[0][1], '100');
  // The state survives a reload of the first browser (session cookie).
  await a.goto(`${BASE}/p/sales`);
  await a.waitForSelector('article.page');
  const s2 = await waitForChart(a, '#sales_chart', 5000, (x) => x && x[0] && x[0].length && firstY(x) === 1000);
  assert.equal(firstY(s2), 1000);
  await shot(a, 'sales-south');
  assert.deepEqual(a.errors, []);
  assert.deepEqual(b.errors, []);
  await a.context().close();
  await b.context().close();
});

test('a tab opened before its session existed follows the session once it writes', async () => {
  // Sessions start with the first state write: this tab's socket opens without one.
  const a = await newPage(browser);
  await openPage(a, '/p/sales');
  await waitForChart(a, '#sales_chart');
  assert.deepEqual(await a.context().cookies(), [], 'no cookie before the first write');
  await a.selectOption('#region_selector select', { label: 'South' });
  await a.waitForFunction(() => window.pgDash.store.get('region') === 'South', null, { timeout: 5000 });
  // A second tab of the same browser (same cookie) changes the state...
  const b = await a.context().newPage();
  b.errors = [];
  b.on('pageerror', (e) => b.errors.push(`pageerror: ${e.message}`));
  await openPage(b, '/p/sales');
  await b.waitForFunction(() => window.pgDash.store.get('region') === 'South', null, { timeout: 5000 });
  await b.selectOption('#region_selector select', { label: 'East' });
  // ...and the first tab hears it over its socket, now opened with the session.
  await a.waitForFunction(() => window.pgDash.store.get('region') === 'East', null, { timeout: 5000 });
  assert.equal(await a.$eval('#region_selector select', (el) => el.options[el.selectedIndex].textContent), 'East');
  assert.deepEqual(a.errors, []);
  assert.deepEqual(b.errors, []);
  await a.context().close();
});

test('a button runs its action, which updates the state and the page', async () => {
  const page = await newPage(browser);
  await openPage(page, '/p/actions');
  await page.click('#bump_button button');
  await page.waitForFunction(() => document.querySelector('#counter_text')?.textContent === '1', null, { timeout: 5000 });
  await page.click('#bump_button button');
  await page.waitForFunction(() => document.querySelector('#counter_text')?.textContent === '2', null, { timeout: 5000 });
  assert.equal(await page.$eval('#message_text', (e) => e.textContent), 'bumped to 2');
  // A failing action shows the server's message.
  await page.click('#fail_button button');
  await page.waitForSelector('#fail_button .action-status.error', { timeout: 5000 });
  assert.match(await page.$eval('#fail_button .action-status', (e) => e.textContent), /failed on purpose/);
  await shot(page, 'actions');
  // The error reply is an expected 4xx/5xx: the browser logs it as a failed resource.
  assert.deepEqual(page.errors.filter((e) => !/Failed to load resource/.test(e)), []);
  await page.context().close();
});

test('state changes carry the session\'s CSRF token; a lost token cookie is set again', async () => {
  const page = await newPage(browser);
  const writes = [];
  page.on('request', (r) => {
    if (r.url().startsWith(`${BASE}/api/`) && !['GET', 'HEAD'].includes(r.method())) writes.push(r);
  });
  await openPage(page, '/p/actions');
  // the first write creates the session (a request without one needs no token), the second carries it
  await page.click('#bump_button button');
  await page.waitForFunction(() => document.querySelector('#counter_text')?.textContent === '1', null, { timeout: 5000 });
  await page.click('#bump_button button');
  await page.waitForFunction(() => document.querySelector('#counter_text')?.textContent === '2', null, { timeout: 5000 });
  const cookies = Object.fromEntries((await page.context().cookies()).map((c) => [c.name, c]));
  assert.match(cookies.pg_dash_csrf?.value || '', /^[0-9a-f]{64}$/);
  assert.equal(cookies.pg_dash_csrf.httpOnly, false, 'the page can read the token cookie');
  assert.equal(cookies.pg_dash_csrf.sameSite, 'Strict');
  assert.equal(cookies.pg_dash_session.httpOnly, true, 'but not the session cookie');
  const action = writes.filter((r) => r.url().includes('/api/action/bump')).pop();
  assert.ok(action, 'the action was posted');
  assert.equal((await action.allHeaders())['x-csrf-token'], cookies.pg_dash_csrf.value);
  // The server refuses a write of this session without the token, or with a wrong one.
  const refused = await page.evaluate(async () => {
    const send = (headers) => fetch('/api/action/bump', { method: 'POST', body: '{}', headers: { 'Content-Type': 'application/json', ...headers } })
      .then(async (r) => [r.status, (await r.json()).error?.code]);
    return [await send({}), await send({ 'X-CSRF-Token': '0'.repeat(64) })];
  });
  assert.deepEqual(refused, [[403, 'csrf_token_missing'], [403, 'csrf_token_invalid']]);
  assert.equal(await page.$eval('#counter_text', (e) => e.textContent), '2', 'the refused requests did nothing');
  // Without the token cookie the front end gets it again and the action runs.
  await page.context().clearCookies({ name: 'pg_dash_csrf' });
  await page.click('#bump_button button');
  await page.waitForFunction(() => document.querySelector('#counter_text')?.textContent === '3', null, { timeout: 5000 });
  const again = (await page.context().cookies()).find((c) => c.name === 'pg_dash_csrf');
  assert.equal(again?.value, cookies.pg_dash_csrf.value, 'the same token, set again');
  // The refused requests show as failed resources (403), nothing else.
  assert.deepEqual(page.errors.filter((e) => !/Failed to load resource: the server responded with a status of 403/.test(e)), []);
  await page.context().close();
});

test('a 3-D chart draws under its page\'s own policy; no other document allows eval', async () => {
  const page = await newPage(browser);
  const docs = [];
  page.on('response', async (r) => {
    if (r.request().resourceType() !== 'document') return;
    const csp = (await r.allHeaders())['content-security-policy'] || '';
    docs.push(`${new URL(r.url()).pathname} ${/unsafe-eval/.test(csp) ? 'eval' : 'no eval'}`);
  });
  await openPage(page, '/p/sales');
  await waitForChart(page, '#sales_chart');
  // In-app to the page list, then to the 3-D page: that one takes a full load.
  await page.click('header a.brand');
  await page.waitForSelector('.page-list a[href="/p/threed"]', { timeout: 10000 });
  await page.click('.page-list a[href="/p/threed"]');
  await page.waitForFunction(() => Number(document.querySelector('#chart_3d')?.dataset.points) > 0, null, { timeout: 15000 });
  const gl = await page.evaluate(() => !!document.createElement('canvas').getContext('webgl'));
  assert.ok(gl, 'this Chromium has no WebGL: the 3-D chart cannot be tested');
  assert.equal(await page.$eval('#chart_3d .chart-note', (n) => n.hidden), true, 'the chart fell back to 2-D');
  assert.equal(await page.$$eval('#chart_3d .error-box', (x) => x.length), 0);
  assert.equal(await page.evaluate(() => window.echarts.getInstanceByDom(document.querySelector('#chart_3d .chart-canvas')).getOption().series[0].type), 'scatter3D');
  // Back to the list: a full load again, without eval.
  await page.click('header a.brand');
  await page.waitForSelector('.page-list a', { timeout: 10000 });
  assert.deepEqual(docs, ['/p/sales no eval', '/p/threed eval', '/ no eval']);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('widgets write the state and templates follow', async () => {
  const page = await newPage(browser);
  await openPage(page, '/p/widgets');
  await page.fill('#name_input input', 'Ada');
  await page.waitForFunction(() => document.querySelector('#greeting')?.textContent === 'Hello Ada!', null, { timeout: 5000 });
  await waitForState(page, 'name', 'Ada');
  assert.match(await page.$eval('#csv_link', (a) => a.href), /\/api\/query\/items_all\?.*format=csv/);
  await page.waitForFunction(() => [...document.querySelectorAll('.chart')].every((c) => Number(c.dataset.points) > 0), null, { timeout: 10000 });
  assert.equal(await page.$$eval('.ctl-unknown, .ctl-error', (x) => x.length), 0);
  await shot(page, 'widgets');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the dark theme toggle is remembered', async () => {
  const page = await newPage(browser);
  await openPage(page, '/p/sales?region=North');
  const before = await page.evaluate(() => document.documentElement.dataset.theme || 'auto');
  await page.click('#theme-toggle');
  const after1 = await page.evaluate(() => document.documentElement.dataset.theme);
  assert.notEqual(after1, before);
  await page.reload();
  await page.waitForSelector('article.page');
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), after1);
  await waitForChart(page, '#sales_chart');
  await shot(page, `sales-${after1}`);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

const fixtures = fs.existsSync(FIXTURES) ? fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.md') && f !== 'README.md') : [];

test('every fixture page renders', { skip: fixtures.length === 0 && `no fixtures in ${FIXTURES}` }, async (t) => {
  for (const f of fixtures) {
    const name = f.replace(/\.md$/, '');
    await t.test(name, async () => {
      const page = await newPage(browser);
      await openPage(page, `/p/${name}`);
      assert.equal(await page.$$eval('.ctl-unknown, .ctl-error', (x) => x.length), 0, 'unknown or failed controls');
      // Every chart gets data; every table gets rows; no error box.
      await page.waitForFunction(() => [...document.querySelectorAll('.chart')].every((c) => c.dataset.points !== undefined || c.querySelector('.error-box'))
        && [...document.querySelectorAll('.table-wrap')].every((t) => t.dataset.total !== undefined || t.querySelector('.error-box')), null, { timeout: 15000 });
      const errors = await page.$$eval('.error-box', (x) => x.map((e) => e.innerText));
      assert.deepEqual(errors, []);
      for (const c of await page.$$eval('.chart', (x) => x.map((e) => Number(e.dataset.points)))) assert.ok(c > 0, 'a chart has no points');
      // Its headings (Chinese text included) are on the page.
      const src = fs.readFileSync(`${FIXTURES}/${f}`, 'utf8');
      const headings = [...src.matchAll(/^#+\s+(.*)$/gm)].map((m) => m[1].trim());
      const shown = await page.$$eval('article h1, article h2, article h3', (hs) => hs.map((x) => x.textContent));
      for (const hd of headings) assert.ok(shown.includes(hd), `heading "${hd}" missing (${shown})`);
      await page.waitForTimeout(300);
      await shot(page, `fixture-${name}`);
      assert.deepEqual(page.errors, []);
      await page.context().close();
    });
  }
});
