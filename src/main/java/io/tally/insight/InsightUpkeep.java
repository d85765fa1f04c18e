package io.tally.insight;

import io.tally.metrics.TallyMetrics;
import io.tally.query.QueryHost;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** The insights' periodic work: the alert scan, and keeping the slow default answers cached ahead of a dashboard. */
final class InsightUpkeep {
  private static final Logger LOG = LoggerFactory.getLogger(InsightUpkeep.class);
  private final QueryHost host;
  private final PatternEngine patterns;
  private final InsightQuery insights;
  private final AlertService alerts;
  private final TallyMetrics metrics;
  private boolean warming;

  InsightUpkeep(QueryHost host, PatternEngine patterns, InsightQuery insights, AlertService alerts,
                TallyMetrics metrics) {
    this.host = host;
    this.patterns = patterns;
    this.insights = insights;
    this.alerts = alerts;
    this.metrics = metrics;
  }

  Vertx vertx() {
    return host.vertx();
  }

  void counted(JsonObject r) {
    for (Object o : r.getJsonArray("insights")) {
      metrics.insightsGenerated(((JsonObject) o).getString("type"), 1);
    }
  }

  void offer(JsonObject r, InsightSettings s, String project) {
    List<JsonObject> list = new ArrayList<>();
    r.getJsonArray("insights").forEach(o -> list.add((JsonObject) o));
    alerts.offer(project, s.webhookUrl(), "insight", list);
  }

  /** Resends undelivered alerts, then checks the last 24 hours of each project with a webhook for new ones. */
  void scanForAlerts() {
    alerts.resendUndelivered();
    Instant now = Instant.now();
    for (String project : host.projects()) {
      insights.settings(project).compose(s -> {
        if (s.webhookUrl() == null) {
          return Future.succeededFuture();
        }
        JsonObject q = new JsonObject().put("projectId", project).put("from", now.minus(Duration.ofDays(1)).toString())
            .put("to", now.toString()).put("lang", "en");
        return insights.run(q, host.zones().get(project), s).onSuccess(r -> {
          counted(r);
          offer(r, s, project);
        });
      }).onFailure(err -> LOG.warn("alert scan of project {} failed: {}", project, err.toString()));
    }
  }

  /**
   * Keeps the default pattern detection (to = now) and the slow parts of the default global insights (the last 30
   * days: the funnel and the anomaly scans, each cached by whole days or buckets) cached, so a dashboard's first call
   * finds them. Projects are warmed one after another, and only the parts that stay cached are computed: the rest of
   * an insights answer is computed afresh by every call anyway.
   */
  void warm() {
    // until the pattern index is loaded (the SQL path is far slower), and not over a warm-up still running
    if (warming || host.projects().stream().anyMatch(p -> patterns.index().project(p) == null)) {
      return;
    }
    warming = true;
    Instant now = Instant.now();
    Future<Void> chain = Future.succeededFuture();
    for (String project : host.projects()) {
      chain = chain.transform(ignored -> warm(project, now));
    }
    chain.onComplete(ar -> warming = false);
  }

  private Future<Void> warm(String project, Instant now) {
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
            .put("from", now.minus(Duration.ofDays(30)).toString()).put("to", now.toString()), host.zones().get(project),
            s))
        .onSuccess(v -> LOG.debug("warm-up of project {}: patterns {} ms, insights {} ms", project,
            (t1[0] - t0) / 1_000_000, (System.nanoTime() - t1[0]) / 1_000_000))
        .onFailure(err -> LOG.warn("pattern and insight warm-up of project {} failed: {}", project, err.toString()))
        .<Void>mapEmpty().recover(err -> Future.succeededFuture());
  }
}
