package io.tally.realtime;

import io.tally.support.Db;
import io.tally.support.Events;
import io.tally.support.Http;
import io.tally.support.TestServers;
import io.tally.support.TestTally;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import redis.clients.jedis.Jedis;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RedisCountersTest {

  private static Jedis jedis() {
    return TestServers.get().jedis();
  }

  @Test
  void verifiesThatRealtimeCountsMatchWhatWasSent() throws Exception {
    try (TestTally t = TestTally.start(); Jedis jedis = jedis()) {
      // GIVEN a known mix of types and users
      JsonArray batch = new JsonArray();
      Map<String, Integer> expected = new HashMap<>();
      Set<String> users = new HashSet<>();
      String[] types = {"message_sent", "message_received", "page_view", "signup"};
      for (int i = 0; i < 137; i++) {
        String type = types[(i * 7) % types.length];
        String user = "u-" + (i % 23);
        batch.add(Events.event(type, user));
        expected.merge(type, 1, Integer::sum);
        users.add(user);
      }
      // the same events again must not count twice
      assertEquals(200, t.http.post(new JsonObject().put("batch", batch).encode()).status());
      assertEquals(200, t.http.post(new JsonObject().put("batch", batch).encode()).status());
      // WHEN the real-time route is read (counters are written right after commit; allow the pipeline to land)
      JsonObject rt = null;
      for (int i = 0; i < 50; i++) {
        rt = t.http.get("/v1/realtime").json();
        if (rt.getLong("total") == 137) {
          break;
        }
        Thread.sleep(50);
      }
      // THEN it equals the counts computed here
      assertEquals(137, rt.getLong("total"));
      for (Map.Entry<String, Integer> e : expected.entrySet()) {
        assertEquals(e.getValue().longValue(), rt.getJsonObject("byType").getLong(e.getKey()), e.getKey());
      }
      assertEquals(users.size(), rt.getLong("uniqueUsersToday"));
      assertEquals(60, rt.getJsonArray("perMinute").size());
      // AND the per-user hash holds that user's events, with a TTL
      String key = "tally:" + t.project + ":u:u-0";
      long u0 = 0;
      for (int i = 0; i < 137; i++) {
        if (i % 23 == 0) {
          u0++;
        }
      }
      assertEquals(String.valueOf(u0), jedis.hget(key, "_all"));
      assertTrue(jedis.ttl(key) > 0);
      assertTrue(jedis.ttl("tally:" + t.project + ":uu:" + LocalDate.now(ZoneOffset.UTC)) > 0);
    }
  }

  @Test
  void verifiesThatIngestionIsUnaffectedWhileRedisIsDown() throws Exception {
    TestServers servers = TestServers.get();
    Assumptions.assumeTrue(servers.embedded(), "needs the embedded Redis to stop it");
    try (TestTally t = TestTally.start()) {
      // GIVEN Redis is stopped
      servers.redis().stop();
      try {
        // WHEN events arrive
        long start = System.nanoTime();
        for (int i = 0; i < 5; i++) {
          Http.Response r = t.http.post(Events.batchOf(20, "page_view").encode());
          assertEquals(200, r.status(), r.body());
          assertEquals(20, r.json().getInteger("accepted"));
        }
        long ms = (System.nanoTime() - start) / 1_000_000;
        // THEN they are all stored, the skipped updates are counted, and the realtime route says Redis is down
        assertEquals(100, Db.eventsOf(t.project));
        assertTrue(ms < 10_000, "ingestion must not wait on Redis: " + ms + " ms");
        String metrics = t.http.get("/metrics").body();
        double skipped = metric(metrics, "analytics_redis_skipped_total");
        assertTrue(skipped >= 1, metrics);
        assertEquals(503, t.http.get("/v1/realtime").status());
      } finally {
        servers.redis().restart();
      }
      // AND counting resumes once Redis is back
      JsonObject rt = null;
      for (int i = 0; i < 100; i++) {
        t.http.post(Events.event("page_view", "u-back").encode());
        Http.Response r = t.http.get("/v1/realtime");
        if (r.status() == 200 && r.json().getLong("total") > 0) {
          rt = r.json();
          break;
        }
        Thread.sleep(100);
      }
      assertTrue(rt != null && rt.getLong("total") > 0, "Redis counting did not resume");
    }
  }

  static double metric(String text, String name) {
    for (String line : text.split("\n")) {
      if (line.startsWith(name + " ")) {
        return Double.parseDouble(line.substring(name.length() + 1).trim());
      }
    }
    return Double.NaN;
  }

  @SuppressWarnings("unused")
  private static Instant now() {
    return Instant.now();
  }
}
