// Overview: live events per minute (pushed), headline numbers with the change versus the previous period, charts.
import { api, qs } from '../api.js';
import { h, fmt, card, exportButtons, errorBox, empty, SEND_HINT } from '../dom.js';
import { lineChart, chartsAfter, chartsDrawn } from '../charts.js';
import { subscribe, onLiveState } from '../live.js';

const DAY = 86_400_000;
const SERIES = ['events', 'messages', 'tokens', 'cost', 'errors', 'revenue'];

export async function render(root, ctx) {
  const { period: P, filters: F, signal, status } = ctx;
  const get = (path, params) => api(path + qs(params), { signal });
  const iso = (t) => new Date(t).toISOString().replace('.000Z', 'Z');

  // the widgets' places first, so the page is laid out before any answer arrives: index.html's Overview shell (the
  // boot script may have put it here already, with the first number drawn)
  if (!root.querySelector('#kpis')) root.append(document.getElementById('overview-shell').content.cloneNode(true));
  const part = (name) => root.querySelector(`[data-part=${name}]`);
  const liveCard = part('live');
  const kpis = root.querySelector('#kpis');
  const charts = root.querySelector('#charts');
  const notices = part('notices');

  const usage = (from, to) => get('/v1/metrics/usage', { from, to, ...F });
  const seriesCall = (metric) => get('/v1/timeseries', { metric, interval: P.interval, from: P.prevFrom, to: P.to, ...F });

  // every widget is in place at once (skeletons), then each fills as its answer arrives
  const fills = [];
  const failed = (e) => {
    if (e.name === 'AbortError') return;
    if (!notices.querySelector('.error-box')) notices.append(errorBox(e));
  };
  let firstDrawn;
  const drawn = new Promise((resolve) => { firstDrawn = resolve; });
  let firstFill = true;
  // index.html's boot script may draw the events number in this view first (it sets the mark then); a number it drew
  // from another query than this view's (the period moved on while the page loaded) is taken down
  const eventsUrl = '/v1/timeseries' + qs({ metric: 'events', interval: P.interval, from: P.prevFrom, to: P.to, ...F });
  const stale = root.querySelector('output[data-metric=events][data-boot]');
  if (stale && stale.dataset.boot !== eventsUrl) {
    delete stale.dataset.boot;
    stale.dataset.value = '';
    stale.textContent = '…';
  }
  const bootDrew = () => root.querySelector('output[data-metric=events][data-boot]') !== null;
  const filled = () => {
    if (!firstFill) return;
    firstFill = false;
    if (!bootDrew()) performance.mark('first-meaningful-render');
    firstDrawn();
  };
  if (bootDrew()) filled();
  const kpiCards = {};
  const kpi = (metric, format, bad = false) => {
    const out = kpis.querySelector(`output[data-metric=${metric}]`);
    kpiCards[metric] = { out, d: out.nextElementSibling, format, bad };
  };
  const fill = (metric, value, prev) => {
    const k = kpiCards[metric];
    k.out.dataset.value = value ?? '';
    k.out.textContent = k.format(value);
    k.d.replaceWith(k.d = delta(value, prev, k.bad));
  };
  for (const m of ['active_users', 'new_users', 'sessions', 'events', 'messages', 'tokens', 'errors', 'conversations']) {
    kpi(m, fmt.int, m === 'errors');
  }
  kpi('cost', fmt.money, true);
  kpi('error_rate', fmt.pct, true);
  kpi('response_time', fmt.ms, true);
  kpi('revenue', fmt.money);
  kpis.append(h('p', { class: 'muted', style: { gridColumn: '1 / -1', margin: 0 } },
    'Change versus the previous period of the same length. ',
    exportButtons('usage', { from: P.from, to: P.to, ...F }, status)));

  // requests in the order the page needs them (the browser runs six at a time): the series first, as they come
  // from the rollups in a few ms and fill most headline numbers, then the heavier usage figures
  const seriesAnswers = Object.fromEntries(SERIES.map((m) => [m, seriesCall(m)]));
  const USAGE_KPIS = [['active_users', (u) => u.users.active], ['new_users', (u) => u.users.new],
    ['sessions', (u) => u.sessions.total], ['error_rate', (u) => u.performance.errorRate],
    ['response_time', (u) => u.performance.averageResponseTime], ['conversations', (u) => u.conversations.total]];
  const curUsage = usage(P.from, P.to);
  const prevUsage = usage(P.prevFrom, P.from);
  fills.push(curUsage.then((cu) => {
    for (const [m, v] of USAGE_KPIS) fill(m, v(cu), undefined);
    filled();
  }, failed));
  fills.push(Promise.all([curUsage, prevUsage]).then(([cu, pu]) => {
    for (const [m, v] of USAGE_KPIS) fill(m, v(cu), v(pu));
  }, failed));

  for (const [k, days] of [['dau', 1], ['wau', 7], ['mau', 30]]) {
    const out = root.querySelector(`#active-users output[data-metric=${k}]`);
    fills.push(usage(iso(P.toMs - days * DAY), P.to).then((u) => {
      out.dataset.value = u.users.active;
      out.textContent = fmt.int(u.users.active);
      filled();
    }, failed));
  }

  const label = (t) => P.interval === 'hour' ? t.slice(11, 16) : t.slice(5, 10);
  const chartCard = (metric, title) => {
    const canvas = h('canvas', { role: 'img', 'aria-label': `${title} per ${P.interval}` });
    charts.append(card(h('span', {}, h('h2', {}, title), ' ',
      exportButtons('timeseries', { metric, interval: P.interval, from: P.from, to: P.to, ...F }, status)),
    h('div', { class: 'chart' }, canvas)));
    return (points, round = (v) => v) => lineChart(canvas, points.map((p) => label(p.t)),
      [{ label: title, data: points.map((p) => round(p.value)) }], { format: metric === 'cost' ? fmt.money : fmt.int });
  };
  const charted = {
    events: chartCard('events', 'Events'),
    messages: chartCard('messages', 'Messages'),
    cost: chartCard('cost', 'Cost'),
  };
  if (P.interval === 'day') {
    const draw = chartCard('active_users', 'Daily active users');
    fills.push(get('/v1/timeseries', { metric: 'active_users', interval: 'day', from: P.from, to: P.to, ...F })
      .then((s) => { draw(s.points); filled(); }, failed));
  } else {
    charted.errors = chartCard('errors', 'Errors');
  }

  // series over [prevFrom, to): buckets before `from` are the previous period. When the project's time zone cuts
  // days elsewhere than the period's UTC edges, one bucket straddles `from`: then the previous period is asked on
  // its own and the current one is the whole minus it (exact either way).
  const totals = {};
  const sum = (a) => a.reduce((x, p) => x + p.value, 0);
  for (const m of SERIES) {
    fills.push(seriesAnswers[m].then(async (s) => {
      const cur = s.points.filter((p) => Date.parse(p.t) >= P.fromMs);
      let curSum = sum(cur);
      let prev = sum(s.points.filter((p) => Date.parse(p.t) < P.fromMs));
      if (!s.points.some((p) => Date.parse(p.t) === P.fromMs)) {
        const before = await get('/v1/timeseries', { metric: m, interval: P.interval, from: P.prevFrom, to: P.from,
          ...F });
        prev = sum(before.points);
        curSum = sum(s.points) - prev;
      }
      totals[m] = { cur: curSum, prev };
      fill(m, curSum, prev);
      filled();
      if (charted[m]) charted[m](cur, m === 'cost' ? (v) => Math.round(v * 100) / 100 : undefined);
    }).catch(failed));
  }
  // the charts' code runs after the first number is drawn (or every answer failed)
  chartsAfter(Promise.race([drawn, Promise.allSettled(fills)]));
  // the live widget's one-off snapshot is asked last: the headline queries go first
  const cleanupLive = liveWidget(liveCard, get, status);
  await Promise.all(fills);
  await chartsDrawn(); // the charts asked before Chart.js ran are drawn as it loads
  if (signal.aborted) return cleanupLive;
  if (totals.events && totals.events.cur === 0 && totals.events.prev === 0) {
    notices.append(empty('No events in this period' + (Object.keys(F).length ? ' for these filters' : '') + '.',
      h('p', {}, SEND_HINT)));
  }
  // the Overview's widgets are filled: the benchmark's "widgets ready" mark
  performance.mark('widgets-ready');
  return cleanupLive;
}

function delta(cur, prev, bad) {
  if (cur === null || cur === undefined || prev === null || prev === undefined) {
    return h('span', { class: 'delta' }, ' ');
  }
  if (prev === 0) {
    return h('span', { class: 'delta' }, cur === 0 ? 'no change' : 'new (none in the previous period)');
  }
  const d = (cur - prev) / Math.abs(prev);
  const dir = d > 0 ? 'up' : d < 0 ? 'down' : '';
  // no-break spaces: the change and its % stay together on narrow cards
  return h('span', { class: `delta ${dir} ${bad ? 'bad' : ''}`, dataset: { change: d } },
    (d > 0 ? '▲\u00a0+' : d < 0 ? '▼\u00a0' : '') + (d * 100).toFixed(1) + '\u00a0% vs previous');
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
