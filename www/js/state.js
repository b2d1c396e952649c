// The session state: a local copy of GET /api/state, kept in step with the
// server by PATCH /api/state (JSON merge patch) and `state {changes}` frames
// from the WebSocket (other tabs of the same session).
import * as api from './api.js';

// Applies an RFC 7386 merge patch to target; returns the result.
export function mergePatch(target, patch) {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out = target && typeof target === 'object' && !Array.isArray(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

export class Store {
  constructor() {
    this.values = {};
    this.listeners = new Map(); // key -> Set(fn)
    this.anyListeners = new Set();
    this.pending = 0;
  }

  // Loads the state from the server.
  async load() {
    const r = await api.get('/api/state');
    this.replace((r && r.state) || {});
  }

  has(key) { return Object.prototype.hasOwnProperty.call(this.values, key); }
  get(key) { return this.values[key]; }

  // Replaces the whole state, notifying the keys whose value changed.
  replace(next) {
    const keys = new Set([...Object.keys(this.values), ...Object.keys(next)]);
    const changed = [];
    for (const k of keys) {
      if (JSON.stringify(this.values[k]) !== JSON.stringify(next[k])) changed.push(k);
    }
    this.values = { ...next };
    this.notify(changed);
  }

  // Applies changes (a merge patch) locally, notifying the changed keys.
  apply(changes) {
    if (!changes || typeof changes !== 'object') return;
    this.replace(mergePatch(this.values, changes));
  }

  // Sets keys locally at once, then on the server (PATCH). Resolves to the
  // server's state; rejects with the ApiError.
  async patch(changes) {
    this.apply(changes);
    this.pending++;
    try {
      const r = await api.patch('/api/state', changes);
      this.pending--;
      // Only trust the server's full copy when no other write is in flight,
      // so that a slow answer never undoes newer typing.
      if (this.pending === 0 && r && r.state) this.replace(r.state);
      return r;
    } catch (err) {
      this.pending--;
      throw err;
    }
  }

  set(key, value) { return this.patch({ [key]: value === undefined ? null : value }); }

  // Calls fn(key) when key changes; returns a function that removes it.
  on(key, fn) {
    if (!this.listeners.has(key)) this.listeners.set(key, new Set());
    this.listeners.get(key).add(fn);
    return () => this.listeners.get(key)?.delete(fn);
  }

  // Calls fn(keys) after any change.
  onAny(fn) {
    this.anyListeners.add(fn);
    return () => this.anyListeners.delete(fn);
  }

  notify(keys) {
    if (!keys.length) return;
    for (const k of keys) {
      for (const fn of [...(this.listeners.get(k) || [])]) {
        try { fn(k); } catch (err) { console.warn('pg_dash: state listener failed', err); }
      }
    }
    for (const fn of [...this.anyListeners]) {
      try { fn(keys); } catch (err) { console.warn('pg_dash: state listener failed', err); }
    }
  }
}

// Turns a URL query-string value into a state value: JSON numbers,
// true/false/null and JSON arrays/objects are parsed, anything else is a string.
export function parseUrlValue(s) {
  if (/^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)$/.test(s) || /^[[{]/.test(s)) {
    try { return JSON.parse(s); } catch { /* a string */ }
  }
  return s;
}
