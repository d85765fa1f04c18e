package io.tally.store;

/** SQL of the derived tables: the coalesced upsert of one flush, and the idempotent re-derivation after a crash. */
final class DerivedSql {
  /** The rollups' measure columns summed over raw events {@code e} (same order as the rollup tables). */
  private static final String EVENT_SUMS = """
      count(*), coalesce(sum(tally_num(e.properties, 'tokens')), 0),
             coalesce(sum(tally_num(e.properties, 'cost')), 0), coalesce(sum(tally_num(e.properties, 'amount')), 0),
             coalesce(sum(tally_num(e.properties, 'responseTimeMs')), 0),
             count(tally_num(e.properties, 'responseTimeMs')),
             coalesce(sum(tally_num(e.properties, 'durationMs')), 0), count(tally_num(e.properties, 'durationMs'))""";

  /** Raw events {@code e} of the hours a crash touched ({@code repair_hours}). */
  private static final String TOUCHED_HOURS = """
      (e.project_id, date_trunc('hour', e.ts)) IN (SELECT project_id, hour FROM repair_hours)
        AND e.ts >= (SELECT min(hour) FROM repair_hours)
        AND e.ts < (SELECT max(hour) FROM repair_hours) + interval '1 hour'""";

  /** The UTC days holding an hour a crash touched, per project ({@code repair_hours}), as a relation. */
  private static final String TOUCHED_DAYS =
      "(SELECT DISTINCT project_id, (hour AT TIME ZONE 'UTC')::date AS day FROM repair_hours)";

  private DerivedSql() {
  }

