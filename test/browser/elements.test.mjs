// Taipy's elements that pg_dash lacked, checked by what is drawn: a
// multi-page app (a frame page whose <|content|> shows the pages under it,
// its navbar, links, an action's pg_dash.navigate(), the back button), the
// theme toggle, file uploads handed to a SQL action, a chat reaching a
// second browser, the tree and the menu by keyboard, Taipy's scenario
// elements as labelled panels, unbound values and the gauge's fill.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, openPage, shot, sql, BASE, rgb, near, dialColour } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

// Waits for the text of selector to match re.
async function waitText(page, selector, re, timeout = 10000) {
  await page.waitForFunction(([sel, src]) => new RegExp(src).test(document.querySelector(sel)?.textContent || ''),
    [selector, re.source], { timeout });
}

test('a frame page draws its navbar once and the pages under it inside; links, actions and back navigate', async () => {
  const page = await newPage(browser);
  await page.goto(`${BASE}/p/test/app`);
  // the frame visited itself shows its first page (by path): about
  await page.waitForFunction(() => location.pathname === '/p/test/app/about', null, { timeout: 10000 });
  await waitText(page, '.content-slot h2', /^About$/);
  assert.equal(await page.$$eval('article.frame h1', (x) => x.map((e) => e.textContent)).then((t) => t.join()), 'Field office');
  const links = await page.$$eval('#app_nav a', (as) => as.map((a) => [a.textContent, a.getAttribute('href'), a.getAttribute('aria-current')]));
  assert.deepEqual(links, [['About', '/p/test/app/about', 'page'], ['Home', '/p/test/app/home', null]]);
  // the navbar element stays the same while the content changes
  await page.evaluate(() => { document.querySelector('#app_nav').dataset.marker = 'kept'; });

  await page.click('#app_nav a[href="/p/test/app/home"]');
  await waitText(page, '.content-slot h2', /^Home$/);
  assert.equal(new URL(page.url()).pathname, '/p/test/app/home');
  assert.equal(await page.$eval('#app_nav', (n) => n.dataset.marker), 'kept', 'the frame was not drawn again');
  assert.equal(await page.$eval('#app_nav a[aria-current="page"]', (a) => a.textContent), 'Home');
  assert.equal(await page.$$eval('.content-slot h2', (x) => x.length), 1, 'only the page under the frame is in its content');

  // a relative markdown link (about) is an in-app navigation
  assert.equal(await page.$eval('.content-slot p a', (a) => new URL(a.href).pathname), '/p/test/app/about');
  await page.click('.content-slot p a');
  await waitText(page, '.content-slot h2', /^About$/);
  assert.equal(await page.$eval('#app_nav', (n) => n.dataset.marker), 'kept');

  // an action calling pg_dash.navigate() moves to that page, with its state change
  await page.click('#go_home button');
  await waitText(page, '.content-slot h2', /^Home$/);
  assert.equal(new URL(page.url()).pathname, '/p/test/app/home');
  await waitText(page, '#came_from', /^about$/);

  // the back button walks the same history: home <- about <- home <- about
  await page.goBack();
  await waitText(page, '.content-slot h2', /^About$/);
  assert.equal(new URL(page.url()).pathname, '/p/test/app/about');
  await page.goBack();
  await waitText(page, '.content-slot h2', /^Home$/);
  await page.goForward();
  await waitText(page, '.content-slot h2', /^About$/);
  assert.equal(await page.$eval('#app_nav a[aria-current="page"]', (a) => a.textContent), 'About');
  await shot(page, 'elements-app');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the theme toggle switches the whole page between light and dark', async () => {
  const page = await newPage(browser);
  await openPage(page, '/p/test/app/home');
  await page.waitForSelector('#theme_toggle button[data-theme="dark"]');
  const bg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const light = rgb(await bg());
  assert.ok(near(light, [246, 247, 249], 4), `light background ${light}`);
  assert.equal(await page.$eval('#theme_toggle button[data-theme="light"]', (b) => b.getAttribute('aria-checked')), 'true');
  await page.click('#theme_toggle button[data-theme="dark"]');
  await page.waitForFunction(() => document.documentElement.dataset.theme === 'dark');
  assert.ok(near(rgb(await bg()), [18, 21, 27], 4), 'dark background drawn');
  assert.equal(await page.$eval('#theme_toggle button[data-theme="dark"]', (b) => b.getAttribute('aria-checked')), 'true');
  assert.equal(await page.$eval('#theme-toggle', (b) => b.getAttribute('aria-pressed')), 'true', 'the top bar button follows');
  // the choice is kept across pages and reloads
  await page.reload();
  await page.waitForSelector('#theme_toggle button[data-theme="dark"][aria-checked="true"]');
  assert.ok(near(rgb(await bg()), [18, 21, 27], 4));
  // by keyboard: arrow keys move and choose within the group
  await page.focus('#theme_toggle button[data-theme="dark"]');
  await page.keyboard.press('ArrowLeft');
  await page.waitForFunction(() => document.documentElement.dataset.theme === 'light');
  assert.ok(near(rgb(await bg()), [246, 247, 249], 4));
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a file uploaded through file_selector reaches the SQL action as text or bytes, with a progress bar and a size limit', async () => {
  sql('TRUNCATE uploads');
  const page = await newPage(browser);
  await openPage(page, '/p/test/upload');
  await page.waitForSelector('#up input[type=file]');
  assert.equal(await page.$eval('#up .file-caption', (e) => e.textContent), 'Send a file');
  // text
  await page.setInputFiles('#up input[type=file]', { name: 'prices.csv', mimeType: 'text/csv', buffer: Buffer.from('sku,price\nA,1.5\nÉ,2\n') });
  await waitText(page, '#up .action-status', /Uploaded prices\.csv/);
  assert.equal(await page.$eval('#up progress', (p) => [p.hidden, p.value].join()), 'false,100');
  await waitText(page, '#up_done', /Uploaded: prices\.csv/);
  assert.equal(sql("SELECT name || ' ' || encoding || ' ' || convert_from(bytes, 'UTF8') FROM uploads ORDER BY id DESC LIMIT 1").trim(),
    'prices.csv text sku,price\nA,1.5\nÉ,2');
  // binary: bytes with NUL arrive as base64, decoded to the same bytea
  const bin = Buffer.from([0, 1, 2, 255, 254, 0, 80, 75]);
  await page.setInputFiles('#up input[type=file]', { name: 'blob.bin', mimeType: 'application/octet-stream', buffer: bin });
  await waitText(page, '#up .action-status', /Uploaded blob\.bin/);
  assert.equal(sql("SELECT encoding || ' ' || encode(bytes, 'hex') FROM uploads WHERE name = 'blob.bin'").trim(), `base64 ${bin.toString('hex')}`);
  // a refused extension and a file over max_file_size are not sent
  await page.setInputFiles('#up input[type=file]', { name: 'x.exe', mimeType: 'application/octet-stream', buffer: Buffer.from('MZ') });
  await waitText(page, '#up .action-status', /only \.csv,\.bin,\.txt files/);
  await page.setInputFiles('#up_small input[type=file]', { name: 'big.txt', mimeType: 'text/plain', buffer: Buffer.alloc(200, 'a') });
  await waitText(page, '#up_small .action-status', /big\.txt is 200 B; the limit is 100 B/);
  // a file over the server's pg_dash.max_body_size (1MB) is refused with the setting named
  await page.setInputFiles('#up_huge input[type=file]', { name: 'huge.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(1200000, 1) });
  await waitText(page, '#up_huge .action-status', /max_body_size/, 20000);
  assert.equal(sql("SELECT count(*) FROM uploads WHERE name IN ('x.exe', 'big.txt', 'huge.bin')").trim(), '0');
  // keyboard: the file input is reachable with Tab
  const focusable = await page.evaluate(() => { const i = document.querySelector('#up input[type=file]'); i.focus(); return document.activeElement === i; });
  assert.ok(focusable);
  await shot(page, 'elements-upload');
  assert.deepEqual(page.errors.filter((e) => !/413/.test(e)), []);
  await page.context().close();
});

test('a chat message sent in one browser is stored by the action and appears in another, live', async () => {
  sql('TRUNCATE chat');
  const a = await newPage(browser);
  const b = await newPage(browser);
  await openPage(a, '/p/test/chat');
  await openPage(b, '/p/test/chat?me=bob');
  await waitText(a, '#chat .chat-log', /No messages yet/);
  await waitText(b, '#chat .chat-log', /No messages yet/);
  await a.fill('#chat textarea', 'Hello **Bob**');
  await a.keyboard.press('Enter');
  await b.waitForFunction(() => document.querySelector('#chat .chat-log')?.dataset.count === '1', null, { timeout: 5000 });
  assert.equal(await b.$eval('#chat .chat-message strong', (e) => e.textContent), 'Bob', 'markdown is rendered');
  assert.equal(await b.$eval('#chat .chat-sender', (e) => e.textContent), 'Alice');
  assert.equal(await b.$eval('#chat .chat-message', (e) => e.classList.contains('mine')), false);
  await a.waitForFunction(() => document.querySelector('#chat .chat-message.mine') !== null, null, { timeout: 5000 });
  assert.equal(await a.$eval('#chat textarea', (t) => t.value), '', 'the input is cleared');
  // the answer comes back the other way, by the Send button
  await b.fill('#chat textarea', 'Hi Alice');
  await b.click('#chat button[type=submit]');
  await a.waitForFunction(() => document.querySelector('#chat .chat-log')?.dataset.count === '2', null, { timeout: 5000 });
  assert.deepEqual(await a.$$eval('#chat .chat-text', (x) => x.map((e) => e.textContent.trim())), ['Hello Bob', 'Hi Alice']);
  assert.equal(sql("SELECT string_agg(sender || ':' || body, ' / ' ORDER BY id) FROM chat").trim(), 'alice:Hello **Bob** / bob:Hi Alice');
  await shot(a, 'elements-chat');
  assert.deepEqual(a.errors, []);
  assert.deepEqual(b.errors, []);
  await a.context().close();
  await b.context().close();
});

test('the tree is built from (id, label, parent) rows and used by keyboard', async () => {
  const page = await newPage(browser);
  await openPage(page, '/p/test/tree');
  await page.waitForSelector('#places [role="treeitem"]');
  const top = await page.$$eval('#places > [role="tree"] > [role="treeitem"] > .tree-row .tree-label', (x) => x.map((e) => e.textContent));
  assert.deepEqual(top, ['Asia', 'Europe']);
  assert.equal(await page.$eval('#places [role="tree"]', (t) => t.getAttribute('aria-label')), 'Place');
  // Tab into the tree, down to Europe, open it, down to France, open, down to Paris, select
  await page.focus('#places [role="treeitem"][tabindex="0"]');
  for (const k of ['ArrowDown', 'ArrowRight', 'ArrowDown', 'ArrowRight', 'ArrowDown', 'Enter']) await page.keyboard.press(k);
  await waitText(page, '#chosen', /Chosen: paris/);
  assert.equal(await page.$eval('[role="treeitem"][aria-selected="true"] > .tree-row .tree-label', (e) => e.textContent), 'Paris');
  assert.equal(await page.evaluate(() => document.activeElement.querySelector('.tree-label').textContent), 'Paris', 'focus stays on the chosen item');
  // left goes back to the parent, then closes it
  await page.keyboard.press('ArrowLeft');
  assert.equal(await page.evaluate(() => document.activeElement.querySelector('.tree-label').textContent), 'France');
  await page.keyboard.press('ArrowLeft');
  assert.equal(await page.$eval('[role="treeitem"][data-id=\'"fr"\']', (e) => e.getAttribute('aria-expanded')), 'false');
  assert.equal(await page.$eval('[role="treeitem"][data-id=\'"paris"\']', (e) => e.closest('[role="group"]').hidden), true, 'Paris is hidden');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the menu runs its action with the chosen option, skips inactive ones, and lists pages without a lov', async () => {
  const page = await newPage(browser);
  await openPage(page, '/p/test/menu');
  await page.waitForSelector('#sections .menu-item');
  assert.deepEqual(await page.$$eval('#sections .menu-item', (x) => x.map((b) => [b.textContent, b.disabled])),
    [['Reports', false], ['Settings', false], ['Archive', true]]);
  await page.focus('#sections .menu-item');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await waitText(page, '#picked', /Picked: s/);
  // collapsible
  await page.click('#sections .menu-button');
  assert.equal(await page.$eval('#sections .menu-list', (l) => l.hidden), true);
  assert.equal(await page.$eval('#sections .menu-button', (b) => b.getAttribute('aria-expanded')), 'false');
  // without a lov: the pages beside this one, as links
  const pages = await page.$$eval('#pages_menu a', (as) => as.map((a) => a.getAttribute('href')));
  assert.ok(pages.includes('/p/test/menu') && pages.includes('/p/test/tree'), pages.join());
  assert.equal(await page.$eval('#pages_menu a[aria-current="page"]', (a) => a.getAttribute('href')), '/p/test/menu');
  await page.click('#pages_menu a[href="/p/test/tree"]');
  await page.waitForSelector('#places [role="treeitem"]');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("Taipy's scenario elements are labelled panels and the rest of the page works", async () => {
  const warnings = sql("SELECT string_agg(w->>'message', ' / ') FROM pg_dash.page_list, jsonb_array_elements(warnings) w WHERE path = 'test/scenario'");
  assert.match(warnings, /element "scenario_selector" belongs to Taipy's scenario management and is shown as a panel/);
  const page = await newPage(browser);
  await openPage(page, '/p/test/scenario');
  await waitText(page, '#after', /^4$/);
  const panels = await page.$$eval('.foreign-panel', (x) => x.map((p) => p.querySelector('.foreign-title').textContent));
  assert.deepEqual(panels, ['Scenario selector — not part of pg_dash', 'Scenario — not part of pg_dash', 'Data node — not part of pg_dash']);
  assert.equal(await page.$$eval('.ctl-unknown, .ctl-error', (x) => x.length), 0);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('unbound values look intended: a placeholder, an empty chart with its title, a slider at its minimum', async () => {
  const page = await newPage(browser);
  await openPage(page, '/p/test/unbound');
  await page.waitForFunction(() => document.querySelector('#c_empty')?.dataset.state === 'empty', null, { timeout: 10000 });
  assert.equal(await page.$eval('#t_empty', (e) => [e.textContent, e.classList.contains('empty')].join()), '—,true');
  assert.equal(await page.$eval('#c_empty .chart-message', (e) => [e.hidden, e.textContent].join()), 'false,No data yet');
  assert.equal(await page.$$eval('#c_empty .error-box', (x) => x.length), 0, 'no error is shown');
  const title = await page.evaluate(() => window.echarts.getInstanceByDom(document.querySelector('#c_empty .chart-canvas')).getOption().title[0].text);
  assert.equal(title, 'Arrives later');
  assert.equal(await page.$eval('#s_empty input', (i) => i.value), '10');
  assert.equal(await page.$eval('#s_empty output', (o) => o.textContent), '–');
  assert.equal(await page.$eval('#g1 .dial-value', (e) => e.textContent), '–');
  // once bound, they show the values
  await page.evaluate(() => window.pgDash.store.patch({ nothing_here: 'now here', nothing_n: 42, nothing_chart: [{ a: 1, b: 2 }, { a: 2, b: 5 }] }));
  await waitText(page, '#t_empty', /^now here$/);
  await page.waitForFunction(() => document.querySelector('#c_empty')?.dataset.state === 'drawn', null, { timeout: 10000 });
  assert.equal(await page.$eval('#s_empty output', (o) => o.textContent), '42');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the gauge draws its fill up to the value', async () => {
  const page = await newPage(browser);
  await openPage(page, '/p/test/unbound?g=75');
  await waitText(page, '#g1 .dial-value', /^75$/);
  const accent = rgb(await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--accent').trim().replace(/^#(..)(..)(..)$/, (_, r, g, b) => `rgb(${parseInt(r, 16)}, ${parseInt(g, 16)}, ${parseInt(b, 16)})`)));
  const filled = await dialColour(page, '#g1', 60);
  const beyond = await dialColour(page, '#g1', 160);
  assert.ok(near(filled, accent), `60° of a 75 % gauge is the accent colour: ${filled} vs ${accent}`);
  assert.ok(!near(beyond, accent), `160° of a 75 % gauge is not filled: ${beyond}`);
  // the fill follows the value: 75 % is 135°
  const at130 = await dialColour(page, '#g1', 130);
  const at140 = await dialColour(page, '#g1', 140);
  assert.ok(near(at130, accent) && !near(at140, accent), `the fill ends at 135°: ${at130} / ${at140}`);
  await page.evaluate(() => window.pgDash.store.patch({ g: 20 }));
  await waitText(page, '#g1 .dial-value', /^20$/);
  assert.ok(near(await dialColour(page, '#g1', 30), accent) && !near(await dialColour(page, '#g1', 40), accent), 'at 20 % the fill ends at 36°');
  await shot(page, 'elements-gauge');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
