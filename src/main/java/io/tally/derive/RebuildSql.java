package io.tally.derive;

import io.tally.schema.EventColumns;
import io.tally.schema.RollupDimension;

import java.util.stream.Collectors;

/**
 * The derivation of the derived tables from the stored events, for a set of keys: what the start-up repair writes for
 * every session, person, hour and day that events received since the watermark touched (and, after an upgrade, for
 * all of them). Each {@code *_ROWS} query gives the rows of one table for the keys in the chunk table ({@code rb_chunk}:
 * project_id, k text, t timestamptz, d date); {@link DerivedRepair} inserts them whole, or one row at a time through
 * {@code tally_insert_each} when a chunk of one key is refused, so that only the refused row is set aside. The rules
 * are those {@link DerivedSql#FLUSH} merges rows by; docs/events.md, "Sessions and people", states them.
 */
final class RebuildSql {
  private RebuildSql() {
  }

  /** The measure columns of the rollups summed over events {@code e} (same order as the rollup tables). */
  private static final String SUMS = """
      count(*)::int8 AS events, coalesce(sum(tally_num(e.properties, 'tokens')), 0) AS tokens,
             coalesce(sum(tally_num(e.properties, 'cost')), 0) AS cost,
             coalesce(sum(tally_num(e.properties, 'amount')), 0) AS amount,
             coalesce(sum(tally_num(e.properties, 'responseTimeMs')), 0) AS rt_sum,
             count(tally_num(e.properties, 'responseTimeMs'))::int8 AS rt_n""";
  private static final String DUR = """
      , coalesce(sum(tally_num(e.properties, 'durationMs')), 0) AS dur_sum,
             count(tally_num(e.properties, 'durationMs'))::int8 AS dur_n""";

  /** The session context columns, each after {@code prefix} ("e.country, e.device_type, …"). */
  private static String contextColumns(String prefix) {
    return EventColumns.names(EventColumns.SESSION_CONTEXT, prefix);
  }

  /** GROUP BY 1, 2, … n. */
  private static String firstColumns(int n) {
    return java.util.stream.IntStream.rangeClosed(1, n).mapToObj(Integer::toString).collect(Collectors.joining(", "));
  }

  static final String CREATE_TEMP = """
      CREATE TEMP TABLE IF NOT EXISTS rb_chunk (project_id text, k text, t timestamptz, d date);
      CREATE TEMP TABLE IF NOT EXISTS rb_sessions (n bigserial, project_id text, k text, lo timestamptz,
                                                   hi timestamptz);
      CREATE TEMP TABLE IF NOT EXISTS rb_persons (n bigserial, project_id text, k text);
      CREATE TEMP TABLE IF NOT EXISTS rb_hours (n bigserial, project_id text, t timestamptz);
      CREATE TEMP TABLE IF NOT EXISTS rb_days (n bigserial, project_id text, d date);
      CREATE TEMP TABLE IF NOT EXISTS rb_sdays (project_id text, d date);
      TRUNCATE rb_chunk, rb_sessions, rb_persons, rb_hours, rb_days, rb_sdays
      """;

  /** Identity links of identify and alias events received since $1 (the first, by time, of each anonymous id). */
  static final String LINKS = """
      INSERT INTO identities (project_id, anonymous_id, user_id, linked_at)
      SELECT DISTINCT ON (project_id, anon) project_id, anon, uid, ts FROM (
        SELECT project_id, anonymous_id AS anon, user_id AS uid, ts, id FROM events
        WHERE received_at >= $1 AND type = 'identify' AND anonymous_id IS NOT NULL AND user_id IS NOT NULL
        UNION ALL
        SELECT project_id, properties ->> 'previousId', user_id, ts, id FROM events
        WHERE received_at >= $1 AND type = 'alias' AND user_id IS NOT NULL AND properties ->> 'previousId' IS NOT NULL
      ) l WHERE anon <> uid
      ORDER BY project_id, anon, ts, id
      ON CONFLICT DO NOTHING
      """;

