package io.tally.insight;

import io.tally.error.ApiError;
import io.tally.metrics.TallyMetrics;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.List;

/**
 * Sends each new high-severity insight or anomaly to the project's webhook once: the alert id is recorded in
 * {@code alerts_sent} first (a conflict means it was sent before), then delivered with retries by
 * {@link AlertWebhook}; nothing here is awaited by the query that found the alert.
 */
final class AlertService {
  private static final Logger LOG = LoggerFactory.getLogger(AlertService.class);

  private final Pool pool;
  private final AlertWebhook webhook;
  private final TallyMetrics metrics;

  AlertService(Pool pool, AlertWebhook webhook, TallyMetrics metrics) {
    this.pool = pool;
    this.webhook = webhook;
    this.metrics = metrics;
  }

  private void deliver(String project, String id, String url, JsonObject payload) {
    webhook.send(url, payload).onComplete(ar -> {
      metrics.alertDelivery(ar.succeeded());
      if (ar.failed()) {
        // the URL's path and query often hold the receiver's token: logged without them
        LOG.warn("alert {} to {} not delivered: {}", id, WebhookUrl.redact(url),
            ar.cause() instanceof WebhookAddresses.RefusedException ? ar.cause().getMessage()
                : "after retries: " + ar.cause());
      }
      pool.preparedQuery("UPDATE alerts_sent SET delivered = $3 WHERE project_id = $1 AND alert_id = $2")
          .execute(Tuple.of(project, id, ar.succeeded()));
    });
  }

  /**
   * Alerts recorded but not delivered (retries exhausted, or the process stopped mid-retry) are sent again by the
   * periodic scan; receivers deduplicate on the {@code Tally-Alert-Id} header.
   */
  void resendUndelivered() {
    pool.query("SELECT project_id, alert_id, payload, url FROM alerts_sent WHERE NOT delivered "
            + "AND created_at < now() - interval '2 minutes' AND url IS NOT NULL ORDER BY created_at LIMIT 100")
        .execute().onSuccess(rows -> rows.forEach(r -> deliver(r.getString(0), r.getString(1), r.getString(3),
            (JsonObject) r.getValue(2))))
        .onFailure(err -> LOG.warn("resending undelivered alerts failed: {}", err.toString()));
  }

  /**
   * A settings body whose {@code webhookUrl} (if any) may be delivered to: its host is a public address, or resolves
   * only to public ones (or to the networks the operator allowed). Else a 400 naming {@code webhookUrl}; the same
   * check is made again at every delivery, after resolving afresh.
   */
  Future<JsonObject> checkWebhook(JsonObject q) {
    String url = InsightSettings.parse(q.getJsonObject("body")).webhookUrl();
    if (url == null) {
      return Future.succeededFuture(q);
    }
    return webhook.check(url).map(address -> q).recover(err -> {
      if (err instanceof WebhookAddresses.RefusedException || err instanceof IllegalArgumentException) {
        return Future.failedFuture(ApiError.badRequest("webhookUrl", "webhookUrl: " + err.getMessage()));
      }
      // no answer from DNS, or none for this name: nothing could be checked, nothing could be delivered
      return Future.failedFuture(ApiError.badRequest("webhookUrl", "webhookUrl: its host "
          + WebhookUrl.parse(url).host() + " does not resolve"));
    });
  }

  /** Offers alerts (only their high-severity ones are sent); the future completes when they are recorded. */
  Future<Void> offer(String project, String url, String kind, List<JsonObject> items) {
    if (url == null || items.isEmpty()) {
      return Future.succeededFuture();
    }
    Future<Void> chain = Future.succeededFuture();
    for (JsonObject item : items) {
      if (!"high".equals(item.getString("severity"))) {
        continue;
      }
      String id = item.getString("alertId", kind + ":" + item.getString("id"));
      JsonObject payload = new JsonObject().put("id", project + ":" + id).put("project", project).put("kind", kind)
          .put("severity", "high").put("createdAt", Instant.now().toString()).put(kind, item);
      chain = chain.compose(v -> pool.preparedQuery("INSERT INTO alerts_sent (project_id, alert_id, payload, url) "
              + "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING alert_id")
          .execute(Tuple.of(project, id, payload, url)).map(rows -> {
            if (rows.size() == 1) {
              deliver(project, id, url, payload);
            }
            return null;
          }));
    }
    return chain.recover(err -> {
      LOG.warn("recording alerts of project {} failed: {}", project, err.toString());
      return Future.succeededFuture();
    });
  }
}
