package io.tally.dashboard;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Sends the demo's events through the normal ingestion path: {@code POST /v1/events} with the project's write key,
 * in batches, a few requests at a time, waiting as told when the ingestion buffer is full (503 + Retry-After).
 */
final class DemoSender {
  /** Events per request: well inside {@code ingest.maxBatchEvents} and, at ~600 bytes each, {@code maxBodyBytes}. */
  static final int BATCH = 500;
  /** Requests in flight at once: enough to keep the writer's batches full, few enough to leave it CPU. */
  static final int IN_FLIGHT = 3;

  private final Vertx vertx;
  private final HttpClient client;
  private final int port;
  private final String writeKey;
  final AtomicLong accepted = new AtomicLong();
  final AtomicLong sent = new AtomicLong();

  DemoSender(Vertx vertx, int port, String writeKey) {
    this.vertx = vertx;
    this.client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true),
        new PoolOptions().setHttp1MaxSize(IN_FLIGHT));
    this.port = port;
    this.writeKey = writeKey;
  }

  /** Sends every event, {@value #BATCH} per request, {@value #IN_FLIGHT} requests at a time; fails on the first failure. */
  Future<Void> sendAll(List<JsonObject> events) {
    Queue<JsonArray> batches = new ConcurrentLinkedQueue<>(); // lanes may finish on different event loops
    for (int i = 0; i < events.size(); i += BATCH) {
      batches.add(new JsonArray(new ArrayList<>(events.subList(i, Math.min(events.size(), i + BATCH)))));
    }
    List<Future<Void>> lanes = new ArrayList<>();
    for (int i = 0; i < IN_FLIGHT; i++) {
      lanes.add(lane(batches));
    }
    return Future.all(lanes).mapEmpty();
  }

  /** One request at a time from the shared queue until it is empty. */
  private Future<Void> lane(Queue<JsonArray> batches) {
    JsonArray next = batches.poll();
    return next == null ? Future.succeededFuture() : send(next).compose(v -> lane(batches));
  }

  /** One batch; a full ingestion buffer (503) is retried after the time it asks for. */
  Future<Void> send(JsonArray batch) {
    Buffer body = new JsonObject().put("batch", batch).toBuffer();
    RequestOptions o = new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1").setPort(port)
        .setURI("/v1/events").putHeader("Authorization", "Bearer " + writeKey)
        .putHeader("Content-Type", "application/json");
    return client.request(o).compose(req -> req.send(body)).compose(res -> res.body().compose(b -> {
      if (res.statusCode() == 200) {
        sent.addAndGet(batch.size());
        accepted.addAndGet(new JsonObject(b).getLong("accepted", 0L));
        return Future.<Void>succeededFuture();
      }
      if (res.statusCode() == 503) {
        long wait = parseRetryAfter(res.getHeader("Retry-After"));
        Promise<Void> retried = Promise.promise();
        vertx.setTimer(wait, id -> send(batch).onComplete(retried));
        return retried.future();
      }
      return Future.<Void>failedFuture("HTTP " + res.statusCode() + ": " + b);
    }));
  }

  private static long parseRetryAfter(String header) {
    try {
      return Math.max(100, Long.parseLong(header == null ? "1" : header.trim()) * 1000);
    } catch (NumberFormatException e) {
      return 1000;
    }
  }

  Future<Void> close() {
    return client.close();
  }
}