  /** The links (as stored: the first one made wins) named by events received since $1. */
  static final String LINKED_SINCE = """
      SELECT DISTINCT x.project_id, x.anonymous_id, x.user_id FROM identities x JOIN (
        SELECT project_id, anonymous_id AS anon FROM events
        WHERE received_at >= $1 AND type = 'identify' AND anonymous_id IS NOT NULL AND user_id IS NOT NULL
        UNION ALL
        SELECT project_id, properties ->> 'previousId' FROM events
        WHERE received_at >= $1 AND type = 'alias' AND user_id IS NOT NULL AND properties ->> 'previousId' IS NOT NULL
      ) l ON l.project_id = x.project_id AND l.anon = x.anonymous_id
      """;

  /** A linked id's events go to its user ($1 project, $2 anonymous or previous id, $3 user); their sessions. */
  static final String MERGE_EVENTS = """
      WITH ev AS (
        UPDATE events SET user_id = $3
        WHERE project_id = $1 AND ((anonymous_id = $2 AND user_id IS NULL) OR user_id = $2)
        RETURNING session_id
      )
      SELECT DISTINCT session_id FROM ev WHERE session_id IS NOT NULL
      """;

  /** What events received since $1 touched: sessions (with the time range their events lie in), persons, hours. */
  static final String TOUCHED = """
      WITH e AS (
        SELECT project_id, session_id, coalesce(user_id, anonymous_id) AS person, ts FROM events
        WHERE received_at >= $1 AND NOT is_bot
      ), s AS (
        INSERT INTO rb_sessions (project_id, k, lo, hi)
        SELECT e.project_id, e.session_id, least(min(e.ts), min(x.started_at)), greatest(max(e.ts), max(x.ended_at))
        FROM e LEFT JOIN sessions x ON x.project_id = e.project_id AND x.session_id = e.session_id
        WHERE e.session_id IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2
        RETURNING 1
      ), p AS (
        INSERT INTO rb_persons (project_id, k)
        SELECT DISTINCT project_id, person FROM e WHERE person IS NOT NULL ORDER BY 1, 2
        RETURNING 1
      ), h AS (
        INSERT INTO rb_hours (project_id, t)
        SELECT DISTINCT project_id, date_trunc('hour', ts) FROM e ORDER BY 1, 2
        RETURNING 1
      )
      SELECT (SELECT count(*) FROM s), (SELECT count(*) FROM p), (SELECT count(*) FROM h)
      """;

  /**
   * Sessions whose events a link re-assigned ($1 project, $2 session ids), and the persons of the link ($3, $4): their
   * rows are derived again as well.
   */
  static final String TOUCHED_BY_LINK = """
      WITH s AS (
        INSERT INTO rb_sessions (project_id, k, lo, hi)
        SELECT x.project_id, x.session_id, x.started_at, x.ended_at FROM sessions x
        WHERE x.project_id = $1 AND x.session_id = ANY($2)
          AND NOT EXISTS (SELECT 1 FROM rb_sessions r WHERE r.project_id = x.project_id AND r.k = x.session_id)
        RETURNING 1
      )
      INSERT INTO rb_persons (project_id, k)
      SELECT $1, p FROM unnest(ARRAY[$3, $4]::text[]) p
      WHERE NOT EXISTS (SELECT 1 FROM rb_persons r WHERE r.project_id = $1 AND r.k = p)
      """;

  static final String DAYS_OF_HOURS = """
      INSERT INTO rb_days (project_id, d)
      SELECT DISTINCT project_id, (t AT TIME ZONE 'UTC')::date FROM rb_hours ORDER BY 1, 2
      """;

  /** The events of a block of touched sessions ($1 first, $2 last ordinal of rb_sessions), in one scan. */
  static final String SESSION_EVENTS = """
      CREATE TEMP TABLE rb_sev AS
      SELECT e.project_id, e.session_id, e.id, e.ts, e.type, e.user_id, e.anonymous_id, e.context, e.context_from,
             e.attribution, {ctx}, e.flags, tally_str(e.page, 'path') AS path
      FROM events e JOIN rb_sessions b ON b.project_id = e.project_id AND b.k = e.session_id AND b.n BETWEEN $1 AND $2
      WHERE NOT e.is_bot
        AND e.ts >= (SELECT min(lo) FROM rb_sessions WHERE n BETWEEN $1 AND $2)
        AND e.ts <= (SELECT max(hi) FROM rb_sessions WHERE n BETWEEN $1 AND $2)
      """.replace("{ctx}", contextColumns("e."));

