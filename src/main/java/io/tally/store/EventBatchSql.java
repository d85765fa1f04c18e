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
 * has no COPY, and this is its fastest bulk form). In the same statement, hence the same transaction:
 * <ul>
 *   <li>dedupe: only ids newly registered in {@code event_ids} are stored;</li>
 *   <li>identity: an anonymous-only event of a linked anonymous id is stored under its user;</li>
 *   <li>sessions, users and touchpoints are upserted from the batch (bots excluded), rows in key order so that
 *       concurrent batches lock them in the same order;</li>
 *   <li>identify / alias events register their link.</li>
 * </ul>
 * It returns the ordinals of duplicate rows ({@code kind = 'd'}) and the new identity links ({@code 'l'}), which the
 * writer then applies to the history.
 */
final class EventBatchSql {

  static final String INSERT = """
      WITH input AS (
        SELECT * FROM unnest($1::text[], $2::uuid[], $3::timestamptz[], $4::timestamptz[], $5::text[], $6::text[],
                             $7::text[], $8::text[], $9::float8[], $10::text[], $11::text[], $12::text[],
                             $13::text[], $14::text[], $15::text[], $16::int4[], $17::text[], $18::text[],
                             $19::text[], $20::text[], $21::text[], $22::text[], $23::text[])
          WITH ORDINALITY AS t(project_id, id, ts, received_at, type, category, action, label, value, session_id,
                               user_id, anonymous_id, properties, page, user_context, flags, context, attribution,
                               country, device_type, browser, ip, page_path, ord)
      ), fresh AS (
        INSERT INTO event_ids (project_id, id, first_seen)
        SELECT project_id, id, received_at FROM input
        ON CONFLICT DO NOTHING
        RETURNING project_id, id
      ), resolved AS MATERIALIZED (
        SELECT i.*,
               coalesce(i.user_id, (SELECT x.user_id FROM identities x
                                    WHERE x.project_id = i.project_id AND x.anonymous_id = i.anonymous_id)) AS person,
               (i.flags & 8) <> 0 AS bot
        FROM input i JOIN fresh f ON f.project_id = i.project_id AND f.id = i.id
      ), stored AS (
        INSERT INTO events (project_id, id, ts, received_at, type, category, action, label, value, session_id,
                            user_id, anonymous_id, properties, page, user_context, flags, context, attribution,
                            country, device_type, browser, ip, is_bot)
        SELECT r.project_id, r.id, r.ts, r.received_at, r.type, r.category, r.action, r.label, r.value,
               r.session_id, r.person, r.anonymous_id, r.properties::jsonb, r.page::jsonb, r.user_context::jsonb,
               r.flags, r.context::jsonb, r.attribution::jsonb, r.country, r.device_type, r.browser, r.ip, r.bot
        FROM resolved r
      ), sess AS (
        INSERT INTO sessions AS s (project_id, session_id, user_id, anonymous_id, started_at, ended_at, event_count,
                                   page_count, entry_page, exit_page, context, attribution, country, device_type,
                                   browser, server_assigned)
        SELECT project_id, session_id, max(person), max(anonymous_id), min(ts), max(ts), count(*),
               count(*) FILTER (WHERE type = 'page_view'),
               (array_agg(page_path ORDER BY ts) FILTER (WHERE page_path IS NOT NULL))[1],
               (array_agg(page_path ORDER BY ts DESC) FILTER (WHERE page_path IS NOT NULL))[1],
               (array_agg(context ORDER BY ts) FILTER (WHERE context IS NOT NULL))[1]::jsonb,
               (array_agg(attribution ORDER BY ts) FILTER (WHERE attribution IS NOT NULL))[1]::jsonb,
               (array_agg(country ORDER BY ts) FILTER (WHERE country IS NOT NULL))[1],
               (array_agg(device_type ORDER BY ts) FILTER (WHERE device_type IS NOT NULL))[1],
               (array_agg(browser ORDER BY ts) FILTER (WHERE browser IS NOT NULL))[1],
               bool_or((flags & 16) <> 0)
        FROM resolved WHERE session_id IS NOT NULL AND NOT bot
        GROUP BY project_id, session_id
        ORDER BY project_id, session_id
        ON CONFLICT (project_id, session_id) DO UPDATE SET
          user_id = coalesce(excluded.user_id, s.user_id),
          anonymous_id = coalesce(s.anonymous_id, excluded.anonymous_id),
          entry_page = CASE WHEN excluded.started_at < s.started_at THEN coalesce(excluded.entry_page, s.entry_page)
                            ELSE coalesce(s.entry_page, excluded.entry_page) END,
          exit_page = CASE WHEN excluded.ended_at >= s.ended_at THEN coalesce(excluded.exit_page, s.exit_page)
                           ELSE coalesce(s.exit_page, excluded.exit_page) END,
          started_at = least(s.started_at, excluded.started_at),
          ended_at = greatest(s.ended_at, excluded.ended_at),
          event_count = s.event_count + excluded.event_count,
          page_count = s.page_count + excluded.page_count,
          context = coalesce(s.context, excluded.context),
          attribution = coalesce(s.attribution, excluded.attribution),
          country = coalesce(s.country, excluded.country),
          device_type = coalesce(s.device_type, excluded.device_type),
          browser = coalesce(s.browser, excluded.browser)
      ), people AS (
        INSERT INTO users AS u (project_id, user_key, identified, first_seen, last_seen, event_count, traits,
                                first_touch, last_touch)
        SELECT project_id, coalesce(person, anonymous_id), bool_or(person IS NOT NULL), min(ts), max(ts), count(*),
               (array_agg(user_context::jsonb -> 'userProperties' ORDER BY ts DESC)
                  FILTER (WHERE jsonb_typeof(user_context::jsonb -> 'userProperties') = 'object'))[1],
               (array_agg(attribution ORDER BY ts) FILTER (WHERE attribution IS NOT NULL))[1]::jsonb,
               (array_agg(attribution ORDER BY ts DESC) FILTER (WHERE attribution IS NOT NULL))[1]::jsonb
        FROM resolved WHERE NOT bot AND coalesce(person, anonymous_id) IS NOT NULL
        GROUP BY project_id, coalesce(person, anonymous_id)
        ORDER BY 1, 2
        ON CONFLICT (project_id, user_key) DO UPDATE SET
          identified = u.identified OR excluded.identified,
          first_touch = CASE WHEN excluded.first_seen < u.first_seen THEN coalesce(excluded.first_touch, u.first_touch)
                             ELSE coalesce(u.first_touch, excluded.first_touch) END,
          last_touch = CASE WHEN excluded.last_seen >= u.last_seen THEN coalesce(excluded.last_touch, u.last_touch)
                            ELSE coalesce(u.last_touch, excluded.last_touch) END,
          first_seen = least(u.first_seen, excluded.first_seen),
          last_seen = greatest(u.last_seen, excluded.last_seen),
          event_count = u.event_count + excluded.event_count,
          traits = CASE WHEN excluded.traits IS NULL THEN u.traits
                        ELSE coalesce(u.traits, '{}'::jsonb) || excluded.traits END
      ), touches AS (
        INSERT INTO touchpoints (project_id, user_key, ts, source, medium, campaign, event_type, attribution)
        SELECT project_id, coalesce(person, anonymous_id), ts, attribution::jsonb ->> 'source',
               attribution::jsonb ->> 'medium', attribution::jsonb ->> 'campaign', type, attribution::jsonb
        FROM resolved WHERE attribution IS NOT NULL AND NOT bot AND coalesce(person, anonymous_id) IS NOT NULL
      ), links AS (
        INSERT INTO identities (project_id, anonymous_id, user_id, linked_at)
        SELECT DISTINCT ON (project_id, anon) project_id, anon, uid, ts FROM (
          SELECT project_id, anonymous_id AS anon, user_id AS uid, ts FROM resolved
          WHERE type = 'identify' AND anonymous_id IS NOT NULL AND user_id IS NOT NULL
          UNION ALL
          SELECT project_id, properties::jsonb ->> 'previousId', user_id, ts FROM resolved
          WHERE type = 'alias' AND user_id IS NOT NULL AND properties::jsonb ->> 'previousId' IS NOT NULL
        ) l
        WHERE anon <> uid
        ORDER BY project_id, anon, ts
        ON CONFLICT DO NOTHING
        RETURNING project_id, anonymous_id, user_id
      )
      SELECT 'd' AS kind, i.ord, NULL AS project_id, NULL AS anonymous_id, NULL AS user_id FROM input i
      WHERE NOT EXISTS (SELECT 1 FROM fresh f WHERE f.project_id = i.project_id AND f.id = i.id)
      UNION ALL
      SELECT 'l', NULL, project_id, anonymous_id, user_id FROM links
      """;

