// Talks to Tally's routes with the read key of this browser tab (sessionStorage: gone when the tab closes).
const KEY = 'tally.readKey';

export const auth = {
  get key() { return sessionStorage.getItem(KEY); },
  set(key) { sessionStorage.setItem(KEY, key); },
  clear() { sessionStorage.removeItem(KEY); },
};

export class ApiError extends Error {
  constructor(status, body, message) {
    super(message);
    this.status = status;
    this.body = body;
  }
  get unavailable() { return this.status === 404 && (!this.body || this.body.error === 'not_found'); }
}

/** Called when any request is refused for its key (401): the app signs out. */
let onUnauthorized = () => {};
export function whenUnauthorized(fn) { onUnauthorized = fn; }

/**
 * The answer index.html's boot script already asked for this GET with this key, if any. Until the first view is drawn
 * every request of that URL shares it (the Overview asks one URL twice when its period is 7 days); then the rest is
 * dropped, so later requests ask Tally again.
 */
function prefetched(path, method, key) {
  const p = window.tallyPrefetch;
  const answer = p && method === 'GET' && p.key === key ? p.answers.get(path) : undefined;
  if (!answer) return null;
  p.taken.add(path); // the boot script may draw this answer's number in the view that asked for it
  return answer.then((res) => res.clone());
}

/** The first view is drawn: answers fetched for it are not kept for later requests. */
export function dropPrefetched() { delete window.tallyPrefetch; }

export async function api(path, { method = 'GET', body, key, signal } = {}) {
  const k = key ?? auth.key;
  const headers = { Authorization: 'Bearer ' + k };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await (prefetched(path, method, k)
      ?? fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal }));
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, null, 'Cannot reach Tally (' + e.message + '). Is the server running?');
  }
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  if (!res.ok) {
    const err = new ApiError(res.status, json, (json && json.message) || `HTTP ${res.status} from ${path}`);
    if (res.status === 401 && key === undefined) onUnauthorized(err);
    throw err;
  }
  return json;
}

/** '?a=1&b=2' from an object, leaving out empty values. */
export function qs(params) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  }
  const s = p.toString();
  return s ? '?' + s : '';
}

/**
 * Downloads GET /v1/export/{view} as a file. The key travels in the Authorization header, never in a URL, so the
 * file is fetched and handed to the browser as a blob.
 */
export async function download(view, params, format) {
  const res = await fetch('/v1/export/' + view + qs({ ...params, format }), {
    headers: { Authorization: 'Bearer ' + auth.key },
  });
  if (!res.ok) {
    let msg = `HTTP ${res.status}`;
    try { msg = (await res.json()).message || msg; } catch { /* keep */ }
    throw new ApiError(res.status, null, 'Export failed: ' + msg);
  }
  const blob = await res.blob();
  const cd = res.headers.get('Content-Disposition') || '';
  const m = /filename="([^"]+)"/.exec(cd);
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = m ? m[1] : `tally-${view}.${format}`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}
