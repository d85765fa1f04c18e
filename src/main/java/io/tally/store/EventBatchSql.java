package io.tally.store;

import io.tally.buffer.PendingEvent;
import io.tally.event.Event;
import io.tally.schema.EventColumn;
import io.tally.schema.EventColumns;
import io.vertx.sqlclient.Tuple;

import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * The one statement that writes a batch: columns travel as arrays and are unnested server side (the Vert.x client
 * has no COPY, and this is its fastest bulk form). In the same statement, hence the same transaction, dedupe: only
 * ids newly registered in {@code event_ids} are stored; and identity: an anonymous-only event of a linked anonymous
 * id is stored under its user. It returns the ordinals of the duplicate rows. Sessions, people, touchpoints and
 * links are derived afterwards by the {@link DerivedUpdater} (measured: deriving them here doubled the statement).
 * One more row, negative: minus the id of the storing transaction.
 */
final class EventBatchSql {

  /** The statement, generated from the event's column description. */
  static final String INSERT = EventColumns.INSERT;

  /**
   * A batch ready to send: {@code rows} in statement order, plus repeats of an id within the batch itself;
   * {@code inFull} marks the rows that store their client context in full.
   */
  record Prepared(Tuple tuple, List<PendingEvent> rows, List<PendingEvent> inBatchRepeats, BitSet inFull) {
    boolean storedInFull(int row) {
      return inFull.get(row);
    }
  }

  private record Key(String projectId, UUID id) {}

  private EventBatchSql() {
  }

  /** A session, as the key of the contexts already stored for it. */
  record SessionKey(String projectId, String sessionId) {}

  /**
   * A committed event of a session that stored its client context in full: later events of the session with the
   * same context store only its id ({@code context_from}). Naming the event, not "the previous one", keeps each
   * event's context its own whatever order events are stored or read in (a late or retried event, a duplicate,
   * two batches in flight).
   */
  record Anchor(String context, UUID id, long tsMs) {
    /** Whether an event of this session, with this context, at this time, may name this anchor. */
    boolean serves(String eventContext, long eventTsMs) {
      return context.equals(eventContext) && Math.abs(eventTsMs - tsMs) <= ANCHOR_SPAN_MS;
    }
  }

  /**
   * An anchor serves events within this distance of its time, so that an event and the one it names are removed by
   * retention (whole days) at nearly the same time; a reader that does not find the named event uses the session's.
   */
  static final long ANCHOR_SPAN_MS = 3_600_000L;

  /**
   * @param anchors for each session, the last committed event that stored its context in full: an event of that
   *                session with the same context, within {@link #ANCHOR_SPAN_MS} of it, stores a reference to it
   *                instead. Events that repeat a context stored in this same statement do not: that row may turn
   *                out to be a duplicate and not be stored.
   */
  static Prepared prepare(List<PendingEvent> batch, Map<SessionKey, Anchor> anchors) {
    int n = batch.size();
    List<PendingEvent> rows = new ArrayList<>(n);
    List<PendingEvent> repeats = new ArrayList<>(0);
    Set<Key> seen = new HashSet<>(n * 2);
    for (PendingEvent p : batch) {
      if (seen.add(new Key(p.event().projectId(), p.event().id()))) {
        rows.add(p);
      } else {
        repeats.add(p);
      }
    }
    Columns c = new Columns(rows.size());
    for (int i = 0; i < c.m; i++) {
      c.fill(i, rows.get(i).event(), anchors);
    }
    return new Prepared(c.tuple(), rows, repeats, c.inFull);
  }

  /**
   * One batch's column arrays. The per-event filling is explicit for the event's own fields and a loop over the
   * described enrichment columns; {@code EventBatchSqlTest} checks it against {@link EventColumns#SENT}.
   */
  private static final class Columns {
    final int m;
    final String[] project;
    final UUID[] id;
    final OffsetDateTime[] ts;
    final OffsetDateTime[] received;
    final String[] type;
    final String[] category;
    final String[] action;
    final String[] label;
    final Double[] value;
    final String[] session;
    final String[] user;
    final String[] anon;
    final String[] props;
    final String[] page;
    final String[] ctx;
    final Integer[] flags;
    final String[] context;
    final String[] attribution;
    final UUID[] contextFrom;
    /** One array per {@link EventColumns#ENRICHED} column. */
    final String[][] enriched;
    final BitSet inFull;

