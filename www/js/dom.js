// Tiny DOM helpers. Everything the front end shows is built with
// createElement/textContent: never innerHTML with data.

// Creates an element: h('div', {class: 'x', onclick: fn}, child, 'text', ...).
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'class') el.className = v;
      else if (k === 'style' && typeof v === 'object') setStyle(el, v);
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k in el && typeof v !== 'string') el[k] = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

// Sets inline styles through the DOM (the Content-Security-Policy allows
// that, not style attributes). Custom properties ("--frac") need
// setProperty: assigning them to el.style does nothing.
export function setStyle(el, styles) {
  for (const [k, v] of Object.entries(styles)) {
    if (k.startsWith('--')) el.style.setProperty(k, v);
    else el.style[k] = v;
  }
  return el;
}

// Appends children (nodes, strings, arrays, null) to el.
export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// Removes every child of el.
export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

// An error box for a server error ({error:{message,detail,hint,code,status}}) or an Error.
export function errorBox(err, title) {
  const e = normalizeError(err);
  return h('div', { class: 'error-box', role: 'alert' },
    h('div', { class: 'error-title' }, title ? `${title}: ` : '', e.message),
    e.detail ? h('div', { class: 'error-detail' }, e.detail) : null,
    e.hint ? h('div', { class: 'error-hint' }, 'Hint: ', e.hint) : null,
    e.code || e.status ? h('div', { class: 'error-code' }, [e.status, e.code].filter(Boolean).join(' · ')) : null);
}

// {message, detail, hint, code, status} from anything thrown.
export function normalizeError(err) {
  if (!err) return { message: 'Unknown error' };
  if (err.error && typeof err.error === 'object') err = err.error;
  if (err.body && err.body.error) return { ...err.body.error };
  return {
    message: err.message || String(err),
    detail: err.detail, hint: err.hint, code: err.code, status: err.status,
  };
}
