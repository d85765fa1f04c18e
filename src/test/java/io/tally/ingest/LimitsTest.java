package io.tally.ingest;

import io.tally.support.Db;
import io.tally.support.Events;
import io.tally.support.Http;
import io.tally.support.TestTally;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LimitsTest {
  static TestTally t;

  @BeforeAll
  static void start() {
    t = TestTally.start();
  }

  @AfterAll
  static void stop() {
    t.stop();
  }

  /** An event of about {@code bytes} more bytes, in strings of 1,000 characters (one string is bounded too). */
  private static JsonObject bigEvent(int bytes) {
    JsonObject properties = new JsonObject();
    for (int i = 0; i < bytes / 1000; i++) {
      properties.put("blob" + i, "x".repeat(1000));
    }
    return Events.event("message_sent", "u-big").put("properties", properties);
  }

  @Test
  void verifiesThatAnOversizedEventInABatchIsRejectedAloneNamingTheLimit() {
    JsonObject small = Events.event("message_sent", "u-big");
    Http.Response r = t.http.post(Events.batch(small, bigEvent(40_000)).encode());
    assertEquals(200, r.status(), r.body());
    assertEquals(1, r.json().getInteger("accepted"));
    JsonObject rej = r.json().getJsonArray("rejected").getJsonObject(0);
    assertEquals(1, rej.getInteger("index"));
    assertEquals("ingest.maxEventBytes", rej.getString("field"));
    assertTrue(rej.getString("error").contains("32768"), rej.encode());
    assertEquals(1, Db.count("SELECT count(*) FROM events WHERE id = ?::uuid", UUID.fromString(small.getString("id"))));
  }

  @Test
  void verifiesThatAnOversizedSingleEventIs413() {
    Http.Response r = t.http.post(bigEvent(40_000).encode());
    assertEquals(413, r.status());
    assertEquals("ingest.maxEventBytes", r.json().getString("field"));
    assertEquals(32768, r.json().getInteger("limit"));
  }

  @Test
  void verifiesThatAnEventJustUnderTheLimitIsAccepted() {
    JsonObject e = bigEvent(30_000);
    assertTrue(e.encode().length() < 32768);
    assertEquals(200, t.http.post(e.encode()).status());
  }

  @Test
  void verifiesThatABodyOverOneMebibyteIs413NamingTheLimit() {
    JsonArray arr = new JsonArray();
    for (int i = 0; i < 40; i++) {
      arr.add(bigEvent(30_000));
    }
    String body = new JsonObject().put("batch", arr).encode();
    assertTrue(body.length() > 1 << 20);
    // refused on its declared length, unread: see Http.sendRefusedUnread
    Http.Response r = t.http.sendRefusedUnread(HttpRequest.newBuilder(t.http.uri("/v1/events"))
        .header("Authorization", "Bearer " + t.writeKey).POST(HttpRequest.BodyPublishers.ofString(body)).build());
    assertEquals(413, r.status());
    assertEquals("ingest.maxBodyBytes", r.json().getString("field"));
    assertEquals(1 << 20, r.json().getInteger("limit"));
  }

  @Test
  void verifiesThatAGzipBombIsCutOffAndTheServerKeepsServing() {
    // GIVEN 200 MiB of one repeated event line compressed to a small body
    byte[] unit = ("{\"batch\":[" + Events.event("page_view", "u-bomb").encode() + ",").getBytes(StandardCharsets.UTF_8);
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    try (java.util.zip.GZIPOutputStream gz = new java.util.zip.GZIPOutputStream(out)) {
      gz.write(unit);
      byte[] zeros = new byte[1 << 20];
      java.util.Arrays.fill(zeros, (byte) ' ');
      for (int i = 0; i < 200; i++) {
        gz.write(zeros);
      }
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
    byte[] bomb = out.toByteArray();
    assertTrue(bomb.length < 1 << 20, "compressed bomb must pass the raw limit: " + bomb.length);
    Http.Response r = t.http.postGzip(bomb);
    assertEquals(413, r.status(), r.body());
    assertEquals("ingest.maxBodyBytes", r.json().getString("field"));
    // THEN the server is still up and ingesting
    assertEquals(200, t.http.post(Events.event("page_view", "u-after-bomb").encode()).status());
  }

  @Test
  void verifiesThatInvalidGzipIs400() {
    Http.Response r = t.http.postGzip("definitely not gzip".getBytes(StandardCharsets.UTF_8));
    assertEquals(400, r.status());
    assertEquals("Content-Encoding", r.json().getString("field"));
    // the inflater's own message ("Not in GZIP format") is not the client's business
    assertEquals("body is not valid gzip", r.json().getString("message"));
    byte[] truncated = java.util.Arrays.copyOf(Http.gzip(Events.event("page_view", "u").encode()
        .getBytes(StandardCharsets.UTF_8)), 20);
    Http.Response cut = t.http.postGzip(truncated);
    assertEquals(400, cut.status());
    assertEquals("body could not be decompressed (truncated or corrupt gzip)", cut.json().getString("message"));
  }

  @Test
  void verifiesThatMoreThanAThousandEventsIs413AndNothingIsStored() {
    long before = Db.eventsOf(t.project);
    Http.Response r = t.http.post(Events.batchOf(1001, "page_view").encode());
    assertEquals(413, r.status());
    assertEquals("ingest.maxBatchEvents", r.json().getString("field"));
    assertEquals(1000, r.json().getInteger("limit"));
    assertEquals(before, Db.eventsOf(t.project));
    Http.Response ok = t.http.post(Events.batchOf(1000, "page_view").encode());
    assertEquals(200, ok.status());
    assertEquals(1000, ok.json().getInteger("accepted"));
    assertEquals(before + 1000, Db.eventsOf(t.project));
  }

  @Test
  void verifiesThatLimitsFollowConfiguration() {
    try (TestTally small = TestTally.start(c -> c.withIngest(new io.tally.config.TallyConfig.Ingest(
        1024, 4096, 3, c.ingest().allowedOrigins(), c.ingest().wsPingIntervalMs(), c.ingest().wsMaxFrameBytes(),
        c.ingest().wsMaxMessageBytes(), c.ingest().wsMaxInFlightFrames(), c.ingest().retryAfterMs(),
        c.ingest().maxFutureSkewHours())))) {
      Http.Response r = small.http.post(Events.batchOf(4, "page_view").encode());
      assertEquals(413, r.status());
      assertEquals(3, r.json().getInteger("limit"));
      Http.Response big = small.http.post(bigEvent(2000).encode());
      assertEquals(413, big.status());
      assertEquals("ingest.maxEventBytes", big.json().getString("field"));
    }
  }
}
