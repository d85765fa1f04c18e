package io.tally.dashboard;

import io.tally.auth.KeyAuth;
import io.tally.error.ApiError;
import io.tally.http.BodyLimit;
import io.tally.query.QueryParams;
import io.tally.query.QueryRoutes;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.StaticHandler;

import java.time.Duration;
import java.util.Set;

/**
 * The dashboard's routes: the static app at {@code /} (from the jar's {@code webroot/}, Chart.js from its webjar),
 * the live stream, saved segments and funnels, a person's recent events and the exports. Mount before the
 * catch-all 404.
 */
public final class DashboardRoutes {
  private static final DeliveryOptions DELIVERY = new DeliveryOptions().setSendTimeout(30_000);
  static final Set<String> FILTER_KEYS = Set.of("range", "from", "to", "provider", "model", "country", "device");
  private static final int MAX_NAME = 100;
  /** The largest body of a saved segment or funnel. */
  public static final int MAX_BODY = 16_384;

  private final Vertx vertx;
  private final KeyAuth auth;
  private final LiveFeed feed;
  private final String host;
  private final int port;

  /** {@code host}/{@code port}: where this server listens, for the exports' loopback requests. */
  public DashboardRoutes(Vertx vertx, KeyAuth auth, LiveFeed feed, String host, int port) {
    this.vertx = vertx;
    this.auth = auth;
    this.feed = feed;
    this.host = host.equals("0.0.0.0") || host.equals("::") || host.isBlank() ? "127.0.0.1" : host;
    this.port = port;
  }

