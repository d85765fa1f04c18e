package io.tally.insight;

import io.tally.query.QueryCache;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * The insights' anomaly scan of a period is keyed by the bucket its period starts in, so a dashboard's default
 * "last 30 days" (whose start moves on every call) and the periodic warm-up share one cached answer per bucket.
 */
class InsightAnomalyKeyTest {
  static final ZoneId PARIS = ZoneId.of("Europe/Paris");
  static final Instant END = Instant.parse("2026-12-01T23:00:00Z");

  static String key(String from, boolean hourly, ZoneId zone) {
    return QueryCache.key("anomalies", InsightQuery.anomalyQuery("p", "events", Instant.parse(from), END, hourly,
        zone));
  }

  @Test
  void dailyScansStartAtTheProjectsLocalMidnight() {
    // 10:15:03 and 10:15:09 UTC on 2 November are both in Paris's 2 November (from 1 November 23:00 UTC)
    assertEquals(key("2026-11-02T10:15:03Z", false, PARIS), key("2026-11-02T10:15:09.250Z", false, PARIS));
    JsonObject q = InsightQuery.anomalyQuery("p", "events", Instant.parse("2026-11-02T10:15:03Z"), END, false, PARIS);
    assertEquals("2026-11-01T23:00:00Z", q.getString("from"));
    assertEquals(END.toString(), q.getString("to"));
    // 23:30 UTC on 2 November is already 3 November in Paris: another bucket, another key
    assertEquals("2026-11-02T23:00:00Z", InsightQuery.anomalyQuery("p", "events",
        Instant.parse("2026-11-02T23:30:00Z"), END, false, PARIS).getString("from"));
    assertNotEquals(key("2026-11-02T10:15:03Z", false, PARIS), key("2026-11-02T23:30:00Z", false, PARIS));
    // in UTC the same two instants are one day
    assertEquals(key("2026-11-02T10:15:03Z", false, ZoneOffset.UTC), key("2026-11-02T23:30:00Z", false,
        ZoneOffset.UTC));
  }

  @Test
  void hourlyScansStartAtTheHour() {
    assertEquals(key("2026-11-29T14:01:00Z", true, PARIS), key("2026-11-29T14:59:59Z", true, PARIS));
    assertNotEquals(key("2026-11-29T14:59:59Z", true, PARIS), key("2026-11-29T15:00:00Z", true, PARIS));
    assertEquals("2026-11-29T14:00:00Z", InsightQuery.anomalyQuery("p", "cost", Instant.parse("2026-11-29T14:01:00Z"),
        END, true, PARIS).getString("from"));
  }
}
