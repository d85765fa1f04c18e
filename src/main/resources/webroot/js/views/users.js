// Users: one person's UserAnalytics, their sessions and recent events.
import { api, qs } from '../api.js';
import { h, fmt, card, table, exportButtons, errorBox, empty } from '../dom.js';
import { filtersIgnored } from '../dom.js';

export async function render(root, ctx) {
  const { period: P, signal, status, params } = ctx;
  const user = params.get('user') || '';
  const input = h('input', { id: 'user-id', name: 'user', value: user, placeholder: 'user id or anonymous id',
    required: true, autocomplete: 'off' });
  const form = h('form', { class: 'row', role: 'search', onsubmit: (e) => {
    e.preventDefault();
    params.set('user', input.value.trim());
    location.hash = '#/users?' + params.toString();
  } }, h('label', {}, 'User', input), h('button', { type: 'submit' }, 'Look up'));
  root.append(h('h1', {}, 'Users'), filtersIgnored(ctx.filters), form);
  if (!user) {
    root.append(empty('Type a user id (userContext.userId, or an anonymous id not yet linked to a user) to see '
      + 'their activity, sessions and recent events in the period.'));
    input.focus();
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
      { label: 'Started', value: (r) => fmt.time(r.startTime) },
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
      { label: 'Time', value: (r) => fmt.time(r.timestamp) },
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
