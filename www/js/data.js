// Named-query data for controls.
//
// live(name, params, options, cb) keeps cb supplied with a query's result:
//  - without options: a WebSocket `watch`; the server pushes the result again
//    when a refresh_on channel fires or a state key the query reads changes;
//  - with reserved options (limit/offset/order/count for tables, width/x/y and
//    x_from/x_to for line charts): POST /api/query/<name> (the same as GET
//    /api/query/<name>?..., with JSON values); it is fetched again when one
//    of the query's refresh_on channels is notified (WebSocket `subscribe`).
// Both are asked again when a state key used as a parameter changes.
// While the socket is down, results come from POST /api/query/<name>; on
// reconnect every watch and subscription is sent again.
import * as api from './api.js';

export class DataHub {
  constructor(socket, store) {
    this.socket = socket;
    this.store = store;
    this.queries = new Map();  // name -> {name, params, columns, refresh_on}
    this.watches = new Map();  // id -> entry
    this.channels = new Map(); // channel -> Set(fn)
    this.nextId = 1;
    this.wsWatchBroken = false;
    this.connected = false; // the socket has been open before
    socket.on('open', () => this.resend());
    socket.on('result', (m) => this.onResult(m));
    socket.on('error', (m) => this.onError(m));
    socket.on('notify', (m) => this.onNotify(m));
    socket.on('close', () => this.onClose());
    store.onAny(() => this.onStateChange());
  }

  // Loads the list of named queries (name, params, columns, refresh_on).
  async loadQueries() {
    const r = await api.get('/api/queries');
    this.queries.clear();
    for (const q of (r && r.queries) || []) this.queries.set(q.name, q);
  }

  isQuery(name) { return this.queries.has(name); }

  // What GET /api/queries says of a query (params, columns, sortable,
  // allow_count, range_columns, ...), or null.
  queryInfo(name) { return this.queries.get(name) || null; }

  // The query's parameters taken from state keys of the same name.
  paramsFor(name) {
    const q = this.queries.get(name);
    const params = {};
    for (const p of (q && q.params) || []) {
      const pname = typeof p === 'string' ? p : p.name;
      // Every declared parameter is sent; an unset state key is null.
      params[pname] = this.store.has(pname) ? this.store.get(pname) : null;
    }
    return params;
  }

  // The state keys used as parameters by a query.
  paramKeys(name) {
    const q = this.queries.get(name);
    return ((q && q.params) || []).map((p) => (typeof p === 'string' ? p : p.name));
  }

  // Keeps cb(result, error) supplied; returns a handle {close(), refresh(), update(options)}.
  live(name, options, cb) {
    const entry = {
      id: `w${this.nextId++}`, name, options: { ...(options || {}) }, cb,
      params: this.paramsFor(name), viaSocket: false, closed: false, seq: 0, channelOffs: [],
    };
    this.watches.set(entry.id, entry);
    const useGet = Object.keys(entry.options).length > 0;
    entry.mode = useGet ? 'get' : 'watch';
    // Results that do not come from a socket watch are fetched again when
    // a refresh_on channel of the query is notified.
    const q = this.queries.get(name);
    for (const ch of (q && q.refresh_on) || []) {
      entry.channelOffs.push(this.subscribe(ch, () => { if (!entry.viaSocket) this.debouncedFetch(entry); }));
    }
    this.start(entry);
    return {
      close: () => this.stop(entry),
      refresh: () => this.refetch(entry),
      update: (opts) => { entry.options = { ...opts }; this.refetch(entry); },
      get params() { return entry.params; },
    };
  }

  // Starts (or restarts) delivery for an entry.
  start(entry) {
    if (entry.mode === 'watch' && !this.wsWatchBroken &&
        this.socket.send({ type: 'watch', id: entry.id, name: entry.name, params: entry.params })) {
      entry.viaSocket = true;
      return;
    }
    entry.viaSocket = false;
    this.fetch(entry);
  }

  // Fetches the entry's result over HTTP.
  async fetch(entry) {
    const seq = ++entry.seq;
    try {
      // POST carries JSON values (null, numbers, arrays) that a query string cannot.
      const body = { ...entry.params };
      for (const [k, v] of Object.entries(entry.options)) if (v !== undefined && v !== null) body[k] = v;
      const r = await api.post(`/api/query/${encodeURIComponent(entry.name)}`, body);
      if (!entry.closed && seq === entry.seq) entry.cb(r, null);
    } catch (err) {
      if (!entry.closed && seq === entry.seq) entry.cb(null, err);
    }
  }

  debouncedFetch(entry) {
    clearTimeout(entry.debounce);
    entry.debounce = setTimeout(() => { if (!entry.closed) this.fetch(entry); }, 50);
  }

  // Asks for the entry's result again (e.g. after its parameters changed).
  refetch(entry) {
    if (entry.closed) return;
    if (entry.viaSocket) {
      this.socket.send({ type: 'unwatch', id: entry.id });
      this.watches.delete(entry.id);
      entry.id = `w${this.nextId++}`;
      this.watches.set(entry.id, entry);
    }
    this.start(entry);
  }

