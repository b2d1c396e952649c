// Blocks that hold other nodes: layout, part, expandable, dialog, pane.
import { h } from '../dom.js';
import { truthy, toText } from '../template.js';

// "1 2" -> "1fr 2fr"; "1 auto 200px" kept as CSS lengths; "1*2" repeats.
export function gridColumns(spec, n) {
  const words = String(spec || '').trim().split(/\s+/).filter(Boolean)
    .flatMap((w) => { const m = w.match(/^(\d+)\*(.+)$/); return m ? Array(Number(m[1])).fill(m[2]) : [w]; });
  if (!words.length) return `repeat(${Math.max(1, Math.min(n || 2, 12))}, minmax(0, 1fr))`;
  return words.map((w) => (/^\d+(\.\d+)?$/.test(w) ? `minmax(0, ${w}fr)` : /^(auto|min-content|max-content|\d+(\.\d+)?(px|em|rem|%|fr|vw))$/.test(w) ? w : 'minmax(0, 1fr)')).join(' ');
}

function layout(node, ctx, renderNodes) {
  const el = h('div', { class: 'layout' });
  renderNodes(node.children, el, ctx);
  ctx.track(node.bindings, () => {
    el.style.setProperty('--columns', gridColumns(ctx.prop(node, 'columns'), el.children.length));
    // Taipy's columns[mobile]: the columns on a narrow screen (app.css; one column without it)
    const mobile = ctx.prop(node, 'columns[mobile]');
    if (mobile !== undefined && mobile !== null && mobile !== '') el.style.setProperty('--columns-mobile', gridColumns(mobile, el.children.length));
    const gap = ctx.prop(node, 'gap');
    if (gap) el.style.gap = /^\d+$/.test(String(gap)) ? `${gap}px` : String(gap);
  });
  return el;
}

function part(node, ctx, renderNodes) {
  const el = h('div', { class: 'part' });
  renderNodes(node.children, el, ctx);
  if (node.properties.render !== undefined) ctx.track(node.bindings, () => { el.hidden = !truthy(ctx.prop(node, 'render', true)); });
  return el;
}

function expandable(node, ctx, renderNodes) {
  const summary = h('summary');
  const body = h('div', { class: 'expandable-body' });
  const el = h('details', { class: 'expandable' }, summary, body);
  renderNodes(node.children, body, ctx);
  el.open = node.properties.expanded === undefined ? true : truthy(ctx.prop(node, 'expanded', true));
  ctx.track(node.bindings, () => { summary.textContent = toText(ctx.prop(node, 'title', '')); });
  return el;
}

// dialog and pane: shown in place as a panel while "open" is true.
function panel(node, ctx, renderNodes) {
  const title = h('div', { class: 'panel-title' });
  const el = h('section', { class: 'panel' }, title);
  renderNodes(node.children, el, ctx);
  ctx.track(node.bindings, () => {
    title.textContent = toText(ctx.prop(node, 'title', ''));
    title.hidden = !title.textContent;
    el.hidden = node.properties.open !== undefined && !truthy(ctx.prop(node, 'open', false));
  });
  return el;
}

export default { layout, part, expandable, dialog: panel, pane: panel };
