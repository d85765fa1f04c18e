// Patterns & insights: detected patterns (with their users), insights, and anomalies marked on their chart.
// A route this Tally does not have yet (404) shows a "not available yet" notice instead of an error.
import { api, qs } from '../api.js';
import { h, fmt, card, table, exportButtons, errorBox, empty, unavailable } from '../dom.js';
import { filtersIgnored } from '../dom.js';
import { lineChart } from '../charts.js';

const ANOMALY_METRICS = ['events', 'active_users', 'messages', 'error_rate', 'response_time', 'cost', 'revenue'];
const SEVERITY_COLOR = { high: '#b3261e', medium: '#c98a00', low: '#6b7a90' };

export async function render(root, ctx) {
  const { period: P, signal, status, params } = ctx;
  const q = { from: P.from, to: P.to };
  const metric = ANOMALY_METRICS.includes(params.get('anomalyMetric')) ? params.get('anomalyMetric') : 'events';
  const granularity = P.interval === 'hour' ? 'hour' : (params.get('anomalyGranularity') === 'hour' ? 'hour' : 'day');
  const patternsBox = h('div', { id: 'patterns' });
  const insightsBox = h('div', { id: 'insights' });
  const anomaliesBox = h('div', { id: 'anomalies' });
  root.append(h('h1', {}, 'Patterns & insights'), filtersIgnored(ctx.filters),
    card(h('span', {}, h('h2', {}, 'Detected patterns'), ' ', exportButtons('patterns', q, status)), patternsBox),
    card(h('span', {}, h('h2', {}, 'Insights'), ' ', exportButtons('insights', q, status)), insightsBox),
    card(h('span', {}, h('h2', {}, 'Anomalies'), ' ',
      exportButtons('anomalies', { ...q, metric, granularity }, status)), anomaliesBox));

  const show = (box, what, promise, fill) => promise.then((r) => fill(r)).catch((e) => {
    if (e.name === 'AbortError') return;
    box.append(e.unavailable ? unavailable(what) : errorBox(e));
  });
  await Promise.all([
    show(patternsBox, 'pattern detection (GET /v1/patterns/detect)',
      api('/v1/patterns/detect' + qs(q), { signal }), (r) => patterns(patternsBox, r, q, signal)),
    show(insightsBox, 'insights (GET /v1/insights)', api('/v1/insights' + qs(q), { signal }),
      (r) => insights(insightsBox, r)),
    show(anomaliesBox, 'anomaly detection (GET /v1/anomalies)',
      api('/v1/anomalies' + qs({ ...q, metric, granularity }), { signal }),
      (r) => anomalies(anomaliesBox, r, metric, params)),
  ]);
}

// Two answer shapes are read: the agreed contract ({activeUsers, patterns: [...]}, each with `reported`) and the
// route as built for issue 6 ({patterns: [reported], notReported: [...]}, `activeUsers` on each pattern).
function patterns(box, r, q, signal) {
  const all = [...r.patterns, ...(r.notReported || [])];
  const active = r.activeUsers ?? (all.find((p) => p.activeUsers !== undefined) || {}).activeUsers;
  const reported = all.filter((p) => p.reported !== false);
  const others = all.filter((p) => p.reported === false);
  const users = h('div', { id: 'pattern-users' });
  const columns = [
    { label: 'Pattern', value: (p) => h('span', {}, h('strong', {}, p.name), h('br'), h('span', { class: 'muted' },
      p.description || '')) },
    { label: 'Type', value: (p) => p.type },
    { label: 'Users', num: true, value: (p) => fmt.int(p.frequency) },
    { label: 'Share', num: true, value: (p) => fmt.pct(p.share) },
    { label: 'Confidence', num: true, value: (p) => fmt.pct(p.confidence) },
    { label: 'Impact', value: (p) => h('span', { class: 'badge ' + p.impact }, p.impact) },
    { label: 'Recommendations', value: (p) => (p.recommendations || []).join(' · ') },
    { label: '', value: (p) => h('button', { type: 'button', class: 'ghost', 'aria-label': `Users matching ${p.name}`,
      onclick: async () => {
        users.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
        try {
          const u = await api(`/v1/patterns/${encodeURIComponent(p.id)}/users` + qs(q), { signal });
          const total = u.total ?? u.users.length;
          users.replaceChildren(h('h3', {}, `Users matching “${p.name}” (${fmt.int(total)}`
            + `${u.truncated ? ', first ' + fmt.int(u.users.length) + ' shown' : ''})`),
          h('p', {}, u.users.map((id, i) => [i ? ', ' : '', h('a', { href: '#/users?user=' + encodeURIComponent(id) },
            id)])));
        } catch (e) {
          users.replaceChildren(e.unavailable ? unavailable('pattern users (GET /v1/patterns/{id}/users)')
            : errorBox(e));
        }
      } }, 'Users') },
  ];
  if (active !== undefined) box.append(h('p', { class: 'muted' }, `${fmt.int(active)} active users in the period.`));
  box.append(reported.length ? table(columns, reported)
    : empty('No pattern stands out in this period.'));
  if (others.length) {
    box.append(h('details', {}, h('summary', {}, `${others.length} pattern${others.length > 1 ? 's' : ''} checked, `
      + 'not reported (confidence too low or nobody matched)'), table(columns, others)));
  }
  box.append(users);
}

