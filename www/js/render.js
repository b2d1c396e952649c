// Renders a page tree (docs/page-syntax.md) into DOM. Each control family
// lives in js/controls/*.js and exports {controlName: (node, ctx) => Element}.
import { h, append, clear } from './dom.js';
import * as tpl from './template.js';
import { renderWithElements, placeholder as mdPlaceholder } from './markdown.js';
import { evalTemplate, ExprError } from './expr.js';
import * as api from './api.js';
import textControls from './controls/text.js';
import inputControls from './controls/inputs.js';
import actionControls from './controls/actions.js';
import tableControls from './controls/table.js';
import chartControls from './controls/chart.js';
import metricControls from './controls/metrics.js';
import blockControls from './controls/blocks.js';
import navControls from './controls/nav.js';
import uploadControls from './controls/upload.js';
import treeControls from './controls/tree.js';
import chatControls from './controls/chat.js';
import foreignControls from './controls/foreign.js';
import loginControls from './controls/login.js';
import { navigate } from './router.js';

const registry = {
  ...textControls, ...inputControls, ...actionControls, ...tableControls,
  ...chartControls, ...metricControls, ...blockControls, ...navControls,
  ...uploadControls, ...treeControls, ...chatControls, ...foreignControls,
  ...loginControls,
};

// What a control sees of the page: bound values, state writes, actions, data.
export class PageContext {
  constructor({ store, hub, path, app = null }) {
    this.store = store;
    this.hub = hub;
    this.path = path;
    this.app = app; // main.js's app state: the page list and the frame
    this.contentSlot = null; // the element of <|content|>, in a frame
    this.disposers = [];
    this.sources = new Map(); // query name -> {result, error, listeners:Set, handle}
  }

  // Registers a function to run when the page goes away.
  onDispose(fn) { this.disposers.push(fn); }

  destroy() {
    for (const fn of this.disposers.splice(0)) { try { fn(); } catch (err) { console.warn(err); } }
    for (const s of this.sources.values()) s.handle.close();
    this.sources.clear();
  }

  isQuery(name) { return this.hub.isQuery(name); }

  // The page-wide live result of a named query (started on first use).
  source(name) {
    let s = this.sources.get(name);
    if (!s) {
      s = { result: undefined, error: null, listeners: new Set() };
      this.sources.set(name, s);
      s.handle = this.hub.live(name, null, (result, error) => {
        if (error) s.error = error; else { s.result = result; s.error = null; }
        for (const fn of [...s.listeners]) fn();
      });
    }
    return s;
  }

  // The value of a binding: a named query's result, or a state key's value.
  lookup(name) {
    if (this.isQuery(name)) return this.source(name).result;
    return this.store.get(name);
  }

  // Resolves a property value of a tree without parsed expressions (see template.js).
  resolve(value) { return tpl.resolve(value, (n) => this.lookup(n)); }

  // Evaluates a property's parsed template (expr.js); an expression that
  // fails (as Python would raise) gives undefined and a console warning.
  evaluate(node, key, parts) {
    try {
      return evalTemplate(parts, (n) => this.lookup(n));
    } catch (err) {
      if (!(err instanceof ExprError)) throw err;
      const k = `${node.line}:${node.column}:${key}`;
      if (!this.warned) this.warned = new Set();
      if (!this.warned.has(k)) { this.warned.add(k); console.warn(`pg_dash: line ${node.line}, ${key}: ${err.message}`); }
      return undefined;
    }
  }

  // A node's resolved property: its expression's value, its literal value,
  // or a key of the dictionary given by properties={...}; else def.
  prop(node, key, def) {
    const own = (o, k) => o !== null && typeof o === 'object' && Object.prototype.hasOwnProperty.call(o, k);
    let r;
    if (own(node.exprs, key)) r = this.evaluate(node, key, node.exprs[key]);
    else if (own(node.properties, key)) {
      const v = node.properties[key];
      r = node.exprs || typeof v !== 'string' ? v : this.resolve(v);
    } else if (key !== 'properties' && own(node.properties, 'properties')) {
      const d = this.prop(node, 'properties');
      if (own(d, key) && !Array.isArray(d)) r = d[key];
    }
    return r === undefined ? def : r;
  }