  /**
   * Hands an anonymous (or previous) id's history to the user it was linked to: events, sessions, touchpoints,
   * and the person row (first/last seen, counts, traits and touches merged).
   */
  static final String MERGE_IDENTITY = """
      WITH ev AS (
        UPDATE events SET user_id = $3
        WHERE project_id = $1 AND ((anonymous_id = $2 AND user_id IS NULL) OR user_id = $2)
        RETURNING 1
      ), se AS (
        UPDATE sessions SET user_id = $3
        WHERE project_id = $1 AND ((anonymous_id = $2 AND user_id IS NULL) OR user_id = $2)
        RETURNING 1
      ), tp AS (
        UPDATE touchpoints SET user_key = $3 WHERE project_id = $1 AND user_key = $2 RETURNING 1
      ), old AS (
        DELETE FROM users WHERE project_id = $1 AND user_key = $2 RETURNING *
      ), merged AS (
        INSERT INTO users AS u (project_id, user_key, identified, first_seen, last_seen, event_count, traits,
                                first_touch, last_touch)
        SELECT project_id, $3, true, first_seen, last_seen, event_count, traits, first_touch, last_touch FROM old
        ON CONFLICT (project_id, user_key) DO UPDATE SET
          identified = true,
          first_touch = CASE WHEN excluded.first_seen < u.first_seen THEN coalesce(excluded.first_touch, u.first_touch)
                             ELSE coalesce(u.first_touch, excluded.first_touch) END,
          last_touch = CASE WHEN excluded.last_seen > u.last_seen THEN coalesce(excluded.last_touch, u.last_touch)
                            ELSE coalesce(u.last_touch, excluded.last_touch) END,
          first_seen = least(u.first_seen, excluded.first_seen),
          last_seen = greatest(u.last_seen, excluded.last_seen),
          event_count = u.event_count + excluded.event_count,
          traits = coalesce(excluded.traits, '{}'::jsonb) || coalesce(u.traits, '{}'::jsonb)
        RETURNING 1
      )
      SELECT (SELECT count(*) FROM ev) AS events, (SELECT count(*) FROM se) AS sessions,
             (SELECT count(*) FROM merged) AS people
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
    String[] context = new String[m];
    String[] attribution = new String[m];
    String[] country = new String[m];
    String[] deviceType = new String[m];
    String[] browser = new String[m];
    String[] ip = new String[m];
    String[] pagePath = new String[m];
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
      context[i] = en.contextJson();
      attribution[i] = en.attributionJson();
      country[i] = en.country();
      deviceType[i] = en.deviceType();
      browser[i] = en.browser();
      ip[i] = en.ip();
      pagePath[i] = e.client() == null ? null : e.client().pagePath();
    }
    Tuple t = Tuple.tuple()
        .addArrayOfString(project).addArrayOfUUID(id).addArrayOfOffsetDateTime(ts).addArrayOfOffsetDateTime(received)
        .addArrayOfString(type).addArrayOfString(category).addArrayOfString(action).addArrayOfString(label)
        .addArrayOfDouble(value).addArrayOfString(session).addArrayOfString(user).addArrayOfString(anon)
        .addArrayOfString(props).addArrayOfString(page).addArrayOfString(ctx).addArrayOfInteger(flags)
        .addArrayOfString(context).addArrayOfString(attribution).addArrayOfString(country)
        .addArrayOfString(deviceType).addArrayOfString(browser).addArrayOfString(ip).addArrayOfString(pagePath);
    return new Prepared(t, rows, repeats);
  }
}
