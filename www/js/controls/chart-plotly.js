// Taipy's Plotly-style chart properties applied to an ECharts option: the
// layout (a dictionary, layout={...}, and dotted properties such as
// layout.xaxis.title=Time) and the traces' properties (color, type, mode,
// name, marker, line, options and yaxis; with an index, color[2], for one
// trace, without one for every trace; marker.size=4, options.fill=tozeroy).
// What ECharts has no equivalent for is not applied: page_controls.c keeps
// the same lists and gives a notice for such a property when the page is
// saved; a dictionary's other keys are reported here, once, as a console
// warning. Pure functions, no DOM.

// Paths under layout that are applied (page_controls.c: chart_layout_paths).
export const LAYOUT_PATHS = [
  'title', 'title.text', 'showlegend', 'legend.orientation', 'barmode',
  'margin.l', 'margin.r', 'margin.t', 'margin.b', 'plot_bgcolor', 'paper_bgcolor',
  'font.color', 'font.size', 'font.family', 'hovermode', 'colorway',
  ...['xaxis', 'yaxis', 'yaxis2'].flatMap((a) => ['title', 'title.text', 'range', 'type', 'visible', 'showgrid',
    'autorange', 'tickprefix', 'ticksuffix', ...(a === 'yaxis2' ? [] : ['tickangle'])].map((k) => `${a}.${k}`)),
  'xaxis.rangeslider.visible',
];
// Paths of a trace (under options, or marker./line. directly): chart_trace_paths.
export const TRACE_PATHS = ['name', 'opacity', 'fill', 'fillcolor', 'stackgroup', 'mode',
  'marker.color', 'marker.size', 'marker.symbol', 'marker.opacity',
  'line.color', 'line.width', 'line.dash', 'line.shape'];
// Properties that may carry a trace index: chart_indexed ("y" is read by chart-options.js).
export const INDEXED = ['y', 'color', 'type', 'mode', 'name', 'marker', 'line', 'options', 'yaxis'];

const isDict = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