  public void mount(Router router) {
    router.get("/v1/live").handler(auth.require(KeyAuth.Role.READ)).handler(new LiveStream(vertx, feed));
    // the live socket reads its key from its first frame: a view bound to the client counts unknown keys there too
    router.get("/v1/live/ws").handler(ctx -> {
      auth.refuseIfBlocked(ctx.request());
      new LiveSocket(vertx, auth.forClient(ctx.request()), feed).handle(ctx);
    });
    router.get("/v1/users/:id/events").handler(auth.require(KeyAuth.Role.READ))
        .handler(ctx -> forward(ctx, DashboardAddresses.QUERY_USER_EVENTS, QueryParams.period(ctx, Duration.ofDays(30))
            .put("userId", ctx.pathParam("id")).put("limit", QueryParams.intParam(ctx, "limit", 1, 1000, 50))));
    savedRoutes(router, "/v1/segments", "segment");
    savedRoutes(router, "/v1/saved-funnels", "funnel");
    router.get("/v1/export/:view").handler(auth.require(KeyAuth.Role.READ))
        .handler(new ExportRoute(vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true)), host, port));

    router.get("/webjars/*").handler(StaticHandler.create("META-INF/resources/webjars")
        .setMaxAgeSeconds(365L * 86_400)); // versioned paths: cache for good
    String policy = ShellPolicy.forResource("webroot/index.html");
    router.get("/*").handler(ctx -> {
      // the app shell: a small page, never stale after an upgrade; the CSP keeps it to our own origin
      ctx.response().putHeader("Content-Security-Policy", policy)
          .putHeader("X-Content-Type-Options", "nosniff").putHeader("Referrer-Policy", "no-referrer");
      ctx.next();
    }).handler(StaticHandler.create("webroot").setMaxAgeSeconds(60).setIndexPage("index.html"));
  }

  private void savedRoutes(Router router, String path, String kind) {
    router.get(path).handler(auth.require(KeyAuth.Role.READ))
        .handler(ctx -> forward(ctx, DashboardAddresses.DASHBOARD_SAVED_LIST, base(ctx, kind)));
    router.put(path + "/:name").handler(auth.require(KeyAuth.Role.READ))
        .handler(new BodyLimit(MAX_BODY, null).mark())
        .handler(BodyHandler.create(false).setBodyLimit(MAX_BODY))
        .handler(ctx -> forward(ctx, DashboardAddresses.DASHBOARD_SAVED_PUT, base(ctx, kind).put("name", name(ctx))
            .put("body", kind.equals("segment") ? segment(ctx) : funnel(ctx))));
    router.delete(path + "/:name").handler(auth.require(KeyAuth.Role.READ))
        .handler(ctx -> forward(ctx, DashboardAddresses.DASHBOARD_SAVED_DELETE, base(ctx, kind).put("name", name(ctx))));
  }

  private static JsonObject base(RoutingContext ctx, String kind) {
    return new JsonObject().put("projectId", KeyAuth.principal(ctx).projectId()).put("kind", kind);
  }

  private static String name(RoutingContext ctx) {
    String n = ctx.pathParam("name");
    if (n == null || n.isBlank() || n.length() > MAX_NAME) {
      throw ApiError.badRequest("name", "name must be 1 to " + MAX_NAME + " characters");
    }
    return n;
  }

  private static JsonObject body(RoutingContext ctx) {
    try {
      JsonObject b = ctx.body().asJsonObject();
      if (b != null) {
        return b;
      }
    } catch (RuntimeException e) {
      throw ApiError.malformedJson("the body must be a JSON object (it is not valid JSON)");
    }
    throw ApiError.badRequest("body", "the body must be a JSON object");
  }

  /** {filters: {range?, from?, to?, provider?, model?, country?, device?}}: strings of at most 200 characters. */
  static JsonObject segment(RoutingContext ctx) {
    JsonObject filters = body(ctx).getJsonObject("filters");
    if (filters == null) {
      throw ApiError.badRequest("filters", "filters must be an object {range, from, to, provider, model, country, "
          + "device}");
    }
    for (String k : filters.fieldNames()) {
      if (!FILTER_KEYS.contains(k)) {
        throw ApiError.badRequest("filters." + k, "unknown filter '" + k + "': one of " + FILTER_KEYS);
      }
      if (!(filters.getValue(k) instanceof String s) || s.length() > 200) {
        throw ApiError.badRequest("filters." + k, "filters." + k + " must be a string of at most 200 characters");
      }
    }
    return new JsonObject().put("filters", filters);
  }

  /** {steps: [{event, where?}] (2–10), windowSeconds?}: the same rules as {@code POST /v1/funnels}. */
  static JsonObject funnel(RoutingContext ctx) {
    JsonObject b = body(ctx);
    if (!(b.getValue("steps") instanceof JsonArray steps) || steps.size() < 2 || steps.size() > 10) {
      throw ApiError.badRequest("steps", "steps must be an array of 2 to 10 steps {event, where?}");
    }
    for (int i = 0; i < steps.size(); i++) {
      if (!(steps.getValue(i) instanceof JsonObject s) || !(s.getValue("event") instanceof String ev)
          || ev.isBlank() || ev.length() > 200) {
        throw ApiError.badRequest("steps[" + i + "].event", "steps[" + i + "].event must be an event type name");
      }
    }
    Object ws = b.getValue("windowSeconds", 7L * 86_400);
    if (!(ws instanceof Number w) || w.longValue() < 1 || w.longValue() > 90L * 86_400) {
      throw ApiError.badRequest("windowSeconds", "windowSeconds must be an integer from 1 to 7776000 (90 days)");
    }
    return new JsonObject().put("steps", steps).put("windowSeconds", ((Number) ws).longValue());
  }

  private void forward(RoutingContext ctx, String address, JsonObject query) {
    vertx.eventBus().<Object>request(address, query, DELIVERY)
        .onSuccess(reply -> ctx.response().putHeader("Content-Type", "application/json")
            .end(reply.body() instanceof io.vertx.core.buffer.Buffer b ? b
                : io.vertx.core.buffer.Buffer.buffer(String.valueOf(reply.body()))))
        .onFailure(err -> {
          if (err instanceof ReplyException re && re.failureType() == ReplyFailure.RECIPIENT_FAILURE) {
            ctx.response().setStatusCode(re.failureCode()).putHeader("Content-Type", "application/json")
                .end(re.getMessage());
          } else {
            ctx.fail(QueryRoutes.unavailable(err));
          }
        });
  }
}
