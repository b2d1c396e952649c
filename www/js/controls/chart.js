// chart: ECharts. Types line, area, bar, scatter, pie, heatmap, histogram,
// density, scattergeo (world map) and scatter3d (echarts-gl, 2-D fallback
// without WebGL). Line and area charts of a named query ask the server for
// their series at the chart's pixel width (width=: at most four points per
// pixel, reduced in the database).  When the query allows a range of x
// (range_columns), zooming or panning asks again for the visible x range at
// that width (debounced), so deeper zooms show every row.
import { h, clear, errorBox } from '../dom.js';
import { pureBinding, toText } from '../template.js';
import { allows, normalizeResult } from '../data.js';
import { buildOption, yColumns } from './chart-options.js';
import { applyPlotly } from './chart-plotly.js';
import { loadEcharts, loadEchartsGl, loadWorldMap } from '../vendor.js';

// Milliseconds to wait after the last zoom or pan step before asking again.
const ZOOM_DEBOUNCE_MS = 100;

// Local date and time of ms since the epoch, ISO 8601 without a zone (as
// the server writes timestamps without time zone).
function localIso(ms) {
  const d = new Date(ms);
  const p = (n, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

// An x value of a series (a number, or a time as the server writes it) as
// a number on the axis (ms for times).
const axisNumber = (v) => (typeof v === 'number' ? v : Date.parse(v));

// The request bounds (x_from, x_to) of [a, b] on the axis of an x column of
// type xType; integers and dates widen to whole values.
export function rangeBounds(a, b, xType) {
  if (/^(smallint|integer|bigint)$/.test(xType)) return [Math.floor(a), Math.ceil(b)];
  if (xType === 'date') return [localIso(a).slice(0, 10), localIso(b).slice(0, 10)];
  if (xType === 'timestamp with time zone') return [new Date(Math.floor(a)).toISOString(), new Date(Math.ceil(b)).toISOString()];
  if (/^timestamp/.test(xType)) return [localIso(Math.floor(a)), localIso(Math.ceil(b))];
  return [a, b];
}

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
  // A zoomable series: the x range of the whole series (from a request
  // without bounds), the window shown (percent of it; null: all of it),
  // and the parameters the range was read with.
  let zoomable = false;
  let series = null; // {width, x, y}
  let extent = null;
  let zoomWindow = null;
  let extentParams = '';
  let zoomTimer = null;
  const warned = new Set(); // dictionary keys reported as not applied
  let layoutWaits = 0; // times the first feed waited for the chart's layout
  let drawnMarked = false; // the performance mark of the first drawing with rows was set

  // The resolved properties (type may be bound, e.g. type={chart_type}),
  // with the keys of a properties={...} dictionary the element does not set.
  const props = () => {
    const out = {};
    const dict = node.properties.properties !== undefined ? ctx.prop(node, 'properties') : null;
    const keys = new Set([...Object.keys(node.properties),
      ...(dict && typeof dict === 'object' && !Array.isArray(dict) ? Object.keys(dict) : [])]);
    for (const k of keys) if (k !== 'data' && k !== 'properties' && k !== '__proto__') out[k] = ctx.prop(node, k);
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
          echarts = await loadEcharts(p.type);
          note.hidden = false;
          note.textContent = `3-D scatter needs WebGL (${e.message}): showing x/y with z as colour.`;
        }
      } else if (p.type === 'scattergeo') {
        echarts = await loadWorldMap();
      } else {
        echarts = await loadEcharts(p.type);
      }
      if (p.type !== 'scatter3d') note.hidden = true;
      if (seq !== drawSeq || disposed) return;
      const zoom = zoomable && extent ? { min: axisNumber(extent[0]), max: axisNumber(extent[1]),
        start: zoomWindow ? zoomWindow.start : 0, end: zoomWindow ? zoomWindow.end : 100 } : undefined;
      // Data not bound or not arrived yet: an empty chart that keeps its title.
      const empty = !data.columns.length;
      const option = empty
        ? { backgroundColor: 'transparent', title: p.title ? { text: String(p.title), left: 'center', textStyle: { fontSize: 14 } } : undefined }
        : buildOption(p.type, data, p, { dark: isDark(), gl, zoom });
      if (!empty) {
        // Taipy's Plotly-style layout and trace properties, where ECharts has an equivalent
        const skipped = applyPlotly(option, p).filter((k) => !warned.has(k));
        for (const k of skipped) warned.add(k);
        if (skipped.length) console.warn(`pg_dash: line ${node.line}: chart properties without an ECharts equivalent are ignored: ${skipped.join(', ')}`);
        // traces of another kind (type[i]=bar in a line chart) need its modules too
        const kinds = new Set((option.series || []).map((s) => s.type).filter((t) => t && t !== p.type));
        for (const t of kinds) if (!gl) echarts = await loadEcharts(t);
        if (seq !== drawSeq || disposed) return;
      }
      // Tooltips are drawn in the canvas: ECharts' HTML tooltips are markup
      // with style attributes, which the Content-Security-Policy refuses.
      if (option.tooltip) option.tooltip = { ...option.tooltip, renderMode: 'richText', confine: true };
      const theme = isDark() ? 'dark' : null;
      if (inst && inst.__pgTheme !== theme) { inst.dispose(); inst = null; }
      if (!inst) { inst = echarts.init(box, theme, { renderer: 'canvas' }); inst.__pgTheme = theme; }
      if (zoom && !inst.__pgZoom) { inst.on('datazoom', onZoom); inst.__pgZoom = true; }
      if (!drawnMarked && !empty && data.rows.length) {
        // when the chart first shows rows on screen (bench/browser.mjs reads it)
        drawnMarked = true;
        const chart = inst;
        const mark = () => { chart.off('rendered', mark); performance.mark('pg_dash:chart-drawn'); };
        chart.on('rendered', mark);
      }
      inst.setOption(option, true);
      lastOption = option;
      const points = (option.series || []).reduce((n, s) => n + (Array.isArray(s.data) ? s.data.length : 0), 0);
      el.dataset.points = String(points);
      el.dataset.rows = String(data.rows.length);
      el.dataset.type = p.type;
      // the x range the data covers (a zoomed series: the window asked for)
      if (data.reduced) { el.dataset.xFrom = String(data.x_from ?? ''); el.dataset.xTo = String(data.x_to ?? ''); }
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

  // The options of a series request: the chart's width, and the window's
  // x range when zoomed in.
  const seriesOptions = () => {
    const o = { ...series };
    if (zoomWindow && extent) {
      const lo = axisNumber(extent[0]);
      const hi = axisNumber(extent[1]);
      const xType = (data && data.types && data.types[0]) || '';
      [o.x_from, o.x_to] = rangeBounds(lo + ((hi - lo) * zoomWindow.start) / 100, lo + ((hi - lo) * zoomWindow.end) / 100, xType);
    }
    return o;
  };

  // A zoom or pan step: the window is asked for once the steps pause.
  const onZoom = () => {
    const dz = inst && (inst.getOption().dataZoom || [])[0];
    if (!dz || !extent || !handle) return;
    zoomWindow = dz.start <= 0 && dz.end >= 100 ? null : { start: dz.start, end: dz.end };
    clearTimeout(zoomTimer);
    zoomTimer = setTimeout(() => { if (!disposed && handle) handle.update(seriesOptions()); }, ZOOM_DEBOUNCE_MS);
  };

  const onResult = (r, err) => {
    if (err) { showError(err); return; }
    data = normalizeResult(r);
    if (zoomable) {
      const params = JSON.stringify(handle ? handle.params : null);
      if (zoomWindow && params !== extentParams) {
        // other parameters, another series: show all of it again
        zoomWindow = null;
        handle.update(seriesOptions());
        return;
      }
      if (!zoomWindow) { extent = data.x_from === null || data.x_from === undefined ? null : [data.x_from, data.x_to]; extentParams = params; }
    }
    draw();
  };

  // (Re)starts the data feed: line/area charts of a query get their series
  // at the chart's width; other charts watch the query as is.
  const feed = () => {
    const p = props();
    if (!(b && ctx.isQuery(b.name))) {
      data = normalizeResult(ctx.prop(node, 'data'));
      draw();
      return;
    }
    // The server reduces one series (x, y); a chart of several y columns
    // or grouped by color gets the rows as they are, every column kept.
    series = null;
    const ys = yColumns(p);
    if ((p.type === 'line' || p.type === 'area') && typeof p.x === 'string' && ys.length === 1 && !p.color) {
      // The width is known once the chart is on the page and laid out: the
      // page is rendered synchronously, so first right after that (a
      // microtask: the request goes out before the browser turns to other
      // work, such as evaluating ECharts), then after a frame.
      if (!box.clientWidth && layoutWaits < 2) {
        const again = () => { if (!disposed) feed(); };
        if (layoutWaits++ === 0) queueMicrotask(again);
        else requestAnimationFrame(again);
        return;
      }
      const width = Math.max(100, Math.round(box.clientWidth || el.clientWidth || 800));
      series = { width, x: p.x, y: ys[0] };
    }
    const info = ctx.hub.queryInfo(b.name);
    zoomable = series !== null && allows(info && info.range_columns, p.x);
    const key = JSON.stringify(series);
    if (handle && key === handleKey) { draw(); return; }
    if (handle) handle.close();
    handleKey = key;
    handle = ctx.hub.live(b.name, series ? seriesOptions() : null, onResult);
  };

  // ECharts loads while the data is asked for, not after it arrives
  loadEcharts((() => { try { return props().type; } catch { return 'line'; } })()).catch(() => {});
  // A query's data comes through the chart's own feed: tracking it too
  // would also watch the query's whole result (every row of a big table).
  const dataQuery = b && ctx.isQuery(b.name) ? b.name : null;
  ctx.track((node.bindings || []).filter((n) => n !== dataQuery), feed);

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
    clearTimeout(zoomTimer);
    ro.disconnect();
    window.removeEventListener('pg_dash:theme', onTheme);
    if (handle) handle.close();
    if (inst) inst.dispose();
  });
  return el;
}

export default { chart };
export { toText };
