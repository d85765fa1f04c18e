package io.tally.ingest;

import io.tally.support.Events;
import io.tally.support.Http;
import io.tally.support.TestTally;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AuthTest {
  static TestTally t;

  @BeforeAll
  static void start() {
    t = TestTally.start();
  }

  @AfterAll
  static void stop() {
    t.stop();
  }

  @Test
  void verifiesThatIngestionWithoutAKeyIs401() {
    Http.Response r = t.http.postWith(null, Events.event("page_view", "u").encode());
    assertEquals(401, r.status());
    assertEquals("unauthorized", r.json().getString("error"));
  }

  @Test
  void verifiesThatAnUnknownKeyIs401() {
    assertEquals(401, t.http.postWith("Bearer nope-nope-nope", Events.event("page_view", "u").encode()).status());
    assertEquals(401, t.http.getWith("Bearer nope-nope-nope", "/v1/realtime").status());
  }

  @Test
  void verifiesThatAReadKeyCannotIngestAndAWriteKeyCannotQuery() {
    assertEquals(403, t.http.postWith("Bearer " + t.readKey, Events.event("page_view", "u").encode()).status());
    Http.Response r = t.http.getWith("Bearer " + t.writeKey, "/v1/events/count");
    assertEquals(403, r.status());
    assertEquals("forbidden", r.json().getString("error"));
    assertEquals(401, t.http.getWith(null, "/v1/events/count").status());
  }

  @Test
  void verifiesThatBasicAuthWithTheKeyAsUserWorks() {
    String basic = "Basic " + Base64.getEncoder().encodeToString((t.writeKey + ":").getBytes(StandardCharsets.UTF_8));
    assertEquals(200, t.http.postWith(basic, Events.event("page_view", "u-basic").encode()).status());
  }
}
