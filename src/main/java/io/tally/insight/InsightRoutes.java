package io.tally.insight;

import io.tally.auth.KeyAuth;
import io.tally.auth.Perimeter;
import io.tally.error.ApiError;
import io.tally.http.BodyLimit;
import io.tally.http.BusForward;
import io.tally.http.RouteGroup;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;

import java.time.Duration;
import java.time.Instant;

import static io.tally.query.QueryParams.*;

/**
 * The pattern, anomaly and insight routes: authenticate, check the parameters, forward to the query verticle (where
 * {@link InsightModule} answers), relay the answer.
 */
public final class InsightRoutes implements RouteGroup {
  private static final BodyLimit BODY_LIMIT = new BodyLimit(FUNNEL_MAX_BYTES, null);
  private final BusForward bus;

  public InsightRoutes(Vertx vertx) {
    this.bus = new BusForward(vertx, BusForward.QUERY_TIMEOUT_MS);
  }

  @Override
  public void mount(Router router, KeyAuth auth, Perimeter perimeter) {
    mountPatterns(router, auth);
    mountInsights(router, auth);
  }

  /** The patterns, their detection and their users, and the anomalies. */
  private void mountPatterns(Router router, KeyAuth auth) {
    router.get("/v1/patterns").handler(auth.require(KeyAuth.Role.READ))
        .handler(ctx -> bus.forward(ctx, InsightAddresses.QUERY_PATTERNS, base(ctx).put("lang", lang(ctx))));
    router.post("/v1/patterns").handler(auth.require(KeyAuth.Role.READ))
        .handler(BODY_LIMIT.mark())
        .handler(io.vertx.ext.web.handler.BodyHandler.create(false).setBodyLimit(FUNNEL_MAX_BYTES))
        .handler(ctx -> bus.forward(ctx, InsightAddresses.QUERY_PATTERN_CREATE, base(ctx).put("body", body(ctx)),
            201));
    router.get("/v1/patterns/detect").handler(auth.require(KeyAuth.Role.READ))
        .handler(ctx -> bus.forward(ctx, InsightAddresses.QUERY_PATTERNS_DETECT,
            noIndex(ctx, period(ctx, Duration.ofDays(PatternDef.MAX_WINDOW_DAYS)).put("lang", lang(ctx)))));
    router.delete("/v1/patterns/:id").handler(auth.require(KeyAuth.Role.READ))
        .handler(ctx -> bus.forward(ctx, InsightAddresses.QUERY_PATTERN_DELETE, base(ctx).put("id", ctx.pathParam("id"))));
    router.get("/v1/patterns/:id/users").handler(auth.require(KeyAuth.Role.READ))
        .handler(ctx -> bus.forward(ctx, InsightAddresses.QUERY_PATTERN_USERS, noIndex(ctx, period(ctx,
            Duration.ofDays(PatternDef.MAX_WINDOW_DAYS))
            .put("id", ctx.pathParam("id")).put("limit", intParam(ctx, "limit", 1, 100_000, 1_000)))));
    router.get("/v1/anomalies").handler(auth.require(KeyAuth.Role.READ))
        .handler(ctx -> bus.forward(ctx, InsightAddresses.QUERY_ANOMALIES, anomaliesQuery(ctx)));
  }

  /** The insight settings and the insights. */
  private void mountInsights(Router router, KeyAuth auth) {
    // a read key sees the settings with the webhook URL redacted, an admin key whole; only an admin key changes them
    // (the webhook decides where Tally sends requests)
    router.get("/v1/insights/settings").handler(auth.requireAny(KeyAuth.Role.READ, KeyAuth.Role.ADMIN))
        .handler(ctx -> bus.forward(ctx, InsightAddresses.QUERY_INSIGHT_SETTINGS, base(ctx)
            .put("admin", KeyAuth.principal(ctx).role() == KeyAuth.Role.ADMIN)));
    router.put("/v1/insights/settings").handler(auth.require(KeyAuth.Role.ADMIN))
        .handler(BODY_LIMIT.mark())
        .handler(io.vertx.ext.web.handler.BodyHandler.create(false).setBodyLimit(FUNNEL_MAX_BYTES))
        .handler(ctx -> bus.forward(ctx, InsightAddresses.QUERY_INSIGHT_SETTINGS_SAVE,
            base(ctx).put("body", body(ctx))));
    router.get("/v1/insights").handler(auth.require(KeyAuth.Role.READ))
        .handler(ctx -> bus.forward(ctx, InsightAddresses.QUERY_INSIGHTS, insightsQuery(ctx)));
  }

  /** A body that must be a JSON object. */
  private static JsonObject body(io.vertx.ext.web.RoutingContext ctx) {
    try {
      return ctx.body().asJsonObject();
    } catch (RuntimeException e) {
      throw ApiError.badRequest("body", "the body must be a JSON object (it is not valid JSON)");
    }
  }

  /** The anomalies query: a period of at most MAX_JUDGED points of the granularity, overall or per provider/model. */
  private static JsonObject anomaliesQuery(io.vertx.ext.web.RoutingContext ctx) {
    String granularity = oneOf(ctx, "granularity", java.util.List.of("hour", "day"), "hour");
    JsonObject q = period(ctx, granularity.equals("hour") ? Duration.ofDays(1) : Duration.ofDays(14));
    q.put("metric", oneOf(ctx, "metric", sorted(AnomalyQuery.METRICS), "events")).put("granularity", granularity);
    JsonObject f = filters(ctx);
    if (f.containsKey("country") || f.containsKey("device")) {
      throw ApiError.badRequest(f.containsKey("country") ? "country" : "device", "anomalies are computed overall "
          + "or per provider/model: country and device filters are not supported here");
    }
    q.put("filters", f);
    long buckets = Duration.between(Instant.parse(q.getString("from")), Instant.parse(q.getString("to")))
        .toHours() / (granularity.equals("hour") ? 1 : 24);
    if (buckets > AnomalyQuery.MAX_JUDGED) {
      throw new ApiError(400, "invalid_request", "the period holds more than " + AnomalyQuery.MAX_JUDGED + " "
          + granularity + " points (limit " + AnomalyQuery.MAX_JUDGED + "): shorten it or use granularity=day",
          "to", (long) AnomalyQuery.MAX_JUDGED, null);
    }
    return q;
  }

  /** The insights query: a period of at most 30 days, optionally one user's, optionally waiting for every part. */
  private static JsonObject insightsQuery(io.vertx.ext.web.RoutingContext ctx) {
    JsonObject q = period(ctx, Duration.ofDays(30)).put("lang", lang(ctx));
    String wait = ctx.request().getParam("wait");
    if (wait != null && !wait.equals("false")) {
      if (!wait.equals("true")) {
        throw ApiError.badRequest("wait", "wait must be true or false");
      }
      q.put("budgetMs", 0);
    }
    String user = ctx.request().getParam("userId");
    if (user != null) {
      if (user.isBlank() || user.length() > 200) {
        throw ApiError.badRequest("userId", "userId must be a non-empty value of at most 200 characters");
      }
      q.put("userId", user);
    }
    return q;
  }
}
