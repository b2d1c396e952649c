// Reconnecting WebSocket to /ws (subprotocol pg_dash.v1) with exponential
// backoff. Listeners registered with on(type, fn) get every message of
// that type; on('open') runs after each (re)connection so that callers
// re-subscribe and re-watch.

export class Socket {
  constructor(url, statusEl) {
    this.url = url;
    this.statusEl = statusEl;
    this.listeners = new Map();
    this.ws = null;
    this.attempt = 0;
    this.timer = null;
    this.closed = false;
    this.setStatus('connecting');
  }

  // Whether messages can be sent now.
  get isOpen() { return this.ws !== null && this.ws.readyState === WebSocket.OPEN; }

  // Opens the connection (again).
  connect() {
    if (this.closed) return;
    let ws;
    try {
      ws = new WebSocket(this.url, 'pg_dash.v1');
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    this.setStatus('connecting');
    ws.onopen = () => {
      this.attempt = 0;
      this.setStatus('open');
      this.emit('open', {});
    };
    ws.onmessage = (ev) => {
      let msg;
      try { msg = JSON.parse(ev.data); } catch { return; }
      if (msg && typeof msg.type === 'string') this.emit(msg.type, msg);
      this.emit('*', msg);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.emit('close', { code: ev.code });
      this.scheduleReconnect();
    };
    ws.onerror = () => { /* onclose follows */ };
  }

  // Waits 0.5 s, 1 s, 2 s, ... up to 10 s (with jitter) before reconnecting.
  scheduleReconnect() {
    if (this.closed) return;
    this.setStatus('offline');
    const delay = Math.min(10000, 500 * 2 ** this.attempt) * (0.8 + Math.random() * 0.4);
    this.attempt++;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  // Sends a message object; false when the socket is not open.
  send(msg) {
    if (!this.isOpen) return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  // Registers fn for messages of a type; returns a function that removes it.
  on(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(fn);
    return () => this.listeners.get(type).delete(fn);
  }

  emit(type, msg) {
    for (const fn of [...(this.listeners.get(type) || [])]) {
      try { fn(msg); } catch (err) { console.warn('pg_dash: listener failed', err); }
    }
  }

  setStatus(s) {
    this.status = s;
    if (!this.statusEl) return;
    this.statusEl.dataset.state = s;
    const text = { open: 'live', connecting: 'connecting', offline: 'offline' }[s];
    this.statusEl.querySelector('.label').textContent = text;
    this.statusEl.title = `Live updates: ${text}`;
  }

  // Replaces the connection with a new one now, keeping what listeners know
  // (they resend their watches and subscriptions on 'open').
  reconnect() {
    if (this.closed) return;
    const old = this.ws;
    this.ws = null;
    if (old) old.close(1000);
    clearTimeout(this.timer);
    this.attempt = 0;
    this.connect();
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000);
  }
}
