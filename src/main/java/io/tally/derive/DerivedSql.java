package io.tally.derive;

import io.tally.schema.RollupDimension;

/** SQL of the derived tables: the coalesced upsert of one flush and the hand-over of a linked id's rows. */
final class DerivedSql {
  private DerivedSql() {
  }

  /**
   * How a person's row takes in another aggregate of the same person: times take their least or greatest, counts add,
   * first and last touch go with the earliest and latest event that had one, and each trait with the latest event that
   * set it. {@code u} is the stored row, {@code excluded} the one coming in.
   */
  private static final String PEOPLE_MERGE = """
      ON CONFLICT (project_id, user_key) DO UPDATE SET
        identified = u.identified OR excluded.identified,
        first_touch = CASE WHEN tally_first(excluded.first_touch_at, excluded.first_touch_event, u.first_touch_at,
                                            u.first_touch_event) THEN excluded.first_touch ELSE u.first_touch END,
        first_touch_event = CASE WHEN tally_first(excluded.first_touch_at, excluded.first_touch_event,
                                                  u.first_touch_at, u.first_touch_event)
                                 THEN excluded.first_touch_event ELSE u.first_touch_event END,
        first_touch_at = CASE WHEN tally_first(excluded.first_touch_at, excluded.first_touch_event, u.first_touch_at,
                                               u.first_touch_event) THEN excluded.first_touch_at
                              ELSE u.first_touch_at END,
        last_touch = CASE WHEN tally_last(excluded.last_touch_at, excluded.last_touch_event, u.last_touch_at,
                                          u.last_touch_event) THEN excluded.last_touch ELSE u.last_touch END,
        last_touch_event = CASE WHEN tally_last(excluded.last_touch_at, excluded.last_touch_event, u.last_touch_at,
                                                u.last_touch_event) THEN excluded.last_touch_event
                                ELSE u.last_touch_event END,
        last_touch_at = CASE WHEN tally_last(excluded.last_touch_at, excluded.last_touch_event, u.last_touch_at,
                                             u.last_touch_event) THEN excluded.last_touch_at ELSE u.last_touch_at END,
        first_seen = least(u.first_seen, excluded.first_seen),
        last_seen = greatest(u.last_seen, excluded.last_seen),
        event_count = u.event_count + excluded.event_count,
        traits_src = CASE WHEN excluded.traits_src IS NULL THEN u.traits_src
                          ELSE tally_traits_merge(u.traits_src, excluded.traits_src) END
      """;

