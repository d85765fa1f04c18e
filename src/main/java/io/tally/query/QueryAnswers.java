package io.tally.query;

import io.tally.derive.DerivedChange;
import io.tally.error.ApiError;
import io.tally.metrics.TallyMetrics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Answers queries over the event bus: one consumer per query family, answers cached (failures never), an answer
 * over the size limit refused, and failures mapped to the JSON error a client may see (PostgreSQL's words stay in
 * the log). Requests are JsonObjects carrying {@code projectId} (set by the HTTP side from the caller's key, never
 * by the caller); failures travel as the failure code = HTTP status and the message = the JSON error. Confined to
 * the query verticle's context.
 */
public final class QueryAnswers {
  private static final Logger LOG = LoggerFactory.getLogger(QueryAnswers.class);
  /** Answers cached, by their size as JSON text. */
  static final long CACHE_BYTES = 64L << 20;

  private final Vertx vertx;
  private final TallyMetrics metrics;
  private final int maxAnswerBytes;
  private final long statementTimeoutMs;
  private final QueryCache cache = new QueryCache(CACHE_BYTES, Duration.ofMinutes(10));
  private final Map<String, Future<JsonObject>> inflight = new HashMap<>();

  /** @param maxAnswerBytes the largest answer a query may give (its JSON text) */
  QueryAnswers(Vertx vertx, TallyMetrics metrics, int maxAnswerBytes, long statementTimeoutMs) {
    this.statementTimeoutMs = statementTimeoutMs;
    this.vertx = vertx;
    this.metrics = metrics;
    this.maxAnswerBytes = maxAnswerBytes;
  }

  /** Drops the cached answers a change of the derived tables may have changed. */
  void invalidate(DerivedChange change) {
    cache.invalidate(change);
  }

  /**
   * The cached answer of {@code family} for {@code keyQuery}, or computes it; one computation per key at a time
   * (concurrent askers share it).
   */
  public Future<JsonObject> cachedAs(String family, JsonObject keyQuery, Supplier<Future<JsonObject>> compute) {
    String key = QueryCache.key(family, keyQuery);
    JsonObject hit = cache.get(key);
    if (hit != null) {
      metrics.queryCache(true);
      return Future.succeededFuture(hit);
    }
    metrics.queryCache(false);
    Future<JsonObject> running = inflight.get(key);
    if (running != null) {
      return running;
    }
    long mark = cache.mark();
    Future<JsonObject> f = compute.get().onSuccess(r -> cache.put(key, keyQuery, r, mark));
    if (!f.isComplete()) {
      inflight.put(key, f);
      f.onComplete(ar -> inflight.remove(key));
    }
    return f;
  }

  /** Serves repeated queries from the result cache; failures are never cached. */
  public Function<JsonObject, Future<JsonObject>> cached(String family, Function<JsonObject, Future<JsonObject>> q) {
    return query -> {
      String key = QueryCache.key(family, query);
      JsonObject hit = cache.get(key);
      if (hit != null) {
        metrics.queryCache(true);
        return Future.succeededFuture(hit);
      }
      metrics.queryCache(false);
      long mark = cache.mark();
      return q.apply(query).onSuccess(r -> cache.put(key, query, r, mark));
    };
  }

  /** Answers the requests sent to {@code address} with {@code query}; completes once the consumer is registered. */
  public Future<Void> consume(String address, String family, Function<JsonObject, Future<JsonObject>> query) {
    MessageConsumer<JsonObject> consumer = vertx.eventBus().consumer(address, (Message<JsonObject> msg) -> {
      metrics.query(family);
      Future<JsonObject> result;
      try {
        result = query.apply(msg.body());
      } catch (RuntimeException e) {
        result = Future.failedFuture(e);
      }
      result.onSuccess(r -> reply(msg, family, r)).onFailure(err -> fail(msg, family, err));
    });
    return consumer.completion();
  }

  private void reply(Message<JsonObject> msg, String family, JsonObject r) {
    // encoded here, on this worker: the HTTP event loop only writes the bytes
    Buffer b = r.toBuffer();
    if (b.length() > maxAnswerBytes) {
      msg.fail(400, new ApiError(400, "answer_too_large", "the " + family + " answer is " + b.length()
          + " bytes, more than the " + maxAnswerBytes + " a query may answer: shorten the period, use a coarser "
          + "granularity or a lower limit", "answer", (long) maxAnswerBytes, null).toJson().encode());
    } else {
      msg.reply(b);
    }
  }

  /** "25 s", or "1500 ms" when not whole seconds. */
  private static String seconds(long ms) {
    return ms % 1000 == 0 ? ms / 1000 + " s" : ms + " ms";
  }

  private void fail(Message<JsonObject> msg, String family, Throwable err) {
    if (err instanceof ApiError api) {
      msg.fail(api.status(), api.toJson().encode());
    } else if (err instanceof io.vertx.pgclient.PgException pg && "57014".equals(pg.getSqlState())) {
      msg.fail(503, ApiError.unavailable("query_timeout", family + " query exceeded the " + seconds(statementTimeoutMs) + " statement timeout "
          + "and was cancelled: narrow the period or the filters", 5000).toJson().encode());
    } else {
      // the cause (PostgreSQL's words, an exception) stays in the log
      LOG.warn("query {} failed: {}", family, err.toString());
      msg.fail(500, new ApiError(500, "query_failed", "the " + family + " query failed (the server logged why)",
          null, null, null).toJson().encode());
    }
  }
}
