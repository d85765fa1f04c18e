package io.tally.query;

import io.tally.support.Events;
import io.tally.support.Http;
import io.tally.support.TestTally;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Instant;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class EventCountTest {

  @Test
  void verifiesThatCountsFollowThePeriodHalfOpenAndTheType() {
    try (TestTally t = TestTally.start()) {
      // GIVEN events every 10 minutes from 10:00 to 11:50, alternating types
      Instant base = Instant.parse("2026-11-20T10:00:00Z");
      JsonArray batch = new JsonArray();
      int sentInWindow = 0;
      int allInWindow = 0;
      for (int i = 0; i < 12; i++) {
        Instant at = base.plusSeconds(600L * i);
        String type = i % 3 == 0 ? "message_sent" : "page_view";
        batch.add(Events.event(type, "u-c").put("timestamp", at.toString()));
        boolean inWindow = !at.isBefore(Instant.parse("2026-11-20T10:30:00Z"))
            && at.isBefore(Instant.parse("2026-11-20T11:30:00Z"));
        if (inWindow) {
          allInWindow++;
          if (type.equals("message_sent")) {
            sentInWindow++;
          }
        }
      }
      assertEquals(200, t.http.post(new JsonObject().put("batch", batch).encode()).status());
      // WHEN counting [10:30, 11:30)
      String q = "/v1/events/count?from=2026-11-20T10:30:00Z&to=2026-11-20T11:30:00Z";
      // THEN the counts equal those computed here
      assertEquals(allInWindow, t.http.get(q).json().getLong("count"));
      assertEquals(sentInWindow, t.http.get(q + "&type=message_sent").json().getLong("count"));
      assertEquals(0, t.http.get(q + "&type=nothing").json().getLong("count"));
    }
  }

  @Test
  void verifiesThatABadPeriodIs400NamingTheParameter() {
    try (TestTally t = TestTally.start()) {
      Http.Response r = t.http.get("/v1/events/count?from=soon");
      assertEquals(400, r.status());
      assertEquals("from", r.json().getString("field"));
      Http.Response r2 = t.http.get("/v1/events/count?from=2026-11-21T00:00:00Z&to=2026-11-20T00:00:00Z");
      assertEquals(400, r2.status());
    }
  }
}
