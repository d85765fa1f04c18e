package io.tally.dashboard;

import io.tally.support.Eventually;
import io.tally.support.Http;
import io.tally.support.TestTally;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Verifies {@code GET /v1/people}, the Users view's lists: most active, most recent, by id prefix, and its bounds. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PeopleRouteTest {
  static void add(JsonArray batch, String user, Instant at) {
    batch.add(new JsonObject().put("id", UUID.randomUUID().toString()).put("timestamp", at.toString())
        .put("type", "page_view").put("sessionId", "s-" + user + "-" + at.getEpochSecond() / 86_400)
        .put("userContext", new JsonObject().put("userId", user)));
  }

  static List<String> ids(JsonObject r) {
    return r.getJsonArray("people").stream().map(p -> ((JsonObject) p).getString("userId")).toList();
  }

  /**
   * Verifies the lists: GIVEN four people with known events on known days (one of them before the period) WHEN the
   * most active and most recent of the last 7 days are asked, with and without a prefix THEN they come in that order
   * with their events and active days, and another project sees none of them.
   */
  @Test
  void mostActiveAndMostRecentByPrefix() {
    try (TestTally t = TestTally.start(); TestTally other = TestTally.start()) {
      Instant today = Instant.now().truncatedTo(ChronoUnit.DAYS);
      Instant to = today.plus(1, ChronoUnit.DAYS);
      Instant from = to.minus(7, ChronoUnit.DAYS);
      JsonArray batch = new JsonArray();
      // ana: 5 events over 2 days, last seen 3 days ago; anton: 3 events today (the most recent); bo: 4 events, 2 days
      // ago; old: only before the period
      for (int i = 0; i < 3; i++) {
        add(batch, "ana-1", today.minus(4, ChronoUnit.DAYS).plusSeconds(i));
      }
      add(batch, "ana-1", today.minus(3, ChronoUnit.DAYS));
      add(batch, "ana-1", today.minus(3, ChronoUnit.DAYS).plusSeconds(60));
      for (int i = 0; i < 3; i++) {
        add(batch, "anton-2", Instant.now().minusSeconds(600 + i));
      }
      for (int i = 0; i < 4; i++) {
        add(batch, "bo-3", today.minus(2, ChronoUnit.DAYS).plusSeconds(i));
      }
      add(batch, "old-4", today.minus(20, ChronoUnit.DAYS));
      assertEquals(batch.size(), t.http.post(new JsonObject().put("batch", batch).encode()).json()
          .getInteger("accepted"));
      t.awaitDerived();
      String period = "from=" + from + "&to=" + to;
      Eventually.until("people derived", () -> ids(t.http.get("/v1/people?" + period).json()).size() == 3);

      // THEN the most active, with their events and active days in the period
      JsonObject active = t.http.get("/v1/people?" + period).json();
      assertEquals(List.of("ana-1", "bo-3", "anton-2"), ids(active));
      JsonObject ana = active.getJsonArray("people").getJsonObject(0);
      assertEquals(5, ana.getLong("events"));
      assertEquals(2, ana.getInteger("activeDays"));
      assertEquals(today.minus(3, ChronoUnit.DAYS).plusSeconds(60).toString(), ana.getString("lastSeen"));
      assertEquals(false, active.getBoolean("truncated"));
      // AND the most recent: by last event, newest first
      assertEquals(List.of("anton-2", "bo-3", "ana-1"), ids(t.http.get("/v1/people?sort=recent&" + period).json()));
      // AND by prefix, in both orders, with the limit and truncation
      assertEquals(List.of("ana-1", "anton-2"), ids(t.http.get("/v1/people?prefix=an&" + period).json()));
      assertEquals(List.of("anton-2", "ana-1"), ids(t.http.get("/v1/people?sort=recent&prefix=an&" + period).json()));
      JsonObject one = t.http.get("/v1/people?limit=1&prefix=an&" + period).json();
      assertEquals(List.of("ana-1"), ids(one));
      assertEquals(true, one.getBoolean("truncated"));
      assertEquals(List.of(), ids(t.http.get("/v1/people?prefix=zz&" + period).json()));
      // a prefix is text, not a pattern
      assertEquals(List.of(), ids(t.http.get("/v1/people?prefix=" + enc("a%") + "&" + period).json()));
      assertEquals(List.of(), ids(t.http.get("/v1/people?prefix=" + enc("_n") + "&" + period).json()));
      // AND the Users view's export holds the same list
      Http.Response csv = t.http.get("/v1/export/people?format=csv&sort=recent&" + period);
      assertEquals(200, csv.status(), csv.body());
      assertEquals(List.of("anton-2", "bo-3", "ana-1"), csv.body().lines().skip(1).map(l -> l.split(",")[0]).toList());
      // AND another project sees nobody
      assertEquals(List.of(), ids(other.http.get("/v1/people?" + period).json()));
    }
  }

  static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  /** Verifies every bound of the route answers 400 naming its parameter and limit, and a write key is refused. */
  @Test
  void boundsAreRefusedNamingTheField() {
    try (TestTally t = TestTally.start()) {
      Instant to = Instant.now();
      check(t.http.get("/v1/people?limit=101"), "limit", 100L);
      check(t.http.get("/v1/people?limit=0"), "limit", null);
      check(t.http.get("/v1/people?prefix=" + "x".repeat(129)), "prefix", 128L);
      check(t.http.get("/v1/people?prefix=a%00b"), "prefix", null);
      check(t.http.get("/v1/people?sort=loudest"), "sort", null);
      check(t.http.get("/v1/people?from=" + to.minus(367, ChronoUnit.DAYS) + "&to=" + to), "from", 366L);
      assertEquals(200, t.http.get("/v1/people?prefix=" + "x".repeat(128) + "&from=" + to.minus(366, ChronoUnit.DAYS)
          + "&to=" + to).status());
      assertEquals(403, t.http.getWith("Bearer " + t.writeKey, "/v1/people").status());
    }
  }

  static void check(Http.Response r, String field, Long limit) {
    assertEquals(400, r.status(), r.body());
    JsonObject e = r.json();
    assertEquals(field, e.getString("field"), r.body());
    if (limit != null) {
      assertEquals(limit, e.getLong("limit"), r.body());
    }
    assertEquals(false, r.body().contains("Exception") || r.body().contains("SQL"), r.body());
  }
}
