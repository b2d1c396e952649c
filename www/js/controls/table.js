// table: a named query's result with server-side paging and sorting
// (GET /api/query/<name>?limit=&offset=&order=&count=exact), or a state
// value (array of objects/arrays) paged and sorted in the browser.  A query
// is sorted only by the columns its definition lists in sortable, and
// counted only when it has allow_count; without a count the table asks for
// one row more than a page to know whether another page follows.
import { h, clear, errorBox } from '../dom.js';
import { num, pureBinding, toText } from '../template.js';
import { allows, normalizeResult } from '../data.js';

// Text of one cell.
export function cellText(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toLocaleString(undefined, { maximumFractionDigits: 6 });
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function table(node, ctx) {
  const pageSize = Math.max(1, num(ctx.prop(node, 'page_size'), 100));
  const colSpec = node.properties.columns;
  const b = pureBinding(node.properties.data);
  const thead = h('thead');
  const tbody = h('tbody');
  const pagerInfo = h('span', { class: 'pager-info' });
  const prev = h('button', { type: 'button', class: 'pager-prev', 'aria-label': 'Previous page' }, '‹');
  const next = h('button', { type: 'button', class: 'pager-next', 'aria-label': 'Next page' }, '›');
  const first = h('button', { type: 'button', class: 'pager-first', 'aria-label': 'First page' }, '«');
  const last = h('button', { type: 'button', class: 'pager-last', 'aria-label': 'Last page' }, '»');
  const msg = h('div', { class: 'table-message' });
  const el = h('div', { class: 'table-wrap loading-state', 'aria-busy': 'true' },
    h('div', { class: 'table-scroll' }, h('table', { class: 'data-table' }, thead, tbody)),
    h('div', { class: 'pager' }, first, prev, pagerInfo, next, last), msg);

  let offset = 0;
  let order = null; // {col, desc}
  let data = { columns: [], rows: [] };
  let total = 0; // null: not counted
  let more = false; // not counted: whether a row follows this page
  let clientSide = false;
  // What the query's definition allows (GET /api/queries).
  const info = b && ctx.isQuery(b.name) ? ctx.hub.queryInfo(b.name) : null;
  const counted = !info || info.allow_count === true;
  const sortable = (c) => clientSide || !info || allows(info.sortable, c);

  const wanted = () => {
    const spec = colSpec !== undefined ? ctx.prop(node, 'columns') : null;
    const list = typeof spec === 'string' ? spec.split(/[;,]/).map((s) => s.trim()).filter(Boolean) : Array.isArray(spec) ? spec : null;
    return list && list.length ? list.filter((c) => data.columns.includes(c)) : data.columns;
  };

  const draw = () => {
    el.classList.remove('loading-state');
    el.removeAttribute('aria-busy');
    const cols = wanted();
    const idx = cols.map((c) => data.columns.indexOf(c));
    clear(thead).appendChild(h('tr', null, cols.map((c) => {
      if (!sortable(c)) return h('th', { scope: 'col' }, c);
      const sorted = order && order.col === c;
      return h('th', {
        scope: 'col', tabindex: 0, class: `sortable${sorted ? (order.desc ? ' sorted desc' : ' sorted asc') : ''}`,
        'aria-sort': sorted ? (order.desc ? 'descending' : 'ascending') : 'none',
        onclick: () => sortBy(c),
        onkeydown: (ev) => { if (ev.key === 'Enter') sortBy(c); },
      }, c, h('span', { class: 'sort-mark' }, sorted ? (order.desc ? ' ▼' : ' ▲') : ''));
    })));
    let rows = data.rows;
    if (clientSide) {
      if (order) {
        const i = data.columns.indexOf(order.col);
        rows = [...rows].sort((a, b2) => {
          const x = a[i]; const y = b2[i];
          const c = x === y ? 0 : x === null || x === undefined ? 1 : y === null || y === undefined ? -1 : x < y ? -1 : 1;
          return order.desc ? -c : c;
        });
      }
      rows = rows.slice(offset, offset + pageSize);
    }
    clear(tbody);
    for (const r of rows) {
      tbody.appendChild(h('tr', null, idx.map((i) => {
        const v = r[i];
        return h('td', { class: typeof v === 'number' ? 'num' : v === null ? 'null' : '' }, cellText(v));
      })));
    }
    if (!rows.length) tbody.appendChild(h('tr', { class: 'empty' }, h('td', { colspan: Math.max(1, cols.length) }, 'No rows')));
    const page = Math.floor(offset / pageSize) + 1;
    if (total === null) {
      // not counted: the rows of this page, and whether more follow
      pagerInfo.textContent = rows.length ? `${offset + 1}–${offset + rows.length}${more ? '' : ' (last)'} · page ${page}` : offset ? 'No more rows' : '0 rows';
      next.disabled = !more;
      last.disabled = true;
      last.title = 'The query is not counted (allow_count)';
    } else {
      const pages = Math.max(1, Math.ceil(total / pageSize));
      pagerInfo.textContent = total ? `${offset + 1}–${Math.min(offset + pageSize, total)} of ${total.toLocaleString()} · page ${page}/${pages}` : '0 rows';
      next.disabled = last.disabled = offset + pageSize >= total;
    }
    el.dataset.total = total === null ? '' : String(total);
    el.dataset.page = String(page);
    prev.disabled = first.disabled = offset === 0;
  };

  const showError = (e) => { el.classList.remove('loading-state'); el.removeAttribute('aria-busy'); clear(msg).appendChild(errorBox(e)); };

  let handle = null;
  // Without a count, one row more than a page says whether another follows.
  const opts = () => {
    const o = { limit: counted ? pageSize : pageSize + 1, offset };
    if (order) o.order = `${order.col}${order.desc ? '.desc' : ''}`;
    if (counted) o.count = 'exact';
    return o;
  };
  const goto = (off) => {
    offset = Math.max(0, off);
    if (handle && !clientSide) { el.setAttribute('aria-busy', 'true'); handle.update(opts()); } else draw();
  };
  const sortBy = (c) => {
    order = order && order.col === c ? (order.desc ? null : { col: c, desc: true }) : { col: c, desc: false };
    goto(0);
  };
  first.addEventListener('click', () => goto(0));
  prev.addEventListener('click', () => goto(offset - pageSize));
  next.addEventListener('click', () => goto(offset + pageSize));
  last.addEventListener('click', () => goto(Math.floor(Math.max(0, total - 1) / pageSize) * pageSize));

  if (b && ctx.isQuery(b.name)) {
    handle = ctx.hub.live(b.name, opts(), (r, err) => {
      if (err) { showError(err); return; }
      clear(msg);
      data = normalizeResult(r);
      // A server that ignored limit/offset sent everything: page here.
      clientSide = typeof data.total !== 'number' && data.rows.length > (counted ? pageSize : pageSize + 1);
      more = !clientSide && !counted && data.rows.length > pageSize;
      if (more) data.rows = data.rows.slice(0, pageSize);
      total = clientSide ? data.rows.length : typeof data.total === 'number' ? data.total : counted ? offset + data.rows.length : null;
      if (data.truncated) clear(msg).appendChild(h('div', { class: 'note' }, 'Result truncated by pg_dash.max_rows.'));
      draw();
    });
    ctx.onDispose(() => handle.close());
  } else {
    clientSide = true;
    ctx.track(node.bindings, () => {
      data = normalizeResult(ctx.prop(node, 'data'));
      total = data.rows.length;
      if (offset >= total) offset = 0;
      draw();
    });
  }
  return el;
}

export default { table };
export { toText };
