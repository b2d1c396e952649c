// tree: a hierarchical selector (WAI-ARIA tree view). Its lov is a list of
// items [id, label, children] or {id, label, children}, or a query result
// whose third column is each row's parent id (null at the top). Keyboard:
// up/down move, right opens or enters, left closes or goes to the parent,
// Home/End, Enter or Space selects. The selection writes the bound key
// (a list with multiple).
import { h, clear } from '../dom.js';
import { toText, truthy } from '../template.js';

// [{id, label, children}] from the lov.
export function treeItems(lov) {
  const item = (v) => {
    if (Array.isArray(v)) return { id: v[0], label: toText(v[1] ?? v[0]), children: Array.isArray(v[2]) ? v[2].map(item) : [] };
    if (v && typeof v === 'object') {
      const id = v.id ?? v.value;
      return { id, label: toText(v.label ?? id), children: Array.isArray(v.children) ? v.children.map(item) : [] };
    }
    return { id: v, label: toText(v), children: [] };
  };
  if (lov === null || lov === undefined) return [];
  if (typeof lov === 'string') return lov.split(';').filter(Boolean).map(item);
  if (Array.isArray(lov)) return lov.map(item);
  if (typeof lov === 'object' && Array.isArray(lov.rows)) {
    // rows (id, label, parent): build the hierarchy
    const rows = lov.rows.map((r) => (Array.isArray(r) ? r : Object.values(r)));
    const byId = new Map();
    for (const r of rows) byId.set(JSON.stringify(r[0]), { id: r[0], label: toText(r.length > 1 ? r[1] : r[0]), children: [] });
    const top = [];
    for (const r of rows) {
      const node = byId.get(JSON.stringify(r[0]));
      const parent = r.length > 2 && r[2] !== null && r[2] !== undefined ? byId.get(JSON.stringify(r[2])) : null;
      if (parent && parent !== node) parent.children.push(node); else top.push(node);
    }
    return top;
  }
  return [];
}

function tree(node, ctx) {
  const ul = h('ul', { role: 'tree', class: 'tree' });
  const label = toText(ctx.prop(node, 'label', ''));
  if (label) ul.setAttribute('aria-label', label);
  else ul.setAttribute('aria-label', ctx.stateKey(node, 'value') || 'Tree');
  const el = h('div', { class: 'tree-wrap' }, label ? h('div', { class: 'field-label' }, label) : null, ul);
  const open = new Set(); // JSON ids of expanded nodes
  let initialised = false;
  let focusId = null;

  const key = JSON.stringify;
  const multiple = () => truthy(ctx.prop(node, 'multiple', false));
  const selectedSet = () => {
    const v = ctx.prop(node, 'value');
    return new Set((Array.isArray(v) ? v : v === null || v === undefined ? [] : [v]).map((x) => key(x)));
  };
  const visible = () => [...ul.querySelectorAll('[role="treeitem"]')].filter((li) => !li.parentElement.closest('[role="treeitem"][aria-expanded="false"]'));

  const select = (it) => {
    if (truthy(ctx.prop(node, 'select_leafs_only', false)) && it.children.length) return;
    const k = ctx.stateKey(node, 'value');
    if (!k) return;
    if (multiple()) {
      const cur = ctx.prop(node, 'value');
      const list = Array.isArray(cur) ? [...cur] : [];
      const at = list.findIndex((x) => key(x) === key(it.id));
      if (at >= 0) list.splice(at, 1); else list.push(it.id);
      ctx.write(node, k, list).catch((e) => console.warn('pg_dash: tree', e));
    } else {
      ctx.write(node, k, it.id).catch((e) => console.warn('pg_dash: tree', e));
    }
  };

  const toggle = (it, siblings, force) => {
    const k = key(it.id);
    const want = force === undefined ? !open.has(k) : force;
    if (want) {
      // expanded=False: one open node per level
      if (ctx.prop(node, 'expanded') === false) for (const s of siblings) open.delete(key(s.id));
      open.add(k);
    } else open.delete(k);
    draw();
  };

  const draw = () => {
    const items = treeItems(ctx.prop(node, 'lov'));
    const sel = selectedSet();
    const hadFocus = ul.contains(document.activeElement);
    clear(ul);
    ul.setAttribute('aria-multiselectable', multiple() ? 'true' : 'false');
    const build = (list, parent, level) => {
      for (const it of list) {
        const k = key(it.id);
        const li = h('li', { role: 'treeitem', tabindex: '-1', 'aria-level': String(level), 'aria-selected': sel.has(k) ? 'true' : 'false', dataset: { id: k } });
        const row = h('span', { class: 'tree-row' },
          h('span', { class: 'tree-twisty', 'aria-hidden': 'true' }, it.children.length ? (open.has(k) ? '▾' : '▸') : ''),
          h('span', { class: 'tree-label' }, it.label));
        li.appendChild(row);
        li.item = it;
        li.siblings = list;
        if (it.children.length) {
          li.setAttribute('aria-expanded', open.has(k) ? 'true' : 'false');
          const group = h('ul', { role: 'group', hidden: !open.has(k) });
          build(it.children, group, level + 1);
          li.appendChild(group);
        }
        row.addEventListener('click', (ev) => {
          ev.stopPropagation();
          focusId = k;
          if (it.children.length) toggle(it, list);
          if (!(it.children.length && truthy(ctx.prop(node, 'select_leafs_only', false)))) select(it);
        });
        parent.appendChild(li);
      }
    };
    build(items, ul, 1);
    const all = visible();
    const target = all.find((li) => li.dataset.id === focusId) || all.find((li) => li.getAttribute('aria-selected') === 'true') || all[0];
    if (target) { target.tabIndex = 0; if (hadFocus) target.focus(); }
    if (!items.length) ul.appendChild(h('li', { class: 'empty', role: 'none' }, 'No items'));
  };

  ul.addEventListener('keydown', (ev) => {
    const li = ev.target.closest('[role="treeitem"]');
    if (!li) return;
    const all = visible();
    const i = all.indexOf(li);
    const go = (t) => { if (!t) return; focusId = t.dataset.id; for (const x of all) x.tabIndex = -1; t.tabIndex = 0; t.focus(); };
    const expanded = li.getAttribute('aria-expanded');
    switch (ev.key) {
      case 'ArrowDown': go(all[i + 1]); break;
      case 'ArrowUp': go(all[i - 1]); break;
      case 'Home': go(all[0]); break;
      case 'End': go(all[all.length - 1]); break;
      case 'ArrowRight':
        if (expanded === 'false') { focusId = li.dataset.id; toggle(li.item, li.siblings, true); } else if (expanded === 'true') go(all[i + 1]);
        break;
      case 'ArrowLeft':
        if (expanded === 'true') { focusId = li.dataset.id; toggle(li.item, li.siblings, false); } else go(li.parentElement.closest('[role="treeitem"]'));
        break;
      case 'Enter': case ' ':
        focusId = li.dataset.id;
        if (truthy(ctx.prop(node, 'select_leafs_only', false)) && li.item.children.length) toggle(li.item, li.siblings);
        else select(li.item);
        break;
      default: return;
    }
    ev.preventDefault();
  });

  ctx.track(node.bindings, () => {
    if (!initialised) {
      const ex = ctx.prop(node, 'expanded');
      if (Array.isArray(ex)) for (const id of ex) open.add(key(id));
      else if (typeof ex === 'string' && ex !== 'True' && ex !== 'False' && ex.includes(';')) for (const id of ex.split(';')) open.add(key(id));
      initialised = true;
    }
    draw();
  });
  return el;
}

export default { tree };
