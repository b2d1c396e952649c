// Entry point of the pg_dash front end: theme, router, page list and page view.
//   /          the list of pages (GET /api/pages)
//   /p/<path>  one page (GET /api/page/<path>), rendered from its JSON tree;
//              inside its frame when an ancestor page (path "a" for "a/b")
//              holds <|content|>: the frame is drawn once and the pages
//              under it are shown in its content element.
import { h, clear, errorBox } from './dom.js';
import * as api from './api.js';
import { Socket } from './ws.js';
import { Store, parseUrlValue } from './state.js';
import { DataHub } from './data.js';
import { PageContext, renderPage, hasContent } from './render.js';
import { initTheme, currentTheme, setTheme, onThemeChange } from './theme.js';
import { setRouter, pagePathOf, pageUrl, navigate, routed } from './router.js';
import * as tpl from './template.js';
import { whoAmI, renderHeader, signInForm, refusedView, isRefusal } from './auth.js';
import { url } from './base.js';
import { prefetchEcharts, useWholeEcharts } from './vendor.js';
import { librariesReady } from './markdown.js';

const app = document.getElementById('app');
const crumbs = document.getElementById('crumbs');
const authEl = document.getElementById('auth');

// ---- theme: prefers-color-scheme, overridden by the toggle (localStorage)
initTheme();
const themeButton = document.getElementById('theme-toggle');
const showThemeButton = () => themeButton.setAttribute('aria-pressed', currentTheme() === 'dark' ? 'true' : 'false');
themeButton.addEventListener('click', () => setTheme(currentTheme() === 'dark' ? 'light' : 'dark'));
onThemeChange(showThemeButton);
showThemeButton();