  stop(entry) {
    entry.closed = true;
    clearTimeout(entry.debounce);
    this.watches.delete(entry.id);
    if (entry.viaSocket) this.socket.send({ type: 'unwatch', id: entry.id });
    for (const off of entry.channelOffs) off();
  }

  // Re-fetches every live result (schedule/refresh controls).
  refreshAll() {
    for (const entry of [...this.watches.values()]) this.refetch(entry);
  }

  // Parameters come from state: re-watch (or fetch again) the entries whose
  // parameters changed.
  onStateChange() {
    for (const entry of [...this.watches.values()]) {
      const params = this.paramsFor(entry.name);
      if (JSON.stringify(params) !== JSON.stringify(entry.params)) {
        entry.params = params;
        this.refetch(entry);
      }
    }
  }

  onResult(m) {
    const entry = this.watches.get(m.id);
    if (entry && !entry.closed) entry.cb(m, null);
  }

  onError(m) {
    const e = m.error || {};
    // A server without `watch` answers "unknown message type" (with no id):
    // serve every watch over HTTP from then on.
    if (e.code === 'unknown_type' && /"(un)?watch"/.test(e.message || '')) {
      if (!this.wsWatchBroken) {
        this.wsWatchBroken = true;
        for (const entry of this.watches.values()) {
          if (entry.viaSocket) { entry.viaSocket = false; this.fetch(entry); }
        }
      }
      return;
    }
    const entry = m.id !== undefined ? this.watches.get(m.id) : null;
    if (!entry || entry.closed) return;
    entry.cb(null, Object.assign(new Error(e.message || 'query failed'), e));
  }

  // While the socket is down, serve watches over HTTP.
  onClose() {
    for (const entry of this.watches.values()) {
      if (entry.viaSocket) { entry.viaSocket = false; this.fetch(entry); }
    }
  }

  // After (re)connecting: send every watch and subscription again.  HTTP
  // results are fetched again only after a reconnect (they may have changed
  // meanwhile): on the first connection they are being fetched already, and
  // a second request for a large series would read it all once more.
  resend() {
    const reconnect = this.connected;
    this.connected = true;
    for (const ch of this.channels.keys()) this.socket.send({ type: 'subscribe', channel: ch });
    for (const entry of [...this.watches.values()]) {
      if (entry.mode === 'watch') this.start(entry);
      else if (reconnect) this.fetch(entry);
    }
  }

  // Calls fn(message) on each notification of channel; returns an unsubscribe function.
  subscribe(channel, fn) {
    if (!this.channels.has(channel)) {
      this.channels.set(channel, new Set());
      this.socket.send({ type: 'subscribe', channel });
    }
    this.channels.get(channel).add(fn);
    return () => {
      const set = this.channels.get(channel);
      if (!set) return;
      set.delete(fn);
      if (set.size === 0) {
        this.channels.delete(channel);
        this.socket.send({ type: 'unsubscribe', channel });
      }
    };
  }

  onNotify(m) {
    for (const fn of [...(this.channels.get(m.channel) || [])]) fn(m);
  }
}

// Whether a query's list of columns (sortable, range_columns) allows one.
export function allows(list, column) {
  return Array.isArray(list) && (list.includes('*') || list.includes(column));
}

// A result in any supported shape ({columns, rows} with array or object
// rows, or an array of objects/arrays from session state) as
// {columns: [name...], rows: [[...]...], total, truncated}.
export function normalizeResult(r) {
  if (r === null || r === undefined) return { columns: [], rows: [] };
  if (Array.isArray(r)) {
    if (r.length && r[0] && typeof r[0] === 'object' && !Array.isArray(r[0])) {
      const columns = Object.keys(r[0]);
      return { columns, rows: r.map((o) => columns.map((c) => o[c])) };
    }
    if (r.length && Array.isArray(r[0])) return { columns: r[0].map((_, i) => `c${i}`), rows: r };
    return { columns: ['value'], rows: r.map((v) => [v]) };
  }
  if (typeof r === 'object' && Array.isArray(r.rows)) {
    const columns = (r.columns || []).map((c) => (typeof c === 'string' ? c : c.name));
    const types = (r.columns || []).map((c) => (typeof c === 'string' ? '' : c.type || ''));
    let rows = r.rows;
    if (rows.length && rows[0] && !Array.isArray(rows[0]) && typeof rows[0] === 'object') {
      if (!columns.length) columns.push(...Object.keys(rows[0]));
      rows = rows.map((o) => columns.map((c) => o[c]));
    }
    // a series reduced by the server also says which x range it covers
    return { columns, types, rows, total: r.total, truncated: r.truncated, row_count: r.row_count,
      reduced: r.downsampled_from !== undefined, x_from: r.x_from, x_to: r.x_to };
  }
  if (typeof r === 'object') {
    const columns = Object.keys(r);
    return { columns, rows: [columns.map((c) => r[c])] };
  }
  return { columns: ['value'], rows: [[r]] };
}
