package io.tally.store;

import io.tally.buffer.PendingEvent;
import io.tally.event.Event;
import io.vertx.sqlclient.Tuple;

import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * The one statement that writes a batch: columns travel as arrays and are unnested server side (the Vert.x client
 * has no COPY, and this is its fastest bulk form). Dedupe happens in the same statement: only ids newly registered
 * in {@code event_ids} are inserted into {@code events}; the statement returns the ordinals of the others.
 */
final class EventBatchSql {

  static final String INSERT = """
      WITH input AS (
        SELECT * FROM unnest($1::text[], $2::uuid[], $3::timestamptz[], $4::timestamptz[], $5::text[], $6::text[],
                             $7::text[], $8::text[], $9::float8[], $10::text[], $11::text[], $12::text[],
                             $13::text[], $14::text[], $15::text[], $16::int4[])
          WITH ORDINALITY AS t(project_id, id, ts, received_at, type, category, action, label, value, session_id,
                               user_id, anonymous_id, properties, page, user_context, flags, ord)
      ), fresh AS (
        INSERT INTO event_ids (project_id, id, first_seen)
        SELECT project_id, id, received_at FROM input
        ON CONFLICT DO NOTHING
        RETURNING project_id, id
      ), stored AS (
        INSERT INTO events (project_id, id, ts, received_at, type, category, action, label, value, session_id,
                            user_id, anonymous_id, properties, page, user_context, flags)
        SELECT i.project_id, i.id, i.ts, i.received_at, i.type, i.category, i.action, i.label, i.value,
               i.session_id, i.user_id, i.anonymous_id, i.properties::jsonb, i.page::jsonb, i.user_context::jsonb,
               i.flags
        FROM input i JOIN fresh f ON f.project_id = i.project_id AND f.id = i.id
      )
      SELECT i.ord FROM input i
      WHERE NOT EXISTS (SELECT 1 FROM fresh f WHERE f.project_id = i.project_id AND f.id = i.id)
      """;

  /** A batch ready to send: {@code rows} in statement order, plus repeats of an id within the batch itself. */
  record Prepared(Tuple tuple, List<PendingEvent> rows, List<PendingEvent> inBatchRepeats) {}

  private record Key(String projectId, UUID id) {}

  private EventBatchSql() {
  }

  static Prepared prepare(List<PendingEvent> batch) {
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
    }
    Tuple t = Tuple.tuple()
        .addArrayOfString(project).addArrayOfUUID(id).addArrayOfOffsetDateTime(ts).addArrayOfOffsetDateTime(received)
        .addArrayOfString(type).addArrayOfString(category).addArrayOfString(action).addArrayOfString(label)
        .addArrayOfDouble(value).addArrayOfString(session).addArrayOfString(user).addArrayOfString(anon)
        .addArrayOfString(props).addArrayOfString(page).addArrayOfString(ctx).addArrayOfInteger(flags);
    return new Prepared(t, rows, repeats);
  }
}
