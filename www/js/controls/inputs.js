// Widgets that write a session_state key: input, number, slider, toggle,
// date, date_range, time and selector. A change is applied locally at once,
// sent with PATCH /api/state, then the control's on_change action (if any)
// runs with payload {name, value}.
import { h, clear } from '../dom.js';
import { num, truthy, toText } from '../template.js';
import { currentTheme, setTheme, onThemeChange } from '../theme.js';

// Wraps a widget with its label and a line for errors.
function field(node, ctx, widget, { inline = false } = {}) {
  const label = ctx.prop(node, 'label');
  const err = h('div', { class: 'field-error', role: 'alert', hidden: true });
  const el = h(inline ? 'span' : 'div', { class: 'field' },
    label !== undefined && label !== '' ? h('label', { class: 'field-label' }, toText(label)) : null,
    widget, err);
  const target = widget.matches('input,select,textarea') ? widget : widget.querySelector('input,select,textarea');
  if (label !== undefined && label !== '') {
    const id = `f${Math.random().toString(36).slice(2, 9)}`;
    if (target) { target.id = id; el.querySelector('label').htmlFor = id; }
    else if (widget.getAttribute('role')) widget.setAttribute('aria-label', toText(label));
  } else {
    // No visible label: screen readers get the hover text or the state key.
    const name = toText(ctx.prop(node, 'hover_text', '')) || ctx.stateKey(node, Object.keys(node.properties || {})[0] || 'value') || node.control;
    const named = target || widget;
    if (!named.hasAttribute('aria-label')) named.setAttribute('aria-label', name);
  }
  el.showError = (e) => {
    if (!e) { err.hidden = true; err.textContent = ''; return; }
    err.hidden = false;
    err.textContent = [e.message, e.detail, e.hint].filter(Boolean).join(' — ');
  };
  return el;
}

// Sends value to the state key of the node's "value" (or given) property.
function writer(node, ctx, el, prop = 'value') {
  const key = ctx.stateKey(node, prop);
  return (value) => {
    if (!key) return;
    ctx.write(node, key, value).then(() => el.showError(null), (e) => el.showError(e));
  };
}

// Calls fn after ms of quiet.
function debounce(fn, ms) {
  let t = null;
  const d = (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); };
  d.flush = (...a) => { clearTimeout(t); fn(...a); };
  return d;
}

function disabled(node, ctx) {
  const a = node.properties && node.properties.active;
  return a !== undefined && !truthy(ctx.prop(node, 'active', true));
}

function input(node, ctx) {
  const multiline = truthy(ctx.prop(node, 'multiline', false));
  const password = truthy(ctx.prop(node, 'password', false));
  const w = multiline
    ? h('textarea', { rows: num(ctx.prop(node, 'lines_shown'), 5), spellcheck: false })
    : h('input', { type: password ? 'password' : (ctx.prop(node, 'type') === 'number' ? 'number' : 'text') });
  const el = field(node, ctx, w);
  const write = writer(node, ctx, el);
  const send = debounce(() => write(w.value), num(ctx.prop(node, 'change_delay'), 300));
  w.addEventListener('input', () => send());
  w.addEventListener('change', () => send.flush());
  w.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !multiline) {
      send.flush();
      const fn = node.properties.on_action;
      if (typeof fn === 'string') ctx.action(fn, { value: w.value }).catch((e) => el.showError(e));
    }
  });
  ctx.track(node.bindings, () => {
    const v = ctx.prop(node, 'value');
    const s = v === null || v === undefined ? '' : toText(v);
    if (document.activeElement !== w && w.value !== s) w.value = s;
    w.disabled = disabled(node, ctx);
  });
  return el;
}

function number(node, ctx) {
  const w = h('input', { type: 'number' });
  const el = field(node, ctx, w);
  const write = writer(node, ctx, el);
  const send = debounce(() => { if (w.value !== '' && Number.isFinite(w.valueAsNumber)) write(w.valueAsNumber); }, num(ctx.prop(node, 'change_delay'), 300));
  w.addEventListener('input', () => send());
  w.addEventListener('change', () => send.flush());
  ctx.track(node.bindings, () => {
    for (const k of ['min', 'max', 'step']) { const v = num(ctx.prop(node, k), null); if (v !== null) w[k] = v; }
    const v = num(ctx.prop(node, 'value'), null);
    if (document.activeElement !== w) w.value = v === null ? '' : String(v);
    w.disabled = disabled(node, ctx);
  });
  return el;
}

