// Entry point of the pg_dash front end: theme, router, page list and page view.
//   /          the list of pages (GET /api/pages)
//   /p/<path>  one page (GET /api/page/<path>), rendered from its JSON tree
import { h, clear, errorBox } from './dom.js';
import * as api from './api.js';
import { Socket } from './ws.js';
import { Store, parseUrlValue } from './state.js';
import { DataHub } from './data.js';
import { PageContext, renderPage } from './render.js';
import * as tpl from './template.js';

const app = document.getElementById('app');
const crumbs = document.getElementById('crumbs');

// ---- theme: prefers-color-scheme, overridden by the toggle (localStorage)
const THEME_KEY = 'pg_dash.theme';
function applyTheme(t) {
  if (t === 'light' || t === 'dark') document.documentElement.dataset.theme = t;
  else delete document.documentElement.dataset.theme;
  window.dispatchEvent(new Event('pg_dash:theme'));
}
function currentTheme() {
  return document.documentElement.dataset.theme || (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light');
}
try { applyTheme(localStorage.getItem(THEME_KEY)); } catch { /* storage disabled */ }
document.getElementById('theme-toggle').addEventListener('click', () => {
  const next = currentTheme() === 'dark' ? 'light' : 'dark';
  try { localStorage.setItem(THEME_KEY, next); } catch { /* storage disabled */ }
  applyTheme(next);
});
matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => window.dispatchEvent(new Event('pg_dash:theme')));

// ---- shared services
const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
const socket = new Socket(wsUrl, document.getElementById('ws-status'));
const store = new Store();
const hub = new DataHub(socket, store);
const app$ = { socket, store, hub, ctx: null, path: null };
window.pgDash = app$; // for debugging and the browser tests

// The server sends the session's whole current state, read from the table
// (never taken from a notification); a write of ours still in flight answers
// with the state too, so it is not overwritten meanwhile.
socket.on('state', (m) => { if (store.pending === 0) store.replace(m.state || {}); });
// Sessions start with the first state write. A socket opened before the
// browser had one reconnects after a write, so that it hears the session's
// changes from other tabs and its state-reading live queries follow them.
let socketHasSession = true;
socket.on('hello', (m) => { socketHasSession = m.session !== false; });
api.onWrite(() => {
  if (socketHasSession) return;
  socketHasSession = true;
  socket.reconnect();
});
socket.on('open', () => { if (app$.path) socket.send({ type: 'page', path: app$.path }); });
socket.on('page_changed', (m) => {
  if (app$.path && m.path === app$.path) showPage(app$.path, { keepScroll: true });
});

// Loading in progress, shown after a short delay so fast loads do not flash.
function loading(text) {
  clear(app).appendChild(h('div', { class: 'loading', role: 'status' }, h('span', { class: 'spinner' }), text));
}

function setCrumbs(items) {
  clear(crumbs);
  for (const it of items) crumbs.appendChild(h('span', { class: 'crumb' }, '/ ', it));
}

// ---- the document's Content-Security-Policy allows eval only when the
// server served it for a page that needs it ("script_eval": 3-D charts, see
// docs/api.md). Moving to a page that differs in that loads the document
// anew, so that every page runs under the policy made for it.
let documentEval = null; // learnt from the first page shown

// True when the page can be shown in this document; otherwise reloads.
function fitsDocument(needsEval) {
  if (documentEval === null) documentEval = needsEval;
  if (documentEval === needsEval) return true;
  location.reload();
  return false;
}

// ---- routes
async function showList() {
  if (!fitsDocument(false)) return;
  app$.path = null;
  document.title = 'pg_dash';
  setCrumbs([]);
  loading('Loading pages…');
  let r;
  try {
    r = await api.get('/api/pages');
  } catch (e) {
    clear(app).appendChild(errorBox(e, 'Cannot list the pages'));
    return;
  }
  const pages = (r && r.pages) || [];
  const list = h('ul', { class: 'page-list' });
  for (const p of pages) {
    list.appendChild(h('li', null,
      h('a', { href: `/p/${p.path.split('/').map(encodeURIComponent).join('/')}`, 'data-route': '' }, p.title || p.path),
      h('span', { class: 'page-path' }, p.path),
      p.description ? h('div', { class: 'page-desc' }, p.description) : null));
  }
  clear(app).append(h('h1', null, 'Dashboards'),
    pages.length ? list : h('p', { class: 'empty' }, 'No pages yet. Define one with pg_dash.define_page(path, source).'));
}

