// The dashboard shell: sign-in, the view router (state in the URL), the filter bar and saved segments.
import { api, auth, qs, whenUnauthorized, dropPrefetched } from './api.js';
import { readHash, writeHash, period, filters, VIEWS, FILTERS } from './state.js';
import { destroyCharts } from './charts.js';
import { close as closeLive } from './live.js';
import { h, errorBox } from './dom.js';

const loaders = {
  overview: () => import('./views/overview.js'),
  usage: () => import('./views/usage.js'),
  users: () => import('./views/users.js'),
  funnels: () => import('./views/funnels.js'),
  retention: () => import('./views/retention.js'),
  insights: () => import('./views/insights.js'),
  live: () => import('./views/live.js'),
};
// the Overview is the landing view: start fetching its code at once
const overviewModule = loaders.overview();

const $ = (id) => document.getElementById(id);
let current = null; // {abort, cleanup}
let segments = [];

function status(text, isError = false) {
  const s = $('status');
  s.textContent = text;
  s.classList.toggle('error', isError);
  clearTimeout(status.timer);
  status.timer = setTimeout(() => { s.textContent = ''; }, 6000);
}

// ---- sign-in -------------------------------------------------------------------------------------------------
function showSignIn(message) {
  closeLive();
  teardown();
  for (const id of ['nav', 'filters', 'sign-out', 'print']) $(id).hidden = true;
  $('view').replaceChildren();
  $('period-label').textContent = '';
  $('signin').hidden = false;
  $('signin-error').textContent = message || '';
  $('key').focus();
}

async function signIn(key) {
  try {
    await api('/v1/event-types', { key });
  } catch (e) {
    if (e.status === 401) return 'This key is not known to this Tally. Use a read key of your project '
      + '(printed at start; set in config/tally.json).';
    if (e.status === 403) return 'This is a write key: it can send events but not read them. Sign in with a read key.';
    return 'Sign-in failed: ' + e.message;
  }
  auth.set(key);
  return null;
}

$('signin-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const key = $('key').value.trim();
  $('signin-error').textContent = 'Checking…';
  const err = await signIn(key);
  if (err) {
    $('signin-error').textContent = err;
    $('key').select();
    return;
  }
  $('key').value = '';
  start();
});

$('sign-out').addEventListener('click', () => {
  auth.clear();
  showSignIn('Signed out.');
});

whenUnauthorized(() => {
  auth.clear();
  showSignIn('Your key was refused (it may have been removed from the configuration). Sign in again.');
});

// ---- filters and segments ------------------------------------------------------------------------------------
function fillFilterForm(params) {
  const f = $('filters');
  f.range.value = params.get('range') || '7d';
  f.from.value = params.get('from') || '';
  f.to.value = params.get('to') || '';
  for (const k of FILTERS) f[k].value = params.get(k) || '';
  f.classList.toggle('is-custom', f.range.value === 'custom');
  const seg = params.get('segment') || '';
  $('f-segment').value = segments.some((s) => s.name === seg) ? seg : '';
  $('seg-delete').disabled = !$('f-segment').value;
}

function filterFormParams() {
  const f = $('filters');
  const p = {};
  p.range = f.range.value;
  if (p.range === 'custom') {
    if (!f.from.value || !f.to.value) return { error: 'Choose both dates of the custom period.' };
    if (f.to.value < f.from.value) return { error: 'The period must end on or after its start.' };
    p.from = f.from.value;
    p.to = f.to.value;
  }
  for (const k of FILTERS) if (f[k].value.trim()) p[k] = f[k].value.trim();
  return p;
}

function applyFilters(p, segment) {
  const { view, params } = readHash();
  for (const k of ['range', 'from', 'to', 'segment', ...FILTERS]) params.delete(k);
  for (const [k, v] of Object.entries(p)) params.set(k, v);
  if (segment) params.set('segment', segment);
  writeHash(view, params);
}

$('f-range').addEventListener('change', () => {
  $('filters').classList.toggle('is-custom', $('f-range').value === 'custom');
});

$('filters').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const p = filterFormParams();
  if (p.error) { status(p.error, true); return; }
  applyFilters(p, null);
});

async function loadSegments() {
  try {
    segments = (await api('/v1/segments')).items;
  } catch (e) {
    segments = [];
    status('Segments could not be loaded: ' + e.message, true);
  }
  const sel = $('f-segment');
  sel.replaceChildren(h('option', { value: '' }, '—'), ...segments.map((s) => h('option', { value: s.name }, s.name)));
  fillFilterForm(readHash().params);
}

$('f-segment').addEventListener('change', () => {
  const name = $('f-segment').value;
  const s = segments.find((x) => x.name === name);
  if (!s) { $('seg-delete').disabled = true; return; }
  applyFilters(s.filters, s.name);
});

