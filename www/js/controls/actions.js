// Controls that trigger things: button, schedule/refresh, file_download,
// image, alert.
import { h, clear, normalizeError } from '../dom.js';
import { safeUrl } from '../url.js';
import { num, toText, pureBinding, truthy } from '../template.js';
import * as api from '../api.js';
import { url as serverUrl } from '../base.js';

// Shows an action's outcome (errors stay until the next click).
function statusLine() {
  const el = h('span', { class: 'action-status', role: 'status' });
  el.show = (kind, text) => { el.className = `action-status ${kind || ''}`; el.textContent = text || ''; };
  return el;
}

function button(node, ctx) {
  const fn = node.properties.on_action;
  const b = h('button', { type: 'button', class: 'btn' });
  const st = statusLine();
  const el = h(node.inline ? 'span' : 'div', { class: 'button-wrap' }, b, st);
  b.addEventListener('click', async () => {
    if (typeof fn !== 'string' || !fn) return;
    b.disabled = true;
    b.setAttribute('aria-busy', 'true');
    st.show('busy', 'Running…');
    try {
      await ctx.action(fn, { id: node.properties.id ?? null, label: toText(ctx.prop(node, 'label', '')) });
      st.show('ok', '');
    } catch (e) {
      const n = normalizeError(e);
      st.show('error', [n.message, n.detail, n.hint].filter(Boolean).join(' — '));
    } finally {
      b.disabled = false;
      b.removeAttribute('aria-busy');
    }
  });
  ctx.track(node.bindings, () => {
    b.textContent = toText(ctx.prop(node, 'label', 'Run'));
    const a = node.properties.active;
    if (a !== undefined) b.disabled = !truthy(ctx.prop(node, 'active', true));
  });
  return el;
}

// schedule / refresh: every `interval` ms (default 5000, at least 250) runs
// on_action. A registered action is called (POST /api/action/<fn>) and the
// page's queries are fetched again afterwards. When on_action is missing,
// is "refresh", or names no registered action (the server answers 404), the
// page's queries are fetched again instead. Paused while the tab is hidden.
function schedule(node, ctx) {
  const interval = Math.max(250, num(ctx.prop(node, 'interval'), 5000));
  const fn = typeof node.properties.on_action === 'string' ? node.properties.on_action : '';
  let callAction = fn !== '' && fn !== 'refresh';
  const st = h('span', { class: 'schedule-status' });
  const el = h('span', { class: 'schedule', title: `Refreshes every ${interval / 1000} s` }, '⟳ ', st);
  let busy = false;
  const tick = async () => {
    if (busy || document.hidden) return;
    busy = true;
    try {
      if (callAction) {
        try {
          await ctx.action(fn, { interval });
        } catch (e) {
          if (e.status === 404) callAction = false; // not an action: refresh only
          else st.textContent = normalizeError(e).message;
        }
      }
      ctx.hub.refreshAll();
      el.dataset.ticks = String(Number(el.dataset.ticks || 0) + 1);
    } finally {
      busy = false;
    }
  };
  st.textContent = `${interval / 1000} s`;
  const timer = setInterval(tick, interval);
  ctx.onDispose(() => clearInterval(timer));
  return el;
}

// file_download: content="{query}" gives a CSV link of the query with the
// current parameters; a URL string gives a plain link.
function file_download(node, ctx) {
  const a = h('a', { class: 'btn download', download: '' });
  const b = pureBinding(node.properties.content);
  ctx.track(node.bindings, () => {
    const label = toText(ctx.prop(node, 'label', 'Download'));
    a.textContent = `⬇ ${label}`;
    if (b && ctx.isQuery(b.name)) {
      const name = toText(ctx.prop(node, 'name', `${b.name}.csv`));
      a.href = serverUrl(api.queryUrl(b.name, ctx.hub.paramsFor(b.name), { format: 'csv', filename: name }));
      a.download = name;
    } else {
      const href = safeUrl(toText(ctx.prop(node, 'content', '')), 'download');
      if (href) a.href = href; else a.removeAttribute('href');
    }
  });
  // Parameters come from state: keep the link current.
  if (b && ctx.isQuery(b.name)) ctx.track(ctx.hub.paramKeys(b.name), () => {
    const name = toText(ctx.prop(node, 'name', `${b.name}.csv`));
    a.href = serverUrl(api.queryUrl(b.name, ctx.hub.paramsFor(b.name), { format: 'csv', filename: name }));
  });
  return a;
}

function image(node, ctx) {
  const img = h('img', { loading: 'lazy', decoding: 'async' });
  const el = h('figure', { class: 'image' }, img);
  ctx.track(node.bindings, () => {
    const src = safeUrl(toText(ctx.prop(node, 'content', '')), 'image');
    if (src) img.src = src; else img.removeAttribute('src');
    img.alt = toText(ctx.prop(node, 'label', ''));
  });
  const fn = node.properties.on_action;
  if (typeof fn === 'string') {
    img.style.cursor = 'pointer';
    img.addEventListener('click', () => ctx.action(fn, {}).catch((e) => console.warn('pg_dash: action failed', e)));
  }
  return el;
}

function alert(node, ctx) {
  const el = h('div', { class: 'alert', role: 'alert' });
  ctx.track(node.bindings, () => {
    const sev = String(ctx.prop(node, 'severity', 'error'));
    el.className = `alert alert-${sev}`;
    clear(el).appendChild(document.createTextNode(toText(ctx.prop(node, 'message', ''))));
    el.hidden = el.textContent === '';
  });
  return el;
}

export default { button, schedule, refresh: schedule, file_download, image, alert };
