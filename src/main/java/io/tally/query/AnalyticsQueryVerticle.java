package io.tally.query;

import io.tally.ApiError;
import io.tally.event.Addresses;
import io.tally.metrics.TallyMetrics;
import io.tally.realtime.RealtimeQuery;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Redis;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.List;
import java.util.function.Function;

/**
 * Answers analytics queries over the event bus. Requests are JsonObjects carrying {@code projectId} (set by the
 * HTTP side from the caller's key, never by the caller); failures travel as the failure code = HTTP status and
 * the message = the JSON error.
 */
public final class AnalyticsQueryVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(AnalyticsQueryVerticle.class);

  private final Pool pool;
  private final Redis redis;
  private final TallyMetrics metrics;

  public AnalyticsQueryVerticle(Pool pool, Redis redis, TallyMetrics metrics) {
    this.pool = pool;
    this.redis = redis;
    this.metrics = metrics;
  }

  @Override
  public Future<?> start() {
    RealtimeQuery realtime = new RealtimeQuery(redis, Clock.systemUTC());
    EventCountQuery count = new EventCountQuery(pool);
    SessionQuery sessions = new SessionQuery(pool);
    return Future.all(List.of(
        consume(Addresses.QUERY_REALTIME, "realtime", q -> realtime.run(q.getString("projectId"))),
        consume(Addresses.QUERY_EVENT_COUNT, "events_count", count::run),
        consume(Addresses.QUERY_SESSION, "session", sessions::one),
        consume(Addresses.QUERY_USER_SESSIONS, "user_sessions", sessions::ofUser)));
  }

  private Future<Void> consume(String address, String family, Function<JsonObject, Future<JsonObject>> query) {
    MessageConsumer<JsonObject> consumer = vertx.eventBus().consumer(address, (Message<JsonObject> msg) -> {
      metrics.query(family);
      Future<JsonObject> result;
      try {
        result = query.apply(msg.body());
      } catch (RuntimeException e) {
        result = Future.failedFuture(e);
      }
      result.onSuccess(msg::reply).onFailure(err -> {
        if (err instanceof ApiError api) {
          msg.fail(api.status(), api.toJson().encode());
        } else {
          LOG.warn("query {} failed: {}", family, err.toString());
          msg.fail(500, ApiError.unavailable("query_failed", family + " query failed: " + err.getMessage(), 1000)
              .toJson().encode());
        }
      });
    });
    return consumer.completion();
  }
}
