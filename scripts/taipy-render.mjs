// Renders pages in the real front end and checks what a reader sees, for
// scripts/taipy-examples.py --render (run through scripts/run-browser-tests.sh,
// which starts the cluster and sets PG_DASH_URL and PG_DASH_PSQL).
//
// TAIPY_PAGES names a JSON file [{id, text}]: each page is defined with
// define_page(), opened in headless chromium, and checked: its visible text
// holds no literal markup (<|, |>, <br/>, {:), the browser logs no error and
// no element is an "Unsupported control" placeholder.  One test per page,
// named by its id; the outcomes also go to the JSON file TAIPY_RENDER_OUT as
// {id: [problems]} (empty: rendered cleanly).  With TAIPY_RENDER_SHOTS set,
// a screenshot of each page goes to artifacts/screenshots/taipy-render/N.png
// (N: the page's place in the list).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { launch, newPage, shot, BASE } from '../test/browser/helpers.mjs';

const MARKUP = ['<|', '|>', '<br/>', '<br>', '{:'];
const pages = JSON.parse(fs.readFileSync(process.env.TAIPY_PAGES, 'utf8'));
const outcomes = {};

let browser;
before(async () => { browser = await launch(); });
after(async () => {
  await browser?.close();
  if (process.env.TAIPY_RENDER_OUT) fs.writeFileSync(process.env.TAIPY_RENDER_OUT, JSON.stringify(outcomes));
});

// Defines a page (the text goes through a psql variable, never into SQL text).
function define(path, text) {
  const cmd = (process.env.PG_DASH_PSQL || 'psql -X -q').split(/\s+/);
  execFileSync(cmd[0], [...cmd.slice(1), '-v', 'ON_ERROR_STOP=1', '-v', `path=${path}`, '-v', `src=${text}`],
    { input: "SELECT pg_dash.define_page(:'path', :'src');", encoding: 'utf8', stdio: ['pipe', 'ignore', 'ignore'] });
}

// What a reader of the page sees that is wrong: literal markup with its
// surroundings, browser errors, placeholders.
async function problems(path) {
  const page = await newPage(browser);
  const found = [];
  try {
    await page.goto(`${BASE}/p/${path}`);
    await page.waitForSelector('article.page, main > .error-box', { state: 'attached', timeout: 15000 });
    await page.waitForTimeout(400); // expressions, markdown and charts settle
    const text = await page.$eval('main', (m) => m.innerText);
    for (const m of MARKUP) {
      const at = text.indexOf(m);
      if (at >= 0) found.push(`literal "${m}" in "${text.slice(Math.max(0, at - 30), at + 30).replace(/\s+/g, ' ')}"`);
    }
    const boxes = await page.$$eval('main .error-box', (xs) => xs.map((x) => x.innerText.replace(/\s+/g, ' ')));
    for (const b of boxes) found.push(`error shown: ${b.slice(0, 160)}`);
    if (process.env.TAIPY_RENDER_SHOTS) await shot(page, `taipy-render/${path.split('/').pop()}`);
  } catch (e) {
    const shown = await page.evaluate(() => document.querySelector('main')?.innerText || '').catch(() => '');
    found.push(`not rendered: ${e.message.split('\n')[0]} (shown: "${shown.replace(/\s+/g, ' ').slice(0, 120)}")`);
  }
  found.push(...page.errors.map((e) => e.slice(0, 200)));
  try { await page.context().close(); } catch (e) { found.push(e.message.split('\n')[0]); }
  return [...new Set(found)];
}

pages.forEach((p, i) => {
  test(p.id, async () => {
    const path = `taipy-render/${i + 1}`;
    define(path, p.text);
    const found = await problems(path);
    outcomes[p.id] = found;
    assert.deepEqual(found, []);
  });
});