  /** One flush: pre-aggregated sessions and people, touchpoints, links; moves the watermark. */
  static final String FLUSH = """
      WITH s_in AS (
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[],
                             $7::int4[], $8::int4[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[],
                             $14::text[], $15::text[], $16::bool[])
          AS t(project_id, session_id, user_id, anonymous_id, started_at, ended_at, event_count, page_count,
               entry_page, exit_page, context, attribution, country, device_type, browser, server_assigned)
      ), old_s AS (
        SELECT s.project_id, s.started_at, s.duration_ms, s.bounce, coalesce(s.user_id, s.anonymous_id) AS person
        FROM sessions s JOIN s_in i ON s.project_id = i.project_id AND s.session_id = i.session_id
      ), sess AS (
        INSERT INTO sessions AS s (project_id, session_id, user_id, anonymous_id, started_at, ended_at, event_count,
                                   page_count, entry_page, exit_page, context, attribution, country, device_type,
                                   browser, server_assigned)
        SELECT project_id, session_id,
               coalesce(user_id, (SELECT x.user_id FROM identities x
                                  WHERE x.project_id = i.project_id AND x.anonymous_id = i.anonymous_id)),
               anonymous_id, started_at, ended_at, event_count, page_count, entry_page, exit_page, context::jsonb,
               attribution::jsonb, country, device_type, browser, server_assigned
        FROM s_in i ORDER BY project_id, session_id
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
        SELECT t.*, coalesce(t.user_id, (SELECT x.user_id FROM identities x
                                         WHERE x.project_id = t.project_id AND x.anonymous_id = t.anonymous_id),
                             t.anonymous_id) AS person
        FROM unnest($17::text[], $18::text[], $19::text[], $20::timestamptz[], $21::timestamptz[], $22::int8[],
                    $23::text[], $24::text[], $25::text[])
          AS t(project_id, user_id, anonymous_id, first_seen, last_seen, event_count, traits, first_touch, last_touch)
      ), people AS (
        INSERT INTO users AS u (project_id, user_key, identified, first_seen, last_seen, event_count, traits,
                                first_touch, last_touch)
        SELECT project_id, person, bool_or(person IS DISTINCT FROM anonymous_id OR user_id IS NOT NULL),
               min(first_seen), max(last_seen), sum(event_count),
               (array_agg(traits::jsonb ORDER BY last_seen DESC) FILTER (WHERE traits IS NOT NULL))[1],
               (array_agg(first_touch::jsonb ORDER BY first_seen) FILTER (WHERE first_touch IS NOT NULL))[1],
               (array_agg(last_touch::jsonb ORDER BY last_seen DESC) FILTER (WHERE last_touch IS NOT NULL))[1]
        FROM p_in GROUP BY project_id, person ORDER BY 1, 2
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
        RETURNING project_id, user_key, first_seen
      ), touches AS (
        INSERT INTO touchpoints (project_id, user_key, ts, source, medium, campaign, event_type, attribution, event_id)
        SELECT t.project_id,
               coalesce(t.user_id, (SELECT x.user_id FROM identities x
                                    WHERE x.project_id = t.project_id AND x.anonymous_id = t.anonymous_id),
                        t.anonymous_id),
               t.ts, a ->> 'source', a ->> 'medium', a ->> 'campaign', t.event_type, a, t.event_id
        FROM unnest($26::text[], $27::text[], $28::text[], $29::timestamptz[], $30::text[], $31::text[], $32::uuid[])
          AS t(project_id, user_id, anonymous_id, ts, event_type, attribution, event_id),
          LATERAL (SELECT t.attribution::jsonb AS a) j
        ON CONFLICT (project_id, event_id) DO NOTHING
      ), links AS (
        INSERT INTO identities (project_id, anonymous_id, user_id, linked_at)
        SELECT DISTINCT ON (project_id, anon) project_id, anon, uid, ts
        FROM unnest($33::text[], $34::text[], $35::text[], $36::timestamptz[]) AS t(project_id, anon, uid, ts)
        WHERE anon <> uid
        ORDER BY project_id, anon, ts
        ON CONFLICT DO NOTHING
        RETURNING project_id, anonymous_id, user_id
      ), progress AS (
        INSERT INTO derived_progress (id, applied_until) VALUES (1, $37)
        ON CONFLICT (id) DO UPDATE SET applied_until = excluded.applied_until
      ), hourly AS (
        INSERT INTO rollup_hourly AS r
        SELECT * FROM unnest($38::text[], $39::timestamptz[], $40::text[], $41::text[], $42::text[], $43::text[],
                             $44::text[], $45::text[], $46::int8[], $47::float8[], $48::float8[], $49::float8[],
                             $50::float8[], $51::int8[], $52::float8[], $53::int8[])
        ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
        ON CONFLICT (project_id, hour, type, provider, model, country, device_type, browser) DO UPDATE SET
          events = r.events + excluded.events, tokens = r.tokens + excluded.tokens, cost = r.cost + excluded.cost,
          amount = r.amount + excluded.amount, rt_sum = r.rt_sum + excluded.rt_sum, rt_n = r.rt_n + excluded.rt_n,
          dur_sum = r.dur_sum + excluded.dur_sum, dur_n = r.dur_n + excluded.dur_n
      ), daily AS (
        INSERT INTO rollup_daily AS r
        SELECT project_id, (hour AT TIME ZONE 'UTC')::date, type, provider, model, country, device_type, browser,
               sum(events), sum(tokens), sum(cost), sum(amount), sum(rt_sum), sum(rt_n), sum(dur_sum), sum(dur_n)
        FROM unnest($38::text[], $39::timestamptz[], $40::text[], $41::text[], $42::text[], $43::text[],
                    $44::text[], $45::text[], $46::int8[], $47::float8[], $48::float8[], $49::float8[],
                    $50::float8[], $51::int8[], $52::float8[], $53::int8[])
          AS h(project_id, hour, type, provider, model, country, device_type, browser, events, tokens, cost, amount,
               rt_sum, rt_n, dur_sum, dur_n)
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
        ON CONFLICT (project_id, day, type, provider, model, country, device_type, browser) DO UPDATE SET
          events = r.events + excluded.events, tokens = r.tokens + excluded.tokens, cost = r.cost + excluded.cost,
          amount = r.amount + excluded.amount, rt_sum = r.rt_sum + excluded.rt_sum, rt_n = r.rt_n + excluded.rt_n,
          dur_sum = r.dur_sum + excluded.dur_sum, dur_n = r.dur_n + excluded.dur_n
      ), hourly_t AS (
        INSERT INTO rollup_hourly_t AS r
        SELECT project_id, hour, type, '', '', '', '', '', sum(events), sum(tokens), sum(cost), sum(amount),
               sum(rt_sum), sum(rt_n), sum(dur_sum), sum(dur_n)
        FROM unnest($38::text[], $39::timestamptz[], $40::text[], $41::text[], $42::text[], $43::text[],
                    $44::text[], $45::text[], $46::int8[], $47::float8[], $48::float8[], $49::float8[],
                    $50::float8[], $51::int8[], $52::float8[], $53::int8[])
          AS h(project_id, hour, type, provider, model, country, device_type, browser, events, tokens, cost, amount,
               rt_sum, rt_n, dur_sum, dur_n)
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (project_id, hour, type, provider, model, country, device_type, browser) DO UPDATE SET
          events = r.events + excluded.events, tokens = r.tokens + excluded.tokens, cost = r.cost + excluded.cost,
          amount = r.amount + excluded.amount, rt_sum = r.rt_sum + excluded.rt_sum, rt_n = r.rt_n + excluded.rt_n,
          dur_sum = r.dur_sum + excluded.dur_sum, dur_n = r.dur_n + excluded.dur_n
      ), daily_t AS (
        INSERT INTO rollup_daily_t AS r
        SELECT project_id, (hour AT TIME ZONE 'UTC')::date, type, '', '', '', '', '', sum(events), sum(tokens), sum(cost), sum(amount),
               sum(rt_sum), sum(rt_n), sum(dur_sum), sum(dur_n)
        FROM unnest($38::text[], $39::timestamptz[], $40::text[], $41::text[], $42::text[], $43::text[],
                    $44::text[], $45::text[], $46::int8[], $47::float8[], $48::float8[], $49::float8[],
                    $50::float8[], $51::int8[], $52::float8[], $53::int8[])
          AS h(project_id, hour, type, provider, model, country, device_type, browser, events, tokens, cost, amount,
               rt_sum, rt_n, dur_sum, dur_n)
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (project_id, day, type, provider, model, country, device_type, browser) DO UPDATE SET
          events = r.events + excluded.events, tokens = r.tokens + excluded.tokens, cost = r.cost + excluded.cost,
          amount = r.amount + excluded.amount, rt_sum = r.rt_sum + excluded.rt_sum, rt_n = r.rt_n + excluded.rt_n,
          dur_sum = r.dur_sum + excluded.dur_sum, dur_n = r.dur_n + excluded.dur_n
      ), minutes_t AS (
        INSERT INTO rollup_minute_t AS r
        SELECT * FROM unnest($76::text[], $77::timestamptz[], $78::text[], $79::int8[], $80::float8[], $81::float8[],
                             $82::float8[], $83::float8[], $84::int8[], $85::float8[], $86::int8[])
        ORDER BY 1, 2, 3
        ON CONFLICT (project_id, minute, type) DO UPDATE SET
          events = r.events + excluded.events, tokens = r.tokens + excluded.tokens, cost = r.cost + excluded.cost,
          amount = r.amount + excluded.amount, rt_sum = r.rt_sum + excluded.rt_sum, rt_n = r.rt_n + excluded.rt_n,
          dur_sum = r.dur_sum + excluded.dur_sum, dur_n = r.dur_n + excluded.dur_n
      ), pages AS (
        INSERT INTO rollup_page_daily AS r
        SELECT * FROM unnest($87::text[], $88::date[], $89::text[], $90::text[], $91::int8[], $92::float8[],
                             $93::float8[], $94::float8[], $95::float8[], $96::int8[], $97::float8[], $98::int8[])
        ORDER BY 1, 2, 3, 4
        ON CONFLICT (project_id, day, path, type) DO UPDATE SET
          events = r.events + excluded.events, tokens = r.tokens + excluded.tokens, cost = r.cost + excluded.cost,
          amount = r.amount + excluded.amount, rt_sum = r.rt_sum + excluded.rt_sum, rt_n = r.rt_n + excluded.rt_n,
          dur_sum = r.dur_sum + excluded.dur_sum, dur_n = r.dur_n + excluded.dur_n
      ), minutes AS (
        INSERT INTO rollup_minute AS r
        SELECT * FROM unnest($54::text[], $55::timestamptz[], $56::int8[], $57::int8[]) ORDER BY 1, 2
        ON CONFLICT (project_id, minute) DO UPDATE SET sent = r.sent + excluded.sent, errors = r.errors + excluded.errors
      ), days AS (
        INSERT INTO user_days
        SELECT DISTINCT t.project_id, t.day,
               coalesce(t.user_id, (SELECT x.user_id FROM identities x
                                    WHERE x.project_id = t.project_id AND x.anonymous_id = t.anonymous_id),
                        t.anonymous_id)
        FROM unnest($58::text[], $59::date[], $60::text[], $61::text[]) AS t(project_id, day, user_id, anonymous_id)
        ORDER BY 1, 2, 3
        ON CONFLICT DO NOTHING
        RETURNING project_id, day, user_key
      ), ud AS (
        SELECT project_id, day, person AS user_key, type, provider, model, feature, sum(events) AS events,
               sum(tokens) AS tokens, sum(cost) AS cost, sum(amount) AS amount, sum(rt_sum) AS rt_sum,
               sum(rt_n) AS rt_n
        FROM (SELECT t.*, coalesce(t.user_id, (SELECT x.user_id FROM identities x
                                               WHERE x.project_id = t.project_id AND x.anonymous_id = t.anonymous_id),
                                   t.anonymous_id) AS person
              FROM unnest($62::text[], $63::date[], $64::text[], $65::text[], $66::text[], $67::text[], $68::text[],
                          $69::text[], $70::int8[], $71::float8[], $72::float8[], $73::float8[], $74::float8[],
                          $75::int8[])
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
      -- of this batch's times, so at or after the batch's earliest ($99); persons seen before keep an older one
      UNION ALL SELECT 'p', project_id, user_key, NULL, NULL, floor(extract(epoch FROM first_seen) * 1000)::int8,
                       NULL, NULL, NULL, NULL, NULL, NULL
      FROM people WHERE first_seen >= $99
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
      """;

