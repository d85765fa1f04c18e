// Chart.js (global `Chart`, loaded from its webjar) with the dashboard's defaults; charts die with their view.
const alive = new Set();
const COLORS = ['#2f5bd3', '#e07b39', '#20a35a', '#a64ac9', '#c9a227', '#d33f6a', '#3aa6b9'];

export function destroyCharts() {
  for (const c of alive) c.destroy();
  alive.clear();
}

// Chart.js is a deferred script after the app: data may arrive before it ran (then the chart is drawn on 'load')
const chartsLoaded = new Promise((resolve) => {
  if (typeof Chart !== 'undefined' || document.readyState === 'complete') resolve();
  else window.addEventListener('load', resolve, { once: true });
});

function make(canvas, config) {
  if (typeof Chart === 'undefined') {
    if (document.readyState !== 'complete') {
      chartsLoaded.then(() => { if (canvas.isConnected) make(canvas, config); });
    } else if (canvas.isConnected) {
      canvas.replaceWith(document.createTextNode('Charts could not be loaded.'));
    }
    return null;
  }
  const existing = Chart.getChart(canvas);
  if (existing) return existing;
  const c = new Chart(canvas, config);
  alive.add(c);
  return c;
}

const base = (extra = {}) => ({
  animation: false,
  responsive: true,
  maintainAspectRatio: false,
  interaction: { mode: 'index', intersect: false },
  plugins: { legend: { display: false } },
  ...extra,
});

/** A line chart of one or more series over the same labels. */
export function lineChart(canvas, labels, series, opts = {}) {
  return make(canvas, {
    type: 'line',
    data: {
      labels,
      datasets: series.map((s, i) => ({
        label: s.label, data: s.data, borderColor: s.color || COLORS[i % COLORS.length],
        backgroundColor: (s.color || COLORS[i % COLORS.length]) + '22', fill: s.fill ?? i === 0,
        tension: 0, pointRadius: s.pointRadius ?? 0, borderWidth: 2, borderDash: s.dash,
        pointBackgroundColor: s.pointColors, pointBorderColor: s.pointColors,
      })),
    },
    options: base({
      plugins: { legend: { display: series.length > 1 } },
      scales: { x: { ticks: { maxTicksLimit: opts.xTicks || 8, maxRotation: 0 } }, y: { beginAtZero: true } },
    }),
  });
}

export function barChart(canvas, labels, data, opts = {}) {
  return make(canvas, {
    type: 'bar',
    data: { labels, datasets: [{ label: opts.label || '', data, backgroundColor: COLORS[0] + 'cc' }] },
    options: base({ indexAxis: opts.horizontal ? 'y' : 'x', scales: { x: { beginAtZero: true }, y: { beginAtZero: true } } }),
  });
}
