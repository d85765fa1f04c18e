// Funnels: build one from event types, see steps, conversion, time between steps and drop-off; save per project.
import { api, qs } from '../api.js';
import { h, fmt, card, table, exportButtons, errorBox, empty, words } from '../dom.js';
import { filtersIgnored } from '../dom.js';
import { barChart } from '../charts.js';

const WINDOWS = [[3600, '1 hour'], [86_400, '1 day'], [7 * 86_400, '7 days'], [30 * 86_400, '30 days']];
const DEFAULT_STEPS = ['page_view', 'conversation_created', 'message_sent', 'conversation_completed'];
let catalog = null;

export async function render(root, ctx) {
  const { period: P, signal, status, params } = ctx;
  if (!catalog) {
    catalog = api('/v1/event-types').then((c) => (c.types || c.eventTypes || []).map((t) => t.name || t)
      .filter(Boolean).sort()).catch(() => []);
  }
  // without steps in the URL, the funnel the insights watch (the project's insight settings) runs at once
  const chosen = params.get('steps');
  const [names, watched] = await Promise.all([catalog, chosen ? null : api('/v1/insights/settings', { signal })
    .catch(() => ({}))]);
  if (signal.aborted) return;
  const steps = chosen ? chosen.split(',').filter(Boolean) : (watched.funnelSteps || DEFAULT_STEPS);
  const windowSeconds = Number(params.get('window')) || (chosen ? 7 * 86_400
    : Number(watched.funnelWindowSeconds) || 86_400);

  const list = h('ol', { class: 'steps', id: 'funnel-steps' });
  const datalist = h('datalist', { id: 'dl-events' }, names.map((n) => h('option', { value: n })));
  const addStep = (value = '') => {
    const i = list.children.length + 1;
    const input = h('input', { value, list: 'dl-events', required: true, class: 'step-event', autocomplete: 'off',
      'aria-label': `Step ${i} event type` });
    const li = h('li', {}, input, ' ', h('button', { type: 'button', class: 'ghost', 'aria-label': `Remove step ${i}`,
      onclick: () => { if (list.children.length > 2) li.remove(); else status('A funnel has at least 2 steps', true); } },
    'Remove'));
    list.append(li);
    return input;
  };
  steps.forEach((s) => addStep(s));
  while (list.children.length < 2) addStep();
  const windows = WINDOWS.some(([w]) => w === windowSeconds) ? WINDOWS
    : [...WINDOWS, [windowSeconds, fmt.duration(windowSeconds * 1000)]].sort((a, b) => a[0] - b[0]);
  const win = h('select', { id: 'funnel-window' }, windows.map(([w, l]) => h('option', { value: w,
    selected: w === windowSeconds }, l)));
  const saved = h('select', { id: 'funnel-saved', 'aria-label': 'Saved funnels' }, h('option', { value: '' }, '—'));
  const current = () => ({ steps: [...list.querySelectorAll('input')].map((i) => i.value.trim()).filter(Boolean),
    windowSeconds: Number(win.value) });
  const run = (e) => {
    if (e) e.preventDefault();
    const f = current();
    if (f.steps.length < 2) { status('A funnel needs at least 2 steps', true); return; }
    params.set('steps', f.steps.join(','));
    params.set('window', f.windowSeconds);
    location.hash = '#/funnels?' + params.toString();
  };
  const form = h('form', { onsubmit: run, 'aria-label': 'Funnel definition' }, datalist,
    h('p', { class: 'muted' }, 'Each step is an event type; a person moves on when the next step follows within '
      + 'the window after their first step.'),
    list,
    h('div', { class: 'row' },
      h('button', { type: 'button', class: 'ghost', id: 'funnel-add', onclick: () => {
        if (list.children.length >= 10) { status('At most 10 steps', true); return; }
        addStep().focus();
      } }, 'Add step'),
      h('label', {}, 'Window', win),
      h('button', { type: 'submit', id: 'funnel-run' }, 'Show funnel'),
      h('label', {}, 'Saved funnels', saved),
      h('button', { type: 'button', class: 'ghost', id: 'funnel-save', onclick: async () => {
        const f = current();
        const name = (prompt('Name of this funnel (saved for the project):', saved.value || '') || '').trim();
        if (!name) return;
        try {
          await api('/v1/saved-funnels/' + encodeURIComponent(name), { method: 'PUT',
            body: { steps: f.steps.map((s) => ({ event: s })), windowSeconds: f.windowSeconds } });
          status(`Funnel “${name}” saved`);
          await loadSaved(name);
        } catch (err) { status('Saving failed: ' + err.message, true); }
      } }, 'Save…'),
      h('button', { type: 'button', class: 'ghost', id: 'funnel-delete', onclick: async () => {
        if (!saved.value || !confirm(`Delete the saved funnel “${saved.value}”?`)) return;
        try {
          await api('/v1/saved-funnels/' + encodeURIComponent(saved.value), { method: 'DELETE' });
          status('Funnel deleted');
          await loadSaved('');
        } catch (err) { status('Deleting failed: ' + err.message, true); }
      } }, 'Delete')));
  let savedItems = [];
  const loadSaved = async (select) => {
    try { savedItems = (await api('/v1/saved-funnels', { signal })).items; } catch { savedItems = []; }
    saved.replaceChildren(h('option', { value: '' }, '—'), ...savedItems.map((f) => h('option', { value: f.name,
      selected: f.name === select }, f.name)));
  };
  saved.addEventListener('change', () => {
    const f = savedItems.find((x) => x.name === saved.value);
    if (!f) return;
    params.set('steps', f.steps.map((s) => s.event).join(','));
    params.set('window', f.windowSeconds);
    params.set('funnel', f.name);
    location.hash = '#/funnels?' + params.toString();
  });
  const results = h('div', { id: 'funnel-results' });
  root.append(h('h1', {}, 'Funnels'), filtersIgnored(ctx.filters), card('Definition', form), results);
  loadSaved(params.get('funnel') || '');

  if (!chosen) {
    results.append(h('p', { class: 'muted', id: 'funnel-default' }, 'The funnel the insights watch (change it with '
      + 'the steps above, or for the insights in their settings: PUT /v1/insights/settings).'));
  }
  const body = { name: params.get('funnel') || 'funnel', steps: steps.map((s) => ({ event: s })), windowSeconds,
    from: P.from, to: P.to };
  let r;
  try {
    r = await api('/v1/funnels', { method: 'POST', body, signal });
  } catch (err) {
    if (err.name !== 'AbortError') results.append(errorBox(err));
    return;
  }
  const exp = { steps: steps.join(','), windowSeconds, from: P.from, to: P.to };
  const head = h('span', {}, h('h2', {}, 'Steps'), ' ', exportButtons('funnel', exp, status));
  if (!r.users) {
    results.append(card(head, empty(`Nobody did “${steps[0]}” in this period, so the funnel is empty.`)));
    return;
  }
  const canvas = h('canvas', { role: 'img', 'aria-label': 'Persons reaching each step' });
  // the median beside the mean: a few people who come back days later pull the mean far from the typical time
  const time = (median, mean, id) => h('span', { class: 'nowrap', dataset: { median, mean }, id },
    h('strong', {}, fmt.duration(median)), ` median · ${fmt.duration(mean)} mean`);
  results.append(h('p', {}, `Overall conversion `, h('strong', { id: 'funnel-conversion',
    dataset: { value: r.conversionRate } }, fmt.pct(r.conversionRate)), ' · time to complete ',
  time(r.medianTime, r.averageTime, 'funnel-time')),
  card(head, h('div', { class: 'chart' }, canvas), table([
    { label: '#', value: (s) => s.order },
    { label: 'Event', value: (s) => s.event },
    { label: 'Persons', num: true, value: (s) => h('span', { class: 'step-users', dataset: { value: s.users } },
      fmt.int(s.users)) },
    { label: 'Of step 1', num: true, value: (s) => fmt.pct(s.conversionRate) },
    { label: 'Of previous', num: true, value: (s) => fmt.pct(s.conversionFromPrevious) },
    { label: 'Time from previous step: median', num: true, value: (s) => s.order === 1 ? '—'
      : h('span', { class: 'step-median', dataset: { value: s.medianTime } }, fmt.duration(s.medianTime)) },
    { label: 'mean', num: true, value: (s) => s.order === 1 ? '—'
      : h('span', { class: 'step-mean', dataset: { value: s.averageTime } }, fmt.duration(s.averageTime)) },
  ], r.steps)));
  barChart(canvas, r.steps.map((s) => `${s.order}. ${words(s.event)}`), r.steps.map((s) => s.users),
    { label: 'persons' });
  const stepName = Object.fromEntries(r.steps.map((s) => [s.id, s.event]));
  results.append(card('Drop-off', table([
    { label: 'Did not reach', value: (d) => stepName[d.stepId] || d.stepId },
    { label: 'Persons', num: true, value: (d) => fmt.int(d.users) },
    { label: 'Of previous step', num: true, value: (d) => fmt.pct(d.percentage / 100) },
    { label: 'What they did instead (top 3)', value: (d) => (d.reasons || []).map((x) => typeof x === 'string' ? x
      : `${x.event || x.type || x.name} (${x.count})`).join(', ') || '—' },
  ], r.dropOffPoints || [])));
}
