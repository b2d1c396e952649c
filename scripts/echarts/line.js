// Line and area charts, and the 1-D density curve (see core.js).
export { install as default } from 'echarts/lib/chart/line/install.js';
