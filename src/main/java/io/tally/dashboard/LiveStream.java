package io.tally.dashboard;

import io.tally.event.Addresses;
import io.tally.ingest.KeyAuth;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/**
 * {@code GET /v1/live}: a Server-Sent Events stream of the caller's project. It listens to the writer's commit
 * notices ({@link Addresses#EVENTS_COMMITTED}) and, at most every {@value #COALESCE_MS} ms, pushes one
 * {@code commit} event: how many events (bots excluded) were committed since the last push, and the newest of them
 * with their enrichment. The browser never polls; a quiet project costs a comment line every {@value #HEARTBEAT_MS} ms.
 */
final class LiveStream implements Handler<RoutingContext> {
  static final long COALESCE_MS = 250;
  static final long HEARTBEAT_MS = 15_000;
  static final int MAX_EVENTS_PER_PUSH = 50;
  private final Vertx vertx;
  private final LiveFeed feed;

  LiveStream(Vertx vertx, LiveFeed feed) {
    this.vertx = vertx;
    this.feed = feed;
  }

  @Override
  public void handle(RoutingContext ctx) {
    String project = KeyAuth.principal(ctx).projectId();
    HttpServerResponse res = ctx.response();
    res.setChunked(true).putHeader("Content-Type", "text/event-stream; charset=utf-8")
        .putHeader("Cache-Control", "no-store").putHeader("X-Accel-Buffering", "no");
    Connection c = new Connection(project, res);
    JsonObject hello = feed.since(project, 0, MAX_EVENTS_PER_PUSH);
    c.seq = hello.getLong("seq");
    c.total = hello.getLong("total");
    c.send("hello", hello.put("at", System.currentTimeMillis()));
    c.consumer = vertx.eventBus().<JsonObject>consumer(Addresses.EVENTS_COMMITTED, m -> c.committed(m.body()));
    c.heartbeat = vertx.setPeriodic(HEARTBEAT_MS, id -> c.write(": keep-alive\n\n"));
    res.closeHandler(v -> c.close());
    res.exceptionHandler(err -> c.close());
  }

  private final class Connection {
    final String project;
    final HttpServerResponse res;
    MessageConsumer<JsonObject> consumer;
    long heartbeat = -1;
    long timer = -1;
    long seq;
    long total;
    boolean closed;

    Connection(String project, HttpServerResponse res) {
      this.project = project;
      this.res = res;
    }

    void committed(JsonObject notice) {
      if (closed || !notice.getJsonObject("projects", new JsonObject()).containsKey(project)) {
        return;
      }
      if (timer < 0) {
        timer = vertx.setTimer(COALESCE_MS, id -> flush());
      }
    }

    void flush() {
      timer = -1;
      if (closed) {
        return;
      }
      JsonObject tail = feed.since(project, seq, MAX_EVENTS_PER_PUSH);
      long now = tail.getLong("total");
      seq = tail.getLong("seq");
      if (now == total && tail.getJsonArray("events").isEmpty()) {
        return; // only bots were committed
      }
      send("commit", tail.put("count", now - total).put("at", System.currentTimeMillis()));
      total = now;
    }

    void send(String event, JsonObject data) {
      write("event: " + event + "\ndata: " + data.encode() + "\n\n");
    }

    void write(String text) {
      if (closed || res.ended() || res.closed()) {
        close();
        return;
      }
      // a reader that stopped reading is dropped rather than buffered without bound
      if (res.writeQueueFull()) {
        res.reset();
        close();
        return;
      }
      res.write(text);
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
}
