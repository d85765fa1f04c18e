// Overview: live events per minute (pushed), headline numbers with the change versus the previous period, charts.
import { api, qs } from '../api.js';
import { h, fmt, card, exportButtons, errorBox, empty, SEND_HINT } from '../dom.js';
import { lineChart } from '../charts.js';
import { subscribe, onLiveState } from '../live.js';

const DAY = 86_400_000;
const SERIES = ['events', 'messages', 'tokens', 'cost', 'errors', 'revenue'];

export async function render(root, ctx) {
  const { period: P, filters: F, signal, status } = ctx;
  const get = (path, params) => api(path + qs(params), { signal });
  const iso = (t) => new Date(t).toISOString().replace('.000Z', 'Z');

  // the widgets' places first, so the page is laid out before any answer arrives
  const liveCard = h('section', { class: 'card', 'aria-label': 'Live events' });
  const kpis = h('div', { class: 'grid', id: 'kpis' });
  const active = h('div', { class: 'grid', id: 'active-users' });
  const charts = h('div', { class: 'grid wide', id: 'charts' });
  const notices = h('div');
  root.append(h('h1', {}, 'Overview'), notices, h('div', { class: 'grid wide' }, liveCard), kpis, active, charts);

  const cleanupLive = liveWidget(liveCard, get, status);

  const usage = (from, to) => get('/v1/metrics/usage', { from, to, ...F });
  const seriesCall = (metric) => get('/v1/timeseries', { metric, interval: P.interval, from: P.prevFrom, to: P.to, ...F });
  const jobs = {
    cur: usage(P.from, P.to),
    prev: usage(P.prevFrom, P.from),
    dau: usage(iso(P.toMs - DAY), P.to),
    wau: usage(iso(P.toMs - 7 * DAY), P.to),
    mau: usage(iso(P.toMs - 30 * DAY), P.to),
    dauSeries: P.interval === 'day'
      ? get('/v1/timeseries', { metric: 'active_users', interval: 'day', from: P.from, to: P.to, ...F })
      : Promise.resolve(null),
  };
  for (const m of SERIES) jobs[m] = seriesCall(m);
  const names = Object.keys(jobs);
  const settled = await Promise.allSettled(Object.values(jobs));
  if (signal.aborted) return cleanupLive;
  const r = {};
  const errors = [];
  names.forEach((n, i) => {
    if (settled[i].status === 'fulfilled') r[n] = settled[i].value;
    else { r[n] = null; errors.push(settled[i].reason); }
  });
  if (errors.length) notices.append(errorBox(errors[0]));

  // series over [prevFrom, to): buckets before `from` are the previous period
  const split = (s) => {
    if (!s) return null;
    const cur = s.points.filter((p) => Date.parse(p.t) >= P.fromMs);
    const prev = s.points.filter((p) => Date.parse(p.t) < P.fromMs);
    const sum = (a) => a.reduce((x, p) => x + p.value, 0);
    return { cur, value: sum(cur), prev: sum(prev) };
  };
  const S = Object.fromEntries(SERIES.map((m) => [m, split(r[m])]));
  const cu = r.cur;
  const pu = r.prev;

  if (S.events && S.events.value === 0 && S.events.prev === 0) {
    notices.append(empty('No events in this period' + (Object.keys(F).length ? ' for these filters' : '') + '.',
      h('p', {}, SEND_HINT)));
  }

  const kpi = (metric, label, value, prev, format, { bad = false, id } = {}) => {
    const el = h('section', { class: 'card kpi', 'aria-label': label },
      h('span', { class: 'label' }, label),
      h('output', { class: 'value', dataset: { metric: id || metric, value: value ?? '' } }, format(value)),
      delta(value, prev, bad));
    kpis.append(el);
  };
  kpi('active_users', 'Active users', cu?.users.active, pu?.users.active, fmt.int);
  kpi('new_users', 'New users', cu?.users.new, pu?.users.new, fmt.int);
  kpi('sessions', 'Sessions', cu?.sessions.total, pu?.sessions.total, fmt.int);
  kpi('events', 'Events', S.events?.value, S.events?.prev, fmt.int);
  kpi('messages', 'Messages', S.messages?.value, S.messages?.prev, fmt.int);
  kpi('tokens', 'Tokens', S.tokens?.value, S.tokens?.prev, fmt.int);
  kpi('cost', 'Cost', S.cost?.value, S.cost?.prev, fmt.money, { bad: true });
  kpi('errors', 'Errors', S.errors?.value, S.errors?.prev, fmt.int, { bad: true });
  kpi('error_rate', 'Error rate', cu?.performance.errorRate, pu?.performance.errorRate, fmt.pct, { bad: true });
  kpi('response_time', 'Avg response time', cu?.performance.averageResponseTime,
    pu?.performance.averageResponseTime, fmt.ms, { bad: true });
  kpi('revenue', 'Revenue', S.revenue?.value, S.revenue?.prev, fmt.money);
  kpi('conversations', 'Conversations', cu?.conversations.total, pu?.conversations.total, fmt.int);
  kpis.append(h('p', { class: 'muted', style: { gridColumn: '1 / -1', margin: 0 } },
    'Change versus the previous period of the same length. ',
    exportButtons('usage', { from: P.from, to: P.to, ...F }, status)));

  for (const [k, label] of [['dau', 'Daily active users (today)'], ['wau', 'Weekly active users (7 days)'],
    ['mau', 'Monthly active users (30 days)']]) {
    active.append(h('section', { class: 'card kpi', 'aria-label': label }, h('span', { class: 'label' }, label),
      h('output', { class: 'value', dataset: { metric: k, value: r[k]?.users.active ?? '' } },
        fmt.int(r[k]?.users.active))));
  }

  const label = (t) => P.interval === 'hour' ? t.slice(11, 16) : t.slice(5, 10);
  const chartCard = (metric, title, points, format = (v) => v) => {
    const canvas = h('canvas', { role: 'img', 'aria-label': `${title} per ${P.interval}` });
    charts.append(card(h('span', {}, h('h2', {}, title), ' ',
      exportButtons('timeseries', { metric, interval: P.interval, from: P.from, to: P.to, ...F }, status)),
    h('div', { class: 'chart' }, canvas)));
    lineChart(canvas, points.map((p) => label(p.t)), [{ label: title, data: points.map((p) => format(p.value)) }]);
  };
  if (S.events) chartCard('events', 'Events', S.events.cur);
  if (S.messages) chartCard('messages', 'Messages', S.messages.cur);
  if (S.cost) chartCard('cost', 'Cost', S.cost.cur, (v) => Math.round(v * 100) / 100);
  if (r.dauSeries) chartCard('active_users', 'Daily active users', r.dauSeries.points);
  else if (S.errors) chartCard('errors', 'Errors', S.errors.cur);

  // the Overview's widgets are filled: the benchmark's "widgets ready" mark
  performance.mark('widgets-ready');
  return cleanupLive;
}