  /** Re-derives, from the events themselves, everything touched by events received since $1. Idempotent. */
  static final String REPAIR_SESSIONS = """
      WITH touched AS (
        SELECT DISTINCT project_id, session_id FROM events
        WHERE received_at >= $1 AND session_id IS NOT NULL AND NOT is_bot
      )
      INSERT INTO sessions AS s (project_id, session_id, user_id, anonymous_id, started_at, ended_at, event_count,
                                 page_count, entry_page, exit_page, context, attribution, country, device_type,
                                 browser, server_assigned)
      SELECT e.project_id, e.session_id, max(e.user_id), max(e.anonymous_id), min(e.ts), max(e.ts), count(*),
             count(*) FILTER (WHERE e.type = 'page_view'),
             (array_agg(e.page ->> 'path' ORDER BY e.ts) FILTER (WHERE e.page ->> 'path' IS NOT NULL))[1],
             (array_agg(e.page ->> 'path' ORDER BY e.ts DESC) FILTER (WHERE e.page ->> 'path' IS NOT NULL))[1],
             (array_agg(e.context ORDER BY e.ts) FILTER (WHERE e.context IS NOT NULL))[1],
             (array_agg(e.attribution ORDER BY e.ts) FILTER (WHERE e.attribution IS NOT NULL))[1],
             (array_agg(e.country ORDER BY e.ts) FILTER (WHERE e.country IS NOT NULL))[1],
             (array_agg(e.device_type ORDER BY e.ts) FILTER (WHERE e.device_type IS NOT NULL))[1],
             (array_agg(e.browser ORDER BY e.ts) FILTER (WHERE e.browser IS NOT NULL))[1],
             bool_or((e.flags & 16) <> 0)
      FROM events e JOIN touched t ON t.project_id = e.project_id AND t.session_id = e.session_id
      WHERE NOT e.is_bot
      GROUP BY e.project_id, e.session_id
      ON CONFLICT (project_id, session_id) DO UPDATE SET
        user_id = excluded.user_id, anonymous_id = excluded.anonymous_id, started_at = excluded.started_at,
        ended_at = excluded.ended_at, event_count = excluded.event_count, page_count = excluded.page_count,
        entry_page = excluded.entry_page, exit_page = excluded.exit_page, context = excluded.context,
        attribution = excluded.attribution, country = excluded.country, device_type = excluded.device_type,
        browser = excluded.browser, server_assigned = excluded.server_assigned
      """;

