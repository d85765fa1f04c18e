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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Sends the demo's events through the normal ingestion path: {@code POST /v1/events} with the project's write key,
 * in batches, a few requests at a time, waiting as told when the ingestion buffer is full (503 + Retry-After). Each
 * request carries one place's events with that place's address in {@code X-Forwarded-For}, as a proxy in front of
 * Tally would: the demo comes from loopback, a trusted proxy by default, so its people get their countries from the
 * geo-IP database like real visitors (an event's own {@code context.ip} counts only where a project trusts it).
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
    Queue<Batch> batches = new ConcurrentLinkedQueue<>(); // lanes may finish on different event loops
    byPlace(events).forEach((ip, list) -> {
      for (int i = 0; i < list.size(); i += BATCH) {
        batches.add(new Batch(ip, new JsonArray(new ArrayList<>(list.subList(i, Math.min(list.size(), i + BATCH))))));
      }
    });
    List<Future<Void>> lanes = new ArrayList<>();
    for (int i = 0; i < IN_FLIGHT; i++) {
      lanes.add(lane(batches));
    }
    return Future.all(lanes).mapEmpty();
  }

  /** One request at a time from the shared queue until it is empty. */
  private Future<Void> lane(Queue<Batch> batches) {
    Batch next = batches.poll();
    return next == null ? Future.succeededFuture() : post(next.ip, next.events).compose(v -> lane(batches));
  }

  private record Batch(String ip, JsonArray events) {}

  /** The events by the address they come from, in their order; "" for events without one. */
  private static Map<String, List<JsonObject>> byPlace(List<JsonObject> events) {
    Map<String, List<JsonObject>> places = new LinkedHashMap<>();
    for (JsonObject e : events) {
      JsonObject context = e.getJsonObject("context");
      String ip = context == null ? null : context.getString("ip");
      places.computeIfAbsent(ip == null ? "" : ip, k -> new ArrayList<>()).add(e);
    }
    return places;
  }

  /** Events of at most {@value #BATCH}, a request per place; completes when every request was acknowledged. */
  Future<Void> send(JsonArray batch) {
    List<Future<Void>> requests = new ArrayList<>();
    byPlace(batch.stream().map(JsonObject.class::cast).toList())
        .forEach((ip, list) -> requests.add(post(ip, new JsonArray(new ArrayList<>(list)))));
    return Future.all(requests).mapEmpty();
  }

  /** One request; a full ingestion buffer (503) is retried after the time it asks for. */
  private Future<Void> post(String ip, JsonArray batch) {
    Buffer body = new JsonObject().put("batch", batch).toBuffer();
    RequestOptions o = new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1").setPort(port)
        .setURI("/v1/events").putHeader("Authorization", "Bearer " + writeKey)
        .putHeader("Content-Type", "application/json");
    if (!ip.isEmpty()) {
      o.putHeader("X-Forwarded-For", ip);
    }
    return client.request(o).compose(req -> req.send(body)).compose(res -> res.body().compose(b -> {
      if (res.statusCode() == 200) {
        sent.addAndGet(batch.size());
        accepted.addAndGet(new JsonObject(b).getLong("accepted", 0L));
        return Future.<Void>succeededFuture();
      }
      if (res.statusCode() == 503) {
        long wait = parseRetryAfter(res.getHeader("Retry-After"));
        Promise<Void> retried = Promise.promise();
        vertx.setTimer(wait, id -> post(ip, batch).onComplete(retried));
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
