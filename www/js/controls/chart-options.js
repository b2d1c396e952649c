// Builds an ECharts option from a normalized result ({columns, types, rows})
// and the chart's properties. Pure functions, no DOM.


// The y columns: y, then y[1], y[2], ... in index order.
export function yColumns(props) {
  const ys = [];
  if (typeof props.y === 'string' && props.y) ys.push(props.y);
  const idx = Object.keys(props).map((k) => k.match(/^y\[(\d+)\]$/)).filter(Boolean)
    .sort((a, b) => Number(a[1]) - Number(b[1]));
  for (const m of idx) if (typeof props[m[0]] === 'string' && !ys.includes(props[m[0]])) ys.push(props[m[0]]);
  return ys;
}

// A JSON value as a number, or null.
function toNum(v) {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v !== '' && !Number.isNaN(Number(v))) return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  return null;
}

const ISO = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}(:?\d{2})?|Z)?)?$/;

// 'value', 'time' or 'category' for a column.
export function axisKind(data, i) {
  const t = (data.types && data.types[i]) || '';
  if (/timestamp|date|time/.test(t) && !/interval/.test(t)) return 'time';
  if (/int|float|double|numeric|real|decimal|serial/.test(t)) return 'value';
  const sample = data.rows.slice(0, 20).map((r) => r[i]).filter((v) => v !== null && v !== undefined);
  if (!sample.length) return 'category';
  if (sample.every((v) => typeof v === 'number')) return 'value';
  if (sample.every((v) => typeof v === 'string' && ISO.test(v))) return 'time';
  return 'category';
}

function col(data, name, fallback) {
  if (typeof name === 'string' && name) {
    const i = data.columns.indexOf(name);
    if (i < 0) throw new Error(`the data has no column "${name}" (columns: ${data.columns.join(', ') || 'none'})`);
    return i;
  }
  return fallback;
}

// Default y columns: the numeric columns other than x.
function defaultYs(data, xi) {
  return data.columns.map((_, i) => i).filter((i) => i !== xi && axisKind(data, i) === 'value');
}

// Bins of numeric values: [{lo, hi, count}].
export function histogram(values, nbins) {
  const v = values.filter((x) => x !== null && Number.isFinite(x));
  if (!v.length) return [];
  let lo = Infinity; let hi = -Infinity;
  for (const x of v) { if (x < lo) lo = x; if (x > hi) hi = x; }
  const n = nbins || Math.min(100, Math.max(5, Math.ceil(Math.sqrt(v.length))));
  const w = (hi - lo) / n || 1;
  const bins = Array.from({ length: n }, (_, i) => ({ lo: lo + i * w, hi: lo + (i + 1) * w, count: 0 }));
  for (const x of v) bins[Math.min(n - 1, Math.floor((x - lo) / w))].count++;
  return bins;
}

// A Gaussian kernel density estimate over `points` x positions
// (bandwidth by Silverman's rule).
export function kde(values, points = 200) {
  const v = values.filter((x) => x !== null && Number.isFinite(x));
  const n = v.length;
  if (!n) return [];
  const mean = v.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, n - 1)) || 1;
  const bw = 1.06 * sd * n ** -0.2;
  const [vlo, vhi] = extent(v);
  const lo = vlo - 3 * bw; const hi = vhi + 3 * bw;
  const step = (hi - lo) / (points - 1);
  const out = [];
  const sample = n > 20000 ? v.filter((_, i) => i % Math.ceil(n / 20000) === 0) : v;
  const k = 1 / (sample.length * bw * Math.sqrt(2 * Math.PI));
  for (let p = 0; p < points; p++) {
    const x = lo + p * step;
    let s = 0;
    for (const xi of sample) { const u = (x - xi) / bw; s += Math.exp(-0.5 * u * u); }
    out.push([x, s * k]);
  }
  return out;
}

// [min, max] of numbers without spreading (safe for millions of values).
function extent(v) {
  let lo = Infinity; let hi = -Infinity;
  for (const x of v) { if (x < lo) lo = x; if (x > hi) hi = x; }
  return [lo, hi];
}

