// Bar charts and histograms (see core.js).
export { install as default } from 'echarts/lib/chart/bar/install.js';
