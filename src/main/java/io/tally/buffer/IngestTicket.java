package io.tally.buffer;

import io.tally.event.Rejection;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Tracks the events of one request (an HTTP body or a WebSocket frame) through the ring and the writer. When its
 * last event is committed (or found to be a duplicate) the outcome is delivered on the request's own context.
 */
public final class IngestTicket {
  private final AtomicInteger remaining;
  private final AtomicInteger duplicates = new AtomicInteger();
  private final ConcurrentLinkedQueue<Rejection> storeRejections = new ConcurrentLinkedQueue<>();
  private final Context context;
  private final Promise<Outcome> promise;
  private final int events;

  /** What happened to the ticket's events once all were written. */
  public record Outcome(int accepted, int duplicates, List<Rejection> storeRejections) {}

  public IngestTicket(Context context, int events) {
    if (events <= 0) {
      throw new IllegalArgumentException("a ticket needs at least one event, got " + events);
    }
    this.context = context;
    this.promise = Promise.promise();
    this.events = events;
    this.remaining = new AtomicInteger(events);
  }

  public Future<Outcome> future() {
    return promise.future();
  }

  public int events() {
    return events;
  }

  /** Called by the writer, once per event, after the event's batch committed. */
  void done(boolean duplicate) {
    if (duplicate) {
      duplicates.incrementAndGet();
    }
    finishOne();
  }

  /** Called by the writer when storage refused one event (a data error isolated by bisection). */
  void refused(int index, String error) {
    storeRejections.add(new Rejection(index, "event", error));
    finishOne();
  }

  private void finishOne() {
    if (remaining.decrementAndGet() == 0) {
      List<Rejection> refused = List.copyOf(storeRejections);
      int dup = duplicates.get();
      Outcome outcome = new Outcome(events - dup - refused.size(), dup, refused);
      // one hop per request, not per event: the response is written from the request's own event loop
      context.runOnContext(v -> promise.complete(outcome));
    }
  }
}
