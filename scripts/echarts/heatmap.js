// Heatmaps and 2-D density (see core.js).
export { install as default } from 'echarts/lib/chart/heatmap/install.js';