function delta(cur, prev, bad) {
  if (cur === null || cur === undefined || prev === null || prev === undefined) {
    return h('span', { class: 'delta' }, ' ');
  }
  if (prev === 0) {
    return h('span', { class: 'delta' }, cur === 0 ? 'no change' : 'new (nothing in the previous period)');
  }
  const d = (cur - prev) / Math.abs(prev);
  const dir = d > 0 ? 'up' : d < 0 ? 'down' : '';
  return h('span', { class: `delta ${dir} ${bad ? 'bad' : ''}`, dataset: { change: d } },
    (d > 0 ? '▲ +' : d < 0 ? '▼ ' : '') + (d * 100).toFixed(1) + ' % vs previous');
}

/** Events per minute over the last hour: Redis counters once, then the live stream's pushes. */
function liveWidget(el, get, status) {
  const minutes = new Map();
  let sinceOpen = 0;
  const dot = h('span', { class: 'live-dot', 'aria-hidden': 'true' });
  const state = h('span', { class: 'muted' }, 'connecting…');
  const thisMinute = h('output', { class: 'value', id: 'live-minute', dataset: { value: 0 } }, '0');
  const total = h('output', { class: 'value', id: 'live-total', dataset: { value: 0 } }, '0');
  const canvas = h('canvas', { role: 'img', 'aria-label': 'Events per minute, last 60 minutes' });
  el.append(h('header', {}, h('h2', {}, dot, 'Live: events per minute'), state),
    h('div', { class: 'grid' },
      h('div', { class: 'kpi' }, h('span', { class: 'label' }, 'This minute'), thisMinute),
      h('div', { class: 'kpi' }, h('span', { class: 'label' }, 'Committed since you opened this page'), total)),
    h('div', { class: 'chart small' }, canvas));
  const minuteOf = (ms) => Math.floor(ms / 60_000) * 60_000;
  let chart = null;
  const draw = () => {
    const now = minuteOf(Date.now());
    const keys = [];
    for (let m = now - 59 * 60_000; m <= now; m += 60_000) keys.push(m);
    const data = keys.map((k) => minutes.get(k) || 0);
    const cur = minutes.get(now) || 0;
    thisMinute.textContent = fmt.int(cur);
    thisMinute.dataset.value = cur;
    total.textContent = fmt.int(sinceOpen);
    total.dataset.value = sinceOpen;
    const labels = keys.map((k) => new Date(k).toISOString().slice(11, 16));
    if (!chart) {
      chart = lineChart(canvas, labels, [{ label: 'events', data }], { xTicks: 6 });
    } else {
      chart.data.labels = labels;
      chart.data.datasets[0].data = data;
      chart.update('none');
    }
  };
  get('/v1/realtime', {}).then((rt) => {
    for (const p of rt.perMinute) minutes.set(Date.parse(p.minute), (minutes.get(Date.parse(p.minute)) || 0) + p.count);
    draw();
  }).catch((e) => { if (e.name !== 'AbortError') status('Real-time counters: ' + e.message, true); });
  const unsub = subscribe(({ event, data }) => {
    if (event !== 'commit') return;
    sinceOpen += data.count;
    const m = minuteOf(data.at);
    minutes.set(m, (minutes.get(m) || 0) + data.count);
    draw();
  });
  const unstate = onLiveState((on) => {
    dot.classList.toggle('on', on);
    state.textContent = on ? 'connected' : 'reconnecting…';
  });
  const tick = setInterval(draw, 15_000); // roll the minute even when nothing arrives
  draw();
  return () => { unsub(); unstate(); clearInterval(tick); };
}
