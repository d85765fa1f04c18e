// The live stream (GET /v1/live, Server-Sent Events). Read with fetch so the key stays in a header (EventSource
// cannot send one). One connection per tab, opened while some view listens, re-opened after a drop.
import { auth } from './api.js';

const listeners = new Set();
let controller = null;
let retryTimer = null;
let connected = false;
const stateListeners = new Set();

export function onLiveState(fn) { stateListeners.add(fn); fn(connected); return () => stateListeners.delete(fn); }

function setConnected(v) {
  connected = v;
  for (const fn of stateListeners) fn(v);
}

/** fn({event: 'hello'|'commit', data}); returns the unsubscribe function. */
export function subscribe(fn) {
  listeners.add(fn);
  if (!controller) open(0);
  return () => {
    listeners.delete(fn);
    if (listeners.size === 0) close();
  };
}

export function close() {
  clearTimeout(retryTimer);
  if (controller) controller.abort();
  controller = null;
  setConnected(false);
}

async function open(attempt) {
  const c = new AbortController();
  controller = c;
  try {
    const res = await fetch('/v1/live', { headers: { Authorization: 'Bearer ' + auth.key }, signal: c.signal });
    if (!res.ok) throw new Error('HTTP ' + res.status);
    setConnected(true);
    attempt = 0;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        dispatch(buf.slice(0, i));
        buf = buf.slice(i + 2);
      }
    }
  } catch (e) {
    if (c.signal.aborted) return;
  }
  if (controller !== c) return;
  setConnected(false);
  // dropped: try again, backing off to 10 s
  retryTimer = setTimeout(() => { if (controller === c && listeners.size) open(attempt + 1); },
    Math.min(10_000, 500 * 2 ** attempt));
}

function dispatch(block) {
  let event = 'message';
  let data = '';
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data += line.slice(5).trim();
  }
  if (!data) return;
  let parsed;
  try { parsed = JSON.parse(data); } catch { return; }
  for (const fn of listeners) fn({ event, data: parsed });
}
