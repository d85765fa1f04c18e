package io.tally.loadtest;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Open-model load: requests are due at fixed intended times (rate / batch per second) whatever the replies do;
 * a tick every millisecond issues whatever is due. Over HTTP, requests beyond the busy connections wait in the
 * client's queue (and their wait counts); over WebSocket, frames go round-robin over the sockets.
 */
final class BenchLoad {
  private final Vertx vertx;
  private final URI target;
  private final String writeKey;
  private final BenchEvents events;
  // held on purpose: Vert.x 5 closes a client that becomes unreachable, even in the middle of a handshake
  private HttpClient http;
  private WebSocketClient wsClient;
  private final List<WebSocket> sockets = new ArrayList<>();
  private final Map<Long, long[]> pendingFrames = new ConcurrentHashMap<>();

  BenchLoad(Vertx vertx, URI target, String writeKey, BenchEvents events) {
    this.vertx = vertx;
    this.target = target;
    this.writeKey = writeKey;
    this.events = events;
  }

  void openHttp(int connections) {
    http = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true).setTcpNoDelay(true)
        .setDefaultHost(target.getHost()).setDefaultPort(target.getPort()),
        new PoolOptions().setHttp1MaxSize(connections).setMaxWaitQueueSize(-1));
  }

  void openSockets(int n, BenchStats stats) throws InterruptedException {
    wsClient = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(n + 1)
        .setMaxFrameSize(1 << 20).setMaxMessageSize(1 << 20));
    CountDownLatch open = new CountDownLatch(n);
    List<Future<WebSocket>> all = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Future<WebSocket> f = wsClient.connect(new WebSocketConnectOptions().setHost(target.getHost())
          .setPort(target.getPort()).setURI("/v1/stream?key=" + writeKey));
      f.onComplete(ar -> open.countDown());
      all.add(f);
      if (i % 200 == 199) {
        Thread.sleep(20); // do not flood the accept queue
      }
    }
    if (!open.await(120, TimeUnit.SECONDS)) {
      throw new IllegalStateException("WebSockets did not open within 120 s");
    }
    for (Future<WebSocket> f : all) {
      if (f.failed()) {
        throw new IllegalStateException("a WebSocket failed to open: " + f.cause());
      }
      WebSocket ws = f.result();
      ws.textMessageHandler(text -> onAnswer(new JsonObject(text), stats));
      sockets.add(ws);
    }
  }

  private void onAnswer(JsonObject a, BenchStats stats) {
    Long seq = a.getLong(a.containsKey("ack") ? "ack" : "nack");
    long[] p = seq == null ? null : pendingFrames.remove(seq);
    if (p == null) {
      return;
    }
    stats.inFlight.decrementAndGet();
    if (a.containsKey("ack")) {
      stats.ack(p[0], (int) p[1], a.getInteger("accepted"), a.getInteger("duplicates"));
    } else {
      stats.error("nack " + a.getInteger("status"), p[0]);
    }
  }

  /**
   * Runs at {@code rate} events/s for {@code seconds}, in batches of {@code batch}; calls {@code progress} every 2 s.
   * Returns when every request was answered (or after a bounded grace period).
   */
  void run(boolean overWebSocket, int rate, int seconds, int batch, BenchStats stats, Runnable progress)
      throws InterruptedException {
    double perSecond = (double) rate / batch;
    long intervalNanos = (long) (1e9 / perSecond);
    long total = (long) (perSecond * seconds);
    long start = System.nanoTime() + 50_000_000L;
    long[] issued = {0};
    CountDownLatch done = new CountDownLatch(1);
    long tick = vertx.setPeriodic(1, id -> {
      long now = System.nanoTime();
      while (issued[0] < total && start + issued[0] * intervalNanos <= now) {
        long intended = start + issued[0] * intervalNanos;
        long seq = issued[0]++;
        if (overWebSocket) {
          sendFrame(seq, intended, batch, stats);
        } else {
          sendHttp(intended, batch, stats);
        }
      }
      if (issued[0] >= total) {
        done.countDown();
      }
    });
    long nextProgress = System.currentTimeMillis() + 2000;
    while (!done.await(100, TimeUnit.MILLISECONDS)) {
      if (System.currentTimeMillis() >= nextProgress) {
        progress.run();
        nextProgress += 2000;
      }
    }
    vertx.cancelTimer(tick);
    long graceEnd = System.currentTimeMillis() + 30_000;
    while (stats.inFlight.get() > 0 && System.currentTimeMillis() < graceEnd) {
      Thread.sleep(50);
    }
  }

  private void sendHttp(long intended, int batch, BenchStats stats) {
    String body = events.batch(batch, -1);
    stats.sentEvents.add(batch);
    stats.inFlight.incrementAndGet();
    http.request(new RequestOptions().setMethod(HttpMethod.POST).setURI("/v1/events")
            .putHeader("Authorization", "Bearer " + writeKey).putHeader("Content-Type", "application/json"))
        .compose(req -> req.send(Buffer.buffer(body)))
        .compose(resp -> resp.body().map(b -> new Object[] {resp.statusCode(), b}))
        .onComplete(ar -> {
          stats.inFlight.decrementAndGet();
          if (ar.failed()) {
            stats.error("io " + ar.cause().getClass().getSimpleName(), intended);
            return;
          }
          int status = (Integer) ar.result()[0];
          if (status == 200) {
            JsonObject a = new JsonObject((Buffer) ar.result()[1]);
            stats.ack(intended, batch, a.getInteger("accepted"), a.getInteger("duplicates"));
          } else {
            stats.error("http " + status, intended);
          }
        });
  }

  private void sendFrame(long seq, long intended, int batch, BenchStats stats) {
    WebSocket ws = sockets.get((int) (seq % sockets.size()));
    pendingFrames.put(seq, new long[] {intended, batch});
    stats.sentEvents.add(batch);
    stats.inFlight.incrementAndGet();
    ws.writeTextMessage(events.batch(batch, seq)).onFailure(err -> {
      if (pendingFrames.remove(seq) != null) {
        stats.inFlight.decrementAndGet();
        stats.error("ws " + err.getClass().getSimpleName(), intended);
      }
    });
  }

  void close() {
    for (WebSocket ws : sockets) {
      ws.close();
    }
    if (http != null) {
      http.close();
    }
    if (wsClient != null) {
      wsClient.close();
    }
  }
}