$('seg-save').addEventListener('click', async () => {
  const p = filterFormParams();
  if (p.error) { status(p.error, true); return; }
  const name = (prompt('Name of the segment (a saved set of filters for this project):',
    $('f-segment').value || '') || '').trim();
  if (!name) return;
  try {
    await api('/v1/segments/' + encodeURIComponent(name), { method: 'PUT', body: { filters: p } });
    await loadSegments();
    applyFilters(p, name);
    status(`Segment “${name}” saved`);
  } catch (e) {
    status('Saving the segment failed: ' + e.message, true);
  }
});

$('seg-delete').addEventListener('click', async () => {
  const name = $('f-segment').value;
  if (!name || !confirm(`Delete the segment “${name}”?`)) return;
  try {
    await api('/v1/segments/' + encodeURIComponent(name), { method: 'DELETE' });
    await loadSegments();
    const { view, params } = readHash();
    params.delete('segment');
    writeHash(view, params);
    status(`Segment “${name}” deleted`);
  } catch (e) {
    status('Deleting the segment failed: ' + e.message, true);
  }
});

async function loadSuggestions() {
  // values seen in the last 30 days, for the filter inputs' suggestions (one breakdown each)
  for (const [dim, id] of [['provider', 'dl-provider'], ['model', 'dl-model'], ['country', 'dl-country']]) {
    api('/v1/breakdown' + qs({ dimension: dim, metric: 'events', limit: 50 }))
      .then((r) => $(id).replaceChildren(...r.rows.filter((x) => x.key).map((x) => h('option', { value: x.key }))))
      .catch(() => {});
  }
}

// ---- router --------------------------------------------------------------------------------------------------
function teardown() {
  if (current) {
    current.abort.abort();
    if (current.cleanup) current.cleanup();
  }
  current = null;
  destroyCharts();
}

async function route() {
  if (!auth.key) { showSignIn(); return; }
  const { view, params } = readHash();
  teardown();
  const abort = new AbortController();
  current = { abort };
  fillFilterForm(params);
  const p = period(params);
  $('period-label').textContent = p.label + describeFilters(params);
  document.title = `Tally · ${view[0].toUpperCase() + view.slice(1)}`;
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.dataset.view === view) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  // the Overview that index.html's boot script drew (its first number shown) is kept, not drawn again
  const boot = $('view').querySelector(':scope > .view[data-boot]');
  const booted = !!boot && boot.dataset.view === view;
  if (boot) delete boot.dataset.boot;
  const root = booted ? boot : h('div', { class: 'view', dataset: { view } });
  if (!booted) $('view').replaceChildren(root);
  document.body.dataset.ready = '';
  try {
    const mod = await (view === 'overview' ? overviewModule : loaders[view]());
    if (abort.signal.aborted) return;
    const ctx = { params, period: p, filters: filters(params), signal: abort.signal, status,
      setParam: (k, v) => { const q = readHash(); if (v) q.params.set(k, v); else q.params.delete(k);
        writeHash(q.view, q.params, true); } };
    current.cleanup = await mod.render(root, ctx);
  } catch (e) {
    if (e.name === 'AbortError' || abort.signal.aborted) return;
    root.append(errorBox(e));
  }
  if (!abort.signal.aborted) {
    document.body.dataset.ready = view;
  }
}

function describeFilters(params) {
  const parts = FILTERS.filter((k) => params.get(k)).map((k) => `${k} = ${params.get(k)}`);
  const seg = params.get('segment');
  return (seg ? ` · segment “${seg}”` : '') + (parts.length ? ' · ' + parts.join(', ') : '');
}

// keyboard: 1–7 switch views (not while typing)
document.addEventListener('keydown', (ev) => {
  if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
  const t = ev.target;
  if (t instanceof HTMLInputElement || t instanceof HTMLSelectElement || t instanceof HTMLTextAreaElement) return;
  const n = Number(ev.key);
  if (n >= 1 && n <= VIEWS.length && $('nav').hidden === false) {
    const { params } = readHash();
    writeHash(VIEWS[n - 1], params);
  }
});

$('print').addEventListener('click', () => window.print());

function start() {
  $('signin').hidden = true;
  for (const id of ['nav', 'filters', 'sign-out', 'print']) $(id).hidden = false;
  window.addEventListener('hashchange', route);
  route().then(() => { dropPrefetched(); setTimeout(loadSuggestions, 500); });
  loadSegments();
}

// index.html's boot script may be about to draw the first number: the page is built after it (at most 300 ms later)
Promise.resolve(window.tallyPrefetch && window.tallyPrefetch.firstDrawn).then(() => {
  if (auth.key) start(); else showSignIn();
});