  static final String REPAIR_PEOPLE = """
      WITH touched AS (
        SELECT DISTINCT project_id, coalesce(user_id, anonymous_id) AS person FROM events
        WHERE received_at >= $1 AND NOT is_bot AND coalesce(user_id, anonymous_id) IS NOT NULL
      ), ev AS (
        -- two indexed joins rather than one join on an OR, which the planner can only nest-loop
        SELECT e.project_id, e.user_id AS person, e.ts, e.user_id, e.user_context, e.attribution
        FROM touched t JOIN events e ON e.project_id = t.project_id AND e.user_id = t.person
        WHERE NOT e.is_bot
        UNION ALL
        SELECT e.project_id, e.anonymous_id, e.ts, e.user_id, e.user_context, e.attribution
        FROM touched t JOIN events e ON e.project_id = t.project_id AND e.user_id IS NULL AND e.anonymous_id = t.person
        WHERE NOT e.is_bot
      )
      INSERT INTO users AS u (project_id, user_key, identified, first_seen, last_seen, event_count, traits,
                              first_touch, last_touch)
      SELECT project_id, person, bool_or(user_id IS NOT NULL), min(ts), max(ts), count(*),
             (array_agg(user_context -> 'userProperties' ORDER BY ts DESC)
                FILTER (WHERE jsonb_typeof(user_context -> 'userProperties') = 'object'))[1],
             (array_agg(attribution ORDER BY ts) FILTER (WHERE attribution IS NOT NULL))[1],
             (array_agg(attribution ORDER BY ts DESC) FILTER (WHERE attribution IS NOT NULL))[1]
      FROM ev
      GROUP BY project_id, person
      ON CONFLICT (project_id, user_key) DO UPDATE SET
        identified = excluded.identified, first_seen = excluded.first_seen, last_seen = excluded.last_seen,
        event_count = excluded.event_count, first_touch = excluded.first_touch, last_touch = excluded.last_touch,
        traits = coalesce(u.traits, '{}'::jsonb) || coalesce(excluded.traits, '{}'::jsonb)
      """;

