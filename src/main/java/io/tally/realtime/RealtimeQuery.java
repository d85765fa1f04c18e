package io.tally.realtime;

import io.tally.error.ApiError;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Per-type counts for the last 60 minutes and today's unique users, read from Redis in one round trip. */
public final class RealtimeQuery {
  static final int WINDOW_MINUTES = 60;
  private final Redis redis;
  private final Clock clock;

  public RealtimeQuery(Redis redis, Clock clock) {
    this.redis = redis;
    this.clock = clock;
  }

  public Future<JsonObject> run(String project) {
    Instant now = clock.instant();
    long nowMinute = now.getEpochSecond() / 60;
    LocalDate today = LocalDate.ofInstant(now, ZoneOffset.UTC);
    List<Request> reqs = new ArrayList<>(WINDOW_MINUTES + 1);
    for (long m = nowMinute - WINDOW_MINUTES + 1; m <= nowMinute; m++) {
      reqs.add(Request.cmd(Command.HGETALL).arg(RedisKeys.minute(project, m)));
    }
    reqs.add(Request.cmd(Command.PFCOUNT).arg(RedisKeys.uniqueUsers(project, today)));
    return redis.batch(reqs)
        .recover(err -> Future.failedFuture(
            ApiError.unavailable("redis_unavailable", "real-time counters are unavailable: " + err.getMessage(), 1000)))
        .map(responses -> {
          Map<String, Long> byType = new TreeMap<>();
          JsonArray perMinute = new JsonArray();
          long total = 0;
          for (int i = 0; i < WINDOW_MINUTES; i++) {
            Response h = responses.get(i);
            long minuteTotal = 0;
            if (h != null) {
              for (String type : h.getKeys()) {
                long n = h.get(type).toLong();
                byType.merge(type, n, Long::sum);
                minuteTotal += n;
              }
            }
            total += minuteTotal;
            long minute = nowMinute - WINDOW_MINUTES + 1 + i;
            perMinute.add(new JsonObject().put("minute", Instant.ofEpochSecond(minute * 60).toString())
                .put("count", minuteTotal));
          }
          JsonObject types = new JsonObject();
          byType.forEach(types::put);
          Response uu = responses.get(WINDOW_MINUTES);
          return new JsonObject()
              .put("windowMinutes", WINDOW_MINUTES)
              .put("total", total)
              .put("byType", types)
              .put("perMinute", perMinute)
              .put("day", today.toString())
              .put("uniqueUsersToday", uu == null ? 0 : uu.toLong());
        });
  }
}
