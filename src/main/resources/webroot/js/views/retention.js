// Retention: cohorts by the day (or ISO week) of their first event, as a heat map.
import { api, qs } from '../api.js';
import { h, fmt, card, exportButtons, empty, SEND_HINT } from '../dom.js';
import { filtersIgnored } from '../dom.js';

export async function render(root, ctx) {
  const { period: P, signal, status, params } = ctx;
  // by default the heat map fits the chosen range: cohorts by day up to a month (by week beyond), and as many periods
  // after the first cohort as the range holds, so no column is only "not yet"
  const days = Math.max(1, Math.round(P.span / 86_400_000));
  const asked = params.get('granularity');
  const granularity = asked === 'week' || asked === 'day' ? asked : days > 31 ? 'week' : 'day';
  const fit = Math.max(1, (granularity === 'week' ? Math.ceil(days / 7) : days) - 1);
  const periods = Math.min(90, Math.max(1, Number(params.get('periods')) || fit));
  const go = (k, v) => { params.set(k, v); location.hash = '#/retention?' + params.toString(); };
  root.append(h('h1', {}, 'Retention'), filtersIgnored(ctx.filters), h('div', { class: 'row' },
    h('label', {}, 'Cohorts by', h('select', { id: 'ret-granularity', onchange: (e) => go('granularity', e.target.value) },
      h('option', { value: 'day', selected: granularity === 'day' }, 'day'),
      h('option', { value: 'week', selected: granularity === 'week' }, 'week'))),
    h('label', {}, 'Periods', h('input', { id: 'ret-periods', type: 'number', min: 1, max: 90, value: periods,
      onchange: (e) => go('periods', e.target.value) }))));
  const q = { from: P.from, to: P.to, granularity, periods };
  const r = await api('/v1/retention' + qs(q), { signal });
  const cohorts = r.cohorts;
  const head = h('span', {}, h('h2', {}, `Share of each cohort active k ${granularity}s later`), ' ',
    exportButtons('retention', q, status));
  if (!cohorts.some((c) => c.size > 0)) {
    root.append(card(head, empty('No new persons in this period, so no cohorts.', h('p', {}, SEND_HINT))));
    return;
  }
  const n = Math.max(...cohorts.map((c) => c.retention.length));
  const cells = [];
  for (let k = 0; k < n; k++) cells.push(k);
  const tbl = h('table', { class: 'heat' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Cohort'), h('th', { scope: 'col', class: 'num' }, 'Persons'),
      cells.map((k) => h('th', { scope: 'col' }, granularity[0] + k)))),
    h('tbody', {}, cohorts.map((c) => h('tr', {},
      h('th', { scope: 'row' }, c.start.slice(0, 10)), h('td', { class: 'num' }, fmt.int(c.size)),
      cells.map((k) => {
        const v = c.retention[k];
        if (v === null || v === undefined) return h('td', { class: 'na', 'aria-label': 'not yet' }, '·');
        const td = h('td', { dataset: { value: v }, title: `${fmt.pct(v)} of ${c.size}` }, c.size ? fmt.pct(v) : '–');
        td.style.background = `rgba(47, 91, 211, ${0.08 + 0.85 * v})`;
        td.style.color = v > 0.5 ? '#fff' : '';
        return td;
      })))));
  root.append(card(head, h('div', { class: 'table-wrap' }, tbl)));
}
