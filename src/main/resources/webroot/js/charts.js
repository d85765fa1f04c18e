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

/** Tooltips and value axes read as the widgets do ({@code format}: a dom.js fmt function, e.g. money with its $). */
function valueFormat(format) {
  if (!format) return {};
  return {
    ticks: { callback: (v) => format(v) },
    tooltip: { callbacks: { label: (c) => (c.dataset.label ? c.dataset.label + ': ' : '')
      + format(c.chart.options.indexAxis === 'y' ? c.parsed.x : c.parsed.y) } },
  };
}

/** A line chart of one or more series over the same labels (times: the axis shows as many as fit). */
export function lineChart(canvas, labels, series, opts = {}) {
  const f = valueFormat(opts.format);
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
      plugins: { legend: { display: series.length > 1 }, tooltip: f.tooltip },
      scales: { x: { ticks: { maxTicksLimit: opts.xTicks || 8, maxRotation: 0 } },
        y: { beginAtZero: true, ticks: f.ticks } },
    }),
  });
}

/** A label as lines of about 14 characters, broken between words (Chart.js draws an array as lines). */
function wrap(label) {
  const lines = [];
  for (const word of String(label).split(' ')) {
    if (lines.length && (lines[lines.length - 1] + ' ' + word).length <= 14) lines[lines.length - 1] += ' ' + word;
    else lines.push(word);
  }
  return lines;
}

/** Pixels a horizontal bar chart needs to label every one of {@code n} bars. */
export const barHeight = (n) => Math.max(160, 26 * n + 40);

/**
 * A bar chart of categories: every category is labelled (no label is skipped to make room; horizontal charts take
 * the height {@link barHeight} gives them, vertical ones wrap long labels on words).
 */
export function barChart(canvas, labels, data, opts = {}) {
  const f = valueFormat(opts.format);
  const category = { ticks: { autoSkip: false, maxRotation: 0 } };
  const value = { beginAtZero: true, ticks: { maxRotation: 0, maxTicksLimit: 6, ...f.ticks } };
  const shown = opts.horizontal ? labels : labels.map(wrap);
  return make(canvas, {
    type: 'bar',
    data: { labels: shown, datasets: [{ label: opts.label || '', data, backgroundColor: COLORS[0] + 'cc' }] },
    options: base({
      indexAxis: opts.horizontal ? 'y' : 'x',
      plugins: { legend: { display: false }, tooltip: f.tooltip },
      scales: opts.horizontal ? { y: category, x: value } : { x: category, y: value },
    }),
  });
}
