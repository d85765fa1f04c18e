// Small DOM helpers. Text always goes in as text (user ids and event data are never parsed as HTML).
import { download } from './api.js';

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'style') Object.assign(el.style, v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const nf = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const nf1 = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
const nf2 = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
/**
 * Money is shown in US dollars: model providers bill in USD, and Tally sums costs and payment amounts as they are sent
 * (README: revenue.total), so the dashboard shows the currency they are expected in.
 */
export const CURRENCY = 'USD';
const money = new Intl.NumberFormat('en-US', { style: 'currency', currency: CURRENCY });
const moneySmall = new Intl.NumberFormat('en-US', { style: 'currency', currency: CURRENCY, maximumSignificantDigits: 2 });
// a unit stays on its number's line: a no-break space between them
const NB = '\u00a0';

export const fmt = {
  int: (v) => v === null || v === undefined ? '—' : nf.format(v),
  num: (v) => v === null || v === undefined ? '—' : Math.abs(v) < 10 ? nf2.format(v) : nf1.format(v),
  /** $1,234.56; amounts under a dollar keep two significant digits ($0.0042) instead of reading $0.00 */
  money: (v) => v === null || v === undefined ? '—' : v !== 0 && Math.abs(v) < 1 ? moneySmall.format(v) : money.format(v),
  pct: (v) => v === null || v === undefined ? '—' : nf1.format(v * 100) + NB + '%',
  ms: (v) => v === null || v === undefined ? '—' : v >= 10_000 ? nf1.format(v / 1000) + NB + 's' : nf.format(v) + NB + 'ms',
  duration: (ms) => {
    if (ms === null || ms === undefined) return '—';
    const s = Math.round(ms / 1000);
    if (s < 60) return s + NB + 's';
    const m = Math.floor(s / 60);
    if (m < 60) return m + NB + 'min ' + (s % 60) + NB + 's';
    return Math.floor(m / 60) + NB + 'h ' + (m % 60) + NB + 'min';
  },
  time: (iso) => iso ? iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '') : '—',
  /** "Fri 4 Dec" (UTC), the day of an ISO instant, as people say it */
  day: (iso) => new Date(iso).toLocaleDateString('en-GB', { weekday: 'short', day: 'numeric', month: 'short',
    timeZone: 'UTC' }),
};

/** What each metric of the analytics routes is called, and how its values read. */
export const METRIC = {
  events: { label: 'Events', format: fmt.int },
  active_users: { label: 'Active users', format: fmt.int },
  messages: { label: 'Messages', format: fmt.int },
  tokens: { label: 'Tokens', format: fmt.int },
  cost: { label: 'Cost', format: fmt.money },
  errors: { label: 'Errors', format: fmt.int },
  revenue: { label: 'Revenue', format: fmt.money },
  error_rate: { label: 'Error rate', format: fmt.pct },
  response_time: { label: 'Response time', format: fmt.ms },
};

/** An event type as words: message_sent → "message sent". */
export const words = (name) => String(name ?? '').replace(/_/g, ' ');

/** A person's id, linking to their page in the Users view. */
export function userLink(id) {
  if (id === null || id === undefined || id === '') return '—';
  return h('a', { href: '#/users?user=' + encodeURIComponent(id), class: 'user-link', dataset: { user: id } }, id);
}

/** "CSV" and "JSON" buttons exporting what a widget shows through GET /v1/export/{view}. */
export function exportButtons(view, params, status) {
  const go = (format) => async () => {
    try {
      await download(view, typeof params === 'function' ? params() : params, format);
      status(`Exported ${view} as ${format.toUpperCase()}`);
    } catch (e) {
      status(e.message, true);
    }
  };
  return h('span', { class: 'exports' },
    h('button', { type: 'button', class: 'ghost', onclick: go('csv'), 'aria-label': `Export ${view} as CSV`,
      dataset: { export: view, format: 'csv' } }, 'CSV'),
    h('button', { type: 'button', class: 'ghost', onclick: go('json'), 'aria-label': `Export ${view} as JSON`,
      dataset: { export: view, format: 'json' } }, 'JSON'));
}

export function card(title, ...body) {
  return h('section', { class: 'card', 'aria-label': typeof title === 'string' ? title : undefined },
    h('header', {}, typeof title === 'string' ? h('h2', {}, title) : title), ...body);
}

/** A table: columns [{label, num?, value: row => text|Node}]. */
export function table(columns, rows, caption) {
  return h('div', { class: 'table-wrap' }, h('table', {},
    caption ? h('caption', { class: 'muted' }, caption) : null,
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : c.cls || '' },
      c.label)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, columns.map((c) => h('td', { class: c.num ? 'num' : c.cls || '' },
      c.value(r))))))));
}

export function errorBox(err) {
  const detail = err && err.status ? ` (HTTP ${err.status}${err.body && err.body.field ? ', ' + err.body.field : ''})`
    : '';
  return h('div', { class: 'error-box', role: 'alert' }, (err && err.message ? err.message : String(err)) + detail);
}

export function empty(text, ...more) {
  return h('div', { class: 'empty' }, h('p', {}, text), ...more);
}

export function unavailable(what) {
  return h('div', { class: 'notice unavailable', dataset: { unavailable: what } },
    h('strong', {}, 'Not available yet. '),
    `This Tally has no ${what} route yet (it answered 404). The view fills in as soon as the server provides it.`);
}

export const SEND_HINT = 'Send events to POST /v1/events with a write key (see the README\'s "Try it"), or start '
  + 'Tally with --demo to stream generated chat traffic.';

/** A note for views whose routes take only the period: the bar's other filters do not apply there. */
export function filtersIgnored(filters) {
  const names = Object.keys(filters);
  return names.length ? h('p', { class: 'notice', role: 'note' }, `This view covers every event of the period: `
    + `the ${names.join(', ')} filter${names.length > 1 ? 's do' : ' does'} not apply here.`) : '';
}
