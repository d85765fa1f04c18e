// Patterns & insights: detected patterns (with their users), insights as sentences, and anomalies marked on their
// chart. A route this Tally does not have yet (404) shows a "not available yet" notice instead of an error.
import { api, qs } from '../api.js';
import { h, fmt, card, table, exportButtons, errorBox, empty, unavailable, userLink, METRIC, words } from '../dom.js';
import { filtersIgnored } from '../dom.js';
import { lineChart } from '../charts.js';

const ANOMALY_METRICS = ['events', 'active_users', 'messages', 'error_rate', 'response_time', 'cost', 'revenue'];
const SEVERITY_COLOR = { high: '#b3261e', medium: '#c98a00', low: '#6b7a90' };
/** Metrics that come from model calls, so an anomaly of theirs may come from one provider. */
const BY_PROVIDER = ['error_rate', 'response_time', 'messages', 'cost'];

export async function render(root, ctx) {
  const { period: P, signal, status, params } = ctx;
  const q = { from: P.from, to: P.to };
  const patternsBox = h('div', { id: 'patterns' });
  const insightsBox = h('div', { id: 'insights' });
  const anomaliesBox = h('div', { id: 'anomalies' });
  const anomalyExport = h('span');
  root.append(h('h1', {}, 'Patterns & insights'), filtersIgnored(ctx.filters),
    card(h('span', {}, h('h2', {}, 'Insights'), ' ', exportButtons('insights', q, status)), insightsBox),
    card(h('span', {}, h('h2', {}, 'Detected patterns'), ' ', exportButtons('patterns', q, status)), patternsBox),
    card(h('span', {}, h('h2', {}, 'Anomalies'), ' ', anomalyExport), anomaliesBox));

  const show = (box, what, promise, fill) => promise.then((r) => fill(r)).catch((e) => {
    if (e.name === 'AbortError') return null;
    box.append(e.unavailable ? unavailable(what) : errorBox(e));
    return null;
  });
  const get = (path, params2) => api(path + qs(params2), { signal });
  const detected = get('/v1/patterns/detect', q);
  const answered = insightsAnswer(get, q);
  await Promise.all([
    show(patternsBox, 'pattern detection (GET /v1/patterns/detect)', detected, (r) => patterns(patternsBox, r, q, get)),
    show(insightsBox, 'insights (GET /v1/insights)', Promise.all([answered, detected.catch(() => null)]),
      ([r, d]) => insights(insightsBox, r, d, get)),
    // the anomalies chart shows the metric of the strongest anomaly insight, unless one is chosen
    answered.catch(() => null).then((r) => {
      const top = (r?.insights || []).find((i) => i.type === 'anomaly' && ANOMALY_METRICS.includes(i.anomaly?.metric));
      const metric = ANOMALY_METRICS.includes(params.get('anomalyMetric')) ? params.get('anomalyMetric')
        : top ? top.anomaly.metric : 'events';
      const granularity = P.interval === 'hour' ? 'hour'
        : params.get('anomalyGranularity') === 'hour' ? 'hour' : 'day';
      anomalyExport.replaceWith(exportButtons('anomalies', { ...q, metric, granularity }, status));
      return show(anomaliesBox, 'anomaly detection (GET /v1/anomalies)',
        get('/v1/anomalies', { ...q, metric, granularity }), (a) => anomalies(anomaliesBox, a, metric, params));
    }),
  ]);
}

/** The insights; when some slow parts were still computing, asked again until they are all in. */
async function insightsAnswer(get, q) {
  const r = await get('/v1/insights', q);
  return r.pending && r.pending.length ? get('/v1/insights', { ...q, wait: true }) : r;
}

