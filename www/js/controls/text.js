// Text: `<|{value}|text|>`, `<|Device: {device_id}|text|>`, mode=markdown|pre.
import { h, clear } from '../dom.js';
import { toText, names, num } from '../template.js';
import { renderBlocks } from '../markdown.js';

// Formats a value with a printf-like format ("%.2f", "%d", "%s") if given.
export function formatValue(v, format) {
  if (v === null || v === undefined) return '';
  if (typeof format === 'string' && format && typeof v === 'number') {
    const m = format.match(/%(?:[-+ 0#]*)(\d*)(?:\.(\d+))?([dfieEgs%])/);
    if (m) {
      let s;
      if (m[3] === 'd' || m[3] === 'i') s = String(Math.round(v));
      else if (m[3] === 'f') s = v.toFixed(m[2] ? Number(m[2]) : 6);
      else if (m[3] === 'e' || m[3] === 'E') s = v.toExponential(m[2] ? Number(m[2]) : 6);
      else s = String(v);
      return format.replace(m[0], s);
    }
  }
  if (typeof v === 'number') return Number.isInteger(v) ? v.toLocaleString() : v.toLocaleString(undefined, { maximumFractionDigits: 6 });
  return toText(v);
}

function text(node, ctx) {
  const p = node.properties || {};
  const mode = typeof p.mode === 'string' ? p.mode : '';
  const el = h(mode === 'pre' ? 'pre' : node.inline ? 'span' : 'div', { class: 'text-value' });
  ctx.track(node.bindings, () => {
    const v = ctx.prop(node, 'value');
    // Bound to nothing yet (an unset key, a result still on its way, an
    // expression that failed): a visible placeholder, not an empty gap.
    if (v === undefined || v === null) {
      el.classList.add('empty');
      el.textContent = '—';
      return;
    }
    el.classList.remove('empty');
    const s = formatValue(v, ctx.prop(node, 'format'));
    if (mode === 'markdown' || mode === 'md') { clear(el); el.appendChild(renderBlocks(s)); }
    else el.textContent = s;
  });
  return el;
}

export default { text };
export { names, num };
