package io.tally.query;

import io.tally.error.ApiError;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;

/**
 * The people of a period, for the dashboard's Users view ({@code GET /v1/people}): the most active (by their events on
 * the UTC days the period touches, from the per-person daily rollup) or the most recent (by their last event, from the
 * people table), optionally only ids starting with a prefix. At most {@code limit} people; {@code truncated} says more
 * matched.
 */
final class PeopleQuery {
  static final int MAX_LIMIT = 100;
  static final int MAX_PREFIX = 128;

  private final Pool pool;

  PeopleQuery(Pool pool) {
    this.pool = pool;
  }

  /**
   * The {@code prefix} parameter: the start of a person's id, so at most as long as an id; text PostgreSQL cannot hold
   * (NUL, an unpaired surrogate) could not start a stored id and is refused rather than sent to it.
   */
  static String prefix(String p) {
    if (p == null) {
      return "";
    }
    if (p.length() > MAX_PREFIX) {
      throw new ApiError(400, "invalid_request", "prefix must be at most " + MAX_PREFIX + " characters (an id's "
          + "length)", "prefix", (long) MAX_PREFIX, null);
    }
    for (int i = 0; i < p.length(); i++) {
      char c = p.charAt(i);
      boolean paired = Character.isHighSurrogate(c) && i + 1 < p.length() && Character.isLowSurrogate(p.charAt(++i));
      if (c == 0 || Character.isSurrogate(c) && !paired) {
        throw ApiError.badRequest("prefix", "prefix must not hold NUL or an unpaired surrogate");
      }
    }
    return p;
  }

  Future<JsonObject> run(JsonObject q) {
    Instant from = Instant.parse(q.getString("from"));
    Instant to = Instant.parse(q.getString("to"));
    // the rollup's whole UTC days: those the period touches
    LocalDate dayFrom = LocalDate.ofInstant(from, ZoneOffset.UTC);
    LocalDate dayTo = LocalDate.ofInstant(to.minusMillis(1), ZoneOffset.UTC).plusDays(1);
    String prefix = q.getString("prefix", "");
    int limit = q.getInteger("limit");
    boolean recent = "recent".equals(q.getString("sort"));
    Tuple t = Tuple.tuple().addString(q.getString("projectId")).addLocalDate(dayFrom).addLocalDate(dayTo)
        .addString(prefix).addInteger(limit + 1);
    String sql;
    if (recent) {
      t.addOffsetDateTime(Agg.odt(from)).addOffsetDateTime(Agg.odt(to));
      // people whose last event is in the period, newest first; their events on the period's days beside
      sql = """
          SELECT u.user_key, coalesce(d.events, 0), coalesce(d.days, 0), u.first_seen, u.last_seen
          FROM (SELECT user_key, first_seen, last_seen FROM users WHERE project_id = $1 AND last_seen >= $6
                  AND last_seen < $7 AND starts_with(user_key, $4)
                ORDER BY last_seen DESC, user_key LIMIT $5) u
          LEFT JOIN LATERAL (SELECT sum(events)::int8 AS events, count(DISTINCT day)::int4 AS days FROM user_daily
                WHERE project_id = $1 AND user_key = u.user_key AND day >= $2 AND day < $3) d ON true
          ORDER BY u.last_seen DESC, u.user_key""";
    } else {
      sql = """
          SELECT a.user_key, a.events, a.days, u.first_seen, u.last_seen
          FROM (SELECT user_key, sum(events)::int8 AS events, count(DISTINCT day)::int4 AS days FROM user_daily
                WHERE project_id = $1 AND day >= $2 AND day < $3 AND starts_with(user_key, $4)
                GROUP BY user_key ORDER BY 2 DESC, user_key LIMIT $5) a
          JOIN users u ON u.project_id = $1 AND u.user_key = a.user_key
          ORDER BY a.events DESC, a.user_key""";
    }
    return pool.preparedQuery(sql).execute(t).map(rows -> {
      JsonArray people = new JsonArray();
      for (Row r : rows) {
        if (people.size() == limit) {
          break;
        }
        people.add(new JsonObject().put("userId", r.getString(0)).put("events", r.getLong(1))
            .put("activeDays", r.getInteger(2))
            .put("firstSeen", r.getOffsetDateTime(3).toInstant().toString())
            .put("lastSeen", r.getOffsetDateTime(4).toInstant().toString()));
      }
      return new JsonObject().put("from", q.getString("from")).put("to", q.getString("to"))
          .put("days", new JsonObject().put("from", dayFrom.toString()).put("to", dayTo.toString()))
          .put("sort", recent ? "recent" : "active").put("prefix", prefix).put("limit", limit)
          .put("truncated", rows.size() > limit).put("people", people);
    });
  }
}
