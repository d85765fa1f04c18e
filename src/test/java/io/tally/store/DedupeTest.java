package io.tally.store;

import io.tally.support.Db;
import io.tally.support.Events;
import io.tally.support.Http;
import io.tally.support.TestTally;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;

@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DedupeTest {

  @Test
  void verifiesThatARetriedEventIsStoredOnceEvenWithADifferentCorrectedTimestamp() {
    try (TestTally t = TestTally.start()) {
      // GIVEN an event sent with a client clock
      String id = UUID.randomUUID().toString();
      Instant clientNow = Instant.now().plusSeconds(600);
      JsonObject e = Events.event("message_sent", "u-dup").put("id", id)
          .put("timestamp", clientNow.minusSeconds(5).toString()).put("sentAt", clientNow.toString());
      Http.Response first = t.http.post(e.encode());
      assertEquals(1, first.json().getInteger("accepted"));
      // WHEN it is retried later (so the server-corrected timestamp differs), alone and inside a batch
      e.put("sentAt", clientNow.plusSeconds(30).toString());
      Http.Response retry = t.http.post(e.encode());
      Http.Response inBatch = t.http.post(Events.batch(e, Events.event("page_view", "u-dup")).encode());
      // THEN it is reported as a duplicate and stored once
      assertEquals(0, retry.json().getInteger("accepted"));
      assertEquals(1, retry.json().getInteger("duplicates"));
      assertEquals(1, inBatch.json().getInteger("accepted"));
      assertEquals(1, inBatch.json().getInteger("duplicates"));
      assertEquals(1, Db.count("SELECT count(*) FROM events WHERE id = ?::uuid", UUID.fromString(id)));
    }
  }

  @Test
  void verifiesThatTheSameIdTwiceInOneBatchIsStoredOnce() {
    try (TestTally t = TestTally.start()) {
      JsonObject e = Events.event("message_sent", "u-twice");
      Http.Response r = t.http.post(Events.batch(e, e.copy(), e.copy()).encode());
      assertEquals(1, r.json().getInteger("accepted"));
      assertEquals(2, r.json().getInteger("duplicates"));
      assertEquals(1, Db.count("SELECT count(*) FROM events WHERE id = ?::uuid", UUID.fromString(e.getString("id"))));
    }
  }

  @Test
  void verifiesThatNonUuidClientIdsDedupeToo() {
    try (TestTally t = TestTally.start()) {
      JsonObject e = Events.event("message_sent", "u-strid").put("id", "client-msg-42");
      assertEquals(1, t.http.post(e.encode()).json().getInteger("accepted"));
      assertEquals(1, t.http.post(e.encode()).json().getInteger("duplicates"));
      assertEquals(1, Db.eventsOf(t.project));
    }
  }

  @Test
  void verifiesThatTheSameIdInTwoProjectsIsTwoEvents() {
    try (TestTally a = TestTally.start(); TestTally b = TestTally.start()) {
      JsonObject e = Events.event("message_sent", "u-proj");
      assertEquals(1, a.http.post(e.encode()).json().getInteger("accepted"));
      assertEquals(1, b.http.post(e.encode()).json().getInteger("accepted"));
    }
  }

  @Test
  void verifiesThatDedupeHoldsAcrossARestart() {
    // GIVEN an event stored by one server
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    String project = "p-" + suffix;
    JsonObject e = Events.event("message_sent", "u-restart");
    try (TestTally first = TestTally.start(project, "w-key-" + suffix, "r-key-" + suffix, UnaryOperator.identity())) {
      assertEquals(1, first.http.post(e.encode()).json().getInteger("accepted"));
    }
    // WHEN a new server (new process state, same database) receives the retry
    try (TestTally second = TestTally.start(project, "w-key-" + suffix, "r-key-" + suffix, UnaryOperator.identity())) {
      Http.Response r = second.http.post(e.encode());
      // THEN it is a duplicate
      assertEquals(0, r.json().getInteger("accepted"));
      assertEquals(1, r.json().getInteger("duplicates"));
      assertEquals(1, Db.eventsOf(project));
    }
  }
}