const round = (x) => (Math.abs(x) >= 100 ? Math.round(x) : Math.round(x * 100) / 100);

// The ECharts option for a chart type; `note` is set on the result when a
// fallback was used (shown above the chart).  env.zoom ({min, max, start,
// end}: the x axis fixed to the whole series, the window shown in percent)
// makes a line chart zoomable for a series the server re-reduces per window.
export function buildOption(type, data, props, env = {}) {
  const title = props.title ? { text: String(props.title), left: 'center', textStyle: { fontSize: 14 } } : undefined;
  const base = { backgroundColor: 'transparent', animation: data.rows.length < 5000, title, tooltip: { trigger: 'item' } };
  const top = title ? 40 : 24;
  const grid = { left: 56, right: 24, top: top + 16, bottom: 40, containLabel: true };
  const xi = col(data, props.x, 0);
  const colorIsColumn = typeof props.color === 'string' && data.columns.includes(props.color);
  const sizeIsColumn = typeof props.size === 'string' && data.columns.includes(props.size);
  const fixedColor = typeof props.color === 'string' && !colorIsColumn ? props.color : undefined;
  const t = String(type || 'line').toLowerCase();

  if (t === 'pie') {
    const yi = col(data, yColumns(props)[0], defaultYs(data, xi)[0] ?? 1);
    return { ...base, tooltip: { trigger: 'item' }, legend: { type: 'scroll', bottom: 0 },
      series: [{ type: 'pie', radius: ['30%', '65%'], center: ['50%', '52%'],
        data: data.rows.map((r) => ({ name: String(r[xi]), value: toNum(r[yi]) })) }] };
  }

  if (t === 'histogram') {
    const bins = histogram(data.rows.map((r) => toNum(r[xi])), Number(props.nbins) || undefined);
    return { ...base, grid, tooltip: { trigger: 'axis' },
      xAxis: { type: 'category', name: data.columns[xi], data: bins.map((b) => `${round(b.lo)}–${round(b.hi)}`) },
      yAxis: { type: 'value', name: 'count' },
      series: [{ type: 'bar', name: 'count', barCategoryGap: '2%', data: bins.map((b) => b.count), itemStyle: fixedColor ? { color: fixedColor } : undefined }] };
  }

  if (t === 'heatmap' || (t === 'density' && typeof props.y === 'string')) {
    const yi = col(data, props.y, 1);
    const zi = col(data, props.z || (colorIsColumn ? props.color : undefined), -1);
    const xNum = axisKind(data, xi) === 'value';
    const yNum = axisKind(data, yi) === 'value';
    // heatmap bins numeric axes only when asked (density) or when there are many values.
    const binX = t === 'density' ? xNum : xNum && new Set(data.rows.map((r) => r[xi])).size > 60;
    const binY = t === 'density' ? yNum : yNum && new Set(data.rows.map((r) => r[yi])).size > 60;
    const axis = (i, bin, nb) => {
      if (!bin) {
        const cats = [...new Set(data.rows.map((r) => r[i]))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        const index = new Map(cats.map((c, k) => [c, k]));
        return { labels: cats.map(String), at: (v) => index.get(v) };
      }
      const vals = data.rows.map((r) => toNum(r[i])).filter((v) => v !== null);
      let lo = Infinity; let hi = -Infinity;
      for (const v of vals) { if (v < lo) lo = v; if (v > hi) hi = v; }
      const w = (hi - lo) / nb || 1;
      return { labels: Array.from({ length: nb }, (_, k) => String(round(lo + (k + 0.5) * w))),
        at: (v) => { const n = toNum(v); return n === null ? undefined : Math.min(nb - 1, Math.floor((n - lo) / w)); } };
    };
    const ax = axis(xi, binX, 50);
    const ay = axis(yi, binY, 40);
    const cells = new Map();
    for (const r of data.rows) {
      const a = ax.at(r[xi]); const b = ay.at(r[yi]);
      if (a === undefined || b === undefined) continue;
      const key = a * 100000 + b;
      const z = zi >= 0 && t !== 'density' ? (toNum(r[zi]) ?? 0) : 1;
      cells.set(key, (cells.get(key) || 0) + z);
    }
    const points = [...cells].map(([k, v]) => [Math.floor(k / 100000), k % 100000, v]);
    let max = 0; for (const p of points) if (p[2] > max) max = p[2];
    return { ...base, grid: { ...grid, bottom: 70 }, tooltip: { position: 'top' },
      xAxis: { type: 'category', name: data.columns[xi], data: ax.labels, splitArea: { show: true } },
      yAxis: { type: 'category', name: data.columns[yi], data: ay.labels, splitArea: { show: true } },
      visualMap: { min: 0, max: max || 1, calculable: true, orient: 'horizontal', left: 'center', bottom: 0, itemHeight: 120 },
      series: [{ type: 'heatmap', name: t === 'density' ? 'count' : (zi >= 0 ? data.columns[zi] : 'count'), data: points, progressive: 5000 }] };
  }

  if (t === 'density') {
    const curve = kde(data.rows.map((r) => toNum(r[xi])));
    return { ...base, grid, tooltip: { trigger: 'axis' },
      xAxis: { type: 'value', name: data.columns[xi], scale: true },
      yAxis: { type: 'value', name: 'density' },
      series: [{ type: 'line', name: 'density', showSymbol: false, smooth: true, areaStyle: { opacity: 0.3 }, data: curve, itemStyle: fixedColor ? { color: fixedColor } : undefined }] };
  }

  if (t === 'scattergeo') {
    const loni = col(data, props.lon || props.x, 0);
    const lati = col(data, props.lat || props.y, 1);
    const si = sizeIsColumn ? data.columns.indexOf(props.size) : -1;
    const sizes = si >= 0 ? data.rows.map((r) => toNum(r[si]) ?? 0) : [];
    const smax = sizes.length ? extent(sizes)[1] || 1 : 1;
    return { ...base,
      geo: { map: 'world', roam: true, itemStyle: { areaColor: env.dark ? '#2a3340' : '#e8edf2', borderColor: env.dark ? '#556' : '#99a' }, emphasis: { disabled: true } },
      series: [{ type: 'scatter', coordinateSystem: 'geo', name: data.columns[lati],
        data: data.rows.map((r, k) => [toNum(r[loni]), toNum(r[lati]), si >= 0 ? sizes[k] : 1]),
        symbolSize: si >= 0 ? (v) => 4 + 20 * Math.sqrt(Math.max(0, v[2]) / smax) : 6,
        itemStyle: fixedColor ? { color: fixedColor } : undefined }] };
  }

  if (t === 'scatter3d') {
    const yi = col(data, props.y, 1);
    const zi = col(data, props.z, 2);
    const pts = data.rows.map((r) => [toNum(r[xi]), toNum(r[yi]), toNum(r[zi])]);
    if (!env.gl) {
      // 2-D fallback: x/y scatter, z as colour.
      const [zlo, zhi] = extent(pts.map((p) => p[2]).filter((v) => v !== null));
      return { ...base, grid: { ...grid, right: 70 }, xAxis: { type: 'value', name: data.columns[xi], scale: true },
        yAxis: { type: 'value', name: data.columns[yi], scale: true },
        visualMap: { dimension: 2, min: zlo, max: zhi, right: 0, top: 'middle', text: [data.columns[zi], ''], calculable: true },
        series: [{ type: 'scatter', name: data.columns[zi], data: pts, symbolSize: 6, large: pts.length > 2000 }] };
    }
    return { ...base, tooltip: {},
      xAxis3D: { type: 'value', name: data.columns[xi] }, yAxis3D: { type: 'value', name: data.columns[yi] },
      zAxis3D: { type: 'value', name: data.columns[zi] },
      grid3D: { viewControl: { autoRotate: false } },
      series: [{ type: 'scatter3D', data: pts, symbolSize: 5, itemStyle: fixedColor ? { color: fixedColor } : undefined }] };
  }

  // line, area, bar, scatter (and anything else as line)
  const seriesType = t === 'bar' ? 'bar' : t === 'scatter' ? 'scatter' : 'line';
  const ys = yColumns(props).map((y) => col(data, y));
  const yis = ys.length ? ys : defaultYs(data, xi).slice(0, 8);
  let xKind = axisKind(data, xi);
  if (seriesType === 'bar' && xKind === 'value') xKind = 'category';
  const si = sizeIsColumn ? data.columns.indexOf(props.size) : -1;
  let smax = 1;
  if (si >= 0) for (const r of data.rows) { const v = toNum(r[si]); if (v !== null && v > smax) smax = v; }
  const many = data.rows.length > 300;
  const zoom = seriesType === 'line' && xKind !== 'category' ? env.zoom : undefined;
  const mkSeries = (name, rows, yi) => {
    const s = { type: seriesType, name, data: null };
    if (xKind === 'category') s.data = rows.map((r) => toNum(r[yi]));
    else s.data = rows.map((r) => (si >= 0 ? [r[xi], toNum(r[yi]), toNum(r[si])] : [r[xi], toNum(r[yi])]));
    if (seriesType === 'line') {
      s.showSymbol = !many;
      // a series the server reduced (M4) draws right only with every point
      s.sampling = data.reduced ? undefined : 'lttb';
      if (t === 'area') s.areaStyle = { opacity: 0.25 };
      if (t === 'area' && yis.length > 1) s.stack = 'total';
    }
    if (seriesType === 'scatter') {
      s.large = rows.length > 2000;
      s.symbolSize = si >= 0 ? (v) => 4 + 26 * Math.sqrt(Math.max(0, v[2] || 0) / smax) : (many ? 4 : 8);
    }
    if (fixedColor) s.itemStyle = { color: fixedColor };
    return s;
  };
  let series = [];
  let categories;
  if (colorIsColumn) {
    const ci = data.columns.indexOf(props.color);
    const groups = new Map();
    for (const r of data.rows) {
      const k = String(r[ci]);
      if (!groups.has(k)) groups.set(k, []);
      groups.get(k).push(r);
    }
    if (xKind === 'category') {
      categories = [...new Set(data.rows.map((r) => String(r[xi])))];
      const pos = new Map(categories.map((c, k) => [c, k]));
      const yi = yis[0];
      series = [...groups].map(([k, rows]) => {
        const arr = new Array(categories.length).fill(null);
        for (const r of rows) arr[pos.get(String(r[xi]))] = toNum(r[yi]);
        return { ...mkSeries(k, rows, yi), data: arr };
      });
    } else {
      series = [...groups].map(([k, rows]) => mkSeries(k, rows, yis[0]));
    }
  } else {
    if (xKind === 'category') categories = data.rows.map((r) => String(r[xi]));
    series = yis.map((yi) => mkSeries(data.columns[yi], data.rows, yi));
  }
  // Zoomable: the axis spans the whole series; the window is re-queried.
  const zoomWindow = zoom ? { filterMode: 'none', start: zoom.start, end: zoom.end } : {};
  return { ...base, grid: zoom ? { ...grid, bottom: 64 } : grid, tooltip: { trigger: seriesType === 'scatter' ? 'item' : 'axis' },
    legend: series.length > 1 ? { type: 'scroll', top: title ? 24 : 0 } : undefined,
    xAxis: { type: xKind, name: data.columns[xi], data: categories, scale: xKind === 'value', nameLocation: 'middle', nameGap: 28, axisLabel: { hideOverlap: true },
      min: zoom ? zoom.min : undefined, max: zoom ? zoom.max : undefined },
    yAxis: { type: 'value', name: yis.length === 1 ? data.columns[yis[0]] : undefined, scale: seriesType !== 'bar' },
    dataZoom: zoom ? [{ type: 'inside', ...zoomWindow }, { type: 'slider', height: 18, bottom: 8, showDetail: false, ...zoomWindow }]
      : data.rows.length > 1000 && seriesType === 'line' ? [{ type: 'inside' }] : undefined,
    series };
}

