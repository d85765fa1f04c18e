package io.tally.index;

import io.tally.support.Eventually;
import io.tally.support.Http;
import io.tally.support.TestTally;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Verifies that the pattern index keeps up with a bulk load without reading anything back: two waves of thousands of
 * person-days arrive within seconds, plus identity merges (whose persons are re-read, in paced steps from 100 queued
 * persons on), and the index then answers exactly what the SQL path and the test's own count say.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class PatternIndexBulkTest {
  static TestTally t;

  @BeforeAll
  static void start() {
    // bulk re-reads from 100 queued persons on (2,000 by default)
    t = TestTally.start(c -> c.withQuery(c.query().withPatternIndexBulkThreshold(100)));
  }

  @AfterAll
  static void stop() {
    t.stop();
  }

  private static void wave(String day, int from, int to) {
    List<JsonObject> batch = new ArrayList<>();
    for (int i = from; i < to; i++) {
      String u = "bulk-" + i;
      String s = u + "-" + day;
      Instant at = Instant.parse(day + "T10:00:00Z").plusSeconds(i % 3600);
      for (String type : new String[] {"page_view", "message_sent"}) {
        batch.add(new JsonObject().put("id", UUID.randomUUID().toString()).put("timestamp", at.toString())
            .put("type", type).put("sessionId", s).put("properties", new JsonObject())
            .put("userContext", new JsonObject().put("userId", u).put("sessionId", s)));
        at = at.plusSeconds(5);
      }
      if (batch.size() >= 1000) {
        post(batch);
      }
    }
    post(batch);
  }

  private static void post(List<JsonObject> batch) {
    if (batch.isEmpty()) {
      return;
    }
    Http.Response r = t.http.post(new JsonObject().put("batch", new JsonArray(new ArrayList<>(batch))).encode());
    assertEquals(200, r.status(), r.body());
    assertEquals(batch.size(), r.json().getInteger("accepted"), r.body());
    batch.clear();
  }

  private static double metric(String name) {
    return t.http.get("/metrics").body().lines().filter(l -> l.startsWith(name + " ")).mapToDouble(l ->
        Double.parseDouble(l.substring(name.length()).trim())).findFirst().orElse(-1);
  }

  @Test
  void aBulkLoadIsAddedAsItArrivesAndEndsExactlyAsTheSql() {
    Eventually.until("pattern index loaded", () -> metric("analytics_pattern_index_person_days") >= 0);
    double bulkBefore = metric("analytics_pattern_index_bulk_rereads");
    // wave 1: 2,600 persons on Oct 20; wave 2 right after: 2,200 of them again and 400 new ones on Oct 21
    wave("2026-10-20", 0, 2600);
    wave("2026-10-21", 400, 3000);
    // 60 anonymous visitors on Oct 19 who identify on Oct 20 as bulk-0 … bulk-59 (otherwise active on Oct 20 only)
    List<JsonObject> batch = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      Instant at = Instant.parse("2026-10-19T12:00:00Z").plusSeconds(i);
      batch.add(new JsonObject().put("id", UUID.randomUUID().toString()).put("timestamp", at.toString())
          .put("type", "page_view").put("sessionId", "anon-s-" + i).put("properties", new JsonObject())
          .put("userContext", new JsonObject().put("anonymousId", "anon-" + i).put("sessionId", "anon-s-" + i)));
    }
    post(batch);
    for (int i = 0; i < 60; i++) {
      Instant at = Instant.parse("2026-10-20T12:30:00Z").plusSeconds(i);
      batch.add(new JsonObject().put("id", UUID.randomUUID().toString()).put("timestamp", at.toString())
          .put("type", "identify").put("sessionId", "anon-s-" + i).put("properties", new JsonObject())
          .put("userContext", new JsonObject().put("anonymousId", "anon-" + i).put("userId", "bulk-" + i)
              .put("sessionId", "anon-s-" + i)));
    }
    post(batch);
    Eventually.until("every event derived", () -> t.http.get("/v1/events/count?from=2026-10-19&to=2026-10-22")
        .json().getLong("count", -1L) == 2 * 5200L + 120);

    JsonObject def = new JsonObject().put("conditions", new JsonArray()
            .add(new JsonObject().put("field", "usage_frequency").put("operator", "gte").put("value", 2)))
        .put("timeWindow", 7).put("minOccurrences", 1).put("aggregation", "unique");
    Http.Response created = t.http.send(java.net.http.HttpRequest.newBuilder(t.http.uri("/v1/patterns"))
        .header("Authorization", "Bearer " + t.readKey).header("Content-Type", "application/json")
        .POST(java.net.http.HttpRequest.BodyPublishers.ofString(new JsonObject().put("id", "two-days")
            .put("name", "Active on two days").put("type", "retention").put("pattern", def).encode())).build());
    assertEquals(201, created.status(), created.body());

    // active on two days: the persons of both waves (400 … 2,599) and the 60 who identified (their anonymous Oct 19
    // now theirs)
    TreeSet<String> expected = new TreeSet<>();
    for (int i = 0; i < 2600; i++) {
      if (i >= 400 || i < 60) {
        expected.add("bulk-" + i);
      }
    }
    String q = "/v1/patterns/two-days/users?to=2026-10-22T00:00:00Z&limit=5000";
    Eventually.until("the index caught up", 60, () -> metric("analytics_pattern_index_queued_person_days") == 0
        && t.http.get(q).json().getLong("total") == expected.size());
    // the index holds every project of the (shared) database: at least this project's 5,200 person-days
    assertTrue(metric("analytics_pattern_index_person_days") >= 5200.0);
    JsonObject indexed = t.http.get(q).json();
    JsonObject sql = t.http.get(q + "&index=false").json();
    assertEquals(expected, new TreeSet<>(indexed.getJsonArray("users").getList()));
    assertEquals(expected, new TreeSet<>(sql.getJsonArray("users").getList()));
    // the waves' person-days were added as flushed, never re-read: only merges cause re-reads, and 60 merges queue
    // at most 120 persons
    assertTrue(metric("analytics_pattern_index_bulk_rereads") - bulkBefore <= 1.0,
        "bulk re-reads: " + (metric("analytics_pattern_index_bulk_rereads") - bulkBefore));
  }
}
