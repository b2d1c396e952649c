// Navigation: navbar, menu and content (the place in a frame page where the
// pages under it are shown; main.js fills it).
import { h, clear } from '../dom.js';
import { toText, truthy } from '../template.js';
import { safeUrl } from '../url.js';
import { lovItems } from './inputs.js';
import { onRoute, currentPath, pageUrl, pagePathOf } from '../router.js';

// The pages a navbar or menu lists by default: those under the frame page;
// without a frame, those beside the current page (same parent path).
async function defaultPages(ctx) {
  const pages = await ctx.pages();
  const frame = ctx.framePath();
  if (frame) return pages.filter((p) => p.path.startsWith(`${frame}/`));
  const cur = ctx.path || '';
  const parent = cur.includes('/') ? cur.slice(0, cur.lastIndexOf('/') + 1) : '';
  return pages.filter((p) => p.path.startsWith(parent) && !p.path.slice(parent.length).includes('/'));
}

// The target of a navbar item id, as Taipy writes them: "/home" or "home"
// (a page under the frame, else a page path), "/p/..." , or an http(s) URL.
// Returns {path} for a page of this server, {url} for another site, or null.
function target(id, ctx, known) {
  const s = String(id ?? '').trim();
  if (!s) return null;
  if (/^[a-z][a-z0-9+.-]*:/i.test(s)) {
    const url = safeUrl(s, 'link');
    if (!url) return null;
    const path = pagePathOf(url);
    return path !== null ? { path } : { url };
  }
  if (s.startsWith('/p/')) { const path = pagePathOf(s); return path !== null ? { path } : null; }
  const rel = s.replace(/^\/+/, '').replace(/\/+$/, '');
  if (!rel) return null;
  const frame = ctx.framePath();
  if (frame && (known.has(`${frame}/${rel}`) || !known.has(rel))) return { path: `${frame}/${rel}` };
  return { path: rel };
}

// Items {id, label, path|url}: from the lov (a dict of page id to label as
// in Taipy, "a;b", a list, a query result) or, without one, from the pages.
async function navItems(node, ctx) {
  const pages = await ctx.pages();
  const known = new Set(pages.map((p) => p.path));
  const lov = ctx.prop(node, 'lov');
  if (lov === undefined || lov === null || lov === '') {
    return (await defaultPages(ctx)).map((p) => ({ id: p.path, label: p.title || p.path.split('/').pop(), path: p.path }));
  }
  let items;
  if (lov && typeof lov === 'object' && !Array.isArray(lov) && !Array.isArray(lov.rows)) {
    items = Object.entries(lov).map(([id, label]) => ({ id, label: toText(label) }));
  } else {
    items = lovItems(lov);
  }
  return items.map((it) => {
    const t = target(it.id, ctx, known) || {};
    const title = t.path && pages.find((p) => p.path === t.path);
    const label = it.label === String(it.id) && title && title.title ? title.title : it.label;
    return { ...it, label, ...t };
  });
}

// Marks the link of the page shown now.
function markCurrent(list) {
  const cur = currentPath();
  for (const a of list.querySelectorAll('a[data-path]')) {
    if (a.dataset.path === cur) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

// navbar: a bar of links to pages, the current one marked.
function navbar(node, ctx) {
  const list = h('ul', { class: 'navbar-list' });
  const el = h('nav', { class: 'navbar', 'aria-label': toText(ctx.prop(node, 'label', 'Pages')) || 'Pages' }, list);
  let seq = 0;
  ctx.track(node.bindings, async () => {
    const mine = ++seq;
    let items;
    try { items = await navItems(node, ctx); } catch (e) { console.warn('pg_dash: navbar', e); items = []; }
    if (mine !== seq) return;
    clear(list);
    for (const it of items) {
      if (!it.path && !it.url) continue;
      const a = h('a', { href: it.path ? pageUrl(it.path) : it.url }, it.label);
      if (it.path) a.dataset.path = it.path;
      else { a.target = '_blank'; a.rel = 'noopener noreferrer'; }
      list.appendChild(h('li', null, a));
    }
    if (!list.children.length) list.appendChild(h('li', { class: 'empty' }, 'No pages'));
    markCurrent(list);
  });
  ctx.onDispose(onRoute(() => markCurrent(list)));
  return el;
}

// menu: a collapsible list of options. Selecting one runs on_action with
// {id, value, label}; without on_action an option that is a page opens it.
// Without a lov it lists the pages, as a navbar does.
function menu(node, ctx) {
  const fn = typeof node.properties.on_action === 'string' ? node.properties.on_action : '';
  const title = toText(ctx.prop(node, 'label', 'Menu')) || 'Menu';
  const listId = `m${Math.random().toString(36).slice(2, 9)}`;
  const list = h('ul', { class: 'menu-list', id: listId });
  const button = h('button', { type: 'button', class: 'menu-button', 'aria-expanded': 'true', 'aria-controls': listId }, '☰ ', title);
  const status = h('span', { class: 'action-status', role: 'status' });
  const el = h('nav', { class: 'menu', 'aria-label': title }, button, list, status);
  button.addEventListener('click', () => {
    const open = button.getAttribute('aria-expanded') !== 'true';
    button.setAttribute('aria-expanded', open ? 'true' : 'false');
    list.hidden = !open;
  });
  // Up and down arrows move between the options.
  list.addEventListener('keydown', (ev) => {
    if (ev.key !== 'ArrowDown' && ev.key !== 'ArrowUp') return;
    const opts = [...list.querySelectorAll('a, button:not([disabled])')];
    const i = opts.indexOf(document.activeElement);
    if (i < 0) return;
    ev.preventDefault();
    opts[(i + (ev.key === 'ArrowDown' ? 1 : opts.length - 1)) % opts.length].focus();
  });
  const choose = async (it) => {
    if (!fn) { if (it.path) ctx.navigate(it.path); return; }
    status.textContent = '';
    try {
      await ctx.action(fn, { id: node.properties.id ?? null, value: it.id, label: it.label });
    } catch (e) {
      status.textContent = [e.message, e.detail, e.hint].filter(Boolean).join(' — ');
    }
  };
  let seq = 0;
  ctx.track(node.bindings, async () => {
    const mine = ++seq;
    let items;
    try { items = await navItems(node, ctx); } catch (e) { console.warn('pg_dash: menu', e); items = []; }
    if (mine !== seq) return;
    const off = ctx.prop(node, 'inactive_ids');
    const inactive = new Set((Array.isArray(off) ? off : typeof off === 'string' ? off.split(';') : []).map(String));
    clear(list);
    for (const it of items) {
      let item;
      if (!fn && it.path) {
        item = h('a', { href: pageUrl(it.path), dataset: { path: it.path } }, it.label);
      } else {
        item = h('button', { type: 'button', class: 'menu-item', disabled: inactive.has(String(it.id)) }, it.label);
        item.addEventListener('click', () => choose(it));
      }
      list.appendChild(h('li', null, item));
    }
    if (!list.children.length) list.appendChild(h('li', { class: 'empty' }, 'No options'));
    markCurrent(list);
    el.classList.toggle('inactive', node.properties.active !== undefined && !truthy(ctx.prop(node, 'active', true)));
  });
  ctx.onDispose(onRoute(() => markCurrent(list)));
  return el;
}

// content: where a frame page shows the page under it.
function content(node, ctx) {
  const el = h('div', { class: 'content-slot' });
  if (!ctx.contentSlot) ctx.contentSlot = el;
  return el;
}

export default { navbar, menu, content };