  static final String SESSION_COLUMNS = "project_id, session_id, user_id, anonymous_id, started_at, ended_at, "
      + "event_count, page_count, entry_page, entry_at, exit_page, exit_at, context, " + contextColumns("") + ", "
      + "context_at, context_event, attribution, attribution_at, attribution_event, server_assigned";

  /** Sessions of the chunk, from their events (an event naming another's context reads it from that event). */
  static final String SESSION_ROWS = """
      SELECT e.project_id, e.session_id, max(e.user_id COLLATE "C") AS user_id,
             max(e.anonymous_id COLLATE "C") AS anonymous_id, min(e.ts) AS started_at, max(e.ts) AS ended_at,
             count(*)::int4 AS event_count, (count(*) FILTER (WHERE e.type = 'page_view'))::int4 AS page_count,
             (array_agg(e.path ORDER BY e.ts, e.path COLLATE "C") FILTER (WHERE e.path IS NOT NULL))[1] AS entry_page,
             min(e.ts) FILTER (WHERE e.path IS NOT NULL) AS entry_at,
             (array_agg(e.path ORDER BY e.ts DESC, e.path COLLATE "C" DESC)
                FILTER (WHERE e.path IS NOT NULL))[1] AS exit_page,
             max(e.ts) FILTER (WHERE e.path IS NOT NULL) AS exit_at,
             (array_agg(e.ctx ORDER BY e.ts, e.id) FILTER (WHERE e.ctx IS NOT NULL))[1] AS context,
             {ctx}
             min(e.ts) FILTER (WHERE e.ctx IS NOT NULL) AS context_at,
             (array_agg(e.id ORDER BY e.ts, e.id) FILTER (WHERE e.ctx IS NOT NULL))[1] AS context_event,
             (array_agg(e.attribution ORDER BY e.ts, e.id) FILTER (WHERE e.attribution IS NOT NULL))[1] AS attribution,
             min(e.ts) FILTER (WHERE e.attribution IS NOT NULL) AS attribution_at,
             (array_agg(e.id ORDER BY e.ts, e.id) FILTER (WHERE e.attribution IS NOT NULL))[1] AS attribution_event,
             bool_or((e.flags & 16) <> 0) AS server_assigned
      FROM (SELECT e.*, coalesce(e.context, (SELECT a.context FROM rb_sev a WHERE a.project_id = e.project_id
                                             AND a.session_id = e.session_id AND a.id = e.context_from LIMIT 1)) AS ctx
            FROM rb_sev e JOIN rb_chunk c ON c.project_id = e.project_id AND c.k = e.session_id) e
      GROUP BY e.project_id, e.session_id
      """.replace("{ctx}", EventColumns.SESSION_CONTEXT.stream()
      .map(c -> "(array_agg(e.%1$s ORDER BY e.ts, e.id) FILTER (WHERE e.ctx IS NOT NULL))[1] AS %1$s,"
          .formatted(c.column))
      .collect(Collectors.joining("\n             ")));

  /** The session days the chunk's sessions start on, before and after ({@code rb_sdays}). */
  static final String SESSION_DAYS_OF_CHUNK = """
      INSERT INTO rb_sdays SELECT DISTINCT s.project_id, (s.started_at AT TIME ZONE 'UTC')::date
      FROM sessions s JOIN rb_chunk c ON c.project_id = s.project_id AND c.k = s.session_id
      """;

  static final String SESSIONS_DELETE = """
      DELETE FROM sessions s USING rb_chunk c WHERE s.project_id = c.project_id AND s.session_id = c.k
      """;

