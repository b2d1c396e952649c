// chart: ECharts. Types line, area, bar, scatter, pie, heatmap, histogram,
// density, scattergeo (world map) and scatter3d (echarts-gl, 2-D fallback
// without WebGL). Line and area charts of a named query ask the server to
// downsample (LTTB) to twice the chart's pixel width.
import { h, clear, errorBox } from '../dom.js';
import { pureBinding, toText } from '../template.js';
import { normalizeResult } from '../data.js';
import { buildOption, yColumns } from './chart-options.js';
import { loadEcharts, loadEchartsGl, loadWorldMap } from '../vendor.js';

// Whether the page is in dark theme now.
const isDark = () => document.documentElement.dataset.theme === 'dark' ||
  (document.documentElement.dataset.theme !== 'light' && matchMedia('(prefers-color-scheme: dark)').matches);

function chart(node, ctx) {
  const box = h('div', { class: 'chart-canvas' });
  const note = h('div', { class: 'chart-note', hidden: true });
  const msg = h('div', { class: 'chart-message' }, 'Loading…');
  const el = h('div', { class: 'chart', 'aria-busy': 'true' }, note, box, msg);
  const height = typeof node.properties.height === 'string' ? null : 360;
  if (height) box.style.height = `${height}px`; else box.style.height = '100%';
  const b = pureBinding(node.properties.data);
  let inst = null;
  let lastOption = null;
  let data = null;
  let handle = null;
  let handleKey = '';
  let disposed = false;
  let drawSeq = 0;

  // The resolved properties (type may be bound, e.g. type={chart_type}).
  const props = () => {
    const out = {};
    for (const k of Object.keys(node.properties)) if (k !== 'data') out[k] = ctx.prop(node, k);
    out.type = String(out.type || 'line').toLowerCase();
    return out;
  };

  const showError = (e) => {
    el.removeAttribute('aria-busy');
    msg.hidden = false;
    clear(msg).appendChild(errorBox(e, 'Chart'));
  };

  const draw = async () => {
    if (!data || disposed) return;
    const seq = ++drawSeq;
    const p = props();
    let gl = false;
    try {
      let echarts;
      if (p.type === 'scatter3d') {
        try { echarts = await loadEchartsGl(); gl = true; } catch (e) {
          echarts = await loadEcharts();
          note.hidden = false;
          note.textContent = `3-D scatter needs WebGL (${e.message}): showing x/y with z as colour.`;
        }
      } else if (p.type === 'scattergeo') {
        echarts = await loadWorldMap();
      } else {
        echarts = await loadEcharts();
      }
      if (p.type !== 'scatter3d') note.hidden = true;
      if (seq !== drawSeq || disposed) return;
      // Data not bound or not arrived yet: an empty chart that keeps its title.
      const empty = !data.columns.length;
      const option = empty
        ? { backgroundColor: 'transparent', title: p.title ? { text: String(p.title), left: 'center', textStyle: { fontSize: 14 } } : undefined }
        : buildOption(p.type, data, p, { dark: isDark(), gl });
      // Tooltips are drawn in the canvas: ECharts' HTML tooltips are markup
      // with style attributes, which the Content-Security-Policy refuses.
      if (option.tooltip) option.tooltip = { ...option.tooltip, renderMode: 'richText', confine: true };
      const theme = isDark() ? 'dark' : null;
      if (inst && inst.__pgTheme !== theme) { inst.dispose(); inst = null; }
      if (!inst) { inst = echarts.init(box, theme, { renderer: 'canvas' }); inst.__pgTheme = theme; }
      inst.setOption(option, true);
      lastOption = option;
      const points = (option.series || []).reduce((n, s) => n + (Array.isArray(s.data) ? s.data.length : 0), 0);
      el.dataset.points = String(points);
      el.dataset.rows = String(data.rows.length);
      el.dataset.type = p.type;
      el.removeAttribute('aria-busy');
      msg.hidden = !(data.rows.length === 0 || data.truncated);
      el.dataset.state = empty ? 'empty' : 'drawn';
      if (empty) msg.textContent = 'No data yet';
      else if (data.rows.length === 0) msg.textContent = 'No data';
      else if (data.truncated) msg.textContent = 'Result truncated by pg_dash.max_rows.';
    } catch (e) {
      showError(e);
    }
  };

  const onResult = (r, err) => {
    if (err) { showError(err); return; }
    data = normalizeResult(r);
    draw();
  };

  // (Re)starts the data feed: line/area charts of a query get a downsampled
  // result sized to the chart; other charts watch the query as is.
  const feed = () => {
    const p = props();
    if (!(b && ctx.isQuery(b.name))) {
      data = normalizeResult(ctx.prop(node, 'data'));
      draw();
      return;
    }
    // The server downsamples one series (x, y); a chart of several y columns
    // or grouped by color gets the rows as they are, every column kept.
    let options = null;
    const ys = yColumns(p);
    if ((p.type === 'line' || p.type === 'area') && typeof p.x === 'string' && ys.length === 1 && !p.color) {
      const width = Math.max(100, Math.round(box.clientWidth || el.clientWidth || 800));
      options = { downsample: 2 * width, x: p.x, y: ys[0] };
    }
    const key = JSON.stringify(options);
    if (handle && key === handleKey) { draw(); return; }
    if (handle) handle.close();
    handleKey = key;
    handle = ctx.hub.live(b.name, options, onResult);
  };

  ctx.track(node.bindings, feed);

  // Resize with the container; a line chart that grew by over 25 % asks for more points.
  let lastWidth = 0;
  const ro = new ResizeObserver(() => {
    const w = box.clientWidth;
    if (inst) inst.resize();
    if (lastWidth && handleKey !== 'null' && Math.abs(w - lastWidth) / lastWidth > 0.25) { lastWidth = w; feed(); }
    if (!lastWidth) lastWidth = w;
  });
  ro.observe(box);
  const onTheme = () => { if (lastOption) draw(); };
  window.addEventListener('pg_dash:theme', onTheme);
  ctx.onDispose(() => {
    disposed = true;
    ro.disconnect();
    window.removeEventListener('pg_dash:theme', onTheme);
    if (handle) handle.close();
    if (inst) inst.dispose();
  });
  return el;
}

export default { chart };
export { toText };