function slider(node, ctx) {
  const w = h('input', { type: 'range' });
  const out = h('output', { class: 'slider-value' });
  const el = field(node, ctx, h('span', { class: 'slider' }, w, out));
  const write = writer(node, ctx, el);
  const send = debounce(() => write(w.valueAsNumber), num(ctx.prop(node, 'change_delay'), 150));
  w.addEventListener('input', () => { out.textContent = w.value; delete el.dataset.empty; send(); });
  w.addEventListener('change', () => send.flush());
  ctx.track(node.bindings, () => {
    w.min = num(ctx.prop(node, 'min'), 0);
    w.max = num(ctx.prop(node, 'max'), 100);
    w.step = num(ctx.prop(node, 'step'), 1);
    const v = num(ctx.prop(node, 'value'), null);
    // Unset: the thumb rests at the minimum and no value is shown (a range
    // input would otherwise show its middle, a value nobody chose).
    if (v === null) { if (document.activeElement !== w) w.value = w.min; out.textContent = '–'; el.dataset.empty = 'true'; }
    else { if (document.activeElement !== w) w.value = String(v); out.textContent = w.value; delete el.dataset.empty; }
    w.disabled = disabled(node, ctx);
  });
  return el;
}

// The list of values: "a;b;c", an array, or a query result (first column is
// the value, second column, if any, the label).
export function lovItems(lov) {
  if (lov === null || lov === undefined) return [];
  if (typeof lov === 'string') return lov.split(';').filter((s) => s !== '').map((s) => ({ id: s, label: s }));
  if (Array.isArray(lov)) {
    return lov.map((v) => (v && typeof v === 'object'
      ? (Array.isArray(v) ? { id: v[0], label: toText(v[1] ?? v[0]) } : { id: v.id ?? v.value, label: toText(v.label ?? v.id ?? v.value) })
      : { id: v, label: toText(v) }));
  }
  if (typeof lov === 'object' && Array.isArray(lov.rows)) {
    return lov.rows.map((r) => {
      const a = Array.isArray(r) ? r : Object.values(r);
      return { id: a[0], label: toText(a.length > 1 ? a[1] : a[0]) };
    });
  }
  return [];
}

function selector(node, ctx) {
  const multiple = truthy(ctx.prop(node, 'multiple', false));
  const w = h('select', { multiple });
  const el = field(node, ctx, w, { inline: node.inline });
  const write = writer(node, ctx, el);
  let items = [];
  w.addEventListener('change', () => {
    const chosen = [...w.selectedOptions].filter((o) => o.value !== '').map((o) => items[Number(o.value)].id);
    write(multiple ? chosen : (chosen.length ? chosen[0] : null));
  });
  ctx.track(node.bindings, () => {
    items = lovItems(ctx.prop(node, 'lov'));
    const v = ctx.prop(node, 'value');
    const selected = new Set((Array.isArray(v) ? v : v === null || v === undefined ? [] : [v]).map((x) => JSON.stringify(x)));
    clear(w);
    if (!multiple && !items.some((it) => selected.has(JSON.stringify(it.id)))) w.appendChild(h('option', { value: '' }, '—'));
    items.forEach((it, i) => {
      const o = h('option', { value: String(i) }, it.label);
      o.selected = selected.has(JSON.stringify(it.id)) || selected.has(JSON.stringify(String(it.id)));
      w.appendChild(o);
    });
    if (multiple) w.size = Math.min(8, Math.max(2, items.length));
    w.disabled = disabled(node, ctx);
  });
  return el;
}

// <|toggle|theme|>: switches the application between light and dark.
function themeToggle(node, ctx) {
  const group = h('span', { class: 'toggle-group', role: 'radiogroup' });
  const el = field(node, ctx, group);
  if (ctx.prop(node, 'label') === undefined) group.setAttribute('aria-label', 'Theme');
  const draw = () => {
    const cur = currentTheme();
    const hadFocus = group.contains(document.activeElement) ? [...group.children].indexOf(document.activeElement) : -1;
    clear(group);
    for (const [id, label] of [['light', '☀ Light'], ['dark', '☾ Dark']]) {
      const on = cur === id;
      group.appendChild(h('button', {
        type: 'button', class: on ? 'on' : '', role: 'radio', 'aria-checked': on ? 'true' : 'false',
        tabindex: on ? '0' : '-1', dataset: { theme: id }, onclick: () => setTheme(id),
      }, label));
    }
    if (hadFocus >= 0) group.children[hadFocus].focus();
  };
  arrowKeys(group);
  draw();
  ctx.onDispose(onThemeChange(draw));
  return el;
}

// Arrow keys move between the buttons of a radio group (and choose).
function arrowKeys(group) {
  group.addEventListener('keydown', (ev) => {
    if (!['ArrowRight', 'ArrowLeft', 'ArrowDown', 'ArrowUp'].includes(ev.key)) return;
    const bs = [...group.querySelectorAll('button')];
    const i = bs.indexOf(document.activeElement);
    if (i < 0) return;
    ev.preventDefault();
    const next = bs[(i + (ev.key === 'ArrowRight' || ev.key === 'ArrowDown' ? 1 : bs.length - 1)) % bs.length];
    next.focus();
    next.click();
  });
}