  static final String REPAIR_TOUCHPOINTS = """
      INSERT INTO touchpoints (project_id, user_key, ts, source, medium, campaign, event_type, attribution, event_id)
      SELECT project_id, coalesce(user_id, anonymous_id), ts, attribution ->> 'source', attribution ->> 'medium',
             attribution ->> 'campaign', type, attribution, id
      FROM events
      WHERE received_at >= $1 AND attribution IS NOT NULL AND NOT is_bot AND coalesce(user_id, anonymous_id) IS NOT NULL
      ON CONFLICT (project_id, event_id) DO NOTHING
      """;

  static final String REPAIR_LINKS = """
      INSERT INTO identities (project_id, anonymous_id, user_id, linked_at)
      SELECT DISTINCT ON (project_id, anon) project_id, anon, user_id, ts FROM (
        SELECT project_id, anonymous_id AS anon, user_id, ts FROM events
        WHERE received_at >= $1 AND type = 'identify' AND anonymous_id IS NOT NULL AND user_id IS NOT NULL
        UNION ALL
        SELECT project_id, properties ->> 'previousId', user_id, ts FROM events
        WHERE received_at >= $1 AND type = 'alias' AND user_id IS NOT NULL AND properties ->> 'previousId' IS NOT NULL
      ) l WHERE anon <> user_id
      ORDER BY project_id, anon, ts
      ON CONFLICT DO NOTHING
      """;

  /** Rollup hours and minutes touched by events received since $1 are rebuilt whole from the events. */
  static final String REPAIR_TOUCHED = """
      CREATE TEMP TABLE IF NOT EXISTS repair_hours (project_id text, hour timestamptz) ON COMMIT DROP
      """;

  static final String REPAIR_FILL_TOUCHED = """
      INSERT INTO repair_hours SELECT DISTINCT project_id, date_trunc('hour', ts) FROM events
      WHERE received_at >= $1 AND NOT is_bot
      """;

  static final String REPAIR_DELETE_HOURLY = """
      DELETE FROM rollup_hourly r USING repair_hours t WHERE r.project_id = t.project_id AND r.hour = t.hour
      """;

  static final String REPAIR_DELETE_MINUTES = """
      WITH m AS (
        DELETE FROM rollup_minute_t r USING repair_hours t
        WHERE r.project_id = t.project_id AND r.minute >= t.hour AND r.minute < t.hour + interval '1 hour'
      )
      DELETE FROM rollup_minute r USING repair_hours t
      WHERE r.project_id = t.project_id AND r.minute >= t.hour AND r.minute < t.hour + interval '1 hour'
      """;

