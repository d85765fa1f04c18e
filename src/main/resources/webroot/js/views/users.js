// Users: the period's people (most active, most recent, found by the start of their id), then one person's
// UserAnalytics, their sessions and recent events.
import { api, qs } from '../api.js';
import { h, fmt, card, table, exportButtons, errorBox, empty, userLink, SEND_HINT } from '../dom.js';
import { filtersIgnored } from '../dom.js';

const LIST_SIZE = 15;

export async function render(root, ctx) {
  const { period: P, signal, status, params } = ctx;
  const user = params.get('user') || '';
  const input = h('input', { id: 'user-id', name: 'user', value: user || params.get('q') || '',
    placeholder: 'an id, or how it starts', autocomplete: 'off', type: 'search' });
  const form = h('form', { class: 'row', role: 'search', onsubmit: (e) => {
    e.preventDefault();
    const v = input.value.trim();
    params.delete('user');
    if (v) params.set('q', v); else params.delete('q');
    // an exact id opens that person; anything else lists the people whose id starts with it
    if (v && lists && lists.ids.has(v)) params.set('user', v);
    location.hash = '#/users?' + params.toString();
  } }, h('label', {}, 'Find a person', input), h('button', { type: 'submit', id: 'user-find' }, 'Find'));
  root.append(h('h1', {}, user ? h('span', {}, h('a', { href: '#/users?' + without(params, 'user'), id: 'all-people' },
    'Users'), ' › ', h('span', { class: 'nowrap' }, user)) : 'Users'), filtersIgnored(ctx.filters), form);
  let lists = null;
  if (!user) {
    const box = h('div', { id: 'people' });
    root.append(box);
    let asked = 0;
    const load = async (prefix) => {
      const mine = ++asked;
      const next = h('div');
      const found = await people(next, P, prefix, signal, status);
      if (mine !== asked || signal.aborted) return; // a later search is under way, or the view is gone
      lists = found;
      box.replaceChildren(...next.childNodes);
      box.dataset.prefix = prefix;
    };
    // typing narrows the lists as you go (the URL keeps the search, without a new history entry)
    let timer;
    input.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        const v = input.value.trim();
        ctx.setParam('q', v);
        load(v);
      }, 250);
    });
    await load(params.get('q') || '');
    return;
  }
  const q = { from: P.from, to: P.to };
  const enc = encodeURIComponent(user);
  const [a, s, e] = await Promise.allSettled([
    api(`/v1/users/${enc}/analytics` + qs(q), { signal }),
    api(`/v1/users/${enc}/sessions` + qs(q), { signal }),
    api(`/v1/users/${enc}/events` + qs({ ...q, limit: 50 }), { signal }),
  ]);
  if (signal.aborted) return;
  if (a.status === 'rejected') {
    root.append(a.reason.status === 404 ? empty(`No events were ever stored for “${user}”.`) : errorBox(a.reason));
    return;
  }
  const u = a.value;
  const x = { ...q, userId: user };
  const stat = (label, value, key) => h('section', { class: 'card kpi', 'aria-label': label },
    h('span', { class: 'label' }, label), h('output', { class: 'value', dataset: { metric: key } }, value));
  root.append(h('h2', {}, 'Activity ', exportButtons('user', x, status)),
    h('div', { class: 'grid', id: 'user-stats' },
      stat('Sessions', fmt.int(u.activity.totalSessions), 'totalSessions'),
      stat('Avg session', fmt.duration(u.activity.averageSessionDuration), 'averageSessionDuration'),
      stat('Days active', fmt.int(u.activity.daysActive), 'daysActive'),
      stat('Last active', h('span', { class: 'small' }, fmt.time(u.activity.lastActiveAt)), 'lastActiveAt'),
      stat('Messages sent', fmt.int(u.usage.messagesSent), 'messagesSent'),
      stat('Messages received', fmt.int(u.usage.messagesReceived), 'messagesReceived'),
      stat('Tokens', fmt.int(u.usage.tokensUsed), 'tokensUsed'),
      stat('Cost', fmt.money(u.usage.costIncurred), 'costIncurred'),
      stat('Avg response time', fmt.ms(u.behavior.averageResponseTime), 'averageResponseTime'),
      stat('Error rate', fmt.pct(u.behavior.errorRate), 'errorRate')));
  const features = Object.entries(u.behavior.featureUsage || {}).sort((p, q2) => q2[1] - p[1]);
  root.append(h('div', { class: 'grid wide' },
    card('Behaviour', table([{ label: 'What', value: (r) => r[0] }, { label: 'Value', value: (r) => r[1] }], [
      ['Providers used', u.usage.providersUsed.join(', ') || '—'],
      ['Models used', u.usage.modelsUsed.join(', ') || '—'],
      ['Preferred provider / model', `${u.behavior.preferredProvider ?? '—'} / ${u.behavior.preferredModel ?? '—'}`],
      ['Peak hours (UTC)', u.behavior.peakHours.map((hr) => hr + ':00').join(', ') || '—'],
      ['Conversations created', fmt.int(u.usage.conversationsCreated)],
      ['Retention (days active ÷ days)', fmt.pct(u.activity.retentionRate)],
      ['Shares / exports / feedback', `${u.engagement.sharesCreated} / ${u.engagement.exportsGenerated} / `
        + `${u.engagement.feedbackGiven}`],
    ])),
    card('Feature usage', table([{ label: 'Feature', value: (r) => r[0] }, { label: 'Uses', num: true,
      value: (r) => fmt.int(r[1]) }], features))));

  const sessCard = card(h('span', {}, h('h2', {}, 'Sessions'), ' ', exportButtons('sessions', x, status)));
  if (s.status === 'rejected') sessCard.append(errorBox(s.reason));
  else if (!s.value.sessions.length) sessCard.append(empty('No session started in this period.'));
  else {
    sessCard.append(table([
      { label: 'Started', cls: 'nowrap', value: (r) => fmt.time(r.startTime) },
      { label: 'Duration', num: true, value: (r) => fmt.duration(r.duration) },
      { label: 'Events', num: true, value: (r) => fmt.int(r.eventCount) },
      { label: 'Device', value: (r) => [r.device.type, r.device.os].filter(Boolean).join(' · ') || '—' },
      { label: 'Browser', value: (r) => [r.browser.name, r.browser.version].filter(Boolean).join(' ') || '—' },
      { label: 'Location', value: (r) => [r.location.city, r.location.country].filter(Boolean).join(', ') || '—' },
      { label: 'Entry → exit', value: (r) => `${r.entryPage ?? '—'} → ${r.exitPage ?? '—'}` },
    ], s.value.sessions));
    sessCard.querySelector('table').id = 'user-sessions';
  }
  const evCard = card(h('span', {}, h('h2', {}, 'Recent events'), ' ', exportButtons('events', { ...x, limit: 50 }, status)));
  if (e.status === 'rejected') evCard.append(errorBox(e.reason));
  else if (!e.value.events.length) evCard.append(empty('No events in this period.'));
  else {
    evCard.append(table([
      { label: 'Time', cls: 'nowrap', value: (r) => fmt.time(r.timestamp) },
      { label: 'Type', value: (r) => r.type },
      { label: 'Provider / model', value: (r) => [r.properties?.provider, r.properties?.model].filter(Boolean).join(' / ') || '—' },
      { label: 'Tokens', num: true, value: (r) => typeof r.properties?.tokens === 'number' ? fmt.int(r.properties.tokens) : '' },
      { label: 'Device', value: (r) => r.device || '—' },
      { label: 'Browser', value: (r) => r.browser || '—' },
      { label: 'Country', value: (r) => r.country || '—' },
      { label: 'Page', value: (r) => r.page?.path || '' },
    ], e.value.events));
    evCard.querySelector('table').id = 'user-events';
  }
  root.append(sessCard, evCard);
}