function toggle(node, ctx) {
  if (truthy(node.properties.theme)) return themeToggle(node, ctx);
  const lovProp = node.properties.lov;
  if (lovProp === undefined) {
    const w = h('input', { type: 'checkbox', role: 'switch' });
    const el = field(node, ctx, h('span', { class: 'switch' }, w, h('span', { class: 'switch-track' })));
    const write = writer(node, ctx, el);
    w.addEventListener('change', () => write(w.checked));
    ctx.track(node.bindings, () => { w.checked = truthy(ctx.prop(node, 'value', false)); w.disabled = disabled(node, ctx); });
    return el;
  }
  const group = h('span', { class: 'toggle-group', role: 'radiogroup' });
  const el = field(node, ctx, group);
  const write = writer(node, ctx, el);
  arrowKeys(group);
  ctx.track(node.bindings, () => {
    const items = lovItems(ctx.prop(node, 'lov'));
    const v = ctx.prop(node, 'value');
    const hadFocus = group.contains(document.activeElement) ? [...group.children].indexOf(document.activeElement) : -1;
    clear(group);
    for (const it of items) {
      const on = JSON.stringify(it.id) === JSON.stringify(v);
      group.appendChild(h('button', {
        type: 'button', class: on ? 'on' : '', role: 'radio', 'aria-checked': on ? 'true' : 'false',
        tabindex: on || (!items.some((x) => JSON.stringify(x.id) === JSON.stringify(v)) && it === items[0]) ? '0' : '-1',
        onclick: () => write(on && truthy(ctx.prop(node, 'allow_unselect', false)) ? null : it.id),
      }, it.label));
    }
    if (hadFocus >= 0 && group.children[hadFocus]) group.children[hadFocus].focus();
  });
  return el;
}

// "2026-01-01T10:00:00+00:00" -> "2026-01-01" or "2026-01-01T10:00" for inputs.
function dateInputValue(v, withTime) {
  if (!v) return '';
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) return String(v).slice(0, withTime ? 16 : 10);
  const pad = (n) => String(n).padStart(2, '0');
  const day = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  return withTime ? `${day}T${pad(d.getHours())}:${pad(d.getMinutes())}` : (/^\d{4}-\d{2}-\d{2}$/.test(String(v)) ? String(v) : day);
}

// An input's value as the state value: a date "YYYY-MM-DD" or an ISO timestamp.
function dateStateValue(s, withTime) {
  if (!s) return null;
  return withTime ? new Date(s).toISOString() : s;
}

function date(node, ctx) {
  const withTime = truthy(ctx.prop(node, 'with_time', false));
  const w = h('input', { type: withTime ? 'datetime-local' : 'date' });
  const el = field(node, ctx, w);
  const write = writer(node, ctx, el, 'date');
  w.addEventListener('change', () => write(dateStateValue(w.value, withTime)));
  ctx.track(node.bindings, () => {
    w.value = dateInputValue(ctx.prop(node, 'date'), withTime);
    const min = ctx.prop(node, 'min'); const max = ctx.prop(node, 'max');
    if (min) w.min = dateInputValue(min, withTime);
    if (max) w.max = dateInputValue(max, withTime);
    w.disabled = disabled(node, ctx);
  });
  return el;
}

function date_range(node, ctx) {
  const withTime = truthy(ctx.prop(node, 'with_time', false));
  const a = h('input', { type: withTime ? 'datetime-local' : 'date', 'aria-label': toText(ctx.prop(node, 'label_start', 'start')) });
  const b = h('input', { type: withTime ? 'datetime-local' : 'date', 'aria-label': toText(ctx.prop(node, 'label_end', 'end')) });
  const el = field(node, ctx, h('span', { class: 'date-range' }, a, h('span', null, '–'), b));
  const write = writer(node, ctx, el, 'dates');
  const send = () => write([dateStateValue(a.value, withTime), dateStateValue(b.value, withTime)]);
  a.addEventListener('change', send);
  b.addEventListener('change', send);
  ctx.track(node.bindings, () => {
    const v = ctx.prop(node, 'dates');
    const [s, e] = Array.isArray(v) ? v : [null, null];
    a.value = dateInputValue(s, withTime);
    b.value = dateInputValue(e, withTime);
  });
  return el;
}

function time(node, ctx) {
  const w = h('input', { type: 'time' });
  const el = field(node, ctx, w);
  const write = writer(node, ctx, el, 'time');
  w.addEventListener('change', () => write(w.value || null));
  ctx.track(node.bindings, () => { const v = ctx.prop(node, 'time'); w.value = v ? String(v).slice(0, 5) : ''; });
  return el;
}

export default { input, number, slider, selector, toggle, date, date_range, time };