  /** Session days of the chunk's days ({@code rb_chunk.d}), from the sessions table. */
  static final String SESSION_DAY_ROWS = """
      SELECT c.project_id, c.d AS day, count(*)::int8 AS sessions, coalesce(sum(s.duration_ms), 0)::int8 AS duration_sum,
             (count(*) FILTER (WHERE s.bounce))::int8 AS bounces
      FROM rb_chunk c JOIN sessions s ON s.project_id = c.project_id
        AND s.started_at >= c.d::timestamp AT TIME ZONE 'UTC' AND s.started_at < (c.d + 1)::timestamp AT TIME ZONE 'UTC'
      GROUP BY 1, 2
      """;

  static final String SESSION_DAYS_DELETE = """
      DELETE FROM session_days s USING rb_chunk c WHERE s.project_id = c.project_id AND s.day = c.d
      """;

  /** The events of the chunk's persons (two indexed joins, not one join on an OR, which can only nest-loop). */
  static final String PERSON_EVENTS = """
      CREATE TEMP TABLE rb_pev ON COMMIT DROP AS
      SELECT e.project_id, c.k AS person, e.id, e.ts, e.type, e.user_id, e.user_context, e.attribution, e.properties
      FROM rb_chunk c JOIN events e ON e.project_id = c.project_id AND e.user_id = c.k WHERE NOT e.is_bot
      UNION ALL
      SELECT e.project_id, c.k, e.id, e.ts, e.type, e.user_id, e.user_context, e.attribution, e.properties
      FROM rb_chunk c JOIN events e ON e.project_id = c.project_id AND e.user_id IS NULL AND e.anonymous_id = c.k
      WHERE NOT e.is_bot
      """;

  static final String USER_COLUMNS = "project_id, user_key, identified, first_seen, last_seen, event_count, "
      + "traits_src, first_touch, first_touch_at, first_touch_event, last_touch, last_touch_at, last_touch_event";

  static final String USER_ROWS = """
      WITH tr AS (
        SELECT project_id, person, jsonb_object_agg(k, jsonb_build_array(us, id, v)) AS src FROM (
          SELECT DISTINCT ON (project_id, person, k) project_id, person, k, v,
                 (extract(epoch FROM ts) * 1000000)::int8 AS us, id
          FROM rb_pev, jsonb_each(CASE WHEN jsonb_typeof(user_context -> 'userProperties') = 'object'
                                       THEN user_context -> 'userProperties' END) AS t(k, v)
          ORDER BY project_id, person, k, ts DESC, id DESC) x
        GROUP BY 1, 2
      )
      SELECT e.project_id, e.person AS user_key, bool_or(e.user_id IS NOT NULL) AS identified,
             min(e.ts) AS first_seen, max(e.ts) AS last_seen, count(*)::int8 AS event_count,
             (SELECT src FROM tr WHERE tr.project_id = e.project_id AND tr.person = e.person) AS traits_src,
             (array_agg(e.attribution ORDER BY e.ts, e.id) FILTER (WHERE e.attribution IS NOT NULL))[1] AS first_touch,
             min(e.ts) FILTER (WHERE e.attribution IS NOT NULL) AS first_touch_at,
             (array_agg(e.id ORDER BY e.ts, e.id) FILTER (WHERE e.attribution IS NOT NULL))[1] AS first_touch_event,
             (array_agg(e.attribution ORDER BY e.ts DESC, e.id DESC)
                FILTER (WHERE e.attribution IS NOT NULL))[1] AS last_touch,
             max(e.ts) FILTER (WHERE e.attribution IS NOT NULL) AS last_touch_at,
             (array_agg(e.id ORDER BY e.ts DESC, e.id DESC) FILTER (WHERE e.attribution IS NOT NULL))[1] AS last_touch_event
      FROM rb_pev e GROUP BY e.project_id, e.person
      """;

  static final String USER_DAY_ROWS = """
      SELECT DISTINCT project_id, (ts AT TIME ZONE 'UTC')::date AS day, person AS user_key FROM rb_pev
      """;

  static final String USER_DAILY_COLUMNS = "project_id, day, user_key, type, provider, model, feature, events, tokens, "
      + "cost, amount, rt_sum, rt_n";

