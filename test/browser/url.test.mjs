// Links, images and downloads from database values (issue 11, item 9):
// www/js/url.js allows a URL only when the browser's own parse of it has an
// allowed scheme. The same fixed list of bypass forms is checked in node, in
// Chromium, and end to end through the controls of the page "links".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { safeUrl } from '../../www/js/url.js';
import { launch, newPage, openPage, BASE } from './helpers.mjs';

const JS = 'alert(1)';
const PNG = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

// [value, link, download, image]: what safeUrl answers for each kind.
// "refused" is null; "here" is a URL of the page's own origin (a relative
// path, harmless); anything else is the exact URL expected.
export const CASES = [
  [`javascript:${JS}`, 'refused', 'refused', 'refused'],
  [`JaVaScRiPt:${JS}`, 'refused', 'refused', 'refused'],
  [`java\tscript:${JS}`, 'refused', 'refused', 'refused'],
  [`java\nscript:${JS}`, 'refused', 'refused', 'refused'],
  [`java\rscript:${JS}`, 'refused', 'refused', 'refused'],
  [`\tjava\r\nscript\t:${JS}`, 'refused', 'refused', 'refused'],
  ...Array.from({ length: 32 }, (_, c) => [`${String.fromCharCode(c)}javascript:${JS}`, 'refused', 'refused', 'refused']),
  [`\x01\x02 \x1fjavascript:${JS}`, 'refused', 'refused', 'refused'],
  [`   javascript:${JS}`, 'refused', 'refused', 'refused'],
  [`javascript:${JS}   `, 'refused', 'refused', 'refused'],
  [` \u0000JAVASCRIPT:${JS}`, 'refused', 'refused', 'refused'],
  [`java\x01script:${JS}`, 'here', 'here', 'here'],
  [`&#106;avascript:${JS}`, 'here', 'here', 'here'],
  [`&#x6A;avascript:${JS}`, 'here', 'here', 'here'],
  [`javascript&colon;${JS}`, 'here', 'here', 'here'],
  [`jav&#x09;ascript:${JS}`, 'here', 'here', 'here'],
  [`\u2028javascript:${JS}`, 'here', 'here', 'here'],
  ['vbscript:msgbox(1)', 'refused', 'refused', 'refused'],
  ['VBScript:msgbox(1)', 'refused', 'refused', 'refused'],
  ['data:text/html,<script>alert(1)</script>', 'refused', 'refused', 'refused'],
  ['data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==', 'refused', 'refused', 'refused'],
  ['DATA:TEXT/HTML,<script>alert(1)</script>', 'refused', 'refused', 'refused'],
  ['data:application/xhtml+xml,<x/>', 'refused', 'refused', 'refused'],
  ['data:image/svg+xml,<svg onload="alert(1)"/>', 'refused', 'refused', 'refused'],
  ['data:text/csv;charset=utf-8,a%2Cb', 'refused', 'data:text/csv;charset=utf-8,a%2Cb', 'refused'],
  [' data: TEXT/CSV ,x', 'refused', 'data: TEXT/CSV ,x', 'refused'],
  [PNG, 'refused', 'refused', PNG],
  ['blob:http://127.0.0.1/0f0e0d0c', 'refused', 'refused', 'refused'],
  ['file:///etc/passwd', 'refused', 'refused', 'refused'],
  ['ftp://example.com/x', 'refused', 'refused', 'refused'],
  ['about:blank', 'refused', 'refused', 'refused'],
  ['//evil.example/x', 'http://evil.example/x', 'http://evil.example/x', 'refused'],
  ['\\\\evil.example\\x', 'http://evil.example/x', 'http://evil.example/x', 'refused'],
  ['/\\evil.example/x', 'http://evil.example/x', 'http://evil.example/x', 'refused'],
  ['https://example.com/a b', 'https://example.com/a%20b', 'https://example.com/a%20b', 'refused'],
  ['HTTPS://Example.COM/', 'https://example.com/', 'https://example.com/', 'refused'],
  ['mailto:ops@example.com', 'mailto:ops@example.com', 'refused', 'refused'],
  ['/api/query/items_all?format=csv', 'here', 'here', 'here'],
  ['report.csv', 'here', 'here', 'here'],
  ['', 'refused', 'refused', 'refused'],
  [' \t\n', 'refused', 'refused', 'refused'],
];

// What a case expects for a kind, given the base URL the value is resolved against.
function expected(want, base) {
  if (want === 'refused') return null;
  if (want === 'here') return new URL(base).origin;
  // protocol-relative and backslash forms take the base's scheme
  return want.startsWith('http://') ? want.replace(/^http:/, new URL(base).protocol) : want;
}

