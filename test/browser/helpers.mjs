// Shared helpers of the browser tests: chromium via playwright-core, the
// server's URL (PG_DASH_URL, set by scripts/run-browser-tests.sh), SQL via
// psql (PG_DASH_PSQL), screenshots and console-error collection.
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

export const BASE = process.env.PG_DASH_URL || 'http://127.0.0.1:8080';
export const SHOTS = process.env.PG_DASH_SCREENSHOTS || 'artifacts/screenshots';
export const FIXTURES = process.env.PG_DASH_FIXTURES || '/work/shared/fixtures/pages';

// Launches headless chromium.
export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

// A new page in its own context (own cookies, so its own session) whose
// console errors, uncaught exceptions, Content-Security-Policy violations and
// pg_dash responses without the CSP header are collected in page.errors.
// CSP violations are also kept in page.csp, and closing the page's context
// throws when there are any, so that no test can miss one.
export async function newPage(browser, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.errors = [];
  page.csp = [];
  await context.exposeBinding('__pgDashCspViolation', (source, v) => {
    const text = `csp: ${v.directive} blocked ${v.blocked || '(inline)'} at ${v.source} ${v.sample || ''}`.trim();
    page.csp.push(text);
    page.errors.push(text);
  });
  // Runs before the page's own scripts (injected by the browser, not subject to CSP).
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__pgDashCspViolation({
        directive: e.effectiveDirective || e.violatedDirective,
        blocked: e.blockedURI,
        source: `${e.sourceFile}:${e.lineNumber}:${e.columnNumber}`,
        sample: e.sample,
      });
    }, true);
  });
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => page.errors.push(`pageerror: ${e.message}`));
  page.on('response', async (r) => {
    if (!r.url().startsWith(BASE)) return;
    const headers = await r.allHeaders().catch(() => null);
    if (headers && !/frame-ancestors/.test(headers['content-security-policy'] || '')) page.errors.push(`no CSP header: ${r.status()} ${r.url()}`);
  });
  const close = context.close.bind(context);
  context.close = async (...args) => {
    // Every element of the suite's pages is rendered: none is left as a placeholder.
    const unsupported = await page.evaluate(() => document.body && document.body.innerText.includes('Unsupported control')).catch(() => false);
    if (unsupported) page.errors.push('an "Unsupported control" placeholder is shown');
    await close(...args);
    if (unsupported) throw new Error(`"Unsupported control" is shown on ${page.url()}`);
    if (page.csp.length) throw new Error(`Content-Security-Policy violations:\n${page.csp.join('\n')}`);
  };
  return page;
}