  static final String USER_DAILY_ROWS = """
      SELECT e.project_id, (e.ts AT TIME ZONE 'UTC')::date AS day, e.person AS user_key, e.type,
             coalesce(tally_str(e.properties, 'provider'), '') AS provider,
             coalesce(tally_str(e.properties, 'model'), '') AS model,
             CASE WHEN e.type = 'feature_used' THEN coalesce(tally_str(e.properties, 'feature'), '') ELSE '' END AS feature,
             %s
      FROM rb_pev e GROUP BY 1, 2, 3, 4, 5, 6, 7
      """.formatted(SUMS);

  static final String TOUCHPOINT_COLUMNS = "project_id, user_key, ts, source, medium, campaign, event_type, "
      + "attribution, event_id";

  static final String TOUCHPOINT_ROWS = """
      SELECT project_id, person AS user_key, ts, attribution ->> 'source' AS source, attribution ->> 'medium' AS medium,
             attribution ->> 'campaign' AS campaign, type AS event_type, attribution, id AS event_id
      FROM rb_pev WHERE attribution IS NOT NULL
      """;

  static final String PERSONS_DELETE = """
      WITH u AS (DELETE FROM users x USING rb_chunk c WHERE x.project_id = c.project_id AND x.user_key = c.k),
           d AS (DELETE FROM user_days x USING rb_chunk c WHERE x.project_id = c.project_id AND x.user_key = c.k),
           l AS (DELETE FROM user_daily x USING rb_chunk c WHERE x.project_id = c.project_id AND x.user_key = c.k)
      DELETE FROM touchpoints x USING rb_chunk c WHERE x.project_id = c.project_id AND x.user_key = c.k
      """;

  /** Events {@code e} of the chunk's hours ({@code rb_chunk.t}). */
  private static final String CHUNK_HOURS = """
      e.ts >= (SELECT min(t) FROM rb_chunk) AND e.ts < (SELECT max(t) FROM rb_chunk) + interval '1 hour'
        AND EXISTS (SELECT 1 FROM rb_chunk c WHERE c.project_id = e.project_id AND c.t = date_trunc('hour', e.ts))
        AND NOT e.is_bot""";

  static final String ROLLUP_COLUMNS = "project_id, %s, " + RollupDimension.COLUMNS + ", events, "
      + "tokens, cost, amount, rt_sum, rt_n, dur_sum, dur_n";

  static final String HOURLY_ROWS = """
      SELECT e.project_id, date_trunc('hour', e.ts) AS hour, %s, %s%s
      FROM events e WHERE %s
      GROUP BY %s
      """.formatted(RollupDimension.ALL.stream().map(d -> d.keyOf("e") + " AS " + d.column())
      .collect(Collectors.joining(", ")), SUMS, DUR, CHUNK_HOURS, firstColumns(2 + RollupDimension.ALL.size()));

  static final String HOURLY_T_ROWS = """
      SELECT r.project_id, r.hour, {typeOnly},
             sum(r.events)::int8 AS events, sum(r.tokens) AS tokens, sum(r.cost) AS cost, sum(r.amount) AS amount,
             sum(r.rt_sum) AS rt_sum, sum(r.rt_n)::int8 AS rt_n, sum(r.dur_sum) AS dur_sum, sum(r.dur_n)::int8 AS dur_n
      FROM rollup_hourly r JOIN rb_chunk c ON c.project_id = r.project_id AND c.t = r.hour
      GROUP BY 1, 2, 3
      """.replace("{typeOnly}", RollupDimension.typeOnly("r.type"));

  static final String MINUTE_COLUMNS = "project_id, minute, sent, errors";

  static final String MINUTE_ROWS = """
      SELECT e.project_id, date_trunc('minute', e.ts) AS minute, count(*) FILTER (WHERE e.type = 'message_sent') AS sent,
             count(*) FILTER (WHERE e.type = 'error') AS errors
      FROM events e WHERE e.type IN ('message_sent', 'error') AND %s
      GROUP BY 1, 2
      """.formatted(CHUNK_HOURS);

  static final String MINUTE_T_COLUMNS = "project_id, minute, type, events, tokens, cost, amount, rt_sum, rt_n, "
      + "dur_sum, dur_n";

