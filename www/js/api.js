// HTTP client for the pg_dash API (docs/api.md). Errors are thrown as
// ApiError carrying the server's {message, detail, hint, code, status}.
// URLs are server paths ("/api/..."); the base path is added here.
import { url as serverUrl } from './base.js';

export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = e.status || status;
    this.code = e.code;
    this.detail = e.detail;
    this.hint = e.hint;
    this.body = body;
  }
}

// Listeners called after a state write or an action succeeded: its answer
// may have set the browser's first session cookie.
const writeListeners = new Set();
export function onWrite(fn) {
  writeListeners.add(fn);
  return () => writeListeners.delete(fn);
}

// The session's CSRF token, from the cookie the server sets beside the
// session cookie (docs/api.md); null before the first session exists.
export function csrfToken() {
  const m = document.cookie.match(/(?:^|;\s*)pg_dash_csrf=([0-9a-f]{64})(?:;|$)/);
  return m ? m[1] : null;
}

// Sends a request and returns the parsed JSON answer. Requests that change
// something carry the CSRF token; when the server refuses the token (a lost
// or outdated cookie), GET /api/state sets it again and the request is sent
// once more (the refused one did nothing).
export async function request(method, url, body, retried = false) {
  const init = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const token = method !== 'GET' && method !== 'HEAD' ? csrfToken() : null;
  if (token) init.headers['X-CSRF-Token'] = token;
  let res;
  try {
    res = await fetch(serverUrl(url), init);
  } catch (err) {
    throw new ApiError(0, { error: { message: 'The server cannot be reached', detail: String(err.message || err), code: 'network' } });
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (res.status === 403 && !retried && /^csrf_token_/.test(data?.error?.code || '')) {
    await request('GET', '/api/state');
    return request(method, url, body, true);
  }
  if (!res.ok) throw new ApiError(res.status, data || { error: { message: `HTTP ${res.status} ${res.statusText}`, detail: text.slice(0, 300) } });
  if (method !== 'GET' && /^\/api\/(state|action\/|session\/)/.test(url)) {
    for (const fn of [...writeListeners]) {
      try { fn(url); } catch (err) { console.warn('pg_dash: write listener failed', err); }
    }
  }
  return data;
}

// POSTs body as JSON with XMLHttpRequest, which reports the upload's
// progress (fetch does not): onProgress(sentBytes, totalBytes). Same CSRF
// token, retry and errors as request().
export function upload(url, body, onProgress, retried = false) {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', serverUrl(url));
    xhr.withCredentials = true;
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.setRequestHeader('Content-Type', 'application/json');
    const token = csrfToken();
    if (token) xhr.setRequestHeader('X-CSRF-Token', token);
    if (onProgress) xhr.upload.addEventListener('progress', (ev) => onProgress(ev.loaded, ev.lengthComputable ? ev.total : text.length));
    xhr.addEventListener('error', () => reject(new ApiError(0, { error: { message: 'The server cannot be reached', code: 'network' } })));
    xhr.addEventListener('load', () => {
      let data = null;
      try { data = xhr.responseText ? JSON.parse(xhr.responseText) : null; } catch { data = null; }
      if (xhr.status === 403 && !retried && /^csrf_token_/.test(data?.error?.code || '')) {
        request('GET', '/api/state').then(() => upload(url, body, onProgress, true)).then(resolve, reject);
        return;
      }
      if (xhr.status < 200 || xhr.status > 299) {
        reject(new ApiError(xhr.status, data || { error: { message: `HTTP ${xhr.status} ${xhr.statusText}`, detail: xhr.responseText.slice(0, 300) } }));
        return;
      }
      for (const fn of [...writeListeners]) {
        try { fn(url); } catch (err) { console.warn('pg_dash: write listener failed', err); }
      }
      resolve(data);
    });
    xhr.send(text);
  });
}

export const get = (url) => request('GET', url);
export const post = (url, body) => request('POST', url, body ?? {});
export const patch = (url, body) => request('PATCH', url, body);

// Builds "/api/query/<name>?p=v&..." from params and reserved options.
export function queryUrl(name, params = {}, options = {}) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    qs.append(k, v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  }
  for (const [k, v] of Object.entries(options)) {
    if (v !== undefined && v !== null) qs.append(k, String(v));
  }
  const s = qs.toString();
  return `/api/query/${encodeURIComponent(name)}${s ? `?${s}` : ''}`;
}
