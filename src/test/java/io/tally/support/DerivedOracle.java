package io.tally.support;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The tests' own from-scratch derivation of a project's derived tables: read-only SQL over the stored events,
 * written here independently of Tally's flush and repair, and a comparison of every derived table with it.
 * <p>
 * The rules (README, "Sessions and people"): a session's start, end and counts are the min, max and counts of its
 * events; its user and anonymous ids the greatest (code-point order) its events carry; its entry (exit) page the path
 * of its earliest (latest) event with a path, ties to the smallest (greatest) path; its context, country, device and
 * browser those of its earliest event with a context, and its attribution that of its earliest event with one, ties to
 * the smaller event id. A person's traits hold, for each key, the value of the latest event that set it (ties: the
 * greater event id); first and last touch are the attribution of the earliest and latest events with one. Bots count
 * nowhere.
 */
public final class DerivedOracle {
  private DerivedOracle() {
  }

  /** Non-bot events of project $1 with their person; anchored contexts resolved from the event they name. */
  private static final String EV = """
      WITH ev AS (
        SELECT e.*, coalesce(e.user_id, e.anonymous_id) AS person,
               coalesce(e.context, (SELECT a.context FROM events a WHERE a.project_id = e.project_id
                                    AND a.id = e.context_from AND a.session_id = e.session_id LIMIT 1)) AS ctx,
               CASE WHEN jsonb_typeof(e.page -> 'path') = 'string' THEN e.page ->> 'path' END AS path,
               CASE WHEN jsonb_typeof(e.properties -> 'provider') = 'string' THEN e.properties ->> 'provider' END AS prov,
               CASE WHEN jsonb_typeof(e.properties -> 'model') = 'string' THEN e.properties ->> 'model' END AS mdl,
               CASE WHEN jsonb_typeof(e.properties -> 'feature') = 'string' THEN e.properties ->> 'feature' END AS feat,
               CASE WHEN jsonb_typeof(e.properties -> 'tokens') = 'number' THEN (e.properties ->> 'tokens')::float8 END AS tok,
               CASE WHEN jsonb_typeof(e.properties -> 'cost') = 'number' THEN (e.properties ->> 'cost')::float8 END AS cst,
               CASE WHEN jsonb_typeof(e.properties -> 'amount') = 'number' THEN (e.properties ->> 'amount')::float8 END AS amt,
               CASE WHEN jsonb_typeof(e.properties -> 'responseTimeMs') = 'number'
                    THEN (e.properties ->> 'responseTimeMs')::float8 END AS rt,
               CASE WHEN jsonb_typeof(e.properties -> 'durationMs') = 'number'
                    THEN (e.properties ->> 'durationMs')::float8 END AS dur
        FROM events e WHERE e.project_id = ? AND NOT e.is_bot
      )
      """;

  private static final String SUMS = "count(*) AS events, coalesce(sum(tok), 0) AS tokens, coalesce(sum(cst), 0) AS cost, "
      + "coalesce(sum(amt), 0) AS amount, coalesce(sum(rt), 0) AS rt_sum, count(rt) AS rt_n";
  private static final String SUMS_DUR = SUMS + ", coalesce(sum(dur), 0) AS dur_sum, count(dur) AS dur_n";
  private static final String TABLE_SUMS = "events, tokens, cost, amount, rt_sum, rt_n";
  private static final String TABLE_SUMS_DUR = TABLE_SUMS + ", dur_sum, dur_n";

  /** One derived table: what it holds for the project, and what the events say it should hold. */
  private record Check(String table, int keys, String actual, String expected) {}

