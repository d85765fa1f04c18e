package io.tally.dashboard;

import io.tally.auth.KeyAuth;
import io.tally.error.ApiError;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/**
 * {@code GET /v1/live/ws}: the project's {@link LivePush pushes} over a WebSocket, as text frames
 * {@code {"event": "hello"|"commit", "data": {...}}}. A browser cannot put a header on a WebSocket, and a key in a URL
 * ends up in logs, so the first frame the client sends is {@code {"key": "<read key>"}}; a wrong key closes the
 * socket with 4401 (unknown) or 4403 (not a read key), no key within {@value #AUTH_TIMEOUT_MS} ms with 4408.
 */
final class LiveSocket implements Handler<RoutingContext> {
  static final long AUTH_TIMEOUT_MS = 5_000;
  private final Vertx vertx;
  private final KeyAuth auth;
  private final LiveFeed feed;

  LiveSocket(Vertx vertx, KeyAuth auth, LiveFeed feed) {
    this.vertx = vertx;
    this.auth = auth;
    this.feed = feed;
  }

  @Override
  public void handle(RoutingContext ctx) {
    ctx.request().toWebSocket().onSuccess(this::session).onFailure(err -> {
      if (!ctx.response().ended()) {
        ctx.fail(ApiError.badRequest("Upgrade", "WebSocket upgrade failed: " + err.getMessage()));
      }
    });
  }

  private void session(ServerWebSocket ws) {
    LivePush[] push = new LivePush[1];
    long authTimer = vertx.setTimer(AUTH_TIMEOUT_MS, id -> {
      if (push[0] == null) {
        ws.close((short) 4408, "send {\"key\": \"<read key>\"} first");
      }
    });
    ws.textMessageHandler(text -> {
      if (push[0] != null) {
        return; // nothing else is expected from the client
      }
      vertx.cancelTimer(authTimer);
      KeyAuth.Principal p;
      try {
        String key = new JsonObject(text).getString("key");
        p = auth.authenticate(key == null ? null : "Bearer " + key, null, KeyAuth.Role.READ);
      } catch (ApiError e) {
        ws.close((short) (e.status() == 403 ? 4403 : 4401), e.getMessage());
        return;
      } catch (RuntimeException e) {
        ws.close((short) 4400, "the first frame must be {\"key\": \"<read key>\"}");
        return;
      }
      push[0] = new LivePush(vertx, feed, p.projectId(), new LivePush.Sink() {
        @Override
        public boolean send(String event, JsonObject data) {
          if (ws.isClosed()) {
            return false;
          }
          if (ws.writeQueueFull()) {
            ws.close((short) 1008, "too slow to read the live stream");
            return false;
          }
          ws.writeTextMessage(new JsonObject().put("event", event).put("data", data).encode());
          return true;
        }

        @Override
        public boolean keepAlive() {
          if (ws.isClosed()) {
            return false;
          }
          ws.writePing(io.vertx.core.buffer.Buffer.buffer());
          return true;
        }
      });
      push[0].start();
    });
    ws.closeHandler(v -> {
      vertx.cancelTimer(authTimer);
      if (push[0] != null) {
        push[0].close();
      }
    });
    ws.exceptionHandler(err -> ws.close());
  }
}
