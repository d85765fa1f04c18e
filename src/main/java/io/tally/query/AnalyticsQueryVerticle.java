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

import io.tally.config.ProjectConfig;
import io.tally.event.EventCatalog;

import java.time.Clock;
import java.time.Duration;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
  private final Map<String, ZoneId> zones;
  private final EventCatalog catalog;
  private final QueryCache cache = new QueryCache(10_000, Duration.ofMinutes(10));

  public AnalyticsQueryVerticle(Pool pool, Redis redis, TallyMetrics metrics, List<ProjectConfig> projects,
                                EventCatalog catalog) {
    this.pool = pool;
    this.redis = redis;
    this.metrics = metrics;
    this.zones = new HashMap<>();
    projects.forEach(p -> zones.put(p.id(), p.timezone()));
    this.catalog = catalog;
  }

  private ZoneId zone(JsonObject q) {
    return zones.getOrDefault(q.getString("projectId"), ZoneOffset.UTC);
  }

  @Override
  public Future<?> start() {
    RealtimeQuery realtime = new RealtimeQuery(redis, Clock.systemUTC());
    EventCountQuery count = new EventCountQuery(pool);
    SessionQuery sessions = new SessionQuery(pool);
    UserAnalyticsQuery user = new UserAnalyticsQuery(pool);
    PersonIndex index = new PersonIndex(pool);
    metrics.personIndexGauge(index::persons);
    UsageQuery usage = new UsageQuery(pool, index);
    FunnelQuery funnel = new FunnelQuery(pool);
    RetentionQuery retention = new RetentionQuery(pool, index);
    ConversionQuery conversions = new ConversionQuery(pool, catalog);
    SeriesQuery series = new SeriesQuery(pool, index);
    vertx.eventBus().<JsonObject>consumer(Addresses.DERIVED_FLUSHED, m -> {
      index.apply(m.body());
      cache.invalidate(m.body());
    });
    // until loaded, distinct-person figures are computed in SQL
    index.load().onFailure(err -> LOG.error("person index failed to load; distinct-person figures stay on SQL", err));
    return Future.all(List.of(
        consume(Addresses.QUERY_REALTIME, "realtime", q -> realtime.run(q.getString("projectId"))),
        consume(Addresses.QUERY_EVENT_COUNT, "events_count", count::run),
        consume(Addresses.QUERY_SESSION, "session", sessions::one),
        consume(Addresses.QUERY_USER_SESSIONS, "user_sessions", sessions::ofUser),
        consume(Addresses.QUERY_USER_ANALYTICS, "user_analytics", cached("user_analytics",
            q -> user.run(q, zone(q)))),
        consume(Addresses.QUERY_USAGE, "usage", cached("usage", usage::run)),
        consume(Addresses.QUERY_FUNNEL, "funnel", cached("funnel", funnel::run)),
        consume(Addresses.QUERY_RETENTION, "retention", cached("retention", q -> retention.run(q, zone(q)))),
        consume(Addresses.QUERY_CONVERSIONS, "conversions", cached("conversions", conversions::run)),
        consume(Addresses.QUERY_TIMESERIES, "timeseries", cached("timeseries", q -> series.timeseries(q, zone(q)))),
        consume(Addresses.QUERY_BREAKDOWN, "breakdown", cached("breakdown", series::breakdown))));
  }

  /** Serves repeated queries from the result cache; failures are never cached. */
  private Function<JsonObject, Future<JsonObject>> cached(String family, Function<JsonObject, Future<JsonObject>> q) {
    return query -> {
      String key = QueryCache.key(family, query);
      JsonObject hit = cache.get(key);
      if (hit != null) {
        metrics.queryCache(true);
        return Future.succeededFuture(hit);
      }
      metrics.queryCache(false);
      return q.apply(query).onSuccess(r -> cache.put(key, query, r));
    };
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
        } else if (err instanceof io.vertx.pgclient.PgException pg && "57014".equals(pg.getSqlState())) {
          msg.fail(503, ApiError.unavailable("query_timeout", family + " query exceeded the 25 s statement timeout "
              + "and was cancelled: narrow the period or the filters", 5000).toJson().encode());
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
