package io.tally.dashboard;

import io.tally.auth.KeyAuth;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/**
 * {@code GET /v1/live} (read key in the Authorization header): the project's {@link LivePush pushes} as
 * Server-Sent Events, for tools ({@code curl -N}). The dashboard itself uses the WebSocket ({@link LiveSocket}),
 * which does not hold one of the browser's six HTTP/1.1 connections to the server.
 */
final class LiveStream implements Handler<RoutingContext> {
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
    LivePush push = new LivePush(vertx, feed, project, new LivePush.Sink() {
      @Override
      public boolean send(String event, JsonObject data) {
        return write("event: " + event + "\ndata: " + data.encode() + "\n\n");
      }

      @Override
      public boolean keepAlive() {
        return write(": keep-alive\n\n");
      }

      private boolean write(String text) {
        if (res.ended() || res.closed()) {
          return false;
        }
        if (res.writeQueueFull()) { // a reader that stopped reading is dropped, not buffered without bound
          res.reset();
          return false;
        }
        res.write(text);
        return true;
      }
    });
    res.closeHandler(v -> push.close());
    res.exceptionHandler(err -> push.close());
    push.start();
  }
}