// A value as written in a page ("10", "[0, 5]", "true") as a JSON value; other text as is.
function parsed(v) {
  if (typeof v !== 'string') return v;
  const t = v.trim();
  if (/^(true|false)$/i.test(t)) return t.toLowerCase() === 'true';
  if (t !== '' && !Number.isNaN(Number(t))) return Number(t);
  if (/^\[.*\]$/.test(t)) {
    try { return JSON.parse(t.replace(/'/g, '"')); } catch (e) { return v; }
  }
  return v;
}

// Adds the applied paths of a dictionary (under prefix) to out; the other
// keys go to unknown.
function flatten(d, prefix, known, out, unknown) {
  for (const [k, v] of Object.entries(d)) {
    const path = prefix ? `${prefix}.${k}` : k;
    const deeper = known.some((p) => p.startsWith(`${path}.`));
    if (isDict(v) && deeper) flatten(v, path, known, out, unknown);
    else if (known.includes(path)) out[path] = v;
    else unknown.add(path);
  }
}

// The applied layout paths of a chart's properties: {path: value}.
export function layoutOf(props, unknown = new Set()) {
  const out = {};
  if (isDict(props.layout)) flatten(props.layout, '', LAYOUT_PATHS, out, unknown);
  for (const [k, v] of Object.entries(props)) {
    if (!k.startsWith('layout.')) continue;
    const path = k.slice(7);
    if (isDict(v)) flatten(v, path, LAYOUT_PATHS, out, unknown);
    else if (LAYOUT_PATHS.includes(path)) out[path] = parsed(v);
  }
  return out;
}

// The trace properties of trace k (1-based): {path: value} over TRACE_PATHS
// plus color, type, name and yaxis; an indexed property beats its plain one.
export function traceOf(props, k, unknown = new Set()) {
  const out = {};
  const dicts = (name, prefix) => {
    for (const key of [name, `${name}[${k}]`]) {
      let v = props[key];
      if (name === 'options' && Array.isArray(v)) v = v[k - 1];
      if (name === 'line' && typeof v === 'string') out['line.dash'] = v;
      else if (isDict(v)) flatten(v, prefix, TRACE_PATHS, out, unknown);
    }
  };
  dicts('options', '');
  dicts('marker', 'marker');
  dicts('line', 'line');
  for (const [key, v] of Object.entries(props)) {
    const m = key.match(/^(options\.|marker\.|line\.)([a-z_.]+?)(?:\[(\d+)\])?$/);
    if (!m || (m[3] !== undefined && Number(m[3]) !== k)) continue;
    const path = m[1] === 'options.' ? m[2] : `${m[1]}${m[2]}`;
    if (TRACE_PATHS.includes(path) && (m[3] !== undefined || !(path in out))) out[path] = parsed(v);
  }
  for (const name of ['mode', 'type', 'name', 'yaxis']) {
    const v = props[`${name}[${k}]`] ?? (name === 'type' ? undefined : props[name]);
    if (v !== undefined && v !== null && v !== '') out[name] = v;
  }
  if (props[`color[${k}]`]) out.color = props[`color[${k}]`];
  return out;
}

const DASH = { dash: 'dashed', longdash: 'dashed', dot: 'dotted', dashdot: [8, 4, 2, 4], longdashdot: [12, 4, 2, 4], solid: 'solid' };
const SYMBOL = { circle: 'circle', square: 'rect', diamond: 'diamond', 'triangle-up': 'triangle', triangle: 'triangle', cross: 'pin', x: 'pin' };
const AXIS_TYPE = { linear: 'value', log: 'log', date: 'time', category: 'category' };
const STEP = { hv: 'end', vh: 'start', hvh: 'middle' };

// Applies the layout paths of one axis (xaxis, yaxis, yaxis2) to an ECharts axis.
function applyAxis(axis, lay, name) {
  const get = (k) => lay[`${name}.${k}`];
  const title = get('title.text') ?? (isDict(get('title')) ? get('title').text : get('title'));
  if (title !== undefined) Object.assign(axis, { name: String(title), nameLocation: 'middle', nameGap: name === 'xaxis' ? 28 : 44 });
  const range = get('range');
  if (Array.isArray(range) && range.length === 2) { axis.min = range[0] ?? undefined; axis.max = range[1] ?? undefined; }
  if (AXIS_TYPE[get('type')]) axis.type = AXIS_TYPE[get('type')];
  if (get('visible') !== undefined) axis.show = parsed(get('visible')) !== false;
  if (get('showgrid') !== undefined) axis.splitLine = { ...(axis.splitLine || {}), show: parsed(get('showgrid')) !== false };
  if (get('tickangle') !== undefined && Number.isFinite(Number(get('tickangle')))) axis.axisLabel = { ...(axis.axisLabel || {}), rotate: -Number(get('tickangle')) };
  if (get('autorange') === 'reversed') axis.inverse = true;
  if ((get('tickprefix') || get('ticksuffix')) && axis.type !== 'time' && axis.type !== 'category') {
    axis.axisLabel = { ...(axis.axisLabel || {}), formatter: `${get('tickprefix') || ''}{value}${get('ticksuffix') || ''}` };
  }
}

// Applies one trace's properties to an ECharts series.
function applyTrace(s, tr) {
  const mode = typeof tr.mode === 'string' ? tr.mode : '';
  const type = typeof tr.type === 'string' ? tr.type.toLowerCase() : '';
  if (type === 'bar') { s.type = 'bar'; delete s.showSymbol; delete s.sampling; } else if (type === 'line' || type === 'scatter' || type === 'area') s.type = 'line';
  if (type === 'scatter' && mode && !mode.includes('lines')) s.type = 'scatter';
  if (type === 'area') s.areaStyle = { opacity: 0.25 };
  // Plotly's scatter is points, lines or both, by mode
  if (mode && (s.type === 'line' || s.type === 'scatter')) {
    if (!mode.includes('lines')) s.type = 'scatter';
    else { s.type = 'line'; s.showSymbol = mode.includes('markers'); }
  }
  if (mode.includes('text')) s.label = { show: true, position: 'top' };
  const item = { ...(s.itemStyle || {}) };
  const line = { ...(s.lineStyle || {}) };
  if (tr.color) { item.color = String(tr.color); line.color = String(tr.color); }
  if (tr['marker.color'] && typeof tr['marker.color'] === 'string') item.color = tr['marker.color'];
  if (tr['marker.opacity'] !== undefined) item.opacity = Number(tr['marker.opacity']);
  if (tr.opacity !== undefined) { item.opacity = Number(tr.opacity); line.opacity = Number(tr.opacity); }
  if (tr['marker.size'] !== undefined && Number.isFinite(Number(tr['marker.size']))) s.symbolSize = Number(tr['marker.size']);
  if (SYMBOL[tr['marker.symbol']]) s.symbol = SYMBOL[tr['marker.symbol']];
  if (tr['line.color']) line.color = String(tr['line.color']);
  if (tr['line.width'] !== undefined && Number.isFinite(Number(tr['line.width']))) line.width = Number(tr['line.width']);
  if (DASH[tr['line.dash']]) line.type = DASH[tr['line.dash']];
  if (tr['line.shape'] === 'spline') s.smooth = true;
  if (STEP[tr['line.shape']]) s.step = STEP[tr['line.shape']];
  if (Object.keys(item).length) s.itemStyle = item;
  if (Object.keys(line).length && s.type === 'line') s.lineStyle = line;
  if (tr.name !== undefined && tr.name !== '') s.name = String(tr.name);
  if (typeof tr.fill === 'string') {
    if (tr.fill === 'none') delete s.areaStyle;
    else if (s.type === 'line') s.areaStyle = { ...(s.areaStyle || { opacity: 0.25 }), ...(tr.fillcolor ? { color: String(tr.fillcolor) } : {}) };
  }
  if (tr.stackgroup !== undefined && tr.stackgroup !== '') s.stack = String(tr.stackgroup);
  if (/^y[2-9]$/.test(String(tr.yaxis || ''))) s.yAxisIndex = 1;
}

// Applies the Plotly-style properties of a chart to the ECharts option
// buildOption() made; series i takes trace i + 1. Returns the paths of
// dictionaries that were not applied.
export function applyPlotly(option, props) {
  const unknown = new Set();
  const lay = layoutOf(props, unknown);
  const series = Array.isArray(option.series) ? option.series : [];
  series.forEach((s, i) => applyTrace(s, traceOf(props, i + 1, unknown)));

  const title = lay['title.text'] ?? (isDict(lay.title) ? lay.title.text : lay.title);
  if (title !== undefined) option.title = { left: 'center', textStyle: { fontSize: 14 }, ...(option.title || {}), text: String(title) };
  if (lay.showlegend !== undefined) option.legend = { type: 'scroll', ...(option.legend || {}), show: parsed(lay.showlegend) !== false };
  if (lay['legend.orientation']) option.legend = { type: 'scroll', ...(option.legend || {}), orient: lay['legend.orientation'] === 'v' ? 'vertical' : 'horizontal' };
  if (lay.barmode === 'stack' || lay.barmode === 'relative') for (const s of series) if (s.type === 'bar') s.stack = s.stack || 'total';
  if (lay.barmode === 'overlay') for (const s of series) if (s.type === 'bar') s.barGap = '-100%';
  const grid = option.grid ? { ...option.grid } : null;
  if (grid) {
    for (const [k, side] of [['l', 'left'], ['r', 'right'], ['t', 'top'], ['b', 'bottom']]) {
      const v = lay[`margin.${k}`];
      if (v !== undefined && Number.isFinite(Number(v))) grid[side] = Number(v);
    }
    if (lay.plot_bgcolor) { grid.show = true; grid.backgroundColor = String(lay.plot_bgcolor); grid.borderWidth = 0; }
    option.grid = grid;
  }
  if (lay.paper_bgcolor) option.backgroundColor = String(lay.paper_bgcolor);
  const text = {};
  if (lay['font.color']) text.color = String(lay['font.color']);
  if (lay['font.size'] !== undefined && Number.isFinite(Number(lay['font.size']))) text.fontSize = Number(lay['font.size']);
  if (lay['font.family']) text.fontFamily = String(lay['font.family']);
  if (Object.keys(text).length) option.textStyle = { ...(option.textStyle || {}), ...text };
  if (lay.hovermode !== undefined) {
    const h = parsed(lay.hovermode);
    if (h === false) option.tooltip = { ...(option.tooltip || {}), show: false };
    else if (/^[xy]( unified)?$/.test(String(h))) option.tooltip = { ...(option.tooltip || {}), trigger: 'axis' };
    else if (h === 'closest') option.tooltip = { ...(option.tooltip || {}), trigger: 'item' };
  }
  if (Array.isArray(lay.colorway) && lay.colorway.length) option.color = lay.colorway.map(String);

  // axes (charts with a grid: line, bar, scatter, histogram...)
  const first = (a) => (Array.isArray(a) ? a[0] : a);
  if (first(option.xAxis)) applyAxis(first(option.xAxis), lay, 'xaxis');
  if (first(option.yAxis)) applyAxis(first(option.yAxis), lay, 'yaxis');
  if (option.yAxis && series.some((s) => s.yAxisIndex === 1)) {
    const y2 = { type: 'value', position: 'right', scale: true, splitLine: { show: false } };
    applyAxis(y2, lay, 'yaxis2');
    option.yAxis = [first(option.yAxis), y2];
    // room for the right axis' labels and name
    if (option.grid) option.grid = { ...option.grid, right: Math.max(Number(option.grid.right) || 0, y2.name ? 72 : 48) };
  } else if (option.yAxis) {
    for (const s of series) delete s.yAxisIndex;
  }
  if (parsed(lay['xaxis.rangeslider.visible']) === true && option.xAxis && !option.dataZoom) {
    option.dataZoom = [{ type: 'inside' }, { type: 'slider', height: 18, bottom: 8 }];
    option.grid = { ...(option.grid || {}), bottom: Math.max(64, Number(option.grid?.bottom) || 0) };
  }
  return [...unknown];
}
