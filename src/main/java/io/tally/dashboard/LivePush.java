package io.tally.dashboard;

import io.tally.store.CommitNotice;
import io.tally.store.StoreAddresses;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;

/**
 * One live connection's pushes, whatever carries them (SSE or WebSocket): a {@code hello} with the recent tail, then
 * on the writer's commit notices ({@link StoreAddresses#EVENTS_COMMITTED}), at most every {@value #COALESCE_MS} ms, a
 * {@code commit}: how many live events (bots and late events excluded: {@link LiveFeed#record}) were committed since
 * the last push and the newest of them with their enrichment. A quiet project costs one keep-alive every
 * {@value #HEARTBEAT_MS} ms.
 */
final class LivePush {
  static final long COALESCE_MS = 250;
  static final long HEARTBEAT_MS = 15_000;
  static final int MAX_EVENTS_PER_PUSH = 50;

  /** Where pushes go; {@code send} answers false when the connection is gone or cannot keep up. */
  interface Sink {
    boolean send(String event, JsonObject data);

    boolean keepAlive();
  }

  private final Vertx vertx;
  private final LiveFeed feed;
  private final String project;
  private final Sink sink;
  private MessageConsumer<CommitNotice> consumer;
  private long heartbeat = -1;
  private long timer = -1;
  private long seq;
  private long total;
  private boolean closed;

  LivePush(Vertx vertx, LiveFeed feed, String project, Sink sink) {
    this.vertx = vertx;
    this.feed = feed;
    this.project = project;
    this.sink = sink;
  }

  void start() {
    JsonObject hello = feed.since(project, 0, MAX_EVENTS_PER_PUSH);
    seq = hello.getLong("seq");
    total = hello.getLong("total");
    if (!sink.send("hello", hello.put("at", System.currentTimeMillis()))) {
      close();
      return;
    }
    consumer = vertx.eventBus().<CommitNotice>consumer(StoreAddresses.EVENTS_COMMITTED, m -> committed(m.body()));
    heartbeat = vertx.setPeriodic(HEARTBEAT_MS, id -> {
      if (!sink.keepAlive()) {
        close();
      }
    });
  }

  private void committed(CommitNotice notice) {
    if (closed || !notice.touches(project)) {
      return;
    }
    if (timer < 0) {
      timer = vertx.setTimer(COALESCE_MS, id -> flush());
    }
  }

  private void flush() {
    timer = -1;
    if (closed) {
      return;
    }
    JsonObject tail = feed.since(project, seq, MAX_EVENTS_PER_PUSH);
    long now = tail.getLong("total");
    seq = tail.getLong("seq");
    if (now == total && tail.getJsonArray("events").isEmpty()) {
      return; // only bots or late events (a back-fill) were committed
    }
    if (!sink.send("commit", tail.put("count", now - total).put("at", System.currentTimeMillis()))) {
      close();
    }
    total = now;
  }

  void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (consumer != null) {
      consumer.unregister();
    }
    vertx.cancelTimer(heartbeat);
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
  }
}