  private static final List<Check> CHECKS = List.of(
      new Check("sessions", 1, """
          SELECT session_id, user_id, anonymous_id, started_at, ended_at, event_count, page_count, entry_page,
                 exit_page, context, attribution, country, device_type, browser, server_assigned, entry_at, exit_at,
                 context_at, context_event, attribution_at, attribution_event
          FROM sessions WHERE project_id = ? ORDER BY session_id
          """, EV + """
          SELECT session_id, max(user_id COLLATE "C") AS user_id, max(anonymous_id COLLATE "C") AS anonymous_id,
                 min(ts) AS started_at, max(ts) AS ended_at, count(*) AS event_count,
                 count(*) FILTER (WHERE type = 'page_view') AS page_count,
                 (array_agg(path ORDER BY ts, path COLLATE "C") FILTER (WHERE path IS NOT NULL))[1] AS entry_page,
                 (array_agg(path ORDER BY ts DESC, path COLLATE "C" DESC) FILTER (WHERE path IS NOT NULL))[1] AS exit_page,
                 (array_agg(ctx ORDER BY ts, id) FILTER (WHERE ctx IS NOT NULL))[1] AS context,
                 (array_agg(attribution ORDER BY ts, id) FILTER (WHERE attribution IS NOT NULL))[1] AS attribution,
                 (array_agg(country ORDER BY ts, id) FILTER (WHERE ctx IS NOT NULL))[1] AS country,
                 (array_agg(device_type ORDER BY ts, id) FILTER (WHERE ctx IS NOT NULL))[1] AS device_type,
                 (array_agg(browser ORDER BY ts, id) FILTER (WHERE ctx IS NOT NULL))[1] AS browser,
                 bool_or((flags & 16) <> 0) AS server_assigned,
                 min(ts) FILTER (WHERE path IS NOT NULL) AS entry_at, max(ts) FILTER (WHERE path IS NOT NULL) AS exit_at,
                 min(ts) FILTER (WHERE ctx IS NOT NULL) AS context_at,
                 (array_agg(id ORDER BY ts, id) FILTER (WHERE ctx IS NOT NULL))[1] AS context_event,
                 min(ts) FILTER (WHERE attribution IS NOT NULL) AS attribution_at,
                 (array_agg(id ORDER BY ts, id) FILTER (WHERE attribution IS NOT NULL))[1] AS attribution_event
          FROM ev WHERE session_id IS NOT NULL GROUP BY session_id ORDER BY session_id
          """),
      new Check("users", 1, """
          SELECT user_key, identified, first_seen, last_seen, event_count, traits, first_touch, last_touch,
                 first_touch_at, first_touch_event, last_touch_at, last_touch_event
          FROM users WHERE project_id = ? ORDER BY user_key
          """, EV + """
          , tr AS (
            SELECT person, jsonb_object_agg(k, v) AS traits FROM (
              SELECT DISTINCT ON (person, k) person, k, v
              FROM ev, jsonb_each(CASE WHEN jsonb_typeof(user_context -> 'userProperties') = 'object'
                                       THEN user_context -> 'userProperties' END) AS t(k, v)
              WHERE person IS NOT NULL ORDER BY person, k, ts DESC, id DESC) x
            GROUP BY person)
          SELECT ev.person AS user_key, bool_or(user_id IS NOT NULL) AS identified, min(ts) AS first_seen,
                 max(ts) AS last_seen, count(*) AS event_count, (SELECT traits FROM tr WHERE tr.person = ev.person) AS traits,
                 (array_agg(attribution ORDER BY ts, id) FILTER (WHERE attribution IS NOT NULL))[1] AS first_touch,
                 (array_agg(attribution ORDER BY ts DESC, id DESC) FILTER (WHERE attribution IS NOT NULL))[1] AS last_touch,
                 min(ts) FILTER (WHERE attribution IS NOT NULL) AS first_touch_at,
                 (array_agg(id ORDER BY ts, id) FILTER (WHERE attribution IS NOT NULL))[1] AS first_touch_event,
                 max(ts) FILTER (WHERE attribution IS NOT NULL) AS last_touch_at,
                 (array_agg(id ORDER BY ts DESC, id DESC) FILTER (WHERE attribution IS NOT NULL))[1] AS last_touch_event
          FROM ev WHERE person IS NOT NULL GROUP BY ev.person ORDER BY ev.person
          """),
      new Check("touchpoints", 1, """
          SELECT event_id, user_key, ts, source, medium, campaign, event_type, attribution FROM touchpoints
          WHERE project_id = ? ORDER BY event_id
          """, EV + """
          SELECT id AS event_id, person AS user_key, ts, attribution ->> 'source' AS source,
                 attribution ->> 'medium' AS medium, attribution ->> 'campaign' AS campaign, type AS event_type, attribution
          FROM ev WHERE attribution IS NOT NULL AND person IS NOT NULL ORDER BY id
          """),
      new Check("user_days", 2, """
          SELECT day, user_key FROM user_days WHERE project_id = ? ORDER BY day, user_key
          """, EV + """
          SELECT DISTINCT (ts AT TIME ZONE 'UTC')::date AS day, person AS user_key FROM ev WHERE person IS NOT NULL
          ORDER BY day, user_key
          """),
      new Check("user_daily", 6, """
          SELECT day, user_key, type, provider, model, feature, %s FROM user_daily WHERE project_id = ?
          ORDER BY 1, 2, 3, 4, 5, 6
          """.formatted(TABLE_SUMS), EV + """
          SELECT (ts AT TIME ZONE 'UTC')::date AS day, person AS user_key, type, coalesce(prov, '') AS provider,
                 coalesce(mdl, '') AS model, CASE WHEN type = 'feature_used' THEN coalesce(feat, '') ELSE '' END AS feature,
                 %s
          FROM ev WHERE person IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6
          ORDER BY 1, 2, 3, 4, 5, 6
          """.formatted(SUMS)),
      new Check("session_days", 1, """
          SELECT day, sessions, duration_sum, bounces FROM session_days WHERE project_id = ? AND sessions <> 0 ORDER BY day
          """, EV + """
          , s AS (SELECT session_id, min(ts) AS a, max(ts) AS b FROM ev WHERE session_id IS NOT NULL GROUP BY session_id)
          SELECT (a AT TIME ZONE 'UTC')::date AS day, count(*) AS sessions,
                 sum((extract(epoch FROM b - a) * 1000)::bigint) AS duration_sum,
                 count(*) FILTER (WHERE b - a < interval '30 seconds') AS bounces
          FROM s GROUP BY 1 ORDER BY 1
          """),
      new Check("rollup_hourly", 7, """
          SELECT hour, type, provider, model, country, device_type, browser, %s FROM rollup_hourly
          WHERE project_id = ? ORDER BY 1, 2, 3, 4, 5,
                6, 7
          """.formatted(TABLE_SUMS_DUR), EV + """
          SELECT date_trunc('hour', ts) AS hour, type, coalesce(prov, '') AS provider, coalesce(mdl, '') AS model,
                 coalesce(country, '') AS country, coalesce(device_type, '') AS device_type,
                 coalesce(browser, '') AS browser, %s
          FROM ev GROUP BY 1, 2, 3, 4, 5, 6, 7
          ORDER BY 1, 2, 3, 4, 5, 6, 7
          """.formatted(SUMS_DUR)),
      new Check("rollup_daily", 7, """
          SELECT day, type, provider, model, country, device_type, browser, %s FROM rollup_daily
          WHERE project_id = ? ORDER BY 1, 2, 3, 4, 5,
                6, 7
          """.formatted(TABLE_SUMS_DUR), EV + """
          SELECT (ts AT TIME ZONE 'UTC')::date AS day, type, coalesce(prov, '') AS provider, coalesce(mdl, '') AS model,
                 coalesce(country, '') AS country, coalesce(device_type, '') AS device_type,
                 coalesce(browser, '') AS browser, %s
          FROM ev GROUP BY 1, 2, 3, 4, 5, 6, 7
          ORDER BY 1, 2, 3, 4, 5, 6, 7
          """.formatted(SUMS_DUR)),
      new Check("rollup_hourly_t", 2, """
          SELECT hour, type, %s FROM rollup_hourly_t WHERE project_id = ? ORDER BY 1, 2
          """.formatted(TABLE_SUMS_DUR), EV + """
          SELECT date_trunc('hour', ts) AS hour, type, %s FROM ev GROUP BY 1, 2 ORDER BY 1, 2
          """.formatted(SUMS_DUR)),
      new Check("rollup_daily_t", 2, """
          SELECT day, type, %s FROM rollup_daily_t WHERE project_id = ? ORDER BY 1, 2
          """.formatted(TABLE_SUMS_DUR), EV + """
          SELECT (ts AT TIME ZONE 'UTC')::date AS day, type, %s FROM ev GROUP BY 1, 2 ORDER BY 1, 2
          """.formatted(SUMS_DUR)),
      new Check("rollup_minute", 1, """
          SELECT minute, sent, errors FROM rollup_minute WHERE project_id = ? ORDER BY 1
          """, EV + """
          SELECT date_trunc('minute', ts) AS minute, count(*) FILTER (WHERE type = 'message_sent') AS sent,
                 count(*) FILTER (WHERE type = 'error') AS errors
          FROM ev WHERE type IN ('message_sent', 'error') GROUP BY 1 ORDER BY 1
          """),
      new Check("rollup_minute_t", 2, """
          SELECT minute, type, %s FROM rollup_minute_t WHERE project_id = ? ORDER BY 1, 2
          """.formatted(TABLE_SUMS_DUR), EV + """
          SELECT date_trunc('minute', ts) AS minute, type, %s FROM ev GROUP BY 1, 2 ORDER BY 1, 2
          """.formatted(SUMS_DUR)),
      new Check("rollup_page_daily", 3, """
          SELECT day, path, type, %s FROM rollup_page_daily WHERE project_id = ?
          ORDER BY 1, 2, 3
          """.formatted(TABLE_SUMS_DUR), EV + """
          SELECT (ts AT TIME ZONE 'UTC')::date AS day, left(coalesce(path, ''), 500) AS path, type, %s
          FROM ev GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
          """.formatted(SUMS_DUR)),
      new Check("identities", 1, """
          SELECT anonymous_id, user_id FROM identities WHERE project_id = ? ORDER BY 1
          """, """
          SELECT DISTINCT ON (anon) anon AS anonymous_id, uid AS user_id FROM (
            SELECT anonymous_id AS anon, user_id AS uid, ts, id FROM events
            WHERE project_id = ? AND type = 'identify' AND anonymous_id IS NOT NULL AND user_id IS NOT NULL
            UNION ALL
            SELECT properties ->> 'previousId', user_id, ts, id FROM events
            WHERE project_id = ? AND type = 'alias' AND user_id IS NOT NULL AND properties ->> 'previousId' IS NOT NULL
          ) l WHERE anon <> uid ORDER BY anon, ts, id
          """));