  static final String MINUTE_T_ROWS = """
      SELECT e.project_id, date_trunc('minute', e.ts) AS minute, e.type, %s%s
      FROM events e WHERE %s
      GROUP BY 1, 2, 3
      """.formatted(SUMS, DUR, CHUNK_HOURS);

  static final String HOURS_DELETE = """
      WITH h AS (DELETE FROM rollup_hourly r USING rb_chunk c WHERE r.project_id = c.project_id AND r.hour = c.t),
           t AS (DELETE FROM rollup_hourly_t r USING rb_chunk c WHERE r.project_id = c.project_id AND r.hour = c.t),
           m AS (DELETE FROM rollup_minute r USING rb_chunk c WHERE r.project_id = c.project_id
                   AND r.minute >= c.t AND r.minute < c.t + interval '1 hour')
      DELETE FROM rollup_minute_t r USING rb_chunk c WHERE r.project_id = c.project_id
        AND r.minute >= c.t AND r.minute < c.t + interval '1 hour'
      """;

  /** The chunk's days ({@code rb_chunk.d}) from their hours in the hourly rollup (re-derived first). */
  static final String DAILY_ROWS = """
      SELECT h.project_id, c.d AS day, {dims},
             sum(h.events)::int8 AS events, sum(h.tokens) AS tokens, sum(h.cost) AS cost, sum(h.amount) AS amount,
             sum(h.rt_sum) AS rt_sum, sum(h.rt_n)::int8 AS rt_n, sum(h.dur_sum) AS dur_sum, sum(h.dur_n)::int8 AS dur_n
      FROM rb_chunk c JOIN rollup_hourly h ON h.project_id = c.project_id
        AND h.hour >= c.d::timestamp AT TIME ZONE 'UTC' AND h.hour < (c.d + 1)::timestamp AT TIME ZONE 'UTC'
      GROUP BY {groupBy}
      """.replace("{dims}", RollupDimension.columns("h.")).replace("{groupBy}",
      firstColumns(2 + RollupDimension.ALL.size()));

  static final String DAILY_T_ROWS = """
      SELECT r.project_id, r.day, {typeOnly},
             sum(r.events)::int8 AS events, sum(r.tokens) AS tokens, sum(r.cost) AS cost, sum(r.amount) AS amount,
             sum(r.rt_sum) AS rt_sum, sum(r.rt_n)::int8 AS rt_n, sum(r.dur_sum) AS dur_sum, sum(r.dur_n)::int8 AS dur_n
      FROM rollup_daily r JOIN rb_chunk c ON c.project_id = r.project_id AND c.d = r.day
      GROUP BY 1, 2, 3
      """.replace("{typeOnly}", RollupDimension.typeOnly("r.type"));

  static final String PAGE_COLUMNS = "project_id, day, path, type, events, tokens, cost, amount, rt_sum, rt_n, dur_sum, "
      + "dur_n";

  static final String PAGE_ROWS = """
      SELECT e.project_id, (e.ts AT TIME ZONE 'UTC')::date AS day,
             left(coalesce(tally_str(e.page, 'path'), ''), %d) AS path, e.type, %s%s
      FROM events e
      WHERE e.ts >= (SELECT min(d) FROM rb_chunk)::timestamp AT TIME ZONE 'UTC'
        AND e.ts < ((SELECT max(d) FROM rb_chunk) + 1)::timestamp AT TIME ZONE 'UTC'
        AND EXISTS (SELECT 1 FROM rb_chunk c WHERE c.project_id = e.project_id
                    AND c.d = (e.ts AT TIME ZONE 'UTC')::date)
        AND NOT e.is_bot
      GROUP BY 1, 2, 3, 4
      """.formatted(DerivedBatch.PAGE_PATH_KEY, SUMS, DUR);

  static final String DAYS_DELETE = """
      WITH d AS (DELETE FROM rollup_daily r USING rb_chunk c WHERE r.project_id = c.project_id AND r.day = c.d),
           t AS (DELETE FROM rollup_daily_t r USING rb_chunk c WHERE r.project_id = c.project_id AND r.day = c.d)
      DELETE FROM rollup_page_daily r USING rb_chunk c WHERE r.project_id = c.project_id AND r.day = c.d
      """;
}
