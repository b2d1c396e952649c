// Accessibility: axe-core (npm) runs in the browser on the demo pages and
// on the pages of the element tests, in the light and the dark theme, and
// finds no serious or critical violation (labels, names, roles, contrast,
// keyboard focus). The keyboard use of each element is tested where the
// element is (elements.test.mjs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch, newPage, openPage, ensureDemo, BASE } from './helpers.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const AXE = path.join(ROOT, 'node_modules/axe-core/axe.min.js');

let browser;
before(async () => {
  ensureDemo();
  browser = await launch();
});
after(async () => { await browser?.close(); });

const PAGES = [
  '/', '/p/demo', '/p/demo/sales', '/p/demo/retention', '/p/demo/monitoring', '/p/demo/iot',
  '/p/test/app/home', '/p/test/app/about', '/p/test/upload', '/p/test/chat', '/p/test/tree', '/p/test/menu',
  '/p/test/scenario', '/p/test/unbound', '/p/actions', '/p/widgets', '/p/paging', '/p/genome', '/p/query_dashboard',
];

// The serious and critical violations axe finds in the page as it is now.
async function violations(page) {
  return page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.slice(0, 4).map((n) => n.target.join(' ')).join(' | ')}`);
  });
}

for (const theme of ['light', 'dark']) {
  test(`axe-core finds no serious or critical violation (${theme} theme)`, async () => {
    const page = await newPage(browser);
    // Injected by the browser, like the test's CSP listener: not subject to the page's CSP.
    await page.context().addInitScript({ path: AXE });
    await page.context().addInitScript((t) => { try { localStorage.setItem('pg_dash.theme', t); } catch { /* none */ } }, theme);
    const found = [];
    for (const url of PAGES) {
      if (url === '/') {
        await page.goto(`${BASE}/`);
        await page.waitForSelector('.page-list a', { timeout: 10000 });
      } else {
        await openPage(page, url);
      }
      // let the data arrive and the controls settle
      await page.waitForFunction(() => !document.querySelector('main .loading'), null, { timeout: 15000 });
      await page.waitForTimeout(800);
      for (const v of await violations(page)) found.push(`${url}: ${v}`);
      for (const e of page.errors.splice(0)) if (!/status of 404/.test(e)) found.push(`${url}: ${e}`);
    }
    assert.deepEqual(found, []);
    await page.context().close();
  });
}
