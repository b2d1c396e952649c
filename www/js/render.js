// Renders a page tree (docs/page-syntax.md) into DOM. Each control family
// lives in js/controls/*.js and exports {controlName: (node, ctx) => Element}.
import { h, append, clear } from './dom.js';
import * as tpl from './template.js';
import { renderBlocks, renderInline } from './markdown.js';
import * as api from './api.js';
import textControls from './controls/text.js';
import inputControls from './controls/inputs.js';
import actionControls from './controls/actions.js';
import tableControls from './controls/table.js';
import chartControls from './controls/chart.js';
import metricControls from './controls/metrics.js';
import blockControls from './controls/blocks.js';

const registry = {
  ...textControls, ...inputControls, ...actionControls, ...tableControls,
  ...chartControls, ...metricControls, ...blockControls,
};

// What a control sees of the page: bound values, state writes, actions, data.
export class PageContext {
  constructor({ store, hub, path }) {
    this.store = store;
    this.hub = hub;
    this.path = path;
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

  // Resolves a property value (see template.js).
  resolve(value) { return tpl.resolve(value, (n) => this.lookup(n)); }

  // A node's resolved property.
  prop(node, key, def) {
    const v = node.properties ? node.properties[key] : undefined;
    if (v === undefined) return def;
    const r = this.resolve(v);
    return r === undefined ? def : r;
  }

  // The state key a property writes to ("{key}" not naming a query), or null.
  stateKey(node, key) {
    const b = tpl.pureBinding(node.properties ? node.properties[key] : undefined);
    if (!b || b.name === 'None' || b.path.length || this.isQuery(b.name)) return null;
    return b.name;
  }

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
    if (r && r.state && typeof r.state === 'object') this.store.replace(r.state);
    else if (r && r.changes) this.store.apply(r.changes);
    return r;
  }
}

// Renders a list of nodes into parent; consecutive inline nodes share a paragraph.
export function renderNodes(nodes, parent, ctx) {
  let row = null;
  for (const node of nodes || []) {
    if (node.inline) {
      if (!row) { row = h('div', { class: 'inline-row' }); parent.appendChild(row); }
      row.appendChild(renderNode(node, ctx));
    } else {
      row = null;
      parent.appendChild(renderNode(node, ctx));
    }
  }
  return parent;
}

// Renders one node of the tree.
export function renderNode(node, ctx) {
  if (node.type === 'markdown') {
    if (node.inline) return h('span', { class: 'md-inline' }, renderInline(node.text.replace(/\n+$/, '')));
    return h('div', { class: 'md' }, renderBlocks(node.text));
  }
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
  if (p.hover_text !== undefined) ctx.track(tpl.names(p.hover_text), () => { el.title = tpl.toText(ctx.resolve(p.hover_text)); });
  if (typeof p.width === 'string' && /^[\d.]+(px|%|em|rem|vw)?$/.test(p.width)) el.style.width = /\d$/.test(p.width) ? `${p.width}px` : p.width;
  if (typeof p.height === 'string' && /^[\d.]+(px|%|em|rem|vh)?$/.test(p.height)) el.style.height = /\d$/.test(p.height) ? `${p.height}px` : p.height;
}

// A visible stand-in for a control this front end does not know.
function placeholder(node) {
  return h('div', { class: 'ctl-unknown', role: 'note' },
    `Unsupported control “${node.control || node.type}” (line ${node.line ?? '?'})`);
}

// Renders a whole page tree into container.
export function renderPage(tree, container, ctx) {
  clear(container);
  renderNodes(tree.children || [], container, ctx);
  return container;
}

export { append };