  /** The page rollup of the days a crash touched: deleted, then summed again from the events of those days. */
  static final String REPAIR_PAGES_DELETE = """
      DELETE FROM rollup_page_daily r USING %s t
      WHERE r.project_id = t.project_id AND r.day = t.day
      """.formatted(TOUCHED_DAYS);

  static final String REPAIR_PAGES_FILL = """
      INSERT INTO rollup_page_daily
      SELECT e.project_id, (e.ts AT TIME ZONE 'UTC')::date, coalesce(e.page ->> 'path', ''), e.type, %s
      FROM events e
      JOIN %s t
        ON e.project_id = t.project_id AND e.ts >= t.day::timestamp AT TIME ZONE 'UTC'
        AND e.ts < (t.day + 1)::timestamp AT TIME ZONE 'UTC'
      WHERE NOT e.is_bot
      GROUP BY 1, 2, 3, 4
      """.formatted(EVENT_SUMS, TOUCHED_DAYS);

  static final String REPAIR_MINUTES_T = """
      INSERT INTO rollup_minute_t
      SELECT e.project_id, date_trunc('minute', e.ts), e.type, %s
      FROM events e
      WHERE NOT e.is_bot AND %s
      GROUP BY 1, 2, 3
      """.formatted(EVENT_SUMS, TOUCHED_HOURS);

  static final String REPAIR_HOURLY = """
      INSERT INTO rollup_hourly
      SELECT e.project_id, date_trunc('hour', e.ts), e.type, coalesce(tally_str(e.properties, 'provider'), ''),
             coalesce(tally_str(e.properties, 'model'), ''), coalesce(e.country, ''), coalesce(e.device_type, ''),
             coalesce(e.browser, ''), %s
      FROM events e
      WHERE NOT e.is_bot AND %s
      GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
      """.formatted(EVENT_SUMS, TOUCHED_HOURS);

  /** After the hourly repair: the days holding a touched hour are re-summed from the hourly rollup. */
  static final String REPAIR_DAILY = """
      WITH days AS %s,
      gone AS (DELETE FROM rollup_daily r USING days d WHERE r.project_id = d.project_id AND r.day = d.day)
      SELECT 1
      """.formatted(TOUCHED_DAYS);

  static final String REPAIR_DAILY_FILL = """
      INSERT INTO rollup_daily
      SELECT h.project_id, (h.hour AT TIME ZONE 'UTC')::date, h.type, h.provider, h.model, h.country, h.device_type,
             h.browser, sum(h.events), sum(h.tokens), sum(h.cost), sum(h.amount), sum(h.rt_sum), sum(h.rt_n),
             sum(h.dur_sum), sum(h.dur_n)
      FROM %s d
      JOIN rollup_hourly h ON h.project_id = d.project_id AND h.hour >= d.day::timestamp AT TIME ZONE 'UTC'
        AND h.hour < (d.day + 1)::timestamp AT TIME ZONE 'UTC'
      GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
      """.formatted(TOUCHED_DAYS);

  /** Session days that events received since the watermark may have changed (their days and the day before). */
  private static final String SESSION_REPAIR_DAYS = """
      SELECT DISTINCT project_id, (hour AT TIME ZONE 'UTC')::date - k AS day FROM repair_hours, (VALUES (0), (1)) v(k)
      """;

  static final String REPAIR_SESSION_DAYS_DELETE = "WITH days AS (" + SESSION_REPAIR_DAYS + """
      ), gone AS (DELETE FROM session_days s USING days d WHERE s.project_id = d.project_id AND s.day = d.day)
      SELECT 1
      """;

  static final String REPAIR_SESSION_DAYS_FILL = "WITH days AS (" + SESSION_REPAIR_DAYS + """
      )
      INSERT INTO session_days
      SELECT s.project_id, (s.started_at AT TIME ZONE 'UTC')::date, count(*), coalesce(sum(s.duration_ms), 0),
             count(*) FILTER (WHERE s.bounce)
      FROM days d JOIN sessions s ON s.project_id = d.project_id AND s.started_at >= d.day::timestamp AT TIME ZONE 'UTC'
        AND s.started_at < (d.day + 1)::timestamp AT TIME ZONE 'UTC'
      GROUP BY 1, 2
      """;

