// The live stream over a WebSocket (GET /v1/live/ws): unlike a streaming fetch it does not hold one of the
// browser's six HTTP/1.1 connections to Tally, which the views' queries need. The key goes in the first frame,
// never in a URL. One socket per tab, open while some view listens, re-opened after a drop.
import { auth } from './api.js';

const listeners = new Set();
const stateListeners = new Set();
let socket = null;
let retryTimer = null;
let connected = false;

export function onLiveState(fn) { stateListeners.add(fn); fn(connected); return () => stateListeners.delete(fn); }

function setConnected(v) {
  connected = v;
  for (const fn of stateListeners) fn(v);
}

/** fn({event: 'hello'|'commit', data}); returns the unsubscribe function. */
export function subscribe(fn) {
  listeners.add(fn);
  if (!socket) open(0);
  return () => {
    listeners.delete(fn);
    if (listeners.size === 0) close();
  };
}

export function close() {
  clearTimeout(retryTimer);
  const s = socket;
  socket = null;
  if (s) s.close(1000, 'view closed');
  setConnected(false);
}

function open(attempt) {
  const s = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/v1/live/ws');
  socket = s;
  s.onopen = () => s.send(JSON.stringify({ key: auth.key }));
  s.onmessage = (m) => {
    let msg;
    try { msg = JSON.parse(m.data); } catch { return; }
    if (msg.event === 'hello') { setConnected(true); attempt = 0; }
    for (const fn of listeners) fn(msg);
  };
  s.onclose = (ev) => {
    if (socket !== s) return; // closed on purpose
    socket = null;
    setConnected(false);
    if (ev.code === 4401 || ev.code === 4403) return; // the key was refused: retrying cannot help
    // dropped: try again, backing off to 10 s
    retryTimer = setTimeout(() => { if (!socket && listeners.size) open(attempt + 1); },
      Math.min(10_000, 500 * 2 ** attempt));
  };
}

// leaving the page closes the socket at once (and lets the page into the back/forward cache)
window.addEventListener('pagehide', () => { if (socket) { const s = socket; socket = null; s.close(1001); } });
window.addEventListener('pageshow', (ev) => { if (ev.persisted && listeners.size && !socket) open(0); });