function without(params, key) {
  const p = new URLSearchParams(params);
  p.delete(key);
  return p.toString();
}

/**
 * The period's most active and most recent people whose id starts with {@code prefix}, each linking to their page;
 * answers {ids}: every id listed.
 */
async function people(box, P, prefix, signal, status) {
  const q = { from: P.from, to: P.to, prefix, limit: LIST_SIZE };
  const [active, recent] = await Promise.allSettled([api('/v1/people' + qs(q), { signal }),
    api('/v1/people' + qs({ ...q, sort: 'recent' }), { signal })]);
  const ids = new Set();
  if (signal.aborted) return { ids };
  for (const a of [active, recent]) if (a.status === 'fulfilled') a.value.people.forEach((p) => ids.add(p.userId));
  if (active.status === 'fulfilled' && recent.status === 'fulfilled' && !ids.size) {
    box.append(prefix ? empty(`Nobody whose id starts with “${prefix}” was active in this period.`)
      : empty('Nobody was active in this period.', h('p', {}, SEND_HINT)));
    return { ids };
  }
  const list = (a, title, columns, id, sort) => {
    const head = h('span', {}, h('h2', {}, title), ' ', exportButtons('people', { ...q, sort }, status));
    if (a.status === 'rejected') return card(head, errorBox(a.reason));
    const r = a.value;
    const t = table(columns, r.people);
    t.querySelector('table').id = id;
    return card(head, t, r.truncated ? h('p', { class: 'muted' }, `The first ${r.people.length}; type the start of `
      + 'an id to find others.') : null);
  };
  box.append(h('div', { class: 'people' },
    list(active, prefix ? `Most active, id starting “${prefix}”` : 'Most active in the period', [
      { label: 'Person', value: (p) => userLink(p.userId) },
      { label: 'Events', num: true, value: (p) => fmt.int(p.events) },
      { label: 'Days active', num: true, value: (p) => fmt.int(p.activeDays) },
      { label: 'Last seen (UTC)', cls: 'nowrap', value: (p) => fmt.time(p.lastSeen).slice(0, 16) },
    ], 'people-active', 'active'),
    list(recent, prefix ? `Most recent, id starting “${prefix}”` : 'Seen most recently', [
      { label: 'Person', value: (p) => userLink(p.userId) },
      { label: 'Last seen (UTC)', cls: 'nowrap', value: (p) => fmt.time(p.lastSeen).slice(0, 16) },
      { label: 'Events', num: true, value: (p) => fmt.int(p.events) },
      { label: 'First seen (UTC)', cls: 'nowrap', value: (p) => fmt.time(p.firstSeen).slice(0, 10) },
    ], 'people-recent', 'recent')));
  return { ids };
}