  /** The names of the derived tables compared. */
  public static List<String> tables() {
    return CHECKS.stream().map(Check::table).toList();
  }

  /**
   * Compares every derived table of {@code project} with the derivation from its stored events; returns one line per
   * difference (empty: all equal). Sums compare to a relative 1e-9 (their order of addition differs).
   */
  public static List<String> differences(String project) {
    List<String> out = new ArrayList<>();
    for (Check c : CHECKS) {
      List<Map<String, Object>> actual = Db.query(c.actual(), project);
      Object[] args = new Object[(int) c.expected().chars().filter(ch -> ch == '?').count()];
      java.util.Arrays.fill(args, project);
      List<Map<String, Object>> expected = Db.query(c.expected(), args);
      compare(c.table(), c.keys(), actual, expected, out);
    }
    return out;
  }

  /** The rows of one derived table of {@code project} as the comparison reads them. */
  public static List<Map<String, Object>> actual(String table, String project) {
    return Db.query(CHECKS.stream().filter(c -> c.table().equals(table)).findFirst().orElseThrow().actual(), project);
  }

  private static void compare(String table, int keys, List<Map<String, Object>> actual, List<Map<String, Object>> expected,
                              List<String> out) {
    Map<String, Map<String, Object>> a = byKey(actual, keys);
    Map<String, Map<String, Object>> e = byKey(expected, keys);
    int shown = 0;
    int diffs = 0;
    for (Map.Entry<String, Map<String, Object>> x : e.entrySet()) {
      Map<String, Object> got = a.get(x.getKey());
      String d = got == null ? "missing" : rowDiff(got, x.getValue());
      if (d != null) {
        diffs++;
        if (shown++ < 8) {
          out.add(table + " " + x.getKey() + ": " + d + (got == null ? " (expected " + x.getValue() + ")" : ""));
        }
      }
    }
    for (Map.Entry<String, Map<String, Object>> x : a.entrySet()) {
      if (!e.containsKey(x.getKey())) {
        diffs++;
        if (shown++ < 8) {
          out.add(table + " " + x.getKey() + ": not expected " + x.getValue());
        }
      }
    }
    if (diffs > shown) {
      out.add(table + ": " + (diffs - shown) + " more differences (" + actual.size() + " rows, expected "
          + expected.size() + ")");
    }
  }

