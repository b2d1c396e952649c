// Time from navigation to the first chart drawn with data, in headless
// chromium (playwright-core).  Usage: node bench/browser.mjs <url> [timeout_ms] [zoom]
// Prints one JSON line: {"ok":true,"ms":...,"how":"..."} or
// {"ok":false,"reason":"..."}.  Never exits non-zero for a missing front end.
// With "zoom", also zooms the first chart into the middle fifth of its x
// range (ECharts' dataZoom action, as the mouse wheel does) and adds
// "zoom_ms": the time until the chart shows the series of that range
// (the front end's debounce, the server's answer and the drawing).
//
// "Drawn with data" is recognised, in this order:
//  1. a performance mark whose name starts with "pg_dash:chart" (the front end
//     can set one when ECharts' 'finished' event fires on a chart with rows);
//  2. a chart container (ECharts sets the _echarts_instance_ attribute) whose
//     instance, reachable through a global echarts, has series data;
//  3. a chart container with a drawn canvas/svg after a /api/query or WebSocket
//     result arrived (approximate; reported as such).
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'package.json'));
const out = (o) => { process.stdout.write(JSON.stringify(o) + '\n'); };

const url = process.argv[2];
const timeout = Number(process.argv[3] || 30000);
const zoom = process.argv[4] === 'zoom';
let chromium;
try {
	({ chromium } = require('playwright-core'));
} catch (e) {
	out({ ok: false, reason: 'playwright-core not installed (npm install in the checkout)' });
	process.exit(0);
}

let browser;
try {
	browser = await chromium.launch({
		executablePath: '/usr/bin/chromium',
		args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
			'--disable-background-networking', '--disable-component-update', '--disable-sync'],
	});
	const page = await browser.newPage();
	let dataSeen = false;
	page.on('response', (r) => { if (r.url().includes('/api/query/') && r.status() === 200) dataSeen = true; });
	page.on('websocket', (ws) => ws.on('framereceived', (f) => {
		if (typeof f.payload === 'string' && f.payload.includes('"result"')) dataSeen = true;
	}));
	const resp = await page.goto(url, { waitUntil: 'commit', timeout });
	if (!resp || resp.status() !== 200) {
		out({ ok: false, reason: `${new URL(url).pathname} answered ${resp ? resp.status() : 'nothing'}` });
		process.exit(0);
	}
	const deadline = Date.now() + timeout;
	let found = null;
	while (Date.now() < deadline && !found) {
		found = await page.evaluate((seen) => {
			const m = performance.getEntriesByType('mark').find((e) => e.name.startsWith('pg_dash:chart'));
			if (m) return { ms: m.startTime, how: 'performance mark ' + m.name };
			const boxes = document.querySelectorAll('[_echarts_instance_]');
			for (const el of boxes) {
				const inst = window.echarts && window.echarts.getInstanceByDom(el);
				if (inst) {
					const opt = inst.getOption() || {};
					const n = (opt.series || []).reduce((a, s) => a + ((s.data && s.data.length) || 0), 0);
					if (n > 0) return { ms: performance.now(), how: 'echarts instance with ' + n + ' points' };
				} else if (seen && el.querySelector('canvas, svg')) {
					return { ms: performance.now(), how: 'chart container drawn after data arrived (approximate)' };
				}
			}
			return null;
		}, dataSeen).catch(() => null);
		if (!found) await new Promise((r) => setTimeout(r, 10));
	}
	if (!found)
		out({ ok: false, reason: `no chart drawn with data within ${timeout / 1000} s` });
	else if (!zoom)
		out({ ok: true, ms: Math.round(found.ms * 10) / 10, how: found.how });
	else {
		// the chart sets data-x-from to the range of the series it shows
		const chart = '.chart[data-x-from]';
		await page.waitForSelector(chart, { timeout });
		const before = await page.$eval(chart, (e) => e.dataset.xFrom);
		const t0 = await page.evaluate((sel) => {
			const box = document.querySelector(`${sel} .chart-canvas`);
			window.echarts.getInstanceByDom(box).dispatchAction({ type: 'dataZoom', start: 40, end: 60 });
			return performance.now();
		}, chart);
		await page.waitForFunction(([sel, b]) => document.querySelector(sel).dataset.xFrom !== b, [chart, before], { timeout });
		const t1 = await page.evaluate(() => performance.now());
		out({ ok: true, ms: Math.round(found.ms * 10) / 10, how: found.how, zoom_ms: Math.round((t1 - t0) * 10) / 10 });
	}
} catch (e) {
	out({ ok: false, reason: String(e.message || e).split('\n')[0] });
} finally {
	if (browser) await browser.close().catch(() => {});
}
