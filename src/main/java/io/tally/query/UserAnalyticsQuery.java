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
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/** The seed's UserAnalytics for one person over a period, from that person's events (index range) and sessions. */
public final class UserAnalyticsQuery {
  /** The person's events in the period, grouped finely enough for every figure (a few hundred rows at most). */
  private static final String EVENTS = """
      WITH ev AS (
        SELECT ts, type, properties FROM events
        WHERE project_id = $1 AND user_id = $2 AND ts >= $3 AND ts < $4 AND NOT is_bot
        UNION ALL
        SELECT ts, type, properties FROM events
        WHERE project_id = $1 AND user_id IS NULL AND anonymous_id = $2 AND ts >= $3 AND ts < $4 AND NOT is_bot
      )
      SELECT type, tally_str(properties, 'provider'), tally_str(properties, 'model'),
             CASE WHEN type = 'feature_used' THEN tally_str(properties, 'feature') END,
             extract(hour FROM ts AT TIME ZONE $5)::int, (ts AT TIME ZONE $5)::date,
             count(*), coalesce(sum(tally_num(properties, 'tokens')), 0), coalesce(sum(tally_num(properties, 'cost')), 0),
             coalesce(sum(tally_num(properties, 'responseTimeMs')), 0), count(tally_num(properties, 'responseTimeMs')),
             min(ts), max(ts)
      FROM ev GROUP BY 1, 2, 3, 4, 5, 6
      """;
  private static final String SESSIONS = """
      SELECT count(*), coalesce(sum(duration_ms), 0)::bigint FROM sessions
      WHERE project_id = $1 AND (user_id = $2 OR (user_id IS NULL AND anonymous_id = $2))
        AND started_at >= $3 AND started_at < $4
      """;
  private static final String KNOWN = """
      SELECT EXISTS (SELECT 1 FROM events WHERE project_id = $1 AND user_id = $2 AND NOT is_bot)
          OR EXISTS (SELECT 1 FROM events WHERE project_id = $1 AND user_id IS NULL AND anonymous_id = $2
                     AND NOT is_bot)
      """;

  private final Pool pool;

  UserAnalyticsQuery(Pool pool) {
    this.pool = pool;
  }

  public Future<JsonObject> run(JsonObject q, ZoneId zone) {
    String project = q.getString("projectId");
    String user = q.getString("userId");
    Instant from = Instant.parse(q.getString("from"));
    Instant to = Instant.parse(q.getString("to"));
    Tuple period = Tuple.of(project, user, Agg.odt(from), Agg.odt(to));
    Tuple withZone = Tuple.of(project, user, Agg.odt(from), Agg.odt(to), zone.getId());
    return pool.preparedQuery(KNOWN).execute(Tuple.of(project, user)).compose(known -> {
      if (!known.iterator().next().getBoolean(0)) {
        return Future.failedFuture(ApiError.notFound("no events of user '" + user + "' in this project"));
      }
      return Future.all(pool.preparedQuery(EVENTS).execute(withZone), pool.preparedQuery(SESSIONS).execute(period))
          .map(all -> build(user, from, to, zone, all.resultAt(0), all.resultAt(1)));
    });
  }

  private static JsonObject build(String user, Instant from, Instant to, ZoneId zone,
                                  io.vertx.sqlclient.RowSet<Row> events, io.vertx.sqlclient.RowSet<Row> sessions) {
    Tallies e = new Tallies();
    for (Row r : events) {
      e.add(r);
    }
    Map<String, Long> byType = e.byType;
    Row s = sessions.iterator().next();
    long sessionCount = s.getLong(0);
    long duration = s.getLong(1);
    long sent = byType.getOrDefault("message_sent", 0L);
    return new JsonObject()
        .put("userId", user)
        .put("period", new JsonObject().put("start", from.toString()).put("end", to.toString()))
        .put("activity", new JsonObject()
            .put("totalSessions", sessionCount)
            .put("totalDuration", duration)
            .put("averageSessionDuration", Agg.div(duration, sessionCount))
            .put("lastActiveAt", e.last == null ? null : e.last.toInstant().toString())
            .put("daysActive", e.days.size())
            .put("retentionRate", e.retention(zone, to)))
        .put("usage", new JsonObject()
            .put("messagesSent", sent)
            .put("messagesReceived", byType.getOrDefault("message_received", 0L))
            .put("conversationsCreated", byType.getOrDefault("conversation_created", 0L))
            .put("tokensUsed", e.tokens)
            .put("costIncurred", e.cost)
            .put("providersUsed", new JsonArray(new ArrayList<>(new TreeSet<>(e.providerMessages.keySet()))))
            .put("modelsUsed", new JsonArray(new ArrayList<>(new TreeSet<>(e.modelMessages.keySet())))))
        .put("behavior", new JsonObject()
            .put("peakHours", peakHours(e.hours))
            .put("preferredProvider", preferred(e.providerMessages))
            .put("preferredModel", preferred(e.modelMessages))
            .put("averageResponseTime", Agg.div(e.rtSum, e.rtN))
            .put("errorRate", Agg.div(byType.getOrDefault("error", 0L), sent))
            .put("featureUsage", e.featureUsage()))
        .put("engagement", new JsonObject()
            .put("sharesCreated", byType.getOrDefault("share_created", 0L))
            .put("exportsGenerated", byType.getOrDefault("export_generated", 0L))
            .put("customizationsMade", byType.getOrDefault("customization_made", 0L))
            .put("feedbackGiven", byType.getOrDefault("feedback_given", 0L))
            .put("supportTickets", byType.getOrDefault("support_ticket_created", 0L)));
  }

