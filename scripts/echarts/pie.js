// Pie charts (see core.js).
export { install as default } from 'echarts/lib/chart/pie/install.js';
