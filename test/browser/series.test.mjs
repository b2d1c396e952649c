// A chart over a large table (100,000 rows with an index on x, 1 % of the
// benchmark's ten million) zooms: each zoom or pan step asks the server for
// the visible x range at the chart's width and gets a new, narrower series;
// no answer ever has more than four points per pixel of the chart's width,
// and a deep zoom shows every row.  The page never asks for the query's
// whole result.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, openPage, shot, waitForChart } from './helpers.mjs';

// Waits until pred() holds (the answers arrive asynchronously).
async function until(pred, what, timeout = 10000) {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > timeout) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('a chart zooms into a large series at full resolution', async () => {
  const page = await newPage(browser);
  // every series answer, with the request that asked for it
  const answers = [];
  page.on('response', async (r) => {
    if (!r.url().endsWith('/api/query/zoom_series')) return;
    const asked = JSON.parse(r.request().postData() || '{}');
    answers.push({ asked, got: await r.json() });
  });
  // what the page asks over the WebSocket (never the whole query)
  const frames = [];
  page.on('websocket', (ws) => ws.on('framesent', (f) => frames.push(String(f.payload))));
  await openPage(page, '/p/zoom');
  await waitForChart(page, '#zoom_chart', 15000);
  const width = await page.$eval('#zoom_chart .chart-canvas', (e) => e.clientWidth);
  await until(() => answers.length > 0, 'the first answer');
  await page.waitForTimeout(300);
  assert.equal(answers.length, 1, JSON.stringify(answers.map((a) => a.asked)));
  const whole = answers[0];
  assert.equal(whole.asked.width, width, 'the chart asks for its width');
  assert.equal(whole.asked.x_from, undefined, 'first the whole series');
  assert.equal(whole.got.downsampled_from, 100000);
  assert.equal(whole.got.x_from, '2026-01-01T00:00:01+00:00');
  assert.equal(whole.got.x_to, '2026-01-02T03:46:40+00:00');
  const span = (a) => Date.parse(a.got.x_to) - Date.parse(a.got.x_from);

  // zoom in with the mouse wheel over the middle of the chart
  const box = await page.$eval('#zoom_chart .chart-canvas', (e) => { const r = e.getBoundingClientRect(); return { x: r.x + r.width / 2, y: r.y + r.height / 2 }; });
  await page.mouse.move(box.x, box.y);
  for (let i = 0; i < 5; i++) { await page.mouse.wheel(0, -300); await page.waitForTimeout(30); }
  await until(() => answers.length > 1, 'a zoomed answer');
  const zoomed = answers[answers.length - 1];
  assert.ok(zoomed.asked.x_from && zoomed.asked.x_to, `a zoomed request has a range: ${JSON.stringify(zoomed.asked)}`);
  assert.ok(answers.length <= 3, `the wheel steps are debounced (${answers.length} requests)`);
  assert.ok(span(zoomed) < span(whole) * 0.9, 'the new series is narrower');
  assert.ok(zoomed.got.downsampled_from < 100000, 'it is chosen from the rows of the range only');
  const s = await waitForChart(page, '#zoom_chart', 5000, (x) => x && x[0] && x[0].length === zoomed.got.row_count);
  await shot(page, 'zoom-in');
  const xs = s[0].data.map((p) => Date.parse(p[0]));
  assert.ok(xs.every((x) => x >= Date.parse(zoomed.got.x_from) && x <= Date.parse(zoomed.got.x_to)), 'the chart shows the range');

  // deep: fewer rows in the window than pixels, so every row comes
  await page.evaluate(() => {
    const inst = window.echarts.getInstanceByDom(document.querySelector('#zoom_chart .chart-canvas'));
    inst.dispatchAction({ type: 'dataZoom', start: 50, end: 50.2 });
  });
  await until(() => span(answers[answers.length - 1]) < 300000, 'a deep zoom');
  const deep = answers[answers.length - 1];
  assert.ok(deep.got.downsampled_from > 50 && deep.got.downsampled_from < width, `${deep.got.downsampled_from} rows in the window`);
  assert.equal(deep.got.row_count, deep.got.downsampled_from, 'a deep zoom shows every row');
  await waitForChart(page, '#zoom_chart', 5000, (x) => x && x[0] && x[0].length === deep.got.row_count);
  await shot(page, 'zoom-deep');

  // zooming out again asks for the whole series
  await page.evaluate(() => {
    const inst = window.echarts.getInstanceByDom(document.querySelector('#zoom_chart .chart-canvas'));
    inst.dispatchAction({ type: 'dataZoom', start: 0, end: 100 });
  });
  await until(() => answers[answers.length - 1].asked.x_from === undefined, 'the whole series again');
  assert.equal(answers[answers.length - 1].got.x_from, whole.got.x_from);

  assert.deepEqual(frames.filter((f) => /"name":"zoom_series"/.test(f)), [], 'the chart never asks for every row');
  for (const a of answers) {
    assert.ok(a.got.row_count <= 4 * width, `${a.got.row_count} points for a ${width} px chart`);
    assert.equal(a.asked.width, width);
  }
  await shot(page, 'zoom');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
