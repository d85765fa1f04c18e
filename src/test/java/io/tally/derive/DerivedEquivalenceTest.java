package io.tally.derive;

import io.tally.support.Db;
import io.tally.support.DerivedDataset;
import io.tally.support.DerivedOracle;
import io.tally.support.TestTally;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Verifies that the incremental derivation (aggregates merged in memory, flushes of every size, rows that wait, batches
 * committed in any order) gives exactly the derived tables a from-scratch derivation of the stored events gives, with
 * no crash involved: while the events are still arriving, once everything is written, and after a clean restart.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class DerivedEquivalenceTest {

  @Test
  void verifiesThatTheFlushesGiveWhatAFromScratchDerivationGives() throws Exception {
    String s = UUID.randomUUID().toString().substring(0, 8);
    String project = "equiv-" + s;
    DerivedDataset data = DerivedDataset.generate(7L, Instant.now().minus(1, ChronoUnit.HOURS), 40);
    // GIVEN the dataset's batches in a shuffled order, sent by three clients at once
    List<String> batches = new ArrayList<>(data.batches(50));
    Collections.shuffle(batches, new Random(7L));
    ConcurrentLinkedQueue<String> todo = new ConcurrentLinkedQueue<>(batches);
    try (TestTally t = TestTally.start(project, "w-" + s, "r-" + s, UnaryOperator.identity())) {
      List<Thread> clients = new ArrayList<>();
      for (int c = 0; c < 3; c++) {
        Thread th = new Thread(() -> {
          String b;
          while ((b = todo.poll()) != null) {
            assertEquals(200, t.http.post(b).status());
          }
        });
        th.start();
        clients.add(th);
      }
      for (Thread th : clients) {
        th.join();
      }
      assertEquals(data.all().size(), Db.eventsOf(project));
      // WHEN everything received is written (rows that waited included)
      t.awaitDerived();
      io.tally.support.Eventually.until("the derived lag at 0", () -> t.http.get("/metrics").body().lines()
          .anyMatch(l -> l.equals("analytics_derived_lag_seconds 0.0")));
      // THEN every derived table equals the derivation from the stored events
      assertEquals(List.of(), DerivedOracle.differences(project));
    }
    // AND after a clean stop and start (nothing re-derived) too
    try (TestTally t = TestTally.start(project, "w-" + s, "r-" + s, UnaryOperator.identity())) {
      assertEquals(List.of(), DerivedOracle.differences(project));
    }
  }
}
