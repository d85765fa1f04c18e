package io.tally.query;

import io.tally.ApiError;
import io.tally.event.Addresses;
import io.tally.metrics.TallyMetrics;
import io.tally.realtime.RealtimeQuery;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.tally.insight.AlertWebhook;
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
  /** Answers cached, by their size as JSON text. */
  static final long CACHE_BYTES = 64L << 20;
  /**
   * The largest answer a query may give (its JSON text): the period limits keep every route well under it. A test
   * lowers it with {@code -Dtally.query.maxAnswerBytes} (read when the verticle is made).
   */
  private final int maxAnswerBytes = Integer.getInteger("tally.query.maxAnswerBytes", 16 << 20);
  private final QueryCache cache = new QueryCache(CACHE_BYTES, Duration.ofMinutes(10));

  private final EventTimeline timeline;
  private final io.tally.insight.WebhookAddresses webhookAddresses;

  public AnalyticsQueryVerticle(Pool pool, Redis redis, TallyMetrics metrics, List<ProjectConfig> projects,
                                EventCatalog catalog, EventTimeline timeline) {
    this(pool, redis, metrics, projects, catalog, timeline, io.tally.insight.WebhookAddresses.PUBLIC_ONLY);
  }

  /** @param webhookAddresses where alert webhooks may deliver (public addresses, and the networks allowed) */
  public AnalyticsQueryVerticle(Pool pool, Redis redis, TallyMetrics metrics, List<ProjectConfig> projects,
                                EventCatalog catalog, EventTimeline timeline,
                                io.tally.insight.WebhookAddresses webhookAddresses) {
    this.webhookAddresses = webhookAddresses;
    this.timeline = timeline;
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
    UsageQuery usage = new UsageQuery(pool, index, timeline);
    FunnelQuery funnel = new FunnelQuery(pool, timeline);
    RetentionQuery retention = new RetentionQuery(pool, index);
    ConversionQuery conversions = new ConversionQuery(pool, catalog);
    SeriesQuery series = new SeriesQuery(pool, index, timeline);
    PatternEngine patterns = new PatternEngine(pool, catalog, this::cachedAs);
    AnomalyQuery anomalies = new AnomalyQuery(pool, timeline);
    InsightQuery insights = new InsightQuery(pool, user, usage, funnel, anomalies, patterns, this::cachedAs);
    webhook = new AlertWebhook(vertx, AlertWebhook.Options.defaults(), webhookAddresses);
    AlertService alerts = new AlertService(pool, webhook, metrics);
    PeopleQuery people = new PeopleQuery(pool);
    vertx.eventBus().<JsonObject>consumer(Addresses.DERIVED_FLUSHED, m -> {
      index.apply(m.body());
      timeline.apply(m.body());
      cache.invalidate(m.body());
      // the pattern index re-reads the changed person-days: answers cached meanwhile are dropped again after
      patterns.index().apply(m.body()).onComplete(ar -> cache.invalidate(m.body()));
    });
    metrics.patternIndexGauge(patterns.index()::personDays);
    metrics.patternIndexQueuedGauge(patterns.index()::queuedGauge);
    metrics.patternIndexBulkReadsGauge(patterns.index()::bulkReads);
    patterns.index().load().onFailure(err -> LOG.error("pattern index failed to load; patterns stay on SQL", err));
    // until loaded, distinct-person figures are computed in SQL
    index.load().onFailure(err -> LOG.error("person index failed to load; distinct-person figures stay on SQL", err));
    metrics.eventTimelineGauge(timeline::events);
    // after the other two (it reads every event): until loaded, funnels, distinct persons per bucket or value and
    // filtered usage use SQL
    timeline.retryWith(task -> vertx.setTimer(60_000, id -> task.run()));
    timeline.start();
    drainTimer = vertx.setPeriodic(1000, id -> timeline.drain());
    return Future.all(List.of(
        consume(Addresses.QUERY_REALTIME, "realtime", q -> realtime.run(q.getString("projectId"))),
        consume(Addresses.QUERY_EVENT_COUNT, "events_count", count::run),
        consume(Addresses.QUERY_SESSION, "session", sessions::one),
        consume(Addresses.QUERY_USER_SESSIONS, "user_sessions", sessions::ofUser),
        consume(Addresses.QUERY_USER_ANALYTICS, "user_analytics", cached("user_analytics",
            q -> user.run(q, zone(q)))),
        consume(Addresses.QUERY_USAGE, "usage", cached("usage", usage::run)),
        consume(Addresses.QUERY_PEOPLE, "people", cached("people", people::run)),
        consume(Addresses.QUERY_FUNNEL, "funnel", cached("funnel", funnel::run)),
        consume(Addresses.QUERY_RETENTION, "retention", cached("retention", q -> retention.run(q, zone(q)))),
        consume(Addresses.QUERY_CONVERSIONS, "conversions", cached("conversions", conversions::run)),
        consume(Addresses.QUERY_TIMESERIES, "timeseries", cached("timeseries", q -> series.timeseries(q, zone(q)))),
        consume(Addresses.QUERY_BREAKDOWN, "breakdown", cached("breakdown", series::breakdown)),
        consume(Addresses.QUERY_PATTERNS, "patterns", q -> patterns.all(q.getString("projectId")).map(list -> {
          JsonArray a = new JsonArray();
          list.forEach(p -> a.add(p.toJson()));
          return new JsonObject().put("patterns", a);
        })),
        consume(Addresses.QUERY_PATTERN_CREATE, "patterns_create", patterns::create),
        consume(Addresses.QUERY_PATTERN_DELETE, "patterns_delete", patterns::delete),
        consume(Addresses.QUERY_PATTERNS_DETECT, "patterns_detect", q -> patterns.all(q.getString("projectId"))
            .compose(defs -> patterns.detect(q, defs, "fr".equals(q.getString("lang"))).onSuccess(r -> r
                .getJsonArray("patterns").forEach(p -> metrics.patternsDetected(((JsonObject) p).getString("id"),
                    1))))),
        consume(Addresses.QUERY_PATTERN_USERS, "pattern_users", cached("pattern_users", q -> patterns
            .one(q.getString("projectId"), q.getString("id")).compose(p -> patterns.users(q, p)))),
        consume(Addresses.QUERY_ANOMALIES, "anomalies", q -> insights.settings(q.getString("projectId"))
            .compose(s -> cachedAs("anomalies", q, () -> anomalies.run(q, zone(q))).onSuccess(r -> {
              // offered on every answer (cached or not): alerts_sent makes each one go out once
              List<JsonObject> found = new java.util.ArrayList<>();
              for (Object o : r.getJsonArray("points")) {
                JsonObject p = (JsonObject) o;
                found.add(p.copy().put("alertId", AnomalyQuery.alertId(r, p)).put("id", AnomalyQuery.alertId(r, p))
                    .put("metric", r.getString("metric")).put("granularity", r.getString("granularity"))
                    .put("filters", r.getJsonObject("filters")));
              }
              alerts.offer(q.getString("projectId"), s.webhookUrl(), "anomaly", found);
            }))),
        consume(Addresses.QUERY_INSIGHTS, "insights", q -> insights.settings(q.getString("projectId"))
            .compose(s -> cachedAs("insights", q.copy().put("settings", s.values()), () -> insights.run(q, zone(q), s)
                .onSuccess(this::counted)).onSuccess(r -> offer(r, s, alerts, q.getString("projectId"))))),
        // the webhook URL whole for an admin key only (QueryRoutes sets "admin" from the caller's key)
        consume(Addresses.QUERY_INSIGHT_SETTINGS, "insight_settings", q -> insights.settings(q.getString("projectId"))
            .map(s -> s.effective(q.getBoolean("admin", false)))),
        consume(Addresses.QUERY_INSIGHT_SETTINGS_SAVE, "insight_settings", q -> alerts.checkWebhook(q)
            .compose(insights::saveSettings))))
        .onSuccess(v -> {
          alertTimer = vertx.setPeriodic(ALERT_SCAN_MS, id -> scanForAlerts(insights, alerts));
          warmTimer = vertx.setPeriodic(10_000, WARM_MS, id -> warm(patterns, insights));
        });
  }

  /** How often projects with a webhook have the last 24 hours' global insights checked for new high alerts. */
  static final long ALERT_SCAN_MS = Long.getLong("tally.alerts.scanMs", 300_000L);
  private long alertTimer = -1;
  private long drainTimer = -1;
  private long warmTimer = -1;
  /** How often the default pattern detection (to = now) is computed ahead if its cached answer is gone. */
  static final long WARM_MS = Long.getLong("tally.patterns.warmMs", 300_000L);

  /**
   * Keeps the default pattern detection (to = now) and the slow parts of the default global insights (the last 30
   * days: the funnel and the anomaly scans, each cached by whole days or buckets) cached, so a dashboard's first call
   * finds them. Projects are warmed one after another, and only the parts that stay cached are computed: the rest of
   * an insights answer is computed afresh by every call anyway.
   */
  private void warm(PatternEngine patterns, InsightQuery insights) {
    // until the pattern index is loaded (the SQL path is far slower), and not over a warm-up still running
    if (warming || zones.keySet().stream().anyMatch(p -> patterns.index().project(p) == null)) {
      return;
    }
    warming = true;
    java.time.Instant now = java.time.Instant.now();
    Future<Void> chain = Future.succeededFuture();
    for (String project : zones.keySet()) {
      chain = chain.transform(ignored -> warm(project, now, patterns, insights));
    }
    chain.onComplete(ar -> warming = false);
  }

  private boolean warming;

  private Future<Void> warm(String project, java.time.Instant now, PatternEngine patterns, InsightQuery insights) {
    JsonObject q = new JsonObject().put("projectId", project).put("from", now.minus(Duration.ofDays(365)).toString())
        .put("to", now.toString());
    long t0 = System.nanoTime();
    long[] t1 = new long[1];
    return patterns.all(project).compose(defs -> patterns.detect(q, defs, false))
        .compose(v -> {
          t1[0] = System.nanoTime();
          return insights.settings(project);
        })
        .compose(s -> insights.warm(new JsonObject().put("projectId", project)
            .put("from", now.minus(Duration.ofDays(30)).toString()).put("to", now.toString()), zones.get(project), s))
        .onSuccess(v -> LOG.debug("warm-up of project {}: patterns {} ms, insights {} ms", project,
            (t1[0] - t0) / 1_000_000, (System.nanoTime() - t1[0]) / 1_000_000))
        .onFailure(err -> LOG.warn("pattern and insight warm-up of project {} failed: {}", project, err.toString()))
        .<Void>mapEmpty().recover(err -> Future.succeededFuture());
  }

  private AlertWebhook webhook;

  @Override
  public Future<?> stop() {
    if (alertTimer >= 0) {
      vertx.cancelTimer(alertTimer);
    }
    if (warmTimer >= 0) {
      vertx.cancelTimer(warmTimer);
    }
    if (drainTimer >= 0) {
      vertx.cancelTimer(drainTimer);
    }
    return webhook == null ? Future.succeededFuture() : webhook.close();
  }

  private void counted(JsonObject r) {
    for (Object o : r.getJsonArray("insights")) {
      metrics.insightsGenerated(((JsonObject) o).getString("type"), 1);
    }
  }

  private void offer(JsonObject r, InsightSettings s, AlertService alerts, String project) {
    List<JsonObject> list = new java.util.ArrayList<>();
    r.getJsonArray("insights").forEach(o -> list.add((JsonObject) o));
    alerts.offer(project, s.webhookUrl(), "insight", list);
  }

  private void scanForAlerts(InsightQuery insights, AlertService alerts) {
    alerts.resendUndelivered();
    java.time.Instant now = java.time.Instant.now();
    for (String project : zones.keySet()) {
      insights.settings(project).compose(s -> {
        if (s.webhookUrl() == null) {
          return Future.succeededFuture();
        }
        JsonObject q = new JsonObject().put("projectId", project).put("from", now.minus(Duration.ofDays(1)).toString())
            .put("to", now.toString()).put("lang", "en");
        return insights.run(q, zones.get(project), s).onSuccess(r -> {
          counted(r);
          offer(r, s, alerts, project);
        });
      }).onFailure(err -> LOG.warn("alert scan of project {} failed: {}", project, err.toString()));
    }
  }

  private Future<JsonObject> cachedAs(String family, JsonObject keyQuery,
                                      java.util.function.Supplier<Future<JsonObject>> compute) {
    String key = QueryCache.key(family, keyQuery);
    JsonObject hit = cache.get(key);
    if (hit != null) {
      metrics.queryCache(true);
      return Future.succeededFuture(hit);
    }
    metrics.queryCache(false);
    // one computation per key at a time: concurrent askers share it
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

  private final Map<String, Future<JsonObject>> inflight = new HashMap<>();

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
      long mark = cache.mark();
      return q.apply(query).onSuccess(r -> cache.put(key, query, r, mark));
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
      result.onSuccess(r -> {
        // encoded here, on this worker: the HTTP event loop only writes the bytes
        io.vertx.core.buffer.Buffer b = r.toBuffer();
        if (b.length() > maxAnswerBytes) {
          msg.fail(400, new ApiError(400, "answer_too_large", "the " + family + " answer is " + b.length()
              + " bytes, more than the " + maxAnswerBytes + " a query may answer: shorten the period, use a coarser "
              + "granularity or a lower limit", "answer", (long) maxAnswerBytes, null).toJson().encode());
        } else {
          msg.reply(b);
        }
      }).onFailure(err -> {
        if (err instanceof ApiError api) {
          msg.fail(api.status(), api.toJson().encode());
        } else if (err instanceof io.vertx.pgclient.PgException pg && "57014".equals(pg.getSqlState())) {
          msg.fail(503, ApiError.unavailable("query_timeout", family + " query exceeded the 25 s statement timeout "
              + "and was cancelled: narrow the period or the filters", 5000).toJson().encode());
        } else {
          // the cause (PostgreSQL's words, an exception) stays in the log
          LOG.warn("query {} failed: {}", family, err.toString());
          msg.fail(500, new ApiError(500, "query_failed", "the " + family + " query failed (the server logged why)",
              null, null, null).toJson().encode());
        }
      });
    });
    return consumer.completion();
  }
}