// Checks one answer against what was expected; returns a message or null.
function mismatch(value, kind, got, want, base) {
  const exp = expected(want, base);
  if (want === 'here') {
    if (got === null || new URL(got).origin !== exp) return `${JSON.stringify(value)} as ${kind}: ${got}, want a URL of ${exp}`;
    return null;
  }
  return got === exp ? null : `${JSON.stringify(value)} as ${kind}: ${got}, want ${exp}`;
}

const KINDS = ['link', 'download', 'image'];

test('url.js (in node): every bypass form is refused or harmless', () => {
  const base = 'http://dash.example:8080/p/links';
  const errors = [];
  for (const [value, ...wants] of CASES) {
    KINDS.forEach((kind, i) => {
      const m = mismatch(value, kind, safeUrl(value, kind, base), wants[i], base);
      if (m) errors.push(m);
    });
  }
  assert.deepEqual(errors, []);
  // Whatever it allows parses to an allowed scheme.
  for (const [value] of CASES) {
    for (const kind of KINDS) {
      const r = safeUrl(value, kind, base);
      if (r !== null) assert.match(new URL(r).protocol, /^(https?|mailto|data):$/);
    }
  }
  assert.equal(safeUrl('https://example.com/', 'script', base), null, 'unknown kinds are refused');
  assert.equal(safeUrl('data:text/csv,x', 'constructor', base), null, '... inherited names too');
  assert.equal(safeUrl(42, 'link', base), null, 'only strings');
});

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('url.js (in Chromium): the browser parses every form as node does', async () => {
  const page = await newPage(browser);
  await openPage(page, '/p/links');
  const errors = await page.evaluate(async ({ cases, kinds }) => {
    const { safeUrl: check } = await import('/js/url.js');
    const out = [];
    for (const [value, ...wants] of cases) {
      kinds.forEach((kind, i) => {
        const got = check(value, kind);
        const want = wants[i];
        const ok = want === 'refused' ? got === null
          : want === 'here' ? got !== null && new URL(got).origin === location.origin
            : got === (want.startsWith('http://') ? want.replace(/^http:/, location.protocol) : want);
        if (!ok) out.push(`${JSON.stringify(value)} as ${kind}: ${got}, want ${want}`);
        // the parse the attribute gets is the one checked
        if (got !== null) {
          const a = document.createElement('a');
          a.href = got;
          if (a.href !== got) out.push(`${JSON.stringify(value)}: the anchor reads ${a.href}, checked ${got}`);
        }
      });
    }
    return out;
  }, { cases: CASES, kinds: KINDS });
  assert.deepEqual(errors, []);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('database values never put a script URL in a link, an image or markdown', async () => {
  const page = await newPage(browser);
  page.on('dialog', (d) => { page.errors.push(`dialog: ${d.message()}`); d.dismiss(); });
  // \u0000 cannot be stored in jsonb: it is covered by the tests above.
  const values = CASES.map((c) => c[0]).filter((v) => !v.includes('\u0000') && v.trim() !== '');
  const bad = [];
  for (const v of values) {
    const qs = new URLSearchParams({ dl: v, img: v, md: `[go](${v}) and ${v}` });
    await openPage(page, `/p/links?${qs}`);
    await page.waitForFunction(() => document.querySelector('#dl_link')?.textContent.includes('File'), null, { timeout: 5000 });
    const attrs = await page.evaluate(() => ({
      dl: document.querySelector('#dl_link')?.getAttribute('href'),
      img: document.querySelector('#img_box img')?.getAttribute('src'),
      md: [...document.querySelectorAll('#md_text a')].map((a) => a.getAttribute('href')),
    }));
    for (const [where, attr] of [['file_download', attrs.dl], ['image', attrs.img], ...attrs.md.map((x) => ['markdown', x])]) {
      if (attr === null || attr === undefined) continue;
      const proto = new URL(attr, BASE).protocol;
      if (!/^(https?|mailto|data):$/.test(proto)) bad.push(`${where}: ${JSON.stringify(v)} became ${JSON.stringify(attr)}`);
    }
  }
  assert.deepEqual(bad, []);
  // Harmless same-origin paths (such as "&#106;avascript:alert(1)") in an
  // image's src are fetched and answered 404: the only errors allowed here.
  page.errors = page.errors.filter((e) => !/Failed to load resource: the server responded with a status of 404/.test(e));
  // A value that is allowed does become the link.
  await openPage(page, `/p/links?${new URLSearchParams({ dl: '/api/query/items_all?format=csv', img: PNG, md: '[docs](https://example.com/docs)' })}`);
  await page.waitForFunction(() => document.querySelector('#dl_link')?.getAttribute('href')?.includes('/api/query/items_all'), null, { timeout: 5000 });
  assert.equal(await page.$eval('#img_box img', (i) => i.getAttribute('src')), PNG);
  assert.deepEqual(await page.$eval('#md_text a', (a) => [a.getAttribute('href'), a.target, a.rel]),
    ['https://example.com/docs', '_blank', 'noopener noreferrer']);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