  // The state key a property writes to, or null: "{key}", or "{key or
  // default}", which shows the default while the key is unset (falsy) and
  // writes to the key; never a named query.
  stateKey(node, key) {
    let name = null;
    const parts = node.exprs && node.exprs[key];
    if (Array.isArray(parts)) {
      const f = parts.length === 1 && parts[0] && typeof parts[0] === 'object' && !Array.isArray(parts[0]) ? parts[0] : null;
      let e = f && !f.f && !f.c ? f.e : null;
      if (Array.isArray(e) && e[0] === 'or' && e.length > 2) e = e[1];
      if (Array.isArray(e) && e[0] === 'n' && e.length === 2) name = e[1];
    } else {
      const b = tpl.pureBinding(node.properties ? node.properties[key] : undefined);
      if (b && !b.path.length) name = b.name;
    }
    if (!name || name === 'None' || name === 'True' || name === 'False' || this.isQuery(name)) return null;
    return name;
  }

  // The page list (sorted by path), for navbar and menu.
  async pages() {
    if (this.app && this.app.pages) return this.app.pages;
    const r = await api.get('/api/pages');
    const list = ((r && r.pages) || []).slice().sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    if (this.app) this.app.pages = list;
    return list;
  }

  // The frame page around this page (or this page when it is one), or null.
  framePath() {
    return this.app && this.app.frame ? this.app.frame.path : null;
  }

  // Shows another page (in-app, with a history entry).
  navigate(path) { return navigate(path); }

  // Calls fn now and whenever a bound name (state key or query result) changes.
  track(names, fn) {
    const run = () => { try { fn(); } catch (err) { console.error('pg_dash: control update failed', err); } };
    let queued = false;
    const schedule = () => {
      if (queued) return;
      queued = true;
      queueMicrotask(() => { queued = false; run(); });
    };
    for (const name of new Set(names || [])) {
      if (name === 'None') continue;
      if (this.isQuery(name)) {
        const s = this.source(name);
        s.listeners.add(schedule);
        this.onDispose(() => s.listeners.delete(schedule));
      } else {
        this.onDispose(this.store.on(name, schedule));
      }
    }
    run();
  }

  // Writes a state key (PATCH /api/state) and runs the node's on_change action.
  async write(node, key, value) {
    await this.store.set(key, value);
    const fn = node.properties && node.properties.on_change;
    if (typeof fn === 'string' && fn) await this.action(fn, { name: key, value });
  }

  // Runs a registered action; its changes are merged into the state.
  async action(fn, payload) {
    const r = await api.post(`/api/action/${encodeURIComponent(fn)}`, { payload: payload ?? null });
    return this.actionDone(r);
  }

  // Applies an action's answer: its state, and the page pg_dash.navigate() asked for.
  actionDone(r) {
    if (r && r.state && typeof r.state === 'object') this.store.replace(r.state);
    else if (r && r.changes) this.store.apply(r.changes);
    if (r && typeof r.navigate === 'string' && r.navigate) queueMicrotask(() => navigate(r.navigate));
    return r;
  }
}

// Renders a list of nodes into parent. Consecutive markdown text and inline
// elements are one markdown document, the elements in their place in it.
export function renderNodes(nodes, parent, ctx) {
  let group = [];
  const flush = () => { if (group.length) parent.appendChild(renderGroup(group, ctx)); group = []; };
  for (const node of nodes || []) {
    if (node.type === 'markdown' || node.inline) group.push(node);
    else { flush(); parent.appendChild(renderNode(node, ctx)); }
  }
  flush();
  return parent;
}