    Columns(int m) {
      this.m = m;
      project = new String[m];
      id = new UUID[m];
      ts = new OffsetDateTime[m];
      received = new OffsetDateTime[m];
      type = new String[m];
      category = new String[m];
      action = new String[m];
      label = new String[m];
      value = new Double[m];
      session = new String[m];
      user = new String[m];
      anon = new String[m];
      props = new String[m];
      page = new String[m];
      ctx = new String[m];
      flags = new Integer[m];
      context = new String[m];
      attribution = new String[m];
      contextFrom = new UUID[m];
      enriched = new String[EventColumns.ENRICHED.length][m];
      inFull = new BitSet(m);
    }

    void fill(int i, Event e, Map<SessionKey, Anchor> anchors) {
      project[i] = e.projectId();
      id[i] = e.id();
      ts[i] = OffsetDateTime.ofInstant(e.timestamp(), ZoneOffset.UTC);
      received[i] = OffsetDateTime.ofInstant(e.receivedAt(), ZoneOffset.UTC);
      type[i] = e.type();
      category[i] = e.category();
      action[i] = e.action();
      label[i] = e.label();
      value[i] = e.value();
      session[i] = e.sessionId();
      user[i] = e.userId();
      anon[i] = e.anonymousId();
      props[i] = e.propertiesJson();
      page[i] = e.pageJson();
      ctx[i] = e.userContextJson();
      flags[i] = e.flags();
      Event.Enrichment en = e.enrichment() == null ? Event.Enrichment.NONE : e.enrichment();
      String c = en.contextJson();
      Anchor a = c == null || e.sessionId() == null || anchors.isEmpty() ? null
          : anchors.get(new SessionKey(e.projectId(), e.sessionId()));
      if (a != null && a.serves(c, e.timestamp().toEpochMilli())) {
        contextFrom[i] = a.id();
      } else {
        context[i] = c;
        if (c != null) {
          inFull.set(i);
        }
      }
      attribution[i] = en.attributionJson();
      for (int k = 0; k < enriched.length; k++) {
        enriched[k][i] = EventColumns.ENRICHED[k].read(en);
      }
    }

    /** The arrays in the statement's parameter order (once per batch). */
    Tuple tuple() {
      Tuple t = Tuple.tuple();
      int k = 0;
      for (EventColumn c : EventColumns.SENT) {
        switch (c) {
          case PROJECT_ID -> t.addArrayOfString(project);
          case ID -> t.addArrayOfUUID(id);
          case TS -> t.addArrayOfOffsetDateTime(ts);
          case RECEIVED_AT -> t.addArrayOfOffsetDateTime(received);
          case TYPE -> t.addArrayOfString(type);
          case CATEGORY -> t.addArrayOfString(category);
          case ACTION -> t.addArrayOfString(action);
          case LABEL -> t.addArrayOfString(label);
          case VALUE -> t.addArrayOfDouble(value);
          case SESSION_ID -> t.addArrayOfString(session);
          case USER_ID -> t.addArrayOfString(user);
          case ANONYMOUS_ID -> t.addArrayOfString(anon);
          case PROPERTIES -> t.addArrayOfString(props);
          case PAGE -> t.addArrayOfString(page);
          case USER_CONTEXT -> t.addArrayOfString(ctx);
          case FLAGS -> t.addArrayOfInteger(flags);
          case CONTEXT -> t.addArrayOfString(context);
          case ATTRIBUTION -> t.addArrayOfString(attribution);
          case CONTEXT_FROM -> t.addArrayOfUUID(contextFrom);
          default -> t.addArrayOfString(enriched[k++]);
        }
      }
      return t;
    }
  }
}