  /** The user's event rows added up: counts by type, hours, days, messages' tokens, cost, providers and models. */
  private static final class Tallies {
    final Map<String, Long> byType = new HashMap<>();
    final Map<String, Long> providerMessages = new HashMap<>();
    final Map<String, Long> modelMessages = new HashMap<>();
    final Map<String, Long> features = new TreeMap<>();
    final long[] hours = new long[24];
    final Set<LocalDate> days = new HashSet<>();
    double tokens;
    double cost;
    double rtSum;
    long rtN;
    OffsetDateTime first;
    OffsetDateTime last;

    void add(Row r) {
      String type = r.getString(0);
      long n = r.getLong(6);
      byType.merge(type, n, Long::sum);
      hours[r.getInteger(4)] += n;
      days.add(r.getLocalDate(5));
      OffsetDateTime min = r.getOffsetDateTime(11);
      OffsetDateTime max = r.getOffsetDateTime(12);
      if (first == null || min.isBefore(first)) {
        first = min;
      }
      if (last == null || max.isAfter(last)) {
        last = max;
      }
      boolean message = type.equals("message_sent") || type.equals("message_received");
      if (message) {
        tokens += r.getDouble(7);
        cost += r.getDouble(8);
        if (r.getString(1) != null) {
          providerMessages.merge(r.getString(1), n, Long::sum);
        }
        if (r.getString(2) != null) {
          modelMessages.merge(r.getString(2), n, Long::sum);
        }
      }
      if (type.equals("message_received")) {
        rtSum += r.getDouble(9);
        rtN += r.getLong(10);
      }
      if (r.getString(3) != null) {
        features.merge(r.getString(3), n, Long::sum);
      }
    }

    /** Days active over the days from the first event to the period's end (in the zone); 0 without events. */
    double retention(ZoneId zone, Instant to) {
      if (first == null) {
        return 0;
      }
      LocalDate firstDay = first.atZoneSameInstant(zone).toLocalDate();
      LocalDate lastDay = to.minusMillis(1).atZone(zone).toLocalDate();
      long span = ChronoUnit.DAYS.between(firstDay, lastDay) + 1;
      return Agg.div(days.size(), span);
    }

    /** The features used, with chat, share, export and settings counted from their event types. */
    JsonObject featureUsage() {
      features.merge("chat", byType.getOrDefault("message_sent", 0L), Long::sum);
      features.merge("share", byType.getOrDefault("share_created", 0L), Long::sum);
      features.merge("export", byType.getOrDefault("export_generated", 0L), Long::sum);
      features.merge("settings", byType.getOrDefault("customization_made", 0L), Long::sum);
      JsonObject featureUsage = new JsonObject();
      features.forEach(featureUsage::put);
      return featureUsage;
    }
  }

  /** Up to five hours with events, by count descending, ties by hour. */
  static JsonArray peakHours(long[] hours) {
    List<Integer> hs = new ArrayList<>();
    for (int h = 0; h < 24; h++) {
      if (hours[h] > 0) {
        hs.add(h);
      }
    }
    hs.sort((a, b) -> hours[a] != hours[b] ? Long.compare(hours[b], hours[a]) : Integer.compare(a, b));
    return new JsonArray(new ArrayList<>(hs.subList(0, Math.min(5, hs.size()))));
  }

  /** The key with the highest count; ties go to the first in sort order; null when empty. */
  static String preferred(Map<String, Long> counts) {
    String best = null;
    long bestN = -1;
    for (Map.Entry<String, Long> e : new TreeMap<>(counts).entrySet()) {
      if (e.getValue() > bestN) {
        best = e.getKey();
        bestN = e.getValue();
      }
    }
    return best;
  }
}
