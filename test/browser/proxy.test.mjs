// Behind a reverse proxy: Debian's nginx terminates TLS with a self-signed
// certificate and forwards https://127.0.0.1:<port>/dash/ to pg_dash, which
// runs with pg_dash.base_path = '/dash' and trusts nginx's X-Forwarded-*
// headers. A page loads with every asset, its live updates arrive over the
// forwarded WebSocket (wss), and its CSV download works, all under /dash/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { BASE, newPage, sql, waitForChart, shot } from './helpers.mjs';

const NGINX = process.env.NGINX || '/usr/sbin/nginx';
let browser;
let nginx;
let dir;
let proxyUrl;

// A free TCP port on 127.0.0.1.
function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

// The nginx configuration the README shows, with this test's paths and ports.
function nginxConf(port, upstream) {
  return `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${dir}/cert.pem;
    ssl_certificate_key ${dir}/key.pem;
    location /dash/ {
      proxy_pass http://${upstream};
      proxy_http_version 1.1;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_read_timeout 1h;
      proxy_buffering off;
    }
  }
}
`;
}

// Waits until a TCP port accepts connections.
async function waitForPort(port) {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.end(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nginx does not listen on ${port}: ${fs.readFileSync(`${dir}/error.log`, 'utf8')}`);
}

before(async () => {
  assert.ok(fs.existsSync(NGINX), `${NGINX} is missing (apt-get install nginx)`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg_dash-nginx-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', `${dir}/key.pem`, '-out', `${dir}/cert.pem`], { stdio: 'ignore' });
  sql("ALTER SYSTEM SET pg_dash.base_path = '/dash'");
  sql("ALTER SYSTEM SET pg_dash.trusted_proxies = '127.0.0.1'");
  sql('SELECT pg_reload_conf()');
  await new Promise((r) => setTimeout(r, 500));
  const port = await freePort();
  fs.writeFileSync(`${dir}/nginx.conf`, nginxConf(port, new URL(BASE).host));
  nginx = spawn(NGINX, ['-p', dir, '-c', `${dir}/nginx.conf`], { stdio: 'ignore' });
  await waitForPort(port);
  proxyUrl = `https://127.0.0.1:${port}/dash`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--ignore-certificate-errors'],
  });
});

after(async () => {
  await browser?.close();
  nginx?.kill('SIGTERM');
  sql('ALTER SYSTEM RESET pg_dash.base_path');
  sql('ALTER SYSTEM RESET pg_dash.trusted_proxies');
  sql('SELECT pg_reload_conf()');
  await new Promise((r) => setTimeout(r, 500));
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

// Every request the page makes, WebSockets included, by URL.
function requestsOf(page) {
  const urls = [];
  page.on('request', (r) => urls.push(r.url()));
  page.on('websocket', (ws) => urls.push(ws.url()));
  return urls;
}

test('a page behind nginx at /dash/ over TLS loads and its live updates arrive', async () => {
  const page = await newPage(browser);
  const urls = requestsOf(page);
  await page.goto(`${proxyUrl}/p/live`);
  await page.waitForSelector('article.page', { timeout: 15000 });
  const s = await waitForChart(page, '#live_chart');
  const n = s[0].length;
  await page.waitForFunction(() => document.getElementById('ws-status').dataset.state === 'open', null, { timeout: 5000 });
  sql('INSERT INTO readings (ts, value) VALUES (now(), 43); NOTIFY readings');
  await waitForChart(page, '#live_chart', 3000, (x) => x && x[0] && x[0].length === n + 1);
  const origin = new URL(proxyUrl).origin;
  const wss = proxyUrl.replace('https', 'wss');
  const outside = urls.filter((u) => (u.startsWith(origin) && !u.startsWith(`${proxyUrl}/`)) ||
    (u.startsWith('wss:') && !u.startsWith(`${wss}/`)));
  assert.deepEqual(outside, [], 'every request stays under /dash/');
  assert.ok(urls.some((u) => u.startsWith(`${proxyUrl}/api/`)), 'the API is asked under /dash/');
  assert.ok(urls.some((u) => u.startsWith(`${proxyUrl}/js/app.js`)), 'the scripts come from /dash/');
  assert.ok(urls.some((u) => u === `${wss}/ws`), 'the WebSocket is /dash/ws over wss');
  // the page list link and in-app navigation stay under the base
  await page.click('a.brand');
  await page.waitForFunction((u) => location.href === u, `${proxyUrl}/`, { timeout: 5000 });
  await shot(page, 'proxy-live');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a CSV download behind nginx at /dash/', async () => {
  const page = await newPage(browser);
  await page.goto(`${proxyUrl}/p/widgets`);
  await page.waitForSelector('#csv_link[href]', { timeout: 15000 });
  const href = await page.$eval('#csv_link', (el) => el.getAttribute('href'));
  assert.match(href, /^\/dash\/api\/query\/items_all\?.*format=csv/);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#csv_link')]);
  const csv = fs.readFileSync(await download.path(), 'utf8').trim().split('\n');
  assert.ok(csv.length > 1, 'the CSV has rows');
  assert.match(csv[0], /^id,name,price/);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
