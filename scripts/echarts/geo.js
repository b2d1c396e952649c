// The geo coordinate system of scattergeo's world map (see core.js).
export { install as default } from 'echarts/lib/component/geo/install.js';