  /** Rows keyed by their first {@code keys} columns. */
  private static Map<String, Map<String, Object>> byKey(List<Map<String, Object>> rows, int keys) {
    Map<String, Map<String, Object>> out = new LinkedHashMap<>();
    for (Map<String, Object> r : rows) {
      StringBuilder sb = new StringBuilder();
      int i = 0;
      for (Object v : r.values()) {
        if (i++ == keys) {
          break;
        }
        sb.append(i == 1 ? "" : "|").append(norm(v));
      }
      out.put(sb.toString(), r);
    }
    return out;
  }

  private static String rowDiff(Map<String, Object> got, Map<String, Object> want) {
    StringBuilder sb = new StringBuilder();
    for (Map.Entry<String, Object> c : want.entrySet()) {
      Object g = got.get(c.getKey());
      if (!same(g, c.getValue())) {
        sb.append(c.getKey()).append(' ').append(norm(g)).append(" != expected ").append(norm(c.getValue())).append("; ");
      }
    }
    return sb.length() == 0 ? null : sb.toString();
  }

  private static boolean same(Object a, Object b) {
    if (a == null || b == null) {
      return a == b;
    }
    if (a instanceof Number x && b instanceof Number y) {
      if (x instanceof Double || y instanceof Double || x instanceof BigDecimal || y instanceof BigDecimal) {
        double p = x.doubleValue();
        double q = y.doubleValue();
        return Math.abs(p - q) <= 1e-9 * Math.max(1, Math.max(Math.abs(p), Math.abs(q)));
      }
      return x.longValue() == y.longValue();
    }
    return Objects.equals(norm(a), norm(b));
  }

  /** JSON compared as JSON (key order aside), timestamps as instants. */
  private static String norm(Object v) {
    if (v == null) {
      return "null";
    }
    if (v instanceof org.postgresql.util.PGobject pg && pg.getValue() != null
        && ("jsonb".equals(pg.getType()) || "json".equals(pg.getType()))) {
      String s = pg.getValue().trim();
      return s.startsWith("{") ? canonical(new JsonObject(s)).encode()
          : s.startsWith("[") ? new JsonArray(s).encode() : s;
    }
    if (v instanceof java.sql.Timestamp t) {
      return t.toInstant().toString();
    }
    return String.valueOf(v);
  }

  private static JsonObject canonical(JsonObject o) {
    JsonObject out = new JsonObject();
    o.fieldNames().stream().sorted().forEach(k -> {
      Object x = o.getValue(k);
      out.put(k, x instanceof JsonObject j ? canonical(j) : x);
    });
    return out;
  }
}
