// Charts drawn by Chart.js on a <canvas>, from a Svelte action: the library is loaded in the browser
// only (never during server rendering), registers just the pieces used, and needs neither inline
// scripts nor eval, so it works under the dashboard's Content-Security-Policy.
import type { Action } from 'svelte/action';
import type { Chart as ChartType, ChartConfiguration } from 'chart.js';

let loading: Promise<typeof ChartType> | undefined;
function load(): Promise<typeof ChartType> {
  loading ??= import('chart.js').then((m) => {
    m.Chart.register(m.BarController, m.BarElement, m.LineController, m.LineElement, m.PointElement, m.CategoryScale, m.LinearScale, m.Tooltip, m.Filler);
    m.Chart.defaults.font.family = getComputedStyle(document.documentElement).fontFamily;
    m.Chart.defaults.color = '#5a6675';
    return m.Chart;
  });
  return loading;
}

/** `<canvas use:chart={config}>`: draws the chart, redraws it in place when the config changes. */
export const chart: Action<HTMLCanvasElement, ChartConfiguration> = (canvas, config) => {
  let instance: ChartType | undefined;
  let latest = config;
  let destroyed = false;
  void load().then((Chart) => {
    if (destroyed) return;
    instance = new Chart(canvas, latest);
    canvas.dataset.ready = 'true';
  });
  return {
    update(next) {
      latest = next;
      if (!instance) return;
      instance.data = next.data;
      if (next.options) instance.options = next.options;
      instance.update('none');
    },
    destroy() {
      destroyed = true;
      instance?.destroy();
    },
  };
};
