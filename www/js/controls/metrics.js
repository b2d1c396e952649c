// Figures: metric (value with delta and a gauge bar), gauge, indicator,
// progress and status.
import { h, clear } from '../dom.js';
import { num, truthy, toText } from '../template.js';
import { formatValue } from './text.js';

// A number from a bound value (a query result's single cell counts).
function numeric(v) {
  if (v && typeof v === 'object' && Array.isArray(v.rows)) {
    const r = v.rows[0];
    v = r ? (Array.isArray(r) ? r[0] : Object.values(r)[0]) : null;
  }
  return num(v, null);
}

// A bar from min to max with a threshold mark; used by metric and gauge.
function bar(value, min, max, threshold, name) {
  const pct = (x) => `${Math.max(0, Math.min(100, ((x - min) / ((max - min) || 1)) * 100))}%`;
  const over = threshold !== null && value !== null && value >= threshold;
  return h('div', { class: 'gauge-bar', role: 'meter', 'aria-label': name, 'aria-valuemin': min, 'aria-valuemax': max, 'aria-valuenow': value ?? min },
    h('div', { class: `gauge-fill${over ? ' over' : ''}`, style: { width: value === null ? '0%' : pct(value) } }),
    threshold !== null ? h('div', { class: 'gauge-threshold', style: { left: pct(threshold) }, title: `threshold ${threshold}` }) : null);
}

function metric(node, ctx) {
  const el = h('div', { class: 'metric' });
  ctx.track(node.bindings, () => {
    const v = numeric(ctx.prop(node, 'value'));
    const min = num(ctx.prop(node, 'min'), 0);
    const max = num(ctx.prop(node, 'max'), 100);
    const threshold = num(ctx.prop(node, 'threshold'), null);
    const delta = numeric(ctx.prop(node, 'delta'));
    const title = ctx.prop(node, 'title');
    const showBar = ctx.prop(node, 'type') !== 'none' && node.properties.max !== undefined;
    clear(el);
    if (title !== undefined) el.appendChild(h('div', { class: 'metric-title' }, toText(title)));
    el.appendChild(h('div', { class: 'metric-value' }, v === null ? '–' : formatValue(v, ctx.prop(node, 'format'))));
    if (delta !== null) {
      const up = delta >= 0;
      el.appendChild(h('div', { class: `metric-delta ${up ? 'up' : 'down'}` }, `${up ? '▲' : '▼'} ${formatValue(Math.abs(delta), ctx.prop(node, 'delta_format'))}`));
    }
    if (showBar || threshold !== null) el.appendChild(bar(v, min, max, threshold, title !== undefined ? toText(title) : 'Value'));
  });
  return el;
}

function gauge(node, ctx) {
  const el = h('div', { class: 'metric gauge' });
  ctx.track(node.bindings, () => {
    const v = numeric(ctx.prop(node, 'value'));
    const min = num(ctx.prop(node, 'min'), 0);
    const max = num(ctx.prop(node, 'max'), 100);
    const threshold = num(ctx.prop(node, 'threshold'), null);
    const title = ctx.prop(node, 'title');
    const frac = v === null ? 0 : Math.max(0, Math.min(1, (v - min) / ((max - min) || 1)));
    clear(el);
    if (title !== undefined) el.appendChild(h('div', { class: 'metric-title' }, toText(title)));
    // A half-circle dial drawn with a conic gradient.
    const over = threshold !== null && v !== null && v >= threshold;
    el.dataset.frac = String(frac);
    el.appendChild(h('div', { class: `dial${over ? ' over' : ''}`, style: { '--frac': String(frac) }, role: 'meter', 'aria-label': title !== undefined ? toText(title) : 'Gauge', 'aria-valuenow': v ?? min, 'aria-valuemin': min, 'aria-valuemax': max },
      h('div', { class: 'dial-value' }, v === null ? '–' : formatValue(v, ctx.prop(node, 'format')))));
    el.appendChild(h('div', { class: 'dial-range' }, h('span', null, String(min)), h('span', null, String(max))));
  });
  return el;
}

function indicator(node, ctx) {
  const el = h('div', { class: 'indicator' });
  ctx.track(node.bindings, () => {
    const min = num(ctx.prop(node, 'min'), 0);
    const max = num(ctx.prop(node, 'max'), 100);
    const v = numeric(ctx.prop(node, 'value'));
    const display = ctx.prop(node, 'display');
    const frac = v === null ? 0 : Math.max(0, Math.min(1, (v - min) / ((max - min) || 1)));
    clear(el);
    el.appendChild(h('div', { class: 'indicator-track' }, h('div', { class: 'indicator-mark', style: { left: `${frac * 100}%` } },
      h('span', { class: 'indicator-label' }, formatValue(display ?? v, ctx.prop(node, 'format'))))));
  });
  return el;
}

function progress(node, ctx) {
  const el = h('div', { class: 'progress' });
  ctx.track(node.bindings, () => {
    const v = numeric(ctx.prop(node, 'value'));
    const title = ctx.prop(node, 'title');
    clear(el);
    if (title !== undefined) el.appendChild(h('div', { class: 'progress-title' }, toText(title)));
    const bar = h('progress', { max: 100, 'aria-label': title !== undefined ? toText(title) : 'Progress' });
    if (v !== null) bar.value = v;
    el.appendChild(bar);
    if (v !== null && truthy(ctx.prop(node, 'show_value', false))) el.appendChild(h('span', { class: 'progress-value' }, `${v}%`));
  });
  return el;
}

// Status values: "text", {status, message}, or a list of them; the status
// letter (i, s, w, e) picks the colour.
function status(node, ctx) {
  const el = h('div', { class: 'status-list', role: 'status' });
  ctx.track(node.bindings, () => {
    let v = ctx.prop(node, 'value');
    clear(el);
    if (v === null || v === undefined || v === '') return;
    if (v && typeof v === 'object' && Array.isArray(v.rows)) v = v.rows.map((r) => (Array.isArray(r) ? { status: r[0], message: r[1] } : r));
    for (const item of Array.isArray(v) ? v : [v]) {
      const s = item && typeof item === 'object' ? String(item.status || 'info') : 'info';
      const msg = item && typeof item === 'object' ? toText(item.message ?? '') : toText(item);
      const kind = { i: 'info', s: 'success', w: 'warning', e: 'error' }[s[0].toLowerCase()] || 'info';
      el.appendChild(h('div', { class: `status-item status-${kind}` }, h('span', { class: 'status-dot' }), msg));
    }
  });
  return el;
}

export default { metric, gauge, indicator, progress, status };