// Loads the demo (examples/demo_small.sql, a hundredth of the rows) into
// the test cluster unless it is there (a running `make demo`, or an earlier file).
export function ensureDemo() {
  if (sql("SELECT to_regclass('demo.sensor_readings') IS NOT NULL").trim() === 't') return;
  const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
  const cmd = (process.env.PG_DASH_PSQL || 'psql -X -q').split(/\s+/);
  execFileSync(cmd[0], [...cmd.slice(1), '-v', 'ON_ERROR_STOP=1', '-f', path.join(root, 'examples/demo_small.sql')],
    { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
}

// Runs SQL in the test cluster.
export function sql(text) {
  const cmd = (process.env.PG_DASH_PSQL || 'psql -X -q').split(/\s+/);
  return execFileSync(cmd[0], [...cmd.slice(1), '-v', 'ON_ERROR_STOP=1', '-At', '-c', text], { encoding: 'utf8' });
}

// Saves a full-page screenshot under artifacts/screenshots/.
export async function shot(page, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

// Waits for a page view to finish loading (or show an error).
export async function openPage(page, pathAndQuery) {
  await page.goto(`${BASE}${pathAndQuery}`);
  try {
    await page.waitForSelector('article.page, .error-box', { timeout: 15000 });
  } catch (e) {
    // what the page shows and said, to tell a slow server from a broken render
    const shown = await page.evaluate(() => document.getElementById('app')?.outerHTML.slice(0, 600)).catch(() => '?');
    throw new Error(`${pathAndQuery} did not load: ${e.message.split('\n')[0]}; shown: ${shown}; errors: ${JSON.stringify(page.errors)}`);
  }
  const err = await page.$('main > .error-box');
  if (err) throw new Error(`the page did not load: ${(await err.innerText()).replace(/\s+/g, ' ')}`);
}

// The ECharts series of a chart element: [{type, length}].
export function chartSeries(page, selector) {
  return page.evaluate((sel) => {
    const el = document.querySelector(sel);
    const box = el && el.querySelector('.chart-canvas');
    const inst = box && window.echarts && window.echarts.getInstanceByDom(box);
    if (!inst) return null;
    return (inst.getOption().series || []).map((s) => ({ type: s.type, length: Array.isArray(s.data) ? s.data.length : 0, data: (s.data || []).slice(0, 200) }));
  }, selector);
}

// Waits until the chart has a series with data; returns its series.
export async function waitForChart(page, selector, timeout = 10000, pred = (s) => s && s.some((x) => x.length > 0)) {
  const t0 = Date.now();
  for (;;) {
    const s = await chartSeries(page, selector);
    if (pred(s)) return s;
    if (Date.now() - t0 > timeout) {
      const msg = await page.evaluate((sel) => document.querySelector(sel)?.innerText, selector);
      throw new Error(`chart ${selector} has no data after ${timeout} ms (${JSON.stringify(s)?.slice(0, 200)}; ${msg})`);
    }
    await page.waitForTimeout(100);
  }
}

// Whether the canvas of a chart shows something (pixel variance).
export function canvasVariance(page, selector) {
  return page.evaluate((sel) => {
    const c = document.querySelector(`${sel} canvas`);
    if (!c) return 0;
    const g = c.getContext('2d');
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let sum = 0; let sum2 = 0; let n = 0;
    for (let i = 0; i < d.length; i += 16) { const v = d[i] + d[i + 1] + d[i + 2] + d[i + 3]; sum += v; sum2 += v * v; n++; }
    const mean = sum / n;
    return sum2 / n - mean * mean;
  }, selector);
}

// Waits until the chart's canvas shows something (ECharts draws in frames).
export async function waitForPaint(page, selector, timeout = 5000) {
  const t0 = Date.now();
  while (await canvasVariance(page, selector) <= 10) {
    if (Date.now() - t0 > timeout) throw new Error(`the canvas of ${selector} is still blank after ${timeout} ms`);
    await page.waitForTimeout(50);
  }
}

// Waits until the server's session state holds key = value (the front end
// writes state after a short debounce).
export async function waitForState(page, key, value, timeout = 5000) {
  await page.waitForFunction(async ([k, v]) => {
    const r = await fetch('/api/state');
    const s = r.ok ? await r.json() : null;
    return s && s.state && String(s.state[k]) === String(v);
  }, [key, value], { timeout, polling: 100 });
}

// Rows of a table control as text.
export function tableRows(page, selector) {
  return page.$$eval(`${selector} tbody tr:not(.empty)`, (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
}

// Decodes a PNG (8-bit RGB or RGBA, not interlaced, as Chromium's
// screenshots are): {width, height, at(x, y) -> [r, g, b]}.
export function decodePng(buf) {
  let off = 8;
  let width = 0; let height = 0; let channels = 0;
  const idat = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('ascii', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0); height = data.readUInt32BE(4);
      if (data[8] !== 8 || data[12] !== 0) throw new Error('unsupported PNG');
      channels = { 2: 3, 6: 4 }[data[9]];
      if (!channels) throw new Error(`unsupported PNG colour type ${data[9]}`);
    } else if (type === 'IDAT') idat.push(data);
    off += 12 + len;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const px = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? px[y * stride + x - channels] : 0;
      const b = y > 0 ? px[(y - 1) * stride + x] : 0;
      const c = x >= channels && y > 0 ? px[(y - 1) * stride + x - channels] : 0;
      let p;
      if (f === 0) p = 0; else if (f === 1) p = a; else if (f === 2) p = b; else if (f === 3) p = (a + b) >> 1;
      else { const q = a + b - c; const pa = Math.abs(q - a); const pb = Math.abs(q - b); const pc = Math.abs(q - c); p = pa <= pb && pa <= pc ? a : pb <= pc ? b : c; }
      px[y * stride + x] = (line[x] + p) & 255;
    }
  }
  return { width, height, at: (x, y) => { const i = (Math.round(y) * width + Math.round(x)) * channels; return [px[i], px[i + 1], px[i + 2]]; } };
}

// The pixels of an element as drawn (a screenshot of it, in CSS pixels).
export async function elementPixels(page, selector) {
  const el = await page.$(selector);
  if (!el) throw new Error(`no element ${selector}`);
  return decodePng(await el.screenshot({ animations: 'disabled' }));
}

// A CSS colour ("rgb(1, 2, 3)") as [r, g, b].
export function rgb(css) {
  const m = String(css).match(/rgba?\((\d+),\s*(\d+),\s*(\d+)/);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

// Whether two colours are within tol of each other on every channel.
export function near(a, b, tol = 24) {
  return !!a && !!b && a.every((v, i) => Math.abs(v - b[i]) <= tol);
}

// The colour a gauge's dial (inside selector) draws at angle deg (0 = the
// left end, 180 = the right end), near its rim.
export async function dialColour(page, selector, deg) {
  const px = await elementPixels(page, `${selector} .dial`);
  const cx = px.width / 2; const cy = px.height - 1;
  const r = px.height * 0.9;
  const t = (deg * Math.PI) / 180;
  return px.at(cx - r * Math.cos(t), cy - r * Math.sin(t));
}