// ---- shared services
const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${url('/ws')}`;
const socket = new Socket(wsUrl, document.getElementById('ws-status'));
const store = new Store();
const hub = new DataHub(socket, store);
// ctx: the shown page's context; frame: {path, page, ctx} of the frame
// around it, if any; pages: the page list (for frames, navbar and menu).
const app$ = { socket, store, hub, ctx: null, path: null, frame: null, pages: null };
window.pgDash = app$; // for debugging and the browser tests

// The server sends the session's whole current state, read from the table
// (never taken from a notification); a write of ours still in flight answers
// with the state too, so it is not overwritten meanwhile.
socket.on('state', (m) => { if (store.pending === 0) store.replace(m.state || {}); });
// Sessions start with the first state write. A socket opened before the
// browser had one reconnects after a write, so that it hears the session's
// changes from other tabs and its state-reading live queries follow them.
let socketHasSession = true;
// Whether people sign in comes with the hello frame (pg_dash.auth); only
// then is GET /api/me asked (it answers 401 to whoever is signed out).
let authReady = null;
const authKnown = new Promise((resolve) => { authReady = resolve; });
socket.on('hello', (m) => {
  socketHasSession = m.session !== false;
  if (m.auth !== 'password') { authReady(); return; }
  whoAmI().then(() => renderHeader(authEl, showSignIn)).finally(authReady);
});
api.onWrite(() => {
  if (socketHasSession) return;
  socketHasSession = true;
  socket.reconnect();
});
socket.on('open', () => {
  if (app$.path) socket.send({ type: 'page', path: app$.path });
  if (app$.frame) socket.send({ type: 'page', path: app$.frame.path });
});
socket.on('page_changed', (m) => {
  app$.pages = null; // a page may have been added or dropped
  if (app$.frame && m.path === app$.frame.path) {
    dropFrame();
    if (app$.path) showPage(app$.path, { keepScroll: true });
  } else if (app$.path && m.path === app$.path) showPage(app$.path, { keepScroll: true });
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
  dropFrame();
  let pages;
  try {
    pages = await pageList(true);
  } catch (e) {
    clear(app).appendChild(isRefusal(e) ? refusedView(e, 'the dashboards') : errorBox(e, 'Cannot list the pages'));
    return;
  }
  const list = h('ul', { class: 'page-list' });
  for (const p of pages) {
    list.appendChild(h('li', null,
      h('a', { href: pageUrl(p.path), 'data-route': '' }, p.title || p.path),
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

// The page list (GET /api/pages), fetched once and again after a change.
async function pageList(fresh = false) {
  if (!app$.pages || fresh) {
    const r = await api.get('/api/pages');
    app$.pages = ((r && r.pages) || []).slice().sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
  return app$.pages;
}

// The page the server embedded in the document of /p/<path> (a JSON data
// block, see docs/frontend.md): what GET /api/page/<path> answers, without
// asking. Used once, for the first view.
let embedded = (() => {
  const el = document.getElementById('pg-dash-page');
  if (!el) return null;
  el.remove();
  try { return JSON.parse(el.textContent); } catch { return null; }
})();

// GET /api/page/<path> (the embedded page the first time).
function fetchPage(path) {
  if (embedded && embedded.path === path) {
    const page = embedded;
    embedded = null;
    return Promise.resolve(page);
  }
  embedded = null;
  return api.get(`/api/page/${path.split('/').map(encodeURIComponent).join('/')}`);
}

// Starts fetching the ECharts modules of a page's charts, while the state,
// the query list and the data are still on their way; each chart runs them
// when it is drawn (vendor.js, prefetchEcharts).
function preloadCharts(page) {
  if (documentEval) useWholeEcharts();
  const types = new Set();
  const walk = (nodes) => {
    for (const n of nodes || []) {
      if (n.control === 'chart') {
        const t = n.properties && n.properties.type;
        types.add(typeof t === 'string' && !t.includes('{') ? t : 'line');
      }
      walk(n.children);
    }
  };
  walk(page.tree && page.tree.children);
  for (const t of types) prefetchEcharts(t);
}

// The frame of path: the nearest existing ancestor page (or the page
// itself) whose tree holds <|content|>, as {path, page}; or null.
async function findFrame(path, page) {
  if (hasContent(page.tree)) return { path, page };
  if (!path.includes('/')) return null; // no ancestor: no need for the page list
  let pages = [];
  try { pages = await pageList(); } catch (e) { console.warn('pg_dash: cannot list pages', e); }
  const known = new Set(pages.map((p) => p.path));
  const parts = path.split('/');
  for (let n = parts.length - 1; n > 0; n--) {
    const anc = parts.slice(0, n).join('/');
    if (!known.has(anc)) continue;
    if (app$.frame && app$.frame.path === anc) return { path: anc, page: app$.frame.page };
    try {
      const fp = await fetchPage(anc);
      if (hasContent(fp.tree)) return { path: anc, page: fp };
    } catch (e) {
      console.warn(`pg_dash: cannot load page "${anc}"`, e);
    }
  }
  return null;
}

// Removes the frame (its context, subscriptions and elements).
function dropFrame() {
  if (app$.ctx) { app$.ctx.destroy(); app$.ctx = null; }
  if (app$.frame) { app$.frame.ctx.destroy(); app$.frame = null; }
}

// Loading shown in the frame's content element, or in the whole view.
function container() {
  return app$.frame && app$.frame.ctx.contentSlot ? app$.frame.ctx.contentSlot : app;
}

async function showPage(path, { keepScroll = false } = {}) {
  const scroll = window.scrollY;
  const first = app$.path !== path || !app$.ctx;
  app$.path = path;
  if (first) {
    const where = container();
    clear(where).appendChild(h('div', { class: 'loading', role: 'status' }, h('span', { class: 'spinner' }), 'Loading page…'));
  }
  let page;
  try {
    page = await fetchPage(path);
  } catch (e) {
    if (app$.path !== path) return;
    if (app$.ctx) { app$.ctx.destroy(); app$.ctx = null; }
    clear(container()).appendChild(isRefusal(e) ? refusedView(e, `page “${path}”`) : errorBox(e, `Cannot load page “${path}”`));
    setCrumbs([path]);
    routed();
    return;
  }
  if (app$.path !== path) return;
  const frame = await findFrame(path, page);
  if (app$.path !== path) return;
  if (!fitsDocument(page.script_eval === true || (frame && frame.page.script_eval === true))) return;
  if (frame && frame.page !== page) preloadCharts(frame.page);
  preloadCharts(page);
  await stateLoaded; // a preset written before the state arrived would be overwritten
  await markdownReady;
  try {
    await presetFromUrl();
  } catch (e) {
    console.warn('pg_dash: cannot preset state from the URL', e);
  }
  try { await loadQueries(); } catch (e) { console.warn('pg_dash: cannot list queries', e); }
  if (app$.path !== path) return;

  // The frame visited itself: its content shows the first page under it.
  if (frame && frame.path === path) {
    let pages = [];
    try { pages = await pageList(); } catch (e) { console.warn('pg_dash: cannot list pages', e); }
    if (app$.path !== path) return;
    const under = pages.find((p) => p.path.startsWith(`${path}/`));
    if (under) { navigate(under.path, { replace: true }); return; }
  }
  if (app$.ctx) { app$.ctx.destroy(); app$.ctx = null; }
  if (!frame || (app$.frame && (app$.frame.path !== frame.path || app$.frame.page !== frame.page))) {
    if (app$.frame) { app$.frame.ctx.destroy(); app$.frame = null; }
  }
  setCrumbs(frame && frame.path !== path ? [frame.path, path.slice(frame.path.length + 1)] : [path]);
  document.title = page.title ? `${page.title} · pg_dash` : `${path} · pg_dash`;

  let where = app;
  if (frame && !app$.frame) {
    // The frame is drawn once; the pages under it replace its content.
    const fctx = new PageContext({ store, hub, path: frame.path, app: app$ });
    app$.frame = { path: frame.path, page: frame.page, ctx: fctx };
    const fbody = h('article', { class: 'page frame', dataset: { path: frame.path } });
    clear(app).append(pageTools(frame.page.tree), fbody);
    renderPage(frame.page.tree || { children: [] }, fbody, fctx);
    socket.send({ type: 'page', path: frame.path });
  }
  if (frame && app$.frame.ctx.contentSlot) where = app$.frame.ctx.contentSlot;
  const ctx = new PageContext({ store, hub, path, app: app$ });
  app$.ctx = ctx;
  app$.tree = page.tree;
  const body = h('article', { class: frame ? 'page framed' : 'page', dataset: { path } });
  if (frame && frame.path === path) {
    // a frame with no page under it yet
    body.appendChild(h('p', { class: 'empty' }, `No page under “${path}” yet: define one named “${path}/…”.`));
    clear(where).append(body);
  } else if (frame) {
    clear(where).append(body);
    renderPage(page.tree || { children: [] }, body, ctx);
  } else {
    clear(app).append(pageTools(page.tree), body);
    renderPage(page.tree || { children: [] }, body, ctx);
  }
  socket.send({ type: 'page', path });
  if (keepScroll) window.scrollTo(0, scroll);
  else if (first && frame) window.scrollTo(0, 0);
  routed();
}

// The tools above a page: "Copy link" (the state keys of the page shown
// and of its frame, when it has one).
function pageTools(tree) {
  const tools = h('div', { class: 'page-tools' });
  const bindings = () => [...new Set([...((tree && tree.bindings) || []), ...((app$.frame && app$.tree && app$.tree.bindings) || [])])];
  tools.appendChild(h('button', { type: 'button', class: 'link-button', title: 'Copy a link to this view (its state in the URL)', onclick: () => copyLink({ bindings: bindings() }, tools) }, 'Copy link'));
  return tools;
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
  const path = pagePathOf(location.href);
  if (path === null) {
    if (app$.ctx) { app$.ctx.destroy(); app$.ctx = null; }
    return showList().then(routed);
  }
  return showPage(path);
}
setRouter(route);

// In-app navigation for links to pages of this server (/p/...), unless
// they open elsewhere or a modifier key asks for a new tab.
document.addEventListener('click', (ev) => {
  const a = ev.target.closest && ev.target.closest('a[href]');
  if (!a || ev.defaultPrevented || ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.altKey || ev.button !== 0) return;
  if (a.target && a.target !== '_self') return;
  if (a.hasAttribute('download')) return;
  const href = a.getAttribute('href');
  const path = pagePathOf(a.href);
  if (path === null && !(a.hasAttribute('data-route') && href === url('/'))) return;
  ev.preventDefault();
  const u = new URL(a.href);
  history.pushState(null, '', path === null ? url('/') : `${pageUrl(path)}${u.search}`);
  if (u.search) presetDone = false;
  route();
});
window.addEventListener('popstate', route);

// The sign-in form in place of the view (the header's "Sign in").
function showSignIn() {
  if (app$.ctx) { app$.ctx.destroy(); app$.ctx = null; }
  dropFrame();
  app$.path = null;
  setCrumbs(['sign in']);
  clear(app).appendChild(h('div', { class: 'signin-page' }, signInForm({ title: 'Sign in' })));
}

// ---- start: the session state, the query list, the page (embedded or
// asked for) and its chart modules are all asked for at once; nothing waits
// for another answer it does not need.
// The query list: the one asked for at start for the first view, a fresh
// one for every later view.
let queriesAtStart = pagePathOf(location.href) !== null ? hub.loadQueries() : null;
if (queriesAtStart) queriesAtStart.catch(() => {});
function loadQueries() {
  const p = queriesAtStart || hub.loadQueries();
  queriesAtStart = null;
  return p;
}
const markdownReady = librariesReady();
socket.connect();
const stateLoaded = store.load().catch((e) => {
  console.warn('pg_dash: cannot load the session state', e);
  app.before(h('div', { class: 'banner warning', role: 'status' }, `Session state unavailable: ${e.message}`));
});
// A page embedded in the document is one the viewer may open: it is drawn
// at once. Otherwise the first view needs to know who is signed in (the
// hello frame says whether people sign in at all); a socket that does not
// open within 2 s does not hold the page back.
if (embedded) route();
else Promise.race([authKnown, new Promise((resolve) => setTimeout(resolve, 2000))]).then(route);

export { tpl };
