// Sign-in (issue 13): with pg_dash.auth = password a signed-out browser is
// shown the sign-in form, signs in, sees the dashboards of its role with the
// role and a sign-out link in the header, is refused a page its role may not
// open, signs out; Taipy's <|login|> control signs in from a page.
// The cluster is shared with the other files: the settings are put back after.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, sql, shot, BASE } from './helpers.mjs';

let browser;

// Changes pg_dash settings and waits until the server answers /api/me with code.
async function configure(settings, code) {
  for (const [k, v] of Object.entries(settings)) {
    sql(v === null ? `ALTER SYSTEM RESET ${k}` : `ALTER SYSTEM SET ${k} = '${v}'`);
  }
  sql('SELECT pg_reload_conf()');
  const t0 = Date.now();
  for (;;) {
    const r = await fetch(`${BASE}/api/me`);
    const body = await r.json().catch(() => ({}));
    if (body?.error?.code === code) return;
    if (Date.now() - t0 > 10000) throw new Error(`/api/me did not become ${code}: ${JSON.stringify(body)}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

before(async () => {
  sql(`DO $$ BEGIN
         IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'br_alice') THEN
           CREATE ROLE br_alice LOGIN PASSWORD 'alice-pw';
           CREATE ROLE br_bob LOGIN PASSWORD 'bob-pw';
         END IF;
       END $$`);
  sql("SELECT pg_dash.define_query('signin_whoami', 'SELECT current_user AS who')");
  sql(`SELECT pg_dash.define_page('signin-private', '# Private' || chr(10) || '<|{signin_whoami}|table|>',
                                  access => '{br_alice}')`);
  sql("SELECT pg_dash.define_page('signin-login', '# Members' || chr(10) || '<|login|title=Members sign in here|>')");
  await configure({ 'pg_dash.auth': 'password', 'pg_dash.anonymous': 'off' }, 'sign_in_required');
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await configure({ 'pg_dash.auth': null, 'pg_dash.anonymous': null }, 'sign_in_off');
  sql("SELECT pg_dash.drop_page('signin-private'), pg_dash.drop_page('signin-login'), pg_dash.drop_query('signin_whoami')");
});

// Fills the sign-in form shown on the page and waits for the app to start again.
async function signIn(page, user, password) {
  await page.fill('form.login input[name=username]', user);
  await page.fill('form.login input[name=password]', password);
  await Promise.all([page.waitForEvent('load'), page.click('form.login button[type=submit]')]);
}

test('sign in through the form, see the dashboards, sign out, be refused', async () => {
  const page = await newPage(browser);
  await page.goto(`${BASE}/`);
  await page.waitForSelector('form.login');
  assert.equal(await page.$('.auth-role'), null, 'nobody is shown as signed in');
  await shot(page, 'signin-form');

  // a wrong password keeps the form, with the server's answer
  await page.fill('form.login input[name=username]', 'br_alice');
  await page.fill('form.login input[name=password]', 'wrong');
  await page.click('form.login button[type=submit]');
  await page.waitForSelector('.login-status.error');
  assert.match(await page.innerText('.login-status'), /wrong username or password/);

  await signIn(page, 'br_alice', 'alice-pw');
  await page.waitForSelector('ul.page-list');
  assert.equal(await page.innerText('.auth-role'), 'br_alice', 'the header shows the role');
  const paths = await page.$$eval('.page-list .page-path', (els) => els.map((e) => e.textContent));
  assert.ok(paths.includes('signin-private'), 'the start page lists her page');

  await page.click('a[href="/p/signin-private"]');
  await page.waitForSelector('article.page table tbody tr');
  assert.match(await page.innerText('article.page table tbody'), /br_alice/, 'the page runs as her role');
  await shot(page, 'signin-signed-in');

  await Promise.all([page.waitForEvent('load'), page.click('.auth-signout')]);
  await page.waitForSelector('form.login');
  assert.equal(await page.$('.auth-role'), null, 'signed out');

  await signIn(page, 'br_bob', 'bob-pw');
  await page.waitForSelector('ul.page-list');
  const bobPaths = await page.$$eval('.page-list .page-path', (els) => els.map((e) => e.textContent));
  assert.ok(!bobPaths.includes('signin-private'), 'bob does not see her page listed');
  await page.goto(`${BASE}/p/signin-private`);
  await page.waitForSelector('.error-box.refused');
  assert.match(await page.innerText('.error-box.refused'), /You may not open page/);
  assert.match(await page.innerText('.error-box.refused'), /signed in as br_bob/);
  await shot(page, 'signin-refused');
  assert.deepEqual(page.errors.filter((e) => !/status of 40[13]/.test(e)), []);
  await page.context().close();
});

test('Taipy\'s login control signs in from a page', async () => {
  await configure({ 'pg_dash.anonymous': 'on' }, 'not_signed_in');
  const page = await newPage(browser);
  await page.goto(`${BASE}/p/signin-login`);
  await page.waitForSelector('article.page form.login');
  assert.equal(await page.innerText('article.page .login-title'), 'Members sign in here');
  assert.equal(await page.innerText('.auth-signin'), 'Sign in', 'the header offers to sign in');
  await signIn(page, 'br_alice', 'alice-pw');
  await page.waitForSelector('.auth-role');
  assert.equal(await page.innerText('.auth-role'), 'br_alice');
  assert.deepEqual(page.errors.filter((e) => !/status of 40[13]/.test(e)), []);
  await page.context().close();
  await configure({ 'pg_dash.anonymous': 'off' }, 'sign_in_required');
});
