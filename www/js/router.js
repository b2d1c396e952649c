// In-app navigation between pages (/p/<path>) without reloading: links,
// navbar and menu items, and actions that call pg_dash.navigate(). The
// browser's back and forward buttons walk the same history. Page URLs are
// under the base path (base.js); a "/p/..." link without it is taken too.
import { url, serverPath } from './base.js';

let routeFn = null;
const listeners = new Set();

// The page path of a URL of this server ("/p/sales?x=1" -> "sales"), or null.
export function pagePathOf(href) {
  let u;
  try { u = new URL(href, location.href); } catch { return null; }
  if (u.origin !== location.origin) return null;
  const m = serverPath(u.pathname).match(/^\/p\/(.+?)\/?$/);
  if (!m) return null;
  try { return m[1].split('/').map(decodeURIComponent).join('/'); } catch { return null; }
}

// The URL of a page path.
export function pageUrl(path) {
  return url(`/p/${String(path).split('/').map(encodeURIComponent).join('/')}`);
}

// main.js registers the function that shows the current location.
export function setRouter(fn) { routeFn = fn; }

// Shows the page at path (a new history entry unless replace).
export function navigate(path, { replace = false } = {}) {
  const to = path === '' || path === null ? url('/') : pageUrl(path);
  if (replace) history.replaceState(null, '', to);
  else if (location.pathname !== to || location.search) history.pushState(null, '', to);
  return routeFn ? routeFn() : undefined;
}

// The path of the page shown now, or null on the page list.
export function currentPath() { return pagePathOf(location.href); }

// Calls fn(path) after every route change; returns a function that stops it.
export function onRoute(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

// Tells the listeners (navbar, menu) where the app is now.
export function routed() {
  const p = currentPath();
  for (const fn of [...listeners]) {
    try { fn(p); } catch (err) { console.warn('pg_dash: route listener failed', err); }
  }
}
