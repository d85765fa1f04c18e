/*! Tally browser SDK: events over a WebSocket, each message acked after commit; what is not acked stays in
 * localStorage and is resent with the same ids. No dependencies, no cookies. Guide: docs/browser-sdk.md */
(function (root) {
  'use strict';
  var SESSION_MS = 30 * 60 * 1000; // the server's enrich.sessionTimeoutMinutes default: the same inactivity rule
  var MAX_STORED = 1000;           // unacked events kept per write key; beyond it the oldest is dropped
  var BATCH = 50;                  // events per message (the server's ingest.maxBatchEvents is 1,000)
  var BATCH_BYTES = 262144;        // well under ingest.wsMaxMessageBytes and ingest.maxBodyBytes (1 MiB)
  var EVENT_BYTES = 32768;         // ingest.maxEventBytes: a bigger event is never stored, so never queued
  var BEACON_BYTES = 60000;        // browsers allow a page ~64 KiB of beacons in flight
  var IN_FLIGHT = 8;               // messages awaiting their ack at once (the server allows 256)
  var MAX_BACKOFF = 30000;
  var SOCKET_RETRY_MS = 60000;     // after a WebSocket failed to open, HTTP is used this long before trying again
  var script = root.document && document.currentScript;
  var scriptOrigin = script && script.src ? new URL(script.src).origin : '';

  function uuid() {
    var c = root.crypto;
    if (c && c.randomUUID) return c.randomUUID();
    var b = c.getRandomValues(new Uint8Array(16)), h = [];
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    for (var i = 0; i < 16; i++) h.push((b[i] + 256).toString(16).slice(1));
    h = h.join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }

  // localStorage that never throws (disabled, private mode, quota): the SDK then keeps events in memory only
  function store(prefix) {
    var ls;
    try { ls = root.localStorage; ls.setItem(prefix + 't', '1'); ls.removeItem(prefix + 't'); } catch (e) { ls = null; }
    return {
      get: function (k) { try { return ls ? ls.getItem(prefix + k) : null; } catch (e) { return null; } },
      set: function (k, v) { try { if (ls) ls.setItem(prefix + k, v); } catch (e) { /* quota: memory only */ } },
      del: function (k) { try { if (ls) ls.removeItem(prefix + k); } catch (e) { /* gone anyway */ } },
      keys: function () {
        var out = [];
        try { for (var i = 0; ls && i < ls.length; i++) { var k = ls.key(i); if (k.indexOf(prefix) === 0) out.push(k.slice(prefix.length)); } } catch (e) { /* none */ }
        return out;
      }
    };
  }

  function hash(s) {
    for (var h = 5381, i = 0; i < s.length; i++) h = (h * 33 + s.charCodeAt(i)) | 0;
    return (h >>> 0).toString(36);
  }

  function Client(o) {
    if (!o || !o.writeKey) throw new Error('Tally.init needs {writeKey}');
    var self = this;
    self.o = o;
    self.host = String(o.host || scriptOrigin || location.origin).replace(/\/+$/, '');
    self.s = store('tally.' + hash(self.host + ' ' + o.writeKey) + '.');
    self.q = [];          // unacked events, oldest first: {id, o: order, e: event, m: seq of the message carrying it}
    self.msgs = {};       // seq -> events of a message awaiting its answer
    self.seq = 0;
    self.fails = 0;       // consecutive failed attempts (backoff)
    self.waiters = [];
    self.dropped = 0;
    self.noSocket = 0;    // when a WebSocket last failed to open
    var n = 0;
    self.order = function () { return Date.now() * 1000 + (n++ % 1000); };
    // Do Not Track: the SDK stays inert (nothing stored, nothing sent)
    self.off = o.respectDoNotTrack !== false && (navigator.doNotTrack === '1' || root.doNotTrack === '1');
    if (self.off) return;
    self.anon = self.s.get('anon') || uuid();
    self.s.set('anon', self.anon);
    self.user = self.s.get('user');
    self.s.keys().forEach(function (k) {  // events a closed page, another tab or a reload left unacked
      if (k.indexOf('q.') !== 0) return;
      try { var v = JSON.parse(self.s.get(k)); self.q.push({ id: v.e.id, o: v.o, e: v.e, m: 0 }); } catch (e) { self.s.del(k); }
    });
    self.q.sort(function (a, b) { return a.o - b.o; });
    var hide = function () { self.beacon(); };
    root.addEventListener('pagehide', hide);
    document.addEventListener('visibilitychange', function () { if (document.visibilityState === 'hidden') hide(); });
    root.addEventListener('online', function () { self.fails = 0; self.kick(); });
    if (o.autoPageViews !== false) {
      var push = history.pushState, replace = history.replaceState;
      history.pushState = function () { var r = push.apply(this, arguments); self.auto(); return r; };
      history.replaceState = function () { var r = replace.apply(this, arguments); self.auto(); return r; };
      root.addEventListener('popstate', function () { self.auto(); });
      self.auto();
    }
    self.kick();
  }

  var P = Client.prototype;

  P.session = function () {
    var now = Date.now(), s;
    try { s = JSON.parse(this.s.get('session')); } catch (e) { s = null; }
    if (!s || !s.id || now - s.last > SESSION_MS) s = { id: uuid() };
    s.last = now;
    this.s.set('session', JSON.stringify(s));
    return s.id;
  };

  P.pageInfo = function () {
    // cut to the server's bounds, so a long URL never costs the event
    return { url: location.href.slice(0, 4096), path: location.pathname.slice(0, 2048),
      search: location.search.slice(0, 4096), hash: location.hash.slice(0, 1024),
      title: document.title.slice(0, 1024), referrer: document.referrer.slice(0, 4096) };
  };

  /** Queues one event; returns its id (null when not queued: Do Not Track, or over the server's size bound). */
  P.event = function (type, properties, extra) {
    if (this.off) return null;
    var sid = this.session(), uc = { anonymousId: this.anon, sessionId: sid };
    if (this.user) uc.userId = this.user;
    var e = { id: uuid(), type: type, timestamp: new Date().toISOString(), sessionId: sid, userContext: uc,
      properties: properties || {}, page: this.pageInfo(),
      context: { screenResolution: screen.width + 'x' + screen.height, viewport: innerWidth + 'x' + innerHeight,
        language: navigator.language, timezone: Intl.DateTimeFormat().resolvedOptions().timeZone } };
    for (var k in extra) uc[k] = extra[k];
    var json = JSON.stringify(e);
    if (json.length * 3 > EVENT_BYTES && new TextEncoder().encode(json).length > EVENT_BYTES) {
      console.warn('Tally: event "' + type + '" is over ' + EVENT_BYTES + ' bytes and is not sent');
      return null;
    }
    var item = { id: e.id, o: this.order(), e: e, m: 0 };
    this.q.push(item);
    this.s.set('q.' + e.id, JSON.stringify({ o: item.o, e: e }));
    while (this.q.length > (this.o.maxStored || MAX_STORED)) {
      var old = this.q.shift();
      this.s.del('q.' + old.id);
      this.dropped++;
    }
    this.soon();
    return e.id;
  };

  /** Sends on the next turn, so that events tracked together travel in one message. */
  P.soon = function () {
    var self = this;
    if (!self.tick) self.tick = setTimeout(function () { self.tick = 0; self.kick(); }, 0);
  };

  P.track = function (name, properties) { return this.event(String(name), properties); };

  P.identify = function (userId, traits) {
    if (this.off) return null;
    this.user = String(userId);
    this.s.set('user', this.user);
    return this.event('identify', {}, { userId: this.user, userProperties: traits || {} });
  };

  P.page = function (properties) {
    this.lastPage = location.href;
    return this.event('page_view', properties);
  };

  P.auto = function () { if (location.href !== this.lastPage) this.page(); };

  /** A new person on this browser (after a sign-out): new anonymous id, no user id, a new session. */
  P.reset = function () {
    if (this.off) return;
    this.user = null;
    this.s.del('user');
    this.s.del('session');
    this.anon = uuid();
    this.s.set('anon', this.anon);
  };

  /** Resolves true once every event queued before the call is acked, false after timeoutMs (default 10 s). */
  P.flush = function (timeoutMs) {
    var self = this, want = {}, left = 0;
    self.q.forEach(function (i) { want[i.id] = 1; left++; });
    if (!left) return Promise.resolve(true);
    self.fails = 0;
    clearTimeout(self.timer);
    self.timer = null;
    self.kick();
    return new Promise(function (resolve) {
      var w = { want: want, done: resolve };
      self.waiters.push(w);
      setTimeout(function () { self.waiters = self.waiters.filter(function (x) { return x !== w; }); resolve(false); },
        timeoutMs || 10000);
    });
  };

  P.remove = function (items) {
    var self = this, gone = {};
    items.forEach(function (i) { gone[i.id] = 1; self.s.del('q.' + i.id); });
    self.q = self.q.filter(function (i) { return !gone[i.id]; });
    var still = {};
    self.q.forEach(function (i) { still[i.id] = 1; });
    self.waiters = self.waiters.filter(function (w) {
      for (var id in w.want) if (still[id]) return true;
      w.done(true);
      return false;
    });
  };

  /** The next events to send, in order: at most BATCH of them and BATCH_BYTES. */
  P.take = function () {
    var out = [], bytes = 0;
    for (var i = 0; i < this.q.length && out.length < (this.batch || BATCH); i++) {
      var it = this.q[i];
      if (it.m) continue;
      var len = JSON.stringify(it.e).length;
      if (out.length && bytes + len > BATCH_BYTES) break;
      out.push(it);
      bytes += len;
    }
    return out;
  };

  P.body = function (items, seq) {
    var now = new Date().toISOString(), b = { batch: items.map(function (i) { i.e.sentAt = now; return i.e; }) };
    if (seq) b.seq = seq;
    return JSON.stringify(b);
  };

  /** Sends what waits: over the WebSocket once open, else over HTTP while the socket cannot open. */
  P.kick = function () {
    var self = this;
    if (self.off || self.timer || self.posting) return;
    var ws = self.ws;
    if (ws && ws.readyState === 1) {
      while (Object.keys(self.msgs).length < IN_FLIGHT) {
        var items = self.take();
        if (!items.length) return;
        var seq = ++self.seq;
        items.forEach(function (i) { i.m = seq; });
        self.msgs[seq] = items;
        ws.send(self.body(items, seq));
      }
      return;
    }
    if (!self.q.length || ws) return; // ws: still connecting
    var socket = root.WebSocket && self.o.transport !== 'http' && Date.now() - self.noSocket > SOCKET_RETRY_MS;
    if (socket) self.open();
    else self.post();
  };

  P.open = function () {
    var self = this, opened = false, ws;
    try {
      ws = new WebSocket(self.host.replace(/^http/, 'ws') + '/v1/stream?key=' + encodeURIComponent(self.o.writeKey));
    } catch (e) { self.noSocket = Date.now(); return self.kick(); }
    self.ws = ws;
    ws.onopen = function () { opened = true; self.fails = 0; self.kick(); };
    ws.onmessage = function (m) { try { self.answer(JSON.parse(m.data)); } catch (e) { /* not ours */ } };
    ws.onclose = function () {
      self.ws = null;
      for (var s in self.msgs) self.msgs[s].forEach(function (i) { i.m = 0; }); // resent with the same ids
      self.msgs = {};
      if (!opened) { self.noSocket = Date.now(); self.kick(); } // cannot open (down, a proxy): HTTP meanwhile
      else self.later(0);
    };
  };

  P.answer = function (a) {
    var self = this, seq = a.ack != null ? a.ack : a.nack, items = self.msgs[seq];
    if (!items) return;
    delete self.msgs[seq];
    if (self.o.onAnswer) self.o.onAnswer(a);
    if (a.ack != null) {
      if (a.rejected && a.rejected.length) console.warn('Tally: events refused by the server', a.rejected);
      self.remove(items);
    } else if (self.settle(a.status, items, a.retryAfterMs)) return;
    self.kick();
  };

  /** A refusal: dropped when no retry can fix it, else kept and retried later. Returns whether it waits. */
  P.settle = function (status, items, retryMs) {
    items.forEach(function (i) { i.m = 0; });
    if (status === 400 || status === 413 && items.length === 1) {
      console.warn('Tally: events refused (' + status + '), dropped');
      this.remove(items);
      return false;
    }
    // a batch over a server limit goes again in halves; 401/403 (wrong key or origin), 429, 5xx: kept, retried later
    if (status === 413) this.batch = Math.max(1, items.length >> 1);
    this.later(retryMs);
    return true;
  };

  P.later = function (ms) {
    var self = this;
    self.fails++;
    if (self.timer) return;
    var wait = ms || Math.min(MAX_BACKOFF, 500 * Math.pow(2, self.fails)) * (0.5 + Math.random() / 2);
    self.timer = setTimeout(function () {
      self.timer = null;
      self.kick();
    }, wait);
  };

  P.post = function () {
    var self = this, items = self.take();
    if (!items.length) return;
    self.posting = true;
    var body = self.body(items);
    fetch(self.host + '/v1/events', { method: 'POST', body: body, keepalive: body.length < BEACON_BYTES,
      headers: { 'Authorization': 'Bearer ' + self.o.writeKey, 'Content-Type': 'application/json' } })
      .then(function (r) {
        self.posting = false;
        if (r.ok) { self.fails = 0; self.remove(items); return self.kick(); }
        var after = +r.headers.get('Retry-After');
        if (!self.settle(r.status, items, after ? after * 1000 : 0)) self.kick();
      }, function () { self.posting = false; self.later(0); });
  };

  /** The page is going away (or hidden): hand every unacked event to the browser, which sends it after the page. */
  P.beacon = function () {
    if (this.off || !this.q.length) return;
    var items = [], bytes = 0;
    for (var i = 0; i < this.q.length && items.length < 1000; i++) {
      var len = JSON.stringify(this.q[i].e).length + 1;
      if (bytes + len > BEACON_BYTES) break;
      items.push(this.q[i]);
      bytes += len;
    }
    // text/plain and the key in the URL: a beacon can set no header, and this type needs no preflight. The events
    // stay stored until acked, so the next page resends them; their ids make that harmless.
    var url = this.host + '/v1/events?key=' + encodeURIComponent(this.o.writeKey), body = this.body(items);
    if (!(navigator.sendBeacon && navigator.sendBeacon(url, body))) {
      try { fetch(url, { method: 'POST', body: body, keepalive: true, headers: { 'Content-Type': 'text/plain' } }); } catch (e) { /* gone */ }
    }
  };

  root.Tally = { init: function (o) { return new Client(o); }, version: '1.0.0' };
})(window);