let presetDone = false;

// Sets state keys from the URL's query string once (?region=North).
async function presetFromUrl() {
  if (presetDone) return;
  presetDone = true;
  const qs = new URLSearchParams(location.search);
  const changes = {};
  for (const [k, v] of qs) changes[k] = parseUrlValue(v);
  if (Object.keys(changes).length) await store.patch(changes);
}

async function showPage(path, { keepScroll = false } = {}) {
  const scroll = window.scrollY;
  const first = app$.path !== path || !app$.ctx;
  app$.path = path;
  setCrumbs([path]);
  if (first) loading('Loading page…');
  let page;
  try {
    page = await api.get(`/api/page/${path.split('/').map(encodeURIComponent).join('/')}`);
  } catch (e) {
    if (app$.ctx) { app$.ctx.destroy(); app$.ctx = null; }
    clear(app).appendChild(errorBox(e, `Cannot load page “${path}”`));
    return;
  }
  if (app$.path !== path) return;
  if (!fitsDocument(page.script_eval === true)) return;
  try {
    await presetFromUrl();
  } catch (e) {
    console.warn('pg_dash: cannot preset state from the URL', e);
  }
  try { await hub.loadQueries(); } catch (e) { console.warn('pg_dash: cannot list queries', e); }
  if (app$.ctx) app$.ctx.destroy();
  const ctx = new PageContext({ store, hub, path });
  app$.ctx = ctx;
  document.title = page.title ? `${page.title} · pg_dash` : `${path} · pg_dash`;
  const body = h('article', { class: 'page', dataset: { path } });
  const tools = h('div', { class: 'page-tools' },
    h('button', { type: 'button', class: 'link-button', title: 'Copy a link to this view (its state in the URL)', onclick: () => copyLink(page.tree, tools) }, 'Copy link'));
  clear(app).append(tools, body);
  renderPage(page.tree || { children: [] }, body, ctx);
  socket.send({ type: 'page', path });
  if (keepScroll) window.scrollTo(0, scroll);
}

// Copies /p/<path>?key=value... for the state keys the page binds.
function copyLink(tree, where) {
  const qs = new URLSearchParams();
  for (const name of (tree && tree.bindings) || []) {
    if (hub.isQuery(name) || !store.has(name)) continue;
    const v = store.get(name);
    qs.set(name, typeof v === 'string' ? v : JSON.stringify(v));
  }
  const url = `${location.origin}${location.pathname}${qs.toString() ? `?${qs}` : ''}`;
  const done = (t) => { const n = h('span', { class: 'copied' }, t); where.appendChild(n); setTimeout(() => n.remove(), 2000); };
  if (navigator.clipboard) navigator.clipboard.writeText(url).then(() => done('Copied'), () => done(url));
  else done(url);
}

function route() {
  const m = location.pathname.match(/^\/p\/(.+)$/);
  if (app$.ctx && !m) { app$.ctx.destroy(); app$.ctx = null; }
  if (m) return showPage(m[1].split('/').map(decodeURIComponent).join('/'));
  return showList();
}

// In-app navigation for links marked data-route.
document.addEventListener('click', (ev) => {
  const a = ev.target.closest && ev.target.closest('a[data-route]');
  if (!a || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button !== 0) return;
  ev.preventDefault();
  history.pushState(null, '', a.getAttribute('href'));
  route();
});
window.addEventListener('popstate', route);

// ---- start
(async () => {
  socket.connect();
  try {
    await store.load();
  } catch (e) {
    console.warn('pg_dash: cannot load the session state', e);
    app.before(h('div', { class: 'banner warning', role: 'status' }, `Session state unavailable: ${e.message}`));
  }
  await route();
})();

export { tpl };
