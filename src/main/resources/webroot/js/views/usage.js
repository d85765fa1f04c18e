// Usage: breakdowns by provider, model, country, device, browser, page and event type, for one metric.
import { api, qs } from '../api.js';
import { h, fmt, card, table, exportButtons, errorBox, empty, SEND_HINT } from '../dom.js';
import { barChart, barHeight } from '../charts.js';

const DIMENSIONS = [['event', 'Event type'], ['provider', 'Provider'], ['model', 'Model'], ['country', 'Country'],
  ['device', 'Device'], ['browser', 'Browser'], ['page', 'Page']];
const METRICS = [['events', 'Events'], ['active_users', 'Active users'], ['messages', 'Messages'],
  ['tokens', 'Tokens'], ['cost', 'Cost'], ['errors', 'Errors'], ['revenue', 'Revenue']];

export async function render(root, ctx) {
  const { period: P, filters: F, signal, status, params } = ctx;
  const metric = METRICS.some(([m]) => m === params.get('metric')) ? params.get('metric') : 'events';
  const select = h('select', { id: 'usage-metric', onchange: (e) => { params.set('metric', e.target.value);
    location.hash = '#/usage?' + params.toString(); } },
  METRICS.map(([m, label]) => h('option', { value: m, selected: m === metric }, label)));
  const grid = h('div', { class: 'grid wide' });
  root.append(h('h1', {}, 'Usage'), h('div', { class: 'row' }, h('label', {}, 'Metric', select)), grid);
  const format = metric === 'cost' || metric === 'revenue' ? fmt.money : fmt.int;

  const answers = await Promise.allSettled(DIMENSIONS.map(([d]) => api('/v1/breakdown' + qs({ dimension: d, metric,
    limit: 20, from: P.from, to: P.to, ...F }), { signal })));
  const about = await api('/v1/about', { signal }).catch(() => null);
  if (signal.aborted) return;
  let allEmpty = true;
  DIMENSIONS.forEach(([d, title], i) => {
    const params2 = { dimension: d, metric, limit: 20, from: P.from, to: P.to, ...F };
    const head = h('span', {}, h('h2', {}, title), ' ', exportButtons('breakdown', params2, status));
    const a = answers[i];
    if (a.status === 'rejected') { grid.append(card(head, errorBox(a.reason))); return; }
    const r = a.value;
    if (r.rows.length) allEmpty = false;
    const max = Math.max(1, ...r.rows.map((x) => x.value));
    const body = r.rows.length === 0 ? empty('Nothing to break down in this period.')
      : table([
        { label: title, value: (x) => x.key ?? h('span', { class: 'muted' }, '(none)') },
        { label: METRICS.find(([m]) => m === metric)[1], num: true,
          value: (x) => h('span', { dataset: { key: x.key ?? '', value: x.value } }, format(x.value)) },
        { label: 'Share', num: true, value: (x) => r.total ? fmt.pct(x.value / r.total) : '—' },
        { label: '', cls: 'barcell', value: (x) => h('div', { class: 'bar', style: { width: (100 * x.value / max) + '%' } }) },
      ], r.rows);
    const c = card(head, body);
    c.dataset.dimension = d;
    if (d === 'country' && about) c.append(locationNote(about.location));
    c.dataset.total = r.total;
    if (d === 'event' && r.rows.length) {
      const canvas = h('canvas', { role: 'img', 'aria-label': `${metric} by event type` });
      // tall enough to label every bar
      c.insertBefore(h('div', { class: 'chart', style: { height: barHeight(r.rows.length) + 'px' } }, canvas), body);
      barChart(canvas, r.rows.map((x) => x.key ?? '(none)'), r.rows.map((x) => x.value), { horizontal: true,
        format, label: METRICS.find(([m]) => m === metric)[1] });
    }
    grid.append(c);
  });
  if (allEmpty) root.insertBefore(empty('No events in this period.', h('p', {}, SEND_HINT)), grid);
}

/** Where countries come from (the bundled database, a configured one, or none) and how to get regions and cities. */
function locationNote(loc) {
  return h('p', { class: 'muted small', id: 'location-source', dataset: { level: loc.level } },
    `Location: ${loc.source}, ${loc.level === 'none' ? 'off' : loc.level + ' level'}.`,
    loc.hint ? ' ' + loc.hint : '');
}
