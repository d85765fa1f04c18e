package io.tally.query;

import io.tally.ApiError;
import io.tally.event.Addresses;
import io.tally.ingest.KeyAuth;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;

/** Query routes: authenticate with a read key, forward to {@link AnalyticsQueryVerticle}, relay the answer. */
public final class QueryRoutes {
  private static final DeliveryOptions DELIVERY = new DeliveryOptions().setSendTimeout(30_000);
  private final Vertx vertx;
  private final KeyAuth auth;

  public QueryRoutes(Vertx vertx, KeyAuth auth) {
    this.vertx = vertx;
    this.auth = auth;
  }

  public void mount(Router router) {
    router.get("/v1/realtime").handler(auth.require(KeyAuth.Role.READ))
        .handler(ctx -> forward(ctx, Addresses.QUERY_REALTIME, base(ctx)));
    router.get("/v1/events/count").handler(auth.require(KeyAuth.Role.READ)).handler(ctx -> {
      JsonObject q = period(ctx, Duration.ofDays(1));
      String type = ctx.request().getParam("type");
      if (type != null && !type.isBlank()) {
        q.put("type", type);
      }
      if ("true".equals(ctx.request().getParam("includeBots"))) {
        q.put("includeBots", true);
      }
      forward(ctx, Addresses.QUERY_EVENT_COUNT, q);
    });
    router.get("/v1/sessions/:id").handler(auth.require(KeyAuth.Role.READ))
        .handler(ctx -> forward(ctx, Addresses.QUERY_SESSION, base(ctx).put("sessionId", ctx.pathParam("id"))));
    router.get("/v1/users/:id/sessions").handler(auth.require(KeyAuth.Role.READ))
        .handler(ctx -> forward(ctx, Addresses.QUERY_USER_SESSIONS,
            period(ctx, Duration.ofDays(30)).put("userId", ctx.pathParam("id"))));
  }

  private static JsonObject base(RoutingContext ctx) {
    return new JsonObject().put("projectId", KeyAuth.principal(ctx).projectId());
  }

  /** Half-open period [from, to): ISO-8601 instants or dates; defaults to the {@code span} ending now. */
  static JsonObject period(RoutingContext ctx, Duration span) {
    Instant to = instant(ctx.request().getParam("to"), "to");
    Instant from = instant(ctx.request().getParam("from"), "from");
    if (to == null) {
      to = Instant.now();
    }
    if (from == null) {
      from = to.minus(span);
    }
    if (!from.isBefore(to)) {
      throw ApiError.badRequest("from", "from must be before to");
    }
    return base(ctx).put("from", from.toString()).put("to", to.toString());
  }

  private static Instant instant(String raw, String field) {
    if (raw == null || raw.isBlank()) {
      return null;
    }
    try {
      return Instant.parse(raw);
    } catch (DateTimeParseException e) {
      try {
        return java.time.OffsetDateTime.parse(raw).toInstant();
      } catch (DateTimeParseException e2) {
        try {
          return LocalDate.parse(raw).atStartOfDay(java.time.ZoneOffset.UTC).toInstant();
        } catch (DateTimeParseException e3) {
          throw ApiError.badRequest(field, field + " must be an ISO-8601 instant (2026-11-24T10:00:00Z) or date");
        }
      }
    }
  }

  private void forward(RoutingContext ctx, String address, JsonObject query) {
    vertx.eventBus().<JsonObject>request(address, query, DELIVERY)
        .onSuccess(reply -> ctx.json(reply.body()))
        .onFailure(err -> {
          if (err instanceof ReplyException re && re.failureType() == ReplyFailure.RECIPIENT_FAILURE) {
            ctx.response().setStatusCode(re.failureCode()).putHeader("Content-Type", "application/json")
                .end(re.getMessage());
          } else {
            ctx.fail(ApiError.unavailable("query_unavailable", "query service unavailable: " + err.getMessage(),
                1000));
          }
        });
  }
}