function insights(box, r) {
  if (!r.insights.length) {
    box.append(empty('No insights for this period.'));
    return;
  }
  const order = { high: 0, medium: 1, low: 2 };
  const list = [...r.insights].sort((a, b) => (order[a.severity] ?? 3) - (order[b.severity] ?? 3));
  box.append(h('div', { class: 'grid wide' }, list.map((i) => h('article', { class: 'card' },
    h('header', {}, h('h3', {}, i.title), h('span', { class: 'badge ' + i.severity }, i.severity)),
    h('p', {}, i.description),
    Object.keys(i.metrics || {}).length ? h('p', { class: 'muted' }, Object.entries(i.metrics)
      .map(([k, v]) => `${k}: ${typeof v === 'number' ? fmt.num(v) : v}`).join(' · ')) : null,
    (i.recommendations || []).length ? h('ul', {}, i.recommendations.map((x) => h('li', {}, x))) : null))));
}

// Either every bucket in `points` (with severity "none" for normal ones), or, as built for issue 6, every judged
// bucket in `series` and only the anomalies in `points`.
function anomalies(box, r, metric, params) {
  const select = h('select', { id: 'anomaly-metric', onchange: (e) => { params.set('anomalyMetric', e.target.value);
    location.hash = '#/insights?' + params.toString(); } },
  ANOMALY_METRICS.map((m) => h('option', { value: m, selected: m === metric }, m)));
  box.append(h('div', { class: 'row' }, h('label', {}, 'Metric', select)));
  const all = r.series || r.points;
  const flagged = (r.series ? r.points : r.points).filter((p) => p.severity && p.severity !== 'none');
  if (r.insufficientHistory) {
    box.append(h('p', { class: 'notice', role: 'note' }, 'Not enough history yet to judge every bucket of this '
      + 'period (the baseline needs earlier weeks of data).'));
  }
  if (!all.length) {
    box.append(empty('No data points for this metric in the period.'));
    return;
  }
  const marked = new Map(flagged.map((p) => [p.timestamp, p.severity]));
  const hourly = (r.granularity || (all.length > 1 && Date.parse(all[1].timestamp) - Date.parse(all[0].timestamp)
    < 86_400_000 ? 'hour' : 'day')) === 'hour';
  const canvas = h('canvas', { role: 'img', 'aria-label': `${metric}: actual and expected, anomalies marked` });
  box.append(h('div', { class: 'chart' }, canvas));
  const labels = all.map((p) => p.timestamp.slice(hourly ? 11 : 5, hourly ? 16 : 10));
  lineChart(canvas, labels, [
    { label: 'actual', data: all.map((p) => p.actual), pointRadius: all.map((p) => marked.has(p.timestamp) ? 5 : 0),
      pointColors: all.map((p) => SEVERITY_COLOR[marked.get(p.timestamp)] || '#2f5bd3') },
    { label: 'expected', data: all.map((p) => p.expected), fill: false, dash: [4, 4], color: '#8893a7' },
  ]);
  box.append(flagged.length ? table([
    { label: 'When', value: (p) => fmt.time(p.timestamp) },
    { label: 'Actual', num: true, value: (p) => fmt.num(p.actual) },
    { label: 'Expected', num: true, value: (p) => fmt.num(p.expected) },
    { label: 'Score', num: true, value: (p) => fmt.num(p.score) },
    { label: 'Direction', value: (p) => p.direction === 'up' ? '▲ up' : '▼ down' },
    { label: 'Severity', value: (p) => h('span', { class: 'badge ' + p.severity }, p.severity) },
  ], flagged) : empty('No anomaly in this period.'));
}
