// Loads the third-party libraries that scripts/build-www.sh puts into
// /vendor from npm (nothing from a CDN): ECharts (its modular build, or the
// whole of it for echarts-gl), echarts-gl, the world map.
import { url } from './base.js';

const scripts = new Map();

// Loads a classic script once; resolves when it has run.
export function loadScript(src) {
  if (!scripts.has(src)) {
    scripts.set(src, new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = src;
      s.async = true;
      s.onload = () => resolve();
      s.onerror = () => { scripts.delete(src); reject(new Error(`cannot load ${src}`)); };
      document.head.appendChild(s);
    }));
  }
  return scripts.get(src);
}

// ECharts' modular build (scripts/build-www.sh): its core, and one module
// per chart kind, so that a page loads only the kinds it shows. Imports are
// written out so that bundlers and browsers see plain module URLs.
const KIND_MODULES = {
  line: () => import(url('/vendor/echarts/line.js')),
  bar: () => import(url('/vendor/echarts/bar.js')),
  pie: () => import(url('/vendor/echarts/pie.js')),
  scatter: () => import(url('/vendor/echarts/scatter.js')),
  heatmap: () => import(url('/vendor/echarts/heatmap.js')),
  geo: () => import(url('/vendor/echarts/geo.js')),
};

// The modules a chart type needs (www/js/controls/chart-options.js draws
// unknown types as lines; density is a curve or, given y, a heatmap).
export function echartsKinds(type) {
  switch (String(type || 'line').toLowerCase()) {
    case 'bar': case 'histogram': return ['bar'];
    case 'pie': return ['pie'];
    case 'scatter': case 'scatter3d': return ['scatter'];
    case 'heatmap': return ['heatmap'];
    case 'density': return ['line', 'heatmap'];
    case 'scattergeo': return ['scatter', 'geo'];
    default: return ['line'];
  }
}

// The whole of ECharts (echarts.min.js) instead of the modular build: what
// echarts-gl needs, used for every chart of a document that may show a 3-D
// chart (the page says "script_eval"), so that one ECharts draws them all.
let whole = false;
export function useWholeEcharts() { whole = true; }

// The chunks each module of the modular build imports, which the build
// (scripts/build-www.sh) writes into js/app.js; unbundled, none are known.
/* global PG_DASH_ECHARTS_CHUNKS */
const CHUNKS = typeof PG_DASH_ECHARTS_CHUNKS === 'object' ? PG_DASH_ECHARTS_CHUNKS : {};
const preloaded = new Set();

// A <link rel> that asks for href once.
function preloadLink(rel, href, as) {
  if (preloaded.has(href)) return;
  preloaded.add(href);
  const link = document.createElement('link');
  link.rel = rel;
  link.href = url(href);
  if (as) link.as = as;
  document.head.appendChild(link);
}

// Asks for a module's chunks at once (modulepreload), instead of one import
// level at a time as the browser discovers them.
function preloadChunks(name) {
  for (const href of CHUNKS[name] || []) preloadLink('modulepreload', href);
}

// Fetches what loadEcharts(type) will run, without running it: module
// preloads are fetched and compiled but evaluated only when imported, so the
// page renders (and asks for its data) before ECharts' evaluation takes the
// main thread.
export function prefetchEcharts(type) {
  if (whole) {
    preloadLink('preload', '/vendor/echarts.min.js', 'script');
    return;
  }
  preloadLink('modulepreload', '/vendor/echarts/core.js');
  preloadChunks('core');
  for (const k of echartsKinds(type)) {
    preloadLink('modulepreload', `/vendor/echarts/${k}.js`);
    preloadChunks(k);
  }
}

let core = null;
const kinds = new Map(); // kind -> Promise of its install function

// The echarts object, with what a chart of the given type needs; also
// window.echarts (getInstanceByDom for the tests and the benchmark).
export async function loadEcharts(type) {
  if (whole) {
    await loadScript(url('/vendor/echarts.min.js'));
    return window.echarts;
  }
  if (!core) {
    preloadChunks('core');
    core = import(url('/vendor/echarts/core.js')).then((m) => m.default);
    core.catch(() => { core = null; });
  }
  const wanted = echartsKinds(type).map((k) => {
    if (!kinds.has(k)) {
      preloadChunks(k);
      const p = KIND_MODULES[k]().then((m) => m.default);
      p.catch(() => kinds.delete(k));
      kinds.set(k, p);
    }
    return kinds.get(k);
  });
  const [echarts, ...installs] = await Promise.all([core, ...wanted]);
  echarts.use(installs);
  window.echarts = echarts;
  return echarts;
}

// Whether this browser can draw WebGL (echarts-gl needs it).
export function hasWebGL() {
  try {
    const c = document.createElement('canvas');
    return !!(c.getContext('webgl2') || c.getContext('webgl'));
  } catch {
    return false;
  }
}

// echarts-gl (scatter3D); rejects when it cannot be used here.
export async function loadEchartsGl() {
  useWholeEcharts();
  const echarts = await loadEcharts('scatter3d');
  if (!hasWebGL()) throw new Error('this browser has no WebGL');
  await loadScript(url('/vendor/echarts-gl.min.js'));
  return echarts;
}

let worldPromise = null;

// Registers the map "world" (Natural Earth countries, 1:110m, from the
// world-atlas package, TopoJSON converted with topojson-client).
export function loadWorldMap() {
  if (!worldPromise) {
    worldPromise = (async () => {
      const echarts = await loadEcharts('scattergeo');
      await loadScript(url('/vendor/topojson-client.min.js'));
      const res = await fetch(url('/vendor/countries-110m.json'));
      if (!res.ok) throw new Error(`cannot load the world map (HTTP ${res.status})`);
      const topo = await res.json();
      const geo = window.topojson.feature(topo, topo.objects.countries);
      echarts.registerMap('world', geo);
      return echarts;
    })();
    worldPromise.catch(() => { worldPromise = null; });
  }
  return worldPromise;
}
