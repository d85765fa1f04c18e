package io.tally.derive;

import io.tally.event.Event;

import java.util.UUID;

import static io.tally.derive.DerivedBatch.*;

/**
 * A session's events within one flush. Its user and anonymous ids are the greatest its events carry; its entry
 * (exit) page is the path of its earliest (latest) event with one, ties to the smaller (greater) path; its context,
 * country, device and browser are those of its earliest event with a context, and its attribution that of its
 * earliest event with one, ties to the smaller event id: the rules {@link DerivedSql#FLUSH} merges rows with and
 * the re-derivation applies to all of a session's events.
 */
final class SessionAgg extends WaitingRows.Row<SessionAgg> {
  final String project;
  final String session;
  String user;
  String anon;
  long firstUs = Long.MAX_VALUE;
  long lastUs = Long.MIN_VALUE;
  int count;
  int pages;
  String entry;
  long entryUs;
  String exit;
  long exitUs;
  String context;
  /** The enrichment of the event {@link #context} comes from: the session's context columns are read from it. */
  Event.Enrichment contextOf;
  long contextUs;
  UUID contextEvent;
  String attribution;
  long attributionUs;
  UUID attributionEvent;
  boolean serverAssigned;

  SessionAgg(String project, String session) {
    this.project = project;
    this.session = session;
  }

  /**
   * Whether these events change only the stored session's end, counts and exit page, which may wait: no earlier
   * event, no greater user or anonymous id, no earlier entry page, context or attribution.
   */
  boolean onlyLater(KnownSession k) {
    return firstUs >= k.startUs && DerivedOrder.text(user, k.user) <= 0 && DerivedOrder.text(anon, k.anon) <= 0
        && (entry == null || k.entryUs != Long.MAX_VALUE && entryUs > k.entryUs)
        && (contextEvent == null || k.contextEvent != null
            && !DerivedOrder.before(contextUs, contextEvent, k.contextUs, k.contextEvent))
        && (attributionEvent == null || k.attributionEvent != null
            && !DerivedOrder.before(attributionUs, attributionEvent, k.attributionUs, k.attributionEvent))
        && (!serverAssigned || k.serverAssigned);
  }

  void add(Event e, Event.Enrichment en, long t) {
    count++;
    if ("page_view".equals(e.type())) {
      pages++;
    }
    user = DerivedOrder.max(user, e.userId());
    anon = DerivedOrder.max(anon, e.anonymousId());
    String path = e.client().pagePath();
    if (path != null) {
      entry(path, t);
      exit(path, t);
    }
    firstUs = Math.min(firstUs, t);
    lastUs = Math.max(lastUs, t);
    if (en.contextJson() != null) {
      context(en.contextJson(), en, t, e.id());
    }
    if (en.attributionJson() != null) {
      attribution(en.attributionJson(), t, e.id());
    }
    serverAssigned |= (e.flags() & Event.FLAG_SESSION_ASSIGNED) != 0;
  }

  private void entry(String path, long t) {
    if (entry == null || t < entryUs || t == entryUs && DerivedOrder.text(path, entry) < 0) {
      entry = path;
      entryUs = t;
    }
  }

  private void exit(String path, long t) {
    if (exit == null || t > exitUs || t == exitUs && DerivedOrder.text(path, exit) > 0) {
      exit = path;
      exitUs = t;
    }
  }

  private void context(String json, Event.Enrichment of, long t, UUID id) {
    if (contextEvent == null || DerivedOrder.before(t, id, contextUs, contextEvent)) {
      context = json;
      contextOf = of;
      contextUs = t;
      contextEvent = id;
    }
  }

  private void attribution(String json, long t, UUID id) {
    if (attributionEvent == null || DerivedOrder.before(t, id, attributionUs, attributionEvent)) {
      attribution = json;
      attributionUs = t;
      attributionEvent = id;
    }
  }

  @Override
  void absorb(SessionAgg o) {
    count += o.count;
    pages += o.pages;
    user = DerivedOrder.max(user, o.user);
    anon = DerivedOrder.max(anon, o.anon);
    if (o.entry != null) {
      entry(o.entry, o.entryUs);
    }
    if (o.exit != null) {
      exit(o.exit, o.exitUs);
    }
    if (o.contextEvent != null) {
      context(o.context, o.contextOf, o.contextUs, o.contextEvent);
    }
    if (o.attributionEvent != null) {
      attribution(o.attribution, o.attributionUs, o.attributionEvent);
    }
    firstUs = Math.min(firstUs, o.firstUs);
    lastUs = Math.max(lastUs, o.lastUs);
    serverAssigned |= o.serverAssigned;
  }
}