  /**
   * One flush: pre-aggregated sessions and people, touchpoints, links, rollups; moves the watermark ($34, unless
   * null). Every column merges so that the order flushes (and their rows) arrive in does not matter: sums add, times
   * take their least or greatest, a "first" or "last" value goes with the time (and event id) it comes from.
   */
  static final String FLUSH = """
      WITH s_in AS (
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[],
                             $7::int4[], $8::int4[], $9::text[], $10::text[], $11::text[], $12::text[], $13::bool[],
                             $81::timestamptz[], $82::timestamptz[], $83::timestamptz[], $84::uuid[],
                             $85::timestamptz[], $86::uuid[], {CTX_PARAMS})
          AS t(project_id, session_id, user_id, anonymous_id, started_at, ended_at, event_count, page_count,
               entry_page, exit_page, context, attribution, server_assigned, entry_at, exit_at, context_at,
               context_event, attribution_at, attribution_event, {CTX})
      ), old_s AS (
        SELECT s.project_id, s.started_at, s.duration_ms, s.bounce, coalesce(s.user_id, s.anonymous_id) AS person
        FROM sessions s JOIN s_in i ON s.project_id = i.project_id AND s.session_id = i.session_id
      ), sess AS (
        INSERT INTO sessions AS s (project_id, session_id, user_id, anonymous_id, started_at, ended_at, event_count,
                                   page_count, entry_page, exit_page, context, attribution, {CTX}, server_assigned,
                                   entry_at, exit_at, context_at, context_event, attribution_at, attribution_event)
        SELECT project_id, session_id,
               coalesce((SELECT x.user_id FROM identities x
                         WHERE x.project_id = i.project_id AND x.anonymous_id = coalesce(i.user_id, i.anonymous_id)),
                        user_id),
               anonymous_id, started_at, ended_at, event_count, page_count, entry_page, exit_page, context::jsonb,
               attribution::jsonb, {CTX}, server_assigned, entry_at, exit_at, context_at, context_event,
               attribution_at, attribution_event
        FROM s_in i ORDER BY project_id, session_id
        ON CONFLICT (project_id, session_id) DO UPDATE SET
          user_id = greatest(s.user_id COLLATE "C", excluded.user_id COLLATE "C"),
          anonymous_id = greatest(s.anonymous_id COLLATE "C", excluded.anonymous_id COLLATE "C"),
          entry_page = CASE WHEN tally_first(excluded.entry_at, excluded.entry_page, s.entry_at, s.entry_page)
                            THEN excluded.entry_page ELSE s.entry_page END,
          entry_at = CASE WHEN tally_first(excluded.entry_at, excluded.entry_page, s.entry_at, s.entry_page)
                          THEN excluded.entry_at ELSE s.entry_at END,
          exit_page = CASE WHEN tally_last(excluded.exit_at, excluded.exit_page, s.exit_at, s.exit_page)
                           THEN excluded.exit_page ELSE s.exit_page END,
          exit_at = CASE WHEN tally_last(excluded.exit_at, excluded.exit_page, s.exit_at, s.exit_page)
                         THEN excluded.exit_at ELSE s.exit_at END,
          started_at = least(s.started_at, excluded.started_at),
          ended_at = greatest(s.ended_at, excluded.ended_at),
          event_count = s.event_count + excluded.event_count,
          page_count = s.page_count + excluded.page_count,
          context = CASE WHEN tally_first(excluded.context_at, excluded.context_event, s.context_at, s.context_event)
                         THEN excluded.context ELSE s.context END,
          {CTX_MERGE}
          context_event = CASE WHEN tally_first(excluded.context_at, excluded.context_event, s.context_at,
                                                s.context_event) THEN excluded.context_event ELSE s.context_event END,
          context_at = CASE WHEN tally_first(excluded.context_at, excluded.context_event, s.context_at,
                                             s.context_event) THEN excluded.context_at ELSE s.context_at END,
          attribution = CASE WHEN tally_first(excluded.attribution_at, excluded.attribution_event, s.attribution_at,
                                              s.attribution_event) THEN excluded.attribution ELSE s.attribution END,
          attribution_event = CASE WHEN tally_first(excluded.attribution_at, excluded.attribution_event,
                                                    s.attribution_at, s.attribution_event)
                                   THEN excluded.attribution_event ELSE s.attribution_event END,
          attribution_at = CASE WHEN tally_first(excluded.attribution_at, excluded.attribution_event, s.attribution_at,
                                                 s.attribution_event) THEN excluded.attribution_at
                                ELSE s.attribution_at END,
          server_assigned = s.server_assigned OR excluded.server_assigned
        RETURNING s.project_id, s.started_at, s.duration_ms, s.bounce, coalesce(s.user_id, s.anonymous_id) AS person
      ), sdays AS (
        INSERT INTO session_days AS d (project_id, day, sessions, duration_sum, bounces)
        SELECT project_id, (started_at AT TIME ZONE 'UTC')::date, sum(n), sum(dur), sum(b) FROM (
          SELECT project_id, started_at, 1 AS n, duration_ms AS dur, bounce::int AS b FROM sess
          UNION ALL SELECT project_id, started_at, -1, -duration_ms, -(bounce::int) FROM old_s
        ) x GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (project_id, day) DO UPDATE SET sessions = d.sessions + excluded.sessions,
          duration_sum = d.duration_sum + excluded.duration_sum, bounces = d.bounces + excluded.bounces
      ), p_in AS (
        SELECT t.*, coalesce((SELECT x.user_id FROM identities x
                                         WHERE x.project_id = t.project_id AND x.anonymous_id = coalesce(t.user_id, t.anonymous_id)),
                             t.user_id, t.anonymous_id) AS person
        FROM unnest($14::text[], $15::text[], $16::text[], $17::timestamptz[], $18::timestamptz[], $19::int8[],
                    $20::text[], $21::text[], $22::text[], $87::timestamptz[], $88::uuid[], $89::timestamptz[],
                    $90::uuid[])
          AS t(project_id, user_id, anonymous_id, first_seen, last_seen, event_count, traits_src, first_touch,
               last_touch, first_touch_at, first_touch_event, last_touch_at, last_touch_event)
      ), people AS (
        INSERT INTO users AS u (project_id, user_key, identified, first_seen, last_seen, event_count, traits_src,
                                first_touch, first_touch_at, first_touch_event, last_touch, last_touch_at,
                                last_touch_event)
        SELECT project_id, person, bool_or(person IS DISTINCT FROM anonymous_id OR user_id IS NOT NULL),
               min(first_seen), max(last_seen), sum(event_count),
               tally_traits_union(traits_src::jsonb) FILTER (WHERE traits_src IS NOT NULL),
               (array_agg(first_touch::jsonb ORDER BY first_touch_at, first_touch_event)
                  FILTER (WHERE first_touch IS NOT NULL))[1],
               min(first_touch_at),
               (array_agg(first_touch_event ORDER BY first_touch_at, first_touch_event)
                  FILTER (WHERE first_touch IS NOT NULL))[1],
               (array_agg(last_touch::jsonb ORDER BY last_touch_at DESC, last_touch_event DESC)
                  FILTER (WHERE last_touch IS NOT NULL))[1],
               max(last_touch_at),
               (array_agg(last_touch_event ORDER BY last_touch_at DESC, last_touch_event DESC)
                  FILTER (WHERE last_touch IS NOT NULL))[1]
        FROM p_in GROUP BY project_id, person ORDER BY 1, 2
        {PEOPLE_MERGE}
        RETURNING project_id, user_key, first_seen
      ), touches AS (
        INSERT INTO touchpoints (project_id, user_key, ts, source, medium, campaign, event_type, attribution, event_id)
        SELECT t.project_id,
               coalesce((SELECT x.user_id FROM identities x
                                    WHERE x.project_id = t.project_id AND x.anonymous_id = coalesce(t.user_id, t.anonymous_id)),
                        t.user_id, t.anonymous_id),
               t.ts, a ->> 'source', a ->> 'medium', a ->> 'campaign', t.event_type, a, t.event_id
        FROM unnest($23::text[], $24::text[], $25::text[], $26::timestamptz[], $27::text[], $28::text[], $29::uuid[])
          AS t(project_id, user_id, anonymous_id, ts, event_type, attribution, event_id),
          LATERAL (SELECT t.attribution::jsonb AS a) j
        ON CONFLICT (project_id, event_id) DO NOTHING
      ), links AS (
        INSERT INTO identities (project_id, anonymous_id, user_id, linked_at)
        SELECT DISTINCT ON (project_id, anon) project_id, anon, uid, ts
        FROM unnest($30::text[], $31::text[], $32::text[], $33::timestamptz[]) AS t(project_id, anon, uid, ts)
        WHERE anon <> uid
        ORDER BY project_id, anon, ts
        ON CONFLICT DO NOTHING
        RETURNING project_id, anonymous_id, user_id
      ), progress AS (
        UPDATE derived_progress SET applied_until = $34 WHERE id = 1 AND $34::timestamptz IS NOT NULL
      ), hourly AS (
        INSERT INTO rollup_hourly AS r ({HOURLY_COLUMNS})
        SELECT * FROM unnest({HOURLY_PARAMS})
        ORDER BY {KEY_ORDER}
        ON CONFLICT (project_id, hour, {DIMS}) DO UPDATE SET
          events = r.events + excluded.events, tokens = r.tokens + excluded.tokens, cost = r.cost + excluded.cost,
          amount = r.amount + excluded.amount, rt_sum = r.rt_sum + excluded.rt_sum, rt_n = r.rt_n + excluded.rt_n,
          dur_sum = r.dur_sum + excluded.dur_sum, dur_n = r.dur_n + excluded.dur_n
      ), daily AS (
        INSERT INTO rollup_daily AS r ({DAILY_COLUMNS})
        SELECT project_id, (hour AT TIME ZONE 'UTC')::date, {DIMS},
               sum(events), sum(tokens), sum(cost), sum(amount), sum(rt_sum), sum(rt_n), sum(dur_sum), sum(dur_n)
        FROM unnest({HOURLY_PARAMS}) AS h({HOURLY_COLUMNS})
        GROUP BY {KEY_ORDER} ORDER BY {KEY_ORDER}
        ON CONFLICT (project_id, day, {DIMS}) DO UPDATE SET
          events = r.events + excluded.events, tokens = r.tokens + excluded.tokens, cost = r.cost + excluded.cost,
          amount = r.amount + excluded.amount, rt_sum = r.rt_sum + excluded.rt_sum, rt_n = r.rt_n + excluded.rt_n,
          dur_sum = r.dur_sum + excluded.dur_sum, dur_n = r.dur_n + excluded.dur_n
      ), hourly_t AS (
        INSERT INTO rollup_hourly_t AS r ({HOURLY_COLUMNS})
        SELECT project_id, hour, {TYPE_ONLY}, sum(events), sum(tokens), sum(cost), sum(amount),
               sum(rt_sum), sum(rt_n), sum(dur_sum), sum(dur_n)
        FROM unnest({HOURLY_PARAMS}) AS h({HOURLY_COLUMNS})
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (project_id, hour, {DIMS}) DO UPDATE SET
          events = r.events + excluded.events, tokens = r.tokens + excluded.tokens, cost = r.cost + excluded.cost,
          amount = r.amount + excluded.amount, rt_sum = r.rt_sum + excluded.rt_sum, rt_n = r.rt_n + excluded.rt_n,
          dur_sum = r.dur_sum + excluded.dur_sum, dur_n = r.dur_n + excluded.dur_n
      ), daily_t AS (
        INSERT INTO rollup_daily_t AS r ({DAILY_COLUMNS})
        SELECT project_id, (hour AT TIME ZONE 'UTC')::date, {TYPE_ONLY}, sum(events), sum(tokens), sum(cost),
               sum(amount), sum(rt_sum), sum(rt_n), sum(dur_sum), sum(dur_n)
        FROM unnest({HOURLY_PARAMS}) AS h({HOURLY_COLUMNS})
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (project_id, day, {DIMS}) DO UPDATE SET
          events = r.events + excluded.events, tokens = r.tokens + excluded.tokens, cost = r.cost + excluded.cost,
          amount = r.amount + excluded.amount, rt_sum = r.rt_sum + excluded.rt_sum, rt_n = r.rt_n + excluded.rt_n,
          dur_sum = r.dur_sum + excluded.dur_sum, dur_n = r.dur_n + excluded.dur_n
      ), minutes_t AS (
        INSERT INTO rollup_minute_t AS r
        SELECT * FROM unnest($57::text[], $58::timestamptz[], $59::text[], $60::int8[], $61::float8[], $62::float8[],
                             $63::float8[], $64::float8[], $65::int8[], $66::float8[], $67::int8[])
        ORDER BY 1, 2, 3
        ON CONFLICT (project_id, minute, type) DO UPDATE SET
          events = r.events + excluded.events, tokens = r.tokens + excluded.tokens, cost = r.cost + excluded.cost,
          amount = r.amount + excluded.amount, rt_sum = r.rt_sum + excluded.rt_sum, rt_n = r.rt_n + excluded.rt_n,
          dur_sum = r.dur_sum + excluded.dur_sum, dur_n = r.dur_n + excluded.dur_n
      ), pages AS (
        INSERT INTO rollup_page_daily AS r
        SELECT * FROM unnest($68::text[], $69::date[], $70::text[], $71::text[], $72::int8[], $73::float8[],
                             $74::float8[], $75::float8[], $76::float8[], $77::int8[], $78::float8[], $79::int8[])
        ORDER BY 1, 2, 3, 4
        ON CONFLICT (project_id, day, path, type) DO UPDATE SET
          events = r.events + excluded.events, tokens = r.tokens + excluded.tokens, cost = r.cost + excluded.cost,
          amount = r.amount + excluded.amount, rt_sum = r.rt_sum + excluded.rt_sum, rt_n = r.rt_n + excluded.rt_n,
          dur_sum = r.dur_sum + excluded.dur_sum, dur_n = r.dur_n + excluded.dur_n
      ), minutes AS (
        INSERT INTO rollup_minute AS r
        SELECT * FROM unnest($35::text[], $36::timestamptz[], $37::int8[], $38::int8[]) ORDER BY 1, 2
        ON CONFLICT (project_id, minute) DO UPDATE SET sent = r.sent + excluded.sent, errors = r.errors + excluded.errors
      ), days AS (
        INSERT INTO user_days
        SELECT DISTINCT t.project_id, t.day,
               coalesce((SELECT x.user_id FROM identities x
                                    WHERE x.project_id = t.project_id AND x.anonymous_id = coalesce(t.user_id, t.anonymous_id)),
                        t.user_id, t.anonymous_id)
        FROM unnest($39::text[], $40::date[], $41::text[], $42::text[]) AS t(project_id, day, user_id, anonymous_id)
        ORDER BY 1, 2, 3
        ON CONFLICT DO NOTHING
        RETURNING project_id, day, user_key
      ), ud AS (
        SELECT project_id, day, person AS user_key, type, provider, model, feature, sum(events) AS events,
               sum(tokens) AS tokens, sum(cost) AS cost, sum(amount) AS amount, sum(rt_sum) AS rt_sum,
               sum(rt_n) AS rt_n
        FROM (SELECT t.*, coalesce((SELECT x.user_id FROM identities x
                                               WHERE x.project_id = t.project_id AND x.anonymous_id = coalesce(t.user_id, t.anonymous_id)),
                                   t.user_id, t.anonymous_id) AS person
              FROM unnest($43::text[], $44::date[], $45::text[], $46::text[], $47::text[], $48::text[], $49::text[],
                          $50::text[], $51::int8[], $52::float8[], $53::float8[], $54::float8[], $55::float8[],
                          $56::int8[])
                AS t(project_id, day, user_id, anonymous_id, type, provider, model, feature, events, tokens, cost,
                     amount, rt_sum, rt_n)) q
        GROUP BY 1, 2, 3, 4, 5, 6, 7
      ), udaily AS (
        INSERT INTO user_daily AS r
        SELECT * FROM ud ORDER BY 1, 3, 2, 4, 5, 6, 7 -- the primary key's order
        ON CONFLICT (project_id, day, user_key, type, provider, model, feature) DO UPDATE SET
          events = r.events + excluded.events, tokens = r.tokens + excluded.tokens, cost = r.cost + excluded.cost,
          amount = r.amount + excluded.amount, rt_sum = r.rt_sum + excluded.rt_sum, rt_n = r.rt_n + excluded.rt_n
      )
      SELECT 'l' AS kind, project_id, anonymous_id, user_id, NULL::int4 AS day, NULL::int8 AS n, NULL::text AS provider,
             NULL::text AS model, NULL::text AS feature, NULL::float8 AS tokens, NULL::float8 AS cost,
             NULL::float8 AS amount
      FROM links
      UNION ALL SELECT 'd', project_id, user_key, NULL, day - date '1970-01-01', NULL, NULL, NULL, NULL, NULL, NULL, NULL
      FROM days
      -- persons whose first_seen this flush set (new, or an event older than the stored first_seen): it is then one
      -- of this batch's times, so at or after the batch's earliest ($80); persons seen before keep an older one
      UNION ALL SELECT 'p', project_id, user_key, NULL, NULL, floor(extract(epoch FROM first_seen) * 1000)::int8,
                       NULL, NULL, NULL, NULL, NULL, NULL
      FROM people WHERE first_seen >= $80
      UNION ALL SELECT 's', project_id, NULL, NULL, NULL, floor(extract(epoch FROM min(started_at)) * 1000)::int8,
                       NULL, NULL, NULL, NULL, NULL, NULL
      FROM sess GROUP BY project_id
      -- what this flush added to each person-day, for the pattern index: the per-person rollup rows…
      UNION ALL SELECT 'u', project_id, user_key, type, day - date '1970-01-01', events::int8, provider, model, feature,
                       tokens, cost, amount
      FROM ud
      -- …and the sessions started per person-day (an extended session: its old row out, its new row in)
      UNION ALL SELECT 'v', project_id, person, NULL, day, sum(n)::int8, NULL, NULL, NULL, sum(dur)::float8, NULL, NULL
      FROM (SELECT project_id, person, (started_at AT TIME ZONE 'UTC')::date - date '1970-01-01' AS day, 1 AS n,
                   duration_ms AS dur FROM sess
            UNION ALL SELECT project_id, person, (started_at AT TIME ZONE 'UTC')::date - date '1970-01-01', -1,
                   -duration_ms FROM old_s) x
      WHERE person IS NOT NULL GROUP BY project_id, person, day HAVING sum(n) <> 0 OR sum(dur) <> 0
      -- the transaction's id (a snapshot taken elsewhere can tell whether it saw this flush)
      UNION ALL SELECT 'x', NULL, NULL, NULL, NULL, pg_current_xact_id()::text::int8, NULL, NULL, NULL, NULL, NULL,
                       NULL
      """.replace("{PEOPLE_MERGE}", PEOPLE_MERGE.strip()).replace("{CTX_PARAMS}", FlushColumns.contextParams())
      .replace("{CTX_MERGE}", FlushColumns.contextMerge()).replace("{CTX}", FlushColumns.context())
      .replace("{HOURLY_PARAMS}", FlushColumns.hourlyParams()).replace("{HOURLY_COLUMNS}", FlushColumns.rollup("hour"))
      .replace("{DAILY_COLUMNS}", FlushColumns.rollup("day")).replace("{KEY_ORDER}", FlushColumns.keyOrder())
      .replace("{TYPE_ONLY}", RollupDimension.typeOnly("type")).replace("{DIMS}", RollupDimension.COLUMNS);

