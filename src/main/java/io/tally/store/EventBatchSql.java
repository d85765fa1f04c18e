package io.tally.store;

import io.tally.buffer.PendingEvent;
import io.tally.event.Event;
import io.vertx.sqlclient.Tuple;

import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
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

  static final String INSERT = """
      WITH input AS (
        SELECT * FROM unnest($1::text[], $2::uuid[], $3::timestamptz[], $4::timestamptz[], $5::text[], $6::text[],
                             $7::text[], $8::text[], $9::float8[], $10::text[], $11::text[], $12::text[],
                             $13::text[], $14::text[], $15::text[], $16::int4[], $17::text[], $18::text[],
                             $19::text[], $20::text[], $21::text[], $22::text[], $23::uuid[])
          WITH ORDINALITY AS t(project_id, id, ts, received_at, type, category, action, label, value, session_id,
                               user_id, anonymous_id, properties, page, user_context, flags, context, attribution,
                               country, device_type, browser, ip, context_from, ord)
      ), fresh AS (
        INSERT INTO event_ids (project_id, id, first_seen)
        SELECT project_id, id, received_at FROM input
        ON CONFLICT DO NOTHING
        RETURNING project_id, id
      ), stored AS (
        INSERT INTO events (project_id, id, ts, received_at, type, category, action, label, value, session_id,
                            user_id, anonymous_id, properties, page, user_context, flags, context, attribution,
                            country, device_type, browser, ip, is_bot, context_from)
        SELECT i.project_id, i.id, i.ts, i.received_at, i.type, i.category, i.action, i.label, i.value,
               i.session_id,
               coalesce((SELECT x.user_id FROM identities x
                         WHERE x.project_id = i.project_id AND x.anonymous_id = coalesce(i.user_id, i.anonymous_id)),
                        i.user_id),
               i.anonymous_id, i.properties::jsonb, i.page::jsonb, i.user_context::jsonb, i.flags, i.context::jsonb,
               i.attribution::jsonb, i.country, i.device_type, i.browser, i.ip, (i.flags & 8) <> 0, i.context_from
        FROM input i JOIN fresh f ON f.project_id = i.project_id AND f.id = i.id
      )
      SELECT i.ord FROM input i
      WHERE NOT EXISTS (SELECT 1 FROM fresh f WHERE f.project_id = i.project_id AND f.id = i.id)
      UNION ALL
      SELECT -(pg_current_xact_id()::text::int8)
      """;

  /**
   * A batch ready to send: {@code rows} in statement order, plus repeats of an id within the batch itself;
   * {@code inFull} marks the rows that store their client context in full.
   */
  record Prepared(Tuple tuple, List<PendingEvent> rows, List<PendingEvent> inBatchRepeats, java.util.BitSet inFull) {
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
    int m = rows.size();
    String[] project = new String[m];
    UUID[] id = new UUID[m];
    OffsetDateTime[] ts = new OffsetDateTime[m];
    OffsetDateTime[] received = new OffsetDateTime[m];
    String[] type = new String[m];
    String[] category = new String[m];
    String[] action = new String[m];
    String[] label = new String[m];
    Double[] value = new Double[m];
    String[] session = new String[m];
    String[] user = new String[m];
    String[] anon = new String[m];
    String[] props = new String[m];
    String[] page = new String[m];
    String[] ctx = new String[m];
    Integer[] flags = new Integer[m];
    String[] context = new String[m];
    String[] attribution = new String[m];
    String[] country = new String[m];
    String[] deviceType = new String[m];
    String[] browser = new String[m];
    String[] ip = new String[m];
    UUID[] contextFrom = new UUID[m];
    java.util.BitSet inFull = new java.util.BitSet(m);
    for (int i = 0; i < m; i++) {
      Event e = rows.get(i).event();
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
      country[i] = en.country();
      deviceType[i] = en.deviceType();
      browser[i] = en.browser();
      ip[i] = en.ip();
    }
    Tuple t = Tuple.tuple()
        .addArrayOfString(project).addArrayOfUUID(id).addArrayOfOffsetDateTime(ts).addArrayOfOffsetDateTime(received)
        .addArrayOfString(type).addArrayOfString(category).addArrayOfString(action).addArrayOfString(label)
        .addArrayOfDouble(value).addArrayOfString(session).addArrayOfString(user).addArrayOfString(anon)
        .addArrayOfString(props).addArrayOfString(page).addArrayOfString(ctx).addArrayOfInteger(flags)
        .addArrayOfString(context).addArrayOfString(attribution).addArrayOfString(country)
        .addArrayOfString(deviceType).addArrayOfString(browser).addArrayOfString(ip).addArrayOfUUID(contextFrom);
    return new Prepared(t, rows, repeats, inFull);
  }
}