// Removes the indentation common to every non-blank line (content indented
// inside a block is structure, not a code block).
function dedent(text) {
  const lines = text.split('\n');
  let min = Infinity;
  for (const l of lines) if (l.trim()) min = Math.min(min, l.match(/^[ \t]*/)[0].length);
  return min > 0 && min < Infinity ? lines.map((l) => l.slice(Math.min(min, l.match(/^[ \t]*/)[0].length))).join('\n') : text;
}

// Renders markdown nodes and inline elements as one markdown document,
// keeping the source's line breaks and blank lines.
function renderGroup(group, ctx) {
  let text = '';
  let line = group[0].line || 1; // the line the text has reached
  let atStart = true;
  const elements = [];
  for (const node of group) {
    const at = node.line || line;
    if (text) {
      if (!atStart && at > line) { text += '\n'; line += 1; atStart = true; }
      if (atStart && at > line) text += '\n'.repeat(at - line);
    }
    if (node.type === 'markdown' && !node.inline) {
      text += node.text.endsWith('\n') ? node.text : `${node.text}\n`;
      line = at + (node.text.match(/\n/g) || []).length + (node.text.endsWith('\n') ? 0 : 1);
      atStart = true;
    } else if (node.type === 'markdown') {
      text += node.text;
      line = at;
      atStart = false;
    } else {
      elements.push(renderNode(node, ctx));
      text += mdPlaceholder(elements.length - 1);
      line = at;
      atStart = false;
    }
  }
  return h('div', { class: 'md' }, renderWithElements(dedent(text), elements));
}

// Renders one node of the tree.
export function renderNode(node, ctx) {
  if (node.type === 'markdown') return renderGroup([node], ctx);
  if (node.type === 'control' || node.type === 'block') {
    const make = registry[node.control];
    let el;
    try {
      el = make ? make(node, ctx, renderNodes) : placeholder(node);
    } catch (err) {
      console.error('pg_dash: cannot render', node.control, err);
      el = h('div', { class: 'ctl-error', role: 'alert' }, `Cannot render ${node.control} (line ${node.line}): ${err.message}`);
    }
    decorate(el, node, ctx);
    return el;
  }
  return placeholder(node);
}

// Common properties: id, class_name, hover_text, width, height.
function decorate(el, node, ctx) {
  const p = node.properties || {};
  el.classList.add('ctl', `ctl-${node.control || node.type}`);
  if (node.inline) el.classList.add('inline');
  el.dataset.control = node.control || node.type;
  if (node.line) el.dataset.line = node.line;
  if (typeof p.id === 'string' && !el.id) el.id = p.id;
  if (typeof p.class_name === 'string') for (const c of p.class_name.split(/\s+/).filter(Boolean)) el.classList.add(c);
  if (p.hover_text !== undefined) ctx.track(node.bindings, () => { el.title = tpl.toText(ctx.prop(node, 'hover_text', '')); });
  if (typeof p.width === 'string' && /^[\d.]+(px|%|em|rem|vw)?$/.test(p.width)) el.style.width = /\d$/.test(p.width) ? `${p.width}px` : p.width;
  if (typeof p.height === 'string' && /^[\d.]+(px|%|em|rem|vh)?$/.test(p.height)) el.style.height = /\d$/.test(p.height) ? `${p.height}px` : p.height;
}

// A visible stand-in for a control this front end does not know.
function placeholder(node) {
  return h('div', { class: 'ctl-unknown', role: 'note' },
    `Unsupported control “${node.control || node.type}” (line ${node.line ?? '?'})`);
}

// Whether a page tree holds <|content|> (the page is a frame).
export function hasContent(tree) {
  const walk = (nodes) => (nodes || []).some((n) => (n.type === 'control' && n.control === 'content') || (n.type === 'block' && walk(n.children)));
  return !!tree && walk(tree.children);
}

// Renders a whole page tree into container.
export function renderPage(tree, container, ctx) {
  clear(container);
  renderNodes(tree.children || [], container, ctx);
  return container;
}

export { append };
