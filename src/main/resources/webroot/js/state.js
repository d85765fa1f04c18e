// The URL carries the view and its state (#/view?range=7d&provider=openai), so any view can be shared or bookmarked.
export const VIEWS = ['overview', 'usage', 'users', 'funnels', 'retention', 'insights', 'live'];
export const FILTERS = ['provider', 'model', 'country', 'device'];
const DAY = 86_400_000;
const HOUR = 3_600_000;

export function readHash() {
  const h = location.hash.replace(/^#\/?/, '');
  const [view, query = ''] = h.split('?');
  return { view: VIEWS.includes(view) ? view : 'overview', params: new URLSearchParams(query) };
}

export function writeHash(view, params, replace = false) {
  const q = params.toString();
  const url = '#/' + view + (q ? '?' + q : '');
  if (replace) history.replaceState(null, '', url); else location.hash = url;
}

/** The filters of the URL as query parameters of the analytics routes. */
export function filters(params) {
  const f = {};
  for (const k of FILTERS) if (params.get(k)) f[k] = params.get(k);
  return f;
}

const dayStart = (t) => Math.floor(t / DAY) * DAY;

/**
 * The period of the URL, aligned to whole UTC hours (24h) or days, so the analytics routes read their rollups:
 * {from, to, prevFrom, interval, label} with [prevFrom, from) the previous period of the same length.
 */
export function period(params, now = Date.now()) {
  let range = params.get('range') || '7d';
  let from;
  let to;
  if (range === 'custom' && params.get('from') && params.get('to')) {
    from = Date.parse(params.get('from') + 'T00:00:00Z');
    to = Date.parse(params.get('to') + 'T00:00:00Z') + DAY; // the "to" date is inclusive
    if (!(to > from)) { range = '7d'; }
  } else if (range === 'custom') {
    range = '7d';
  }
  if (range === '24h') {
    to = Math.floor(now / HOUR) * HOUR + HOUR;
    from = to - DAY;
  } else if (range !== 'custom') {
    const days = { '7d': 7, '30d': 30, '90d': 90 }[range] || 7;
    to = dayStart(now) + DAY;
    from = to - days * DAY;
  }
  const span = to - from;
  const interval = span <= 2 * DAY ? 'hour' : 'day';
  const iso = (t) => new Date(t).toISOString().replace('.000Z', 'Z');
  const labels = { '24h': 'Last 24 hours', '7d': 'Last 7 days', '30d': 'Last 30 days', '90d': 'Last 90 days' };
  const fmt = (t) => new Date(t).toISOString().slice(0, interval === 'hour' ? 16 : 10).replace('T', ' ');
  const label = (labels[range] || 'Custom') + ': ' + fmt(from) + ' – ' + fmt(interval === 'hour' ? to : to - DAY)
    + ' UTC';
  return { range, from: iso(from), to: iso(to), prevFrom: iso(from - span), fromMs: from, toMs: to, span, interval,
    label };
}
