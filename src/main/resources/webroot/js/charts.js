// Chart.js (global `Chart`, loaded from its webjar) with the dashboard's defaults; charts die with their view.
const alive = new Set();
const COLORS = ['#2f5bd3', '#e07b39', '#20a35a', '#a64ac9', '#c9a227', '#d33f6a', '#3aa6b9'];

export function destroyCharts() {
  for (const c of alive) c.destroy();
  alive.clear();
}

// Chart.js runs only when a chart is drawn (index.html preloads it without running it), and a view may hold it back
// until its first numbers are drawn: compiling its 200 kB takes the page's only thread for tens of milliseconds.
const CHART_JS = '/webjars/chart.js/4.5.1/dist/chart.umd.min.js';
let hold = Promise.resolve();
let chartsLoaded = null;

/** Chart.js is not run before {@code promise} settles (if it has not run yet). */
export function chartsAfter(promise) { hold = promise.then(() => {}, () => {}); }

/** Settles once every chart asked for so far is drawn (or Chart.js failed to load). */
export function chartsDrawn() { return (chartsLoaded ?? Promise.resolve()).catch(() => {}); }

function loadCharts() {
  chartsLoaded ??= hold.then(() => new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = CHART_JS;
    s.onload = () => typeof Chart === 'undefined' ? reject(new Error('Chart.js did not load')) : resolve();
    s.onerror = reject;
    document.head.append(s);
  }));
  return chartsLoaded;
}

const pending = new Map(); // canvas → the latest config asked for before Chart.js ran

function make(canvas, config) {
  if (typeof Chart === 'undefined') {
    if (!pending.has(canvas)) {
      const later = () => { const c = pending.get(canvas); pending.delete(canvas); return canvas.isConnected ? c : null; };
      loadCharts().then(() => { const c = later(); if (c) make(canvas, c); },
        () => { if (later()) canvas.replaceWith(document.createTextNode('Charts could not be loaded.')); });
    }
    pending.set(canvas, config);
    return null;
  }
  const existing = Chart.getChart(canvas);
  if (existing) { // asked again (a widget that drew before Chart.js ran): show the newest data
    existing.data = config.data;
    existing.update('none');
    return existing;
  }
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
