package io.tally.enrich;

import io.tally.support.Db;
import io.tally.support.Events;
import io.tally.support.TestTally;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Verifies that with no geo-IP database configured (the default), an event from a known public address, behind a
 * trusted proxy, gets its country from the database shipped in the jar.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class BundledLocationTest {

  @Test
  void verifiesThatAnEventFromAPublicAddressGetsItsCountryOutOfTheBox() {
    try (TestTally t = TestTally.start(UnaryOperator.identity())) {
      assertEquals("", t.tally.config().enrich().geoipDatabase());
      // GIVEN an event forwarded by a trusted proxy (loopback) for a client at 8.8.8.8 (Google, US) and one for
      // 133.11.0.1 (the University of Tokyo, JP)
      String us = UUID.randomUUID().toString();
      String jp = UUID.randomUUID().toString();
      JsonObject a = Events.event("page_view", "u-us").put("id", us);
      JsonObject b = Events.event("page_view", "u-jp").put("id", jp);
      assertEquals(200, t.http.postHeaders(a.encode(), "X-Forwarded-For", "8.8.8.8").status());
      assertEquals(200, t.http.postHeaders(b.encode(), "X-Forwarded-For", "203.0.113.9, 133.11.0.1").status());
      // THEN each is stored with its country (and its address anonymised)
      assertEquals("US", Db.query("SELECT country FROM events WHERE id = ?::uuid", us).get(0).get("country"));
      assertEquals("8.8.8.0", Db.query("SELECT ip FROM events WHERE id = ?::uuid", us).get(0).get("ip"));
      assertEquals("JP", Db.query("SELECT country FROM events WHERE id = ?::uuid", jp).get(0).get("country"));
      // AND GET /v1/about tells a dashboard user where locations come from and how to get cities
      JsonObject location = t.http.get("/v1/about").json().getJsonObject("location");
      assertEquals("country", location.getString("level"));
      assertEquals(GeoIpLookup.BUNDLED_SOURCE, location.getString("source"));
      assertTrue(location.getString("hint").contains("enrich.geoipDatabase"), location.encode());
      // AND it is a read route: a write key (which lives in browsers) is refused
      assertEquals(403, t.http.getWith("Bearer " + t.writeKey, "/v1/about").status());
    }
  }
}
