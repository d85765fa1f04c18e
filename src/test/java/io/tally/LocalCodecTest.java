package io.tally;

import io.tally.derive.DerivedAddresses;
import io.tally.derive.DerivedFlush;
import io.tally.derive.DerivedRewrite;
import io.tally.store.CommitNotice;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Verifies that the typed notices travel the event bus by reference, each on its own address, and never to the wire. */
class LocalCodecTest {

  @Test
  void aFlushAndARewriteArriveAsTheSameRecordsOnTheirOwnAddresses() throws Exception {
    // GIVEN a Vert.x with the composition root's codecs and a consumer on each derived address
    Vertx vertx = Vertx.vertx();
    try {
      Tally.registerLocalCodecs(vertx);
      CompletableFuture<Object> flushed = new CompletableFuture<>();
      CompletableFuture<Object> rewritten = new CompletableFuture<>();
      vertx.eventBus().consumer(DerivedAddresses.DERIVED_FLUSHED, m -> flushed.complete(m.body()));
      vertx.eventBus().consumer(DerivedAddresses.DERIVED_REWRITTEN, m -> rewritten.complete(m.body()));
      DerivedFlush flush = new DerivedFlush(Map.of("p", 5L), List.of(new DerivedFlush.PersonDay("p", 20_000, "ann")),
          List.of(), null);
      DerivedRewrite rewrite = new DerivedRewrite(Set.of("p"), List.of(),
          List.of(new DerivedRewrite.PersonKey("p", "ann")), false);

      // WHEN both are published local-only
      vertx.eventBus().publish(DerivedAddresses.DERIVED_FLUSHED, flush, Tally.LOCAL);
      vertx.eventBus().publish(DerivedAddresses.DERIVED_REWRITTEN, rewrite, Tally.LOCAL);

      // THEN each consumer gets its own record, not a copy
      assertSame(flush, flushed.get(10, TimeUnit.SECONDS));
      assertSame(rewrite, rewritten.get(10, TimeUnit.SECONDS));
    } finally {
      vertx.close().await();
    }
  }

  @Test
  void aLocalNoticeRefusesAWireForm() {
    // GIVEN the codec of a commit notice
    LocalCodec<CommitNotice> codec = new LocalCodec<>(CommitNotice.class);
    // WHEN it is asked to encode for another node THEN it fails, naming the type
    UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
        () -> codec.encodeToWire(Buffer.buffer(), CommitNotice.of(List.of())));
    assertTrue(e.getMessage().contains("CommitNotice"), e.getMessage());
  }
}
