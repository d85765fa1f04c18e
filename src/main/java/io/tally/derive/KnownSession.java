package io.tally.derive;

import java.util.UUID;

import static io.tally.derive.DerivedBatch.*;

/** What this process stored of a session: enough to tell whether newer events may wait and what not to resend. */
final class KnownSession {
  long startUs = Long.MAX_VALUE;
  String user;
  String anon;
  /** The earliest entry page time stored (MAX_VALUE: none). */
  long entryUs = Long.MAX_VALUE;
  long contextUs;
  UUID contextEvent;
  long attributionUs;
  UUID attributionEvent;
  boolean serverAssigned;

  KnownSession(SessionAgg s) {
    add(s);
  }

  void add(SessionAgg s) {
    startUs = Math.min(startUs, s.firstUs);
    user = DerivedOrder.max(user, s.user);
    anon = DerivedOrder.max(anon, s.anon);
    if (s.entry != null) {
      entryUs = Math.min(entryUs, s.entryUs);
    }
    if (s.contextEvent != null && (contextEvent == null
        || DerivedOrder.before(s.contextUs, s.contextEvent, contextUs, contextEvent))) {
      contextUs = s.contextUs;
      contextEvent = s.contextEvent;
    }
    if (s.attributionEvent != null && (attributionEvent == null
        || DerivedOrder.before(s.attributionUs, s.attributionEvent, attributionUs, attributionEvent))) {
      attributionUs = s.attributionUs;
      attributionEvent = s.attributionEvent;
    }
    serverAssigned |= s.serverAssigned;
  }
}