  /**
   * Hands a linked id's derived rows to its user ($1 project, $2 anonymous or previous id, $3 user, $4 the sessions
   * holding the events {@link RebuildSql#MERGE_EVENTS} just gave to the user): sessions take the greatest user id
   * their events now carry, touchpoints and person-days move, the person rows merge. Runs in the transaction of the
   * flush that recorded the link, after that statement.
   */
  static final String MERGE_DERIVED = """
      WITH se AS (
        UPDATE sessions s SET user_id = CASE
            WHEN s.user_id IS DISTINCT FROM $2 THEN greatest(s.user_id COLLATE "C", $3 COLLATE "C")
            ELSE (SELECT max(e.user_id COLLATE "C") FROM events e
                  WHERE e.project_id = s.project_id AND e.session_id = s.session_id AND NOT e.is_bot
                    AND e.ts >= s.started_at AND e.ts <= s.ended_at) END
        WHERE s.project_id = $1 AND s.session_id = ANY($4::text[])
        RETURNING 1
      ), tp AS (
        UPDATE touchpoints SET user_key = $3 WHERE project_id = $1 AND user_key = $2 RETURNING 1
      ), ud_old AS (
        DELETE FROM user_days WHERE project_id = $1 AND user_key = $2 RETURNING day
      ), ud AS (
        INSERT INTO user_days SELECT $1, day, $3 FROM ud_old ON CONFLICT DO NOTHING RETURNING 1
      ), udl_old AS (
        DELETE FROM user_daily WHERE project_id = $1 AND user_key = $2 RETURNING *
      ), udl AS (
        INSERT INTO user_daily AS r
        SELECT project_id, day, $3, type, provider, model, feature, events, tokens, cost, amount, rt_sum, rt_n
        FROM udl_old
        ON CONFLICT (project_id, day, user_key, type, provider, model, feature) DO UPDATE SET
          events = r.events + excluded.events, tokens = r.tokens + excluded.tokens, cost = r.cost + excluded.cost,
          amount = r.amount + excluded.amount, rt_sum = r.rt_sum + excluded.rt_sum, rt_n = r.rt_n + excluded.rt_n
        RETURNING 1
      ), old AS (
        DELETE FROM users WHERE project_id = $1 AND user_key = $2 RETURNING *
      ), merged AS (
        INSERT INTO users AS u (project_id, user_key, identified, first_seen, last_seen, event_count, traits_src,
                                first_touch, first_touch_at, first_touch_event, last_touch, last_touch_at,
                                last_touch_event)
        SELECT project_id, $3, true, first_seen, last_seen, event_count, traits_src, first_touch, first_touch_at,
               first_touch_event, last_touch, last_touch_at, last_touch_event
        FROM old
        {PEOPLE_MERGE}
        RETURNING 1
      )
      SELECT (SELECT count(*) FROM se) AS sessions, (SELECT count(*) FROM merged) AS people
      """.replace("{PEOPLE_MERGE}", PEOPLE_MERGE.strip());

  /**
   * Links made in the last minute, applied again to the events: an insert whose snapshot predates a link and that
   * committed after the link's merge stored an anonymous-only event without its user, or an event under the previous
   * id of an alias (the flush counted it under the user, through the link).
   */
  static final String REMERGE_RECENT = """
      WITH x AS (
        SELECT project_id, anonymous_id, user_id FROM identities WHERE created_at > now() - interval '1 minute'
      ), anon AS (
        UPDATE events e SET user_id = x.user_id FROM x
        WHERE e.project_id = x.project_id AND e.anonymous_id = x.anonymous_id AND e.user_id IS NULL
        RETURNING 1
      )
      UPDATE events e SET user_id = x.user_id FROM x WHERE e.project_id = x.project_id AND e.user_id = x.anonymous_id
      """;
}
