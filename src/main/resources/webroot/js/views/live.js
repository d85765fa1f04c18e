// Live events: the tail of committed events with their enrichment, pushed by the live stream.
import { h, fmt, card, empty, userLink, SEND_HINT } from '../dom.js';
import { subscribe, onLiveState } from '../live.js';

const MAX_ROWS = 200;

export async function render(root) {
  let paused = false;
  let count = 0;
  const tbody = h('tbody', { id: 'live-rows' });
  const counter = h('output', { id: 'live-count', dataset: { value: 0 } }, '0');
  const state = h('span', { class: 'muted' }, 'connecting…');
  const pause = h('button', { type: 'button', class: 'ghost', 'aria-pressed': 'false', onclick: () => {
    paused = !paused;
    pause.setAttribute('aria-pressed', String(paused));
    pause.textContent = paused ? 'Resume' : 'Pause';
  } }, 'Pause');
  const placeholder = empty('Waiting for events… ' + SEND_HINT);
  const tbl = h('div', { class: 'table-wrap' }, h('table', {}, h('thead', {}, h('tr', {},
    ['Time', 'Type', 'User', 'Session', 'Provider / model', 'Tokens', 'Device', 'Browser', 'Country', 'Page']
      .map((l) => h('th', { scope: 'col' }, l)))), tbody));
  root.append(h('h1', {}, 'Live events'), card(h('span', {}, h('h2', {}, 'Newest first'), ' ', state, ' ',
    h('span', {}, 'received since opening: ', counter), ' ', pause), placeholder, tbl));

  const add = (events) => {
    if (!events.length) return;
    placeholder.hidden = true;
    for (const e of events) {
      tbody.prepend(h('tr', { dataset: { type: e.type } },
        h('td', { class: 'nowrap' }, fmt.time(e.timestamp)), h('td', {}, e.type), h('td', {}, userLink(e.userId)),
        h('td', {}, e.sessionId ?? '—'),
        h('td', {}, [e.provider, e.model].filter(Boolean).join(' / ') || '—'),
        h('td', { class: 'num' }, e.tokens !== undefined ? fmt.int(e.tokens) : ''),
        h('td', {}, e.device ?? '—'), h('td', {}, e.browser ?? '—'), h('td', {}, e.country ?? '—'),
        h('td', {}, e.page ?? '')));
    }
    while (tbody.children.length > MAX_ROWS) tbody.lastChild.remove();
  };
  const unsub = subscribe(({ event, data }) => {
    if (event === 'hello') { add(data.events); return; }
    count += data.count;
    counter.textContent = fmt.int(count);
    counter.dataset.value = count;
    if (!paused) add(data.events);
  });
  const unstate = onLiveState((on) => { state.textContent = on ? '● live' : 'reconnecting…'; });
  return () => { unsub(); unstate(); };
}
