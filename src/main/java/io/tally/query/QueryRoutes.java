package io.tally.query;

import io.tally.auth.KeyAuth;
import io.tally.auth.Perimeter;
import io.tally.error.ApiError;
import io.tally.http.BodyLimit;
import io.tally.http.BusForward;
import io.tally.http.RouteGroup;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.time.Duration;
import java.time.Instant;

import static io.tally.query.QueryParams.*;

/** Query routes: authenticate with a read key, forward to {@link AnalyticsQueryVerticle}, relay the answer. */
public final class QueryRoutes implements RouteGroup {
  /** A funnel's body limit, as answered in a 413. */
  static final BodyLimit BODY_LIMIT = new BodyLimit(FUNNEL_MAX_BYTES, null);
  private final BusForward bus;

  public QueryRoutes(Vertx vertx) {
    this.bus = new BusForward(vertx, BusForward.QUERY_TIMEOUT_MS);
  }

  @Override
  public void mount(Router router, KeyAuth auth, Perimeter perimeter) {
    router.get("/v1/realtime").handler(auth.require(KeyAuth.Role.READ))
        .handler(ctx -> bus.forward(ctx, QueryAddresses.QUERY_REALTIME, base(ctx)));
    router.get("/v1/events/count").handler(auth.require(KeyAuth.Role.READ))
        .handler(ctx -> bus.forward(ctx, QueryAddresses.QUERY_EVENT_COUNT, eventCountQuery(ctx)));
    router.get("/v1/sessions/:id").handler(auth.require(KeyAuth.Role.READ))
        .handler(ctx -> bus.forward(ctx, QueryAddresses.QUERY_SESSION, base(ctx).put("sessionId", ctx.pathParam("id"))));
    router.get("/v1/users/:id/analytics").handler(auth.require(KeyAuth.Role.READ))
        .handler(ctx -> bus.forward(ctx, QueryAddresses.QUERY_USER_ANALYTICS,
            period(ctx, Duration.ofDays(30)).put("userId", ctx.pathParam("id"))));
    router.get("/v1/metrics/usage").handler(auth.require(KeyAuth.Role.READ))
        .handler(ctx -> bus.forward(ctx, QueryAddresses.QUERY_USAGE, raw(ctx, period(ctx, Duration.ofDays(30))
            .put("filters", filters(ctx)))));
    router.get("/v1/people").handler(auth.require(KeyAuth.Role.READ)).handler(ctx -> bus.forward(ctx,
        QueryAddresses.QUERY_PEOPLE, period(ctx, Duration.ofDays(30))
            .put("sort", oneOf(ctx, "sort", java.util.List.of("active", "recent"), "active"))
            .put("prefix", PeopleQuery.prefix(ctx.request().getParam("prefix")))
            .put("limit", intParam(ctx, "limit", 1, PeopleQuery.MAX_LIMIT, 20))));
    router.get("/v1/retention").handler(auth.require(KeyAuth.Role.READ))
        .handler(ctx -> bus.forward(ctx, QueryAddresses.QUERY_RETENTION, raw(ctx, retentionQuery(ctx))));
    router.get("/v1/conversions").handler(auth.require(KeyAuth.Role.READ)).handler(ctx -> bus.forward(ctx,
        QueryAddresses.QUERY_CONVERSIONS, period(ctx, Duration.ofDays(30)).put("limit",
            intParam(ctx, "limit", 1, 10_000, 1_000))));
    router.get("/v1/timeseries").handler(auth.require(KeyAuth.Role.READ))
        .handler(ctx -> bus.forward(ctx, QueryAddresses.QUERY_TIMESERIES, raw(ctx, timeseriesQuery(ctx))));
    router.get("/v1/breakdown").handler(auth.require(KeyAuth.Role.READ))
        .handler(ctx -> bus.forward(ctx, QueryAddresses.QUERY_BREAKDOWN, raw(ctx, breakdownQuery(ctx))));
    router.post("/v1/funnels").handler(auth.require(KeyAuth.Role.READ))
        .handler(BODY_LIMIT.mark())
        .handler(io.vertx.ext.web.handler.BodyHandler.create(false).setBodyLimit(FUNNEL_MAX_BYTES))
        .handler(ctx -> bus.forward(ctx, QueryAddresses.QUERY_FUNNEL, raw(ctx, funnel(ctx))));
    router.get("/v1/users/:id/sessions").handler(auth.require(KeyAuth.Role.READ))
        .handler(ctx -> bus.forward(ctx, QueryAddresses.QUERY_USER_SESSIONS,
            period(ctx, Duration.ofDays(30)).put("userId", ctx.pathParam("id"))));
  }

  /** The event count query: a period of at most a day, optionally one type, bots optionally included. */
  private static JsonObject eventCountQuery(RoutingContext ctx) {
    JsonObject q = period(ctx, Duration.ofDays(1));
    String type = ctx.request().getParam("type");
    if (type != null && !type.isBlank()) {
      q.put("type", type);
    }
    if ("true".equals(ctx.request().getParam("includeBots"))) {
      q.put("includeBots", true);
    }
    return q;
  }

  /** The retention query: cohorts by day or week, and how many periods to follow them. */
  private static JsonObject retentionQuery(RoutingContext ctx) {
    String granularity = oneOf(ctx, "granularity", java.util.List.of("day", "week"), "day");
    JsonObject q = period(ctx, Duration.ofDays(30), granularity.equals("week") ? MAX_WEEKLY_PERIOD : MAX_PERIOD);
    q.put("granularity", granularity);
    q.put("periods", intParam(ctx, "periods", 1, 90, 7));
    return q;
  }

  /** The time series query: one metric by interval, at most MAX_POINTS buckets. */
  private static JsonObject timeseriesQuery(RoutingContext ctx) {
    JsonObject q = period(ctx, Duration.ofDays(1)).put("filters", filters(ctx));
    q.put("metric", oneOf(ctx, "metric", sorted(SeriesQuery.METRICS), null));
    String interval = oneOf(ctx, "interval", java.util.List.of("minute", "hour", "day"), "hour");
    q.put("interval", interval);
    int points = SeriesQuery.buckets(Instant.parse(q.getString("from")), Instant.parse(q.getString("to")),
        interval, KeyAuth.principal(ctx).project().timezone()).size();
    if (points > SeriesQuery.MAX_POINTS) {
      throw new ApiError(400, "invalid_request", "the period holds more than " + SeriesQuery.MAX_POINTS + " "
          + interval + " buckets (limit " + SeriesQuery.MAX_POINTS + " points): use a longer interval or a shorter "
          + "period", "interval", (long) SeriesQuery.MAX_POINTS, null);
    }
    return q;
  }

  /** The breakdown query: one metric by one dimension, the top values. */
  private static JsonObject breakdownQuery(RoutingContext ctx) {
    JsonObject q = period(ctx, Duration.ofDays(30)).put("filters", filters(ctx));
    q.put("dimension", oneOf(ctx, "dimension", sorted(SeriesQuery.DIMENSIONS), null));
    q.put("metric", oneOf(ctx, "metric", sorted(SeriesQuery.METRICS), "events"));
    q.put("limit", intParam(ctx, "limit", 1, 1_000, 10));
    return q;
  }

  /** The answer to a query the query service did not answer: its time budget ran out, or it is not there. */
  public static ApiError unavailable(Throwable err) {
    return BusForward.unavailable(err, BusForward.QUERY_TIMEOUT_MS);
  }
}