  /** After the hourly and daily repairs: the type-only rollups of the touched hours and days, re-summed. */
  static final String REPAIR_TYPE_ROLLUPS_DELETE = """
      WITH h AS (DELETE FROM rollup_hourly_t r USING repair_hours t WHERE r.project_id = t.project_id
                   AND r.hour = t.hour),
           d AS (DELETE FROM rollup_daily_t r USING %s t
                 WHERE r.project_id = t.project_id AND r.day = t.day)
      SELECT 1
      """.formatted(TOUCHED_DAYS);

  static final String REPAIR_TYPE_ROLLUPS_FILL = """
      WITH h AS (
        INSERT INTO rollup_hourly_t
        SELECT r.project_id, r.hour, r.type, '', '', '', '', '', sum(r.events), sum(r.tokens), sum(r.cost),
               sum(r.amount), sum(r.rt_sum), sum(r.rt_n), sum(r.dur_sum), sum(r.dur_n)
        FROM repair_hours t JOIN rollup_hourly r ON r.project_id = t.project_id AND r.hour = t.hour
        GROUP BY 1, 2, 3
      )
      INSERT INTO rollup_daily_t
      SELECT r.project_id, r.day, r.type, '', '', '', '', '', sum(r.events), sum(r.tokens), sum(r.cost),
             sum(r.amount), sum(r.rt_sum), sum(r.rt_n), sum(r.dur_sum), sum(r.dur_n)
      FROM %s t
      JOIN rollup_daily r ON r.project_id = t.project_id AND r.day = t.day
      GROUP BY 1, 2, 3
      """.formatted(TOUCHED_DAYS);

  static final String REPAIR_MINUTES = """
      INSERT INTO rollup_minute
      SELECT e.project_id, date_trunc('minute', e.ts), count(*) FILTER (WHERE e.type = 'message_sent'),
             count(*) FILTER (WHERE e.type = 'error')
      FROM events e
      WHERE NOT e.is_bot AND e.type IN ('message_sent', 'error') AND %s
      GROUP BY 1, 2
      """.formatted(TOUCHED_HOURS);

  static final String REPAIR_USER_DAYS = """
      INSERT INTO user_days
      SELECT DISTINCT project_id, (ts AT TIME ZONE 'UTC')::date, coalesce(user_id, anonymous_id) FROM events
      WHERE received_at >= $1 AND NOT is_bot AND coalesce(user_id, anonymous_id) IS NOT NULL
      ON CONFLICT DO NOTHING
      """;

  /** The per-person daily rollup of the days holding a touched hour, rebuilt whole from those days' events. */
  static final String REPAIR_USER_DAILY_DELETE = """
      DELETE FROM user_daily r USING %s d
      WHERE r.project_id = d.project_id AND r.day = d.day
      """.formatted(TOUCHED_DAYS);

  static final String REPAIR_USER_DAILY_FILL = """
      INSERT INTO user_daily
      SELECT e.project_id, (e.ts AT TIME ZONE 'UTC')::date, coalesce(e.user_id, e.anonymous_id), e.type,
             coalesce(tally_str(e.properties, 'provider'), ''), coalesce(tally_str(e.properties, 'model'), ''),
             CASE WHEN e.type = 'feature_used' THEN coalesce(tally_str(e.properties, 'feature'), '') ELSE '' END,
             count(*), coalesce(sum(tally_num(e.properties, 'tokens')), 0),
             coalesce(sum(tally_num(e.properties, 'cost')), 0), coalesce(sum(tally_num(e.properties, 'amount')), 0),
             coalesce(sum(tally_num(e.properties, 'responseTimeMs')), 0), count(tally_num(e.properties, 'responseTimeMs'))
      FROM %s d
      JOIN events e ON e.project_id = d.project_id AND e.ts >= d.day::timestamp AT TIME ZONE 'UTC'
        AND e.ts < (d.day + 1)::timestamp AT TIME ZONE 'UTC'
      WHERE NOT e.is_bot AND coalesce(e.user_id, e.anonymous_id) IS NOT NULL
      GROUP BY 1, 2, 3, 4, 5, 6, 7
      """.formatted(TOUCHED_DAYS);

  static final String RELINK_SINCE = """
      SELECT project_id, anonymous_id, user_id FROM identities WHERE linked_at >= $1::timestamptz - interval '1 day'
      """;
}