// Two answer shapes are read: the agreed contract ({activeUsers, patterns: [...]}, each with `reported`) and the
// route as built for issue 6 ({patterns: [reported], notReported: [...]}, `activeUsers` on each pattern).
function patterns(box, r, q, get) {
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
          const u = await get(`/v1/patterns/${encodeURIComponent(p.id)}/users`, q);
          const total = u.total ?? u.users.length;
          users.replaceChildren(h('h3', {}, `Users matching “${p.name}” (${fmt.int(total)}`
            + `${u.truncated ? ', first ' + fmt.int(u.users.length) + ' shown' : ''})`),
          h('p', {}, u.users.map((id, i) => [i ? ', ' : '', userLink(id)])));
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

const metricOf = (m) => METRIC[m] || { label: words(m), format: fmt.num };
const lower = (s) => s.charAt(0).toLowerCase() + s.slice(1);
const quote = (s) => `“${words(s)}”`;
/** When a bucket was: "Fri 4 Dec", or "Fri 4 Dec at 14:00 UTC" for an hour. */
const when = (a) => a.granularity === 'hour' ? `${fmt.day(a.timestamp)} at ${a.timestamp.slice(11, 16)} UTC`
  : fmt.day(a.timestamp);
/** How far a value is from another, in words: "17 times as high", "40 % lower". */
function howFar(actual, expected) {
  if (!expected || !actual) return '';
  const ratio = actual / expected;
  if (ratio >= 1.95) return `, ${fmt.num(ratio)} times as high`;
  if (ratio > 1) return `, ${fmt.pct(ratio - 1)} higher`;
  return `, ${fmt.pct(1 - ratio)} lower`;
}

/**
 * Each insight as a product manager would say it: a title, one sentence of what happened with the figures that show
 * it (no raw metric dump), and the server's recommendations. {@code settings} is the answer's effective settings,
 * {@code detected} the pattern detection (feature-gap names), when there.
 */
const SENTENCES = {
  anomaly: (i) => {
    const a = i.anomaly || { ...i.metrics, metric: (i.subject || '').split('@')[0], timestamp: (i.subject || '')
      .split('@')[1] || '' };
    const m = metricOf(a.metric);
    const up = a.direction !== 'down';
    return [`${m.label} ${up ? 'spiked' : 'dropped'} on ${when(a)}`,
      `${m.label} was ${m.format(a.actual)} on ${when(a)}, against about ${m.format(a.expected)} expected for that `
      + `${a.granularity === 'hour' ? 'hour' : 'day of the week'}${howFar(a.actual, a.expected)}.`];
  },
  performance_alert: (i, s) => ['Many messages fail', `${fmt.pct(i.metrics.errorRate)} of the messages sent in this `
    + `period ended in an error, above the alert threshold of ${fmt.pct(s.errorRateAbove ?? 0.05)}.`],
  funnel_dropoff: (i, s) => {
    const m = i.metrics;
    const steps = s.funnelSteps || [];
    const step = i.subject;
    const previous = steps[(m.stepIndex ?? 2) - 2] ?? 'the step before';
    return [`Biggest drop-off: ${words(previous)} → ${words(step)}`, `${fmt.pct(m.dropOffRate)} of the people who got `
      + `to ${quote(previous)} did not go on to ${quote(step)} (${fmt.int(m.usersBefore)} → ${fmt.int(m.usersAfter)}), `
      + 'the largest loss between two steps of the funnel.'];
  },
  active_users_growth: (i) => ['More active users', `${fmt.int(i.metrics.activeUsers)} people were active in this `
    + `period, ${fmt.pct(Math.abs(i.metrics.change))} more than in the previous period of the same length `
    + `(${fmt.int(i.metrics.previousActiveUsers)}).`],
  active_users_decline: (i) => ['Fewer active users', `${fmt.int(i.metrics.activeUsers)} people were active in this `
    + `period, ${fmt.pct(Math.abs(i.metrics.change))} fewer than in the previous period of the same length `
    + `(${fmt.int(i.metrics.previousActiveUsers)}).`],
  cost_spike: (i) => [`Spending on ${i.subject} jumped`, `${i.subject} cost ${fmt.money(i.metrics.cost)} in this `
    + `period, ${fmt.num(i.metrics.ratio)} times the ${fmt.money(i.metrics.previousCost)} of the previous period.`],
  slow_provider: (i) => [`${i.subject} is the slowest provider`, `${i.subject} took ${fmt.ms(i.metrics
    .averageResponseTime)} on average to answer, ${fmt.num(i.metrics.ratio)} times as long as the other providers `
    + `(${fmt.ms(i.metrics.othersAverageResponseTime)}).`],
  pattern: (i, s, detected) => {
    const p = detected ? [...detected.patterns, ...(detected.notReported || [])].find((x) => x.id === i.subject)
      : null;
    const m = i.metrics;
    const name = p?.name || i.title;
    const gaps = p?.gapFeatures;
    const what = gaps && gaps.length
      ? `Fewer than 10 % of the active people use ${gaps.map(quote).join(', ')}; ${fmt.int(m.frequency)} people `
        + `(${fmt.pct(m.share)} of the active people) used none of them.`
      : `${fmt.int(m.frequency)} people (${fmt.pct(m.share)} of the active people) match “${name}”`
        + `${p?.description ? ': ' + lower(p.description) : ''}.`;
    const held = m.confidence === null || m.confidence === undefined ? ''
      : ` Checked against the window before: it held for ${fmt.pct(m.confidence)} of the cases.`;
    return [name, what + held];
  },
  retention_warning: (i) => ['Rarely comes back', `Active on ${fmt.int(i.metrics.daysActive)} days, `
    + `${fmt.pct(i.metrics.retentionRate)} of the days since their first visit in this period.`],
  cost_optimization: (i) => ['A costly user', `This person's messages cost ${fmt.money(i.metrics.totalCost)} in this `
    + 'period.'],
  user_error_rate: (i) => ['Many of their messages fail', `${fmt.pct(i.metrics.errorRate)} of this person's `
    + `${fmt.int(i.metrics.messagesSent)} messages ended in an error.`],
  cheaper_model: (i) => ['A cheaper model would do', `${fmt.pct(i.metrics.modelShare)} of this person's spend goes `
    + `to one model, at ${fmt.money(i.metrics.costPerMessage)} a message; another costs `
    + `${fmt.money(i.metrics.cheaperCostPerMessage)}.`],
};

function insights(box, r, detected, get) {
  if (!r.insights.length) {
    box.append(empty('No insights for this period.'));
    return;
  }
  const order = { high: 0, medium: 1, low: 2 };
  const list = [...r.insights].sort((a, b) => (order[a.severity] ?? 3) - (order[b.severity] ?? 3));
  const settings = r.settings || {};
  box.append(h('div', { class: 'grid wide' }, list.map((i) => {
    let title = i.title;
    let what = i.description;
    try {
      if (SENTENCES[i.type]) [title, what] = SENTENCES[i.type](i, settings, detected);
    } catch { /* an answer of another shape: the server's own texts */ }
    const why = h('p', { class: 'why' });
    if (i.type === 'anomaly' && i.anomaly && BY_PROVIDER.includes(i.anomaly.metric)) explain(why, i.anomaly, get);
    return h('article', { class: 'card insight', dataset: { type: i.type } },
      h('header', {}, h('h3', {}, title), h('span', { class: 'badge ' + i.severity }, i.severity)),
      h('p', { class: 'what' }, what), why,
      (i.recommendations || []).length ? h('ul', {}, i.recommendations.map((x) => h('li', {}, x))) : null);
  })));
}

/**
 * Which provider an anomaly comes from: the same bucket judged per provider (of the period's providers), the one
 * furthest from its own expectation named, or none when no provider stands out on its own.
 */
async function explain(el, a, get) {
  const end = new Date(Date.parse(a.timestamp) + (a.granularity === 'hour' ? 3_600_000 : 86_400_000)).toISOString();
  const bucket = { from: a.timestamp, to: end };
  try {
    const providers = (await get('/v1/breakdown', { dimension: 'provider', metric: 'messages', limit: 5, ...bucket }))
      .rows.map((x) => x.key).filter(Boolean);
    const judged = await Promise.all(providers.map((provider) => get('/v1/anomalies', { metric: a.metric,
      granularity: a.granularity, provider, ...bucket }).then((r) => ({ provider,
      point: (r.series || r.points).find((p) => p.timestamp === a.timestamp) })).catch(() => ({ provider }))));
    const scored = judged.filter((j) => j.point && j.point.score !== null && j.point.score !== undefined)
      .sort((x, y) => Math.abs(y.point.score) - Math.abs(x.point.score));
    const m = metricOf(a.metric);
    const top = scored[0];
    if (!top || Math.abs(top.point.score) < 4) {
      el.textContent = 'No single provider stands out: the change is spread across them.';
      return;
    }
    const calm = scored.slice(1).filter((j) => Math.abs(j.point.score) < 4).map((j) => j.provider);
    el.dataset.provider = top.provider;
    el.textContent = `It comes from ${top.provider}: its ${lower(m.label)} was ${m.format(top.point.actual)} against `
      + `about ${m.format(top.point.expected)} expected`
      + (calm.length ? `, while ${calm.join(' and ')} stayed close to normal.` : '.');
  } catch (e) {
    if (e.name !== 'AbortError') el.textContent = '';
  }
}

// Either every bucket in `points` (with severity "none" for normal ones), or, as built for issue 6, every judged
// bucket in `series` and only the anomalies in `points`.
function anomalies(box, r, metric, params) {
  const m = metricOf(metric);
  const select = h('select', { id: 'anomaly-metric', onchange: (e) => { params.set('anomalyMetric', e.target.value);
    location.hash = '#/insights?' + params.toString(); } },
  ANOMALY_METRICS.map((x) => h('option', { value: x, selected: x === metric }, metricOf(x).label)));
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
  const canvas = h('canvas', { role: 'img', 'aria-label': `${m.label}: actual and expected, anomalies marked` });
  box.append(h('div', { class: 'chart' }, canvas));
  const labels = all.map((p) => p.timestamp.slice(hourly ? 11 : 5, hourly ? 16 : 10));
  lineChart(canvas, labels, [
    { label: 'actual', data: all.map((p) => p.actual), pointRadius: all.map((p) => marked.has(p.timestamp) ? 5 : 0),
      pointColors: all.map((p) => SEVERITY_COLOR[marked.get(p.timestamp)] || '#2f5bd3') },
    { label: 'expected', data: all.map((p) => p.expected), fill: false, dash: [4, 4], color: '#8893a7' },
  ], { format: m.format });
  box.append(flagged.length ? table([
    { label: 'When', cls: 'nowrap', value: (p) => hourly ? fmt.time(p.timestamp).slice(0, 16) + ' UTC'
      : fmt.day(p.timestamp) },
    { label: 'Actual', num: true, value: (p) => m.format(p.actual) },
    { label: 'Expected', num: true, value: (p) => m.format(p.expected) },
    { label: 'Score', num: true, value: (p) => fmt.num(p.score) },
    { label: 'Direction', value: (p) => p.direction === 'up' ? '▲ up' : '▼ down' },
    { label: 'Severity', value: (p) => h('span', { class: 'badge ' + p.severity }, p.severity) },
  ], flagged) : empty('No anomaly in this period.'));
}
