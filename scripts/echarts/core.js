// ECharts' core with the canvas renderer and the components pg_dash's
// charts use (www/js/controls/chart-options.js). scripts/build-www.sh bundles
// this and one module per chart kind (line.js, bar.js, ...) from npm's
// echarts with esbuild into build/www/vendor/echarts/, sharing chunks, so a
// page loads only the chart kinds it shows (www/js/vendor.js).
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import {
  TitleComponent, TooltipComponent, LegendComponent, GridComponent, DataZoomComponent, VisualMapComponent,
} from 'echarts/components';

echarts.use([CanvasRenderer, TitleComponent, TooltipComponent, LegendComponent, GridComponent,
  DataZoomComponent, VisualMapComponent]);

export default echarts;
