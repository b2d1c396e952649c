// Scatter charts, and the 2-D fallback of a 3-D scatter (see core.js).
export { install as default } from 'echarts/lib/chart/scatter/install.js';
