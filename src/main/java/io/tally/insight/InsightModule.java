package io.tally.insight;

import io.tally.config.TallyConfig;
import io.tally.derive.DerivedChange;
import io.tally.event.EventCatalog;
import io.tally.metrics.TallyMetrics;
import io.tally.query.QueryAnswers;
import io.tally.query.QueryFamilies;
import io.tally.query.QueryHost;
import io.tally.query.QueryModule;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * Patterns, anomalies, insights and their alerts, answered on the query verticle's context: wires the consumers, the
 * pattern index's upkeep, the periodic alert scan and the warm-up ({@link InsightUpkeep}).
 */
public final class InsightModule implements QueryModule {
  private static final Logger LOG = LoggerFactory.getLogger(InsightModule.class);

  private final Pool pool;
  private final EventCatalog catalog;
  private final TallyMetrics metrics;
  private final WebhookAddresses webhookAddresses;
  /** The alert scan's and the warm-up's periods, the insights' budget, the pattern index's bulk threshold. */
  private final TallyConfig.Query config;
  private PatternEngine patterns;
  private AlertWebhook webhook;
  private InsightUpkeep upkeep;
  private long alertTimer = -1;
  private long warmTimer = -1;

  /** @param webhookAddresses where alert webhooks may deliver (public addresses, and the networks allowed) */
  public InsightModule(Pool pool, EventCatalog catalog, TallyMetrics metrics, WebhookAddresses webhookAddresses,
                       TallyConfig.Query config) {
    this.config = config;
    this.pool = pool;
    this.catalog = catalog;
    this.metrics = metrics;
    this.webhookAddresses = webhookAddresses;
  }

  @Override
  public Future<?> start(QueryHost host) {
    QueryAnswers a = host.answers();
    QueryFamilies f = host.families();
    patterns = new PatternEngine(pool, catalog, a::cachedAs, config.patternIndexBulkThreshold());
    AnomalyQuery anomalies = new AnomalyQuery(pool, f.timeline());
    InsightQuery insights = new InsightQuery(pool, f.user(), f.usage(), f.funnel(), anomalies, patterns, a::cachedAs,
        config.insightBudgetMs());
    webhook = new AlertWebhook(host.vertx(), AlertWebhook.Options.defaults(), webhookAddresses);
    AlertService alerts = new AlertService(pool, webhook, metrics);
    upkeep = new InsightUpkeep(host, patterns, insights, alerts, metrics);
    metrics.patternIndexGauge(patterns.index()::personDays);
    metrics.patternIndexQueuedGauge(patterns.index()::queuedGauge);
    metrics.patternIndexBulkReadsGauge(patterns.index()::bulkReads);
    patterns.index().load().onFailure(err -> LOG.error("pattern index failed to load; patterns stay on SQL", err));
    return Future.all(List.of(
        a.consume(InsightAddresses.QUERY_PATTERNS, "patterns", q -> patterns.all(q.getString("projectId")).map(list -> {
          JsonArray arr = new JsonArray();
          list.forEach(p -> arr.add(p.toJson()));
          return new JsonObject().put("patterns", arr);
        })),
        a.consume(InsightAddresses.QUERY_PATTERN_CREATE, "patterns_create", patterns::create),
        a.consume(InsightAddresses.QUERY_PATTERN_DELETE, "patterns_delete", patterns::delete),
        a.consume(InsightAddresses.QUERY_PATTERNS_DETECT, "patterns_detect", q -> patterns.all(q.getString("projectId"))
            .compose(defs -> patterns.detect(q, defs, "fr".equals(q.getString("lang"))).onSuccess(r -> r
                .getJsonArray("patterns").forEach(p -> metrics.patternsDetected(((JsonObject) p).getString("id"),
                    1))))),
        a.consume(InsightAddresses.QUERY_PATTERN_USERS, "pattern_users", a.cached("pattern_users", q -> patterns
            .one(q.getString("projectId"), q.getString("id")).compose(p -> patterns.users(q, p)))),
        a.consume(InsightAddresses.QUERY_ANOMALIES, "anomalies", q -> insights.settings(q.getString("projectId"))
            .compose(s -> a.cachedAs("anomalies", q, () -> anomalies.run(q, host.zone(q)))
                // offered on every answer (cached or not): alerts_sent makes each one go out once
                .onSuccess(r -> alerts.offer(q.getString("projectId"), s.webhookUrl(), "anomaly", found(r))))),
        a.consume(InsightAddresses.QUERY_INSIGHTS, "insights", q -> insights.settings(q.getString("projectId"))
            .compose(s -> a.cachedAs("insights", q.copy().put("settings", s.values()),
                    () -> insights.run(q, host.zone(q), s).onSuccess(upkeep::counted))
                .onSuccess(r -> upkeep.offer(r, s, q.getString("projectId"))))),
        // the webhook URL whole for an admin key only (InsightRoutes sets "admin" from the caller's key)
        a.consume(InsightAddresses.QUERY_INSIGHT_SETTINGS, "insight_settings", q -> insights
            .settings(q.getString("projectId")).map(s -> s.effective(q.getBoolean("admin", false)))),
        a.consume(InsightAddresses.QUERY_INSIGHT_SETTINGS_SAVE, "insight_settings", q -> alerts.checkWebhook(q)
            .compose(insights::saveSettings))))
        .onSuccess(v -> {
          alertTimer = host.vertx().setPeriodic(config.alertScanMs(), id -> upkeep.scanForAlerts());
          warmTimer = host.vertx().setPeriodic(10_000, config.patternWarmMs(), id -> upkeep.warm());
        });
  }

  /** An anomaly answer's points as alerts. */
  private static List<JsonObject> found(JsonObject r) {
    List<JsonObject> found = new ArrayList<>();
    for (Object o : r.getJsonArray("points")) {
      JsonObject p = (JsonObject) o;
      found.add(p.copy().put("alertId", AnomalyQuery.alertId(r, p)).put("id", AnomalyQuery.alertId(r, p))
          .put("metric", r.getString("metric")).put("granularity", r.getString("granularity"))
          .put("filters", r.getJsonObject("filters")));
    }
    return found;
  }

  @Override
  public Future<?> changed(DerivedChange change) {
    return patterns.index().apply(change);
  }

  @Override
  public Future<?> stop() {
    if (alertTimer >= 0) {
      upkeep.vertx().cancelTimer(alertTimer);
    }
    if (warmTimer >= 0) {
      upkeep.vertx().cancelTimer(warmTimer);
    }
    return webhook == null ? Future.succeededFuture() : webhook.close();
  }
}
