// Loads the third-party libraries that scripts/build-www.sh copies into
// /vendor from npm (nothing from a CDN): ECharts, echarts-gl, the world map.
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

// The global echarts object.
export async function loadEcharts() {
  await loadScript(url('/vendor/echarts.min.js'));
  return window.echarts;
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
  const echarts = await loadEcharts();
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
      const echarts = await loadEcharts();
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
