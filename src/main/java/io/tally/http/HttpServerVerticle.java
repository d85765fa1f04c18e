package io.tally.http;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.tally.auth.KeyAuth;
import io.tally.auth.Perimeter;
import io.tally.config.TallyConfig;
import io.tally.error.ApiError;
import io.tally.metrics.MicrometerPerimeterMetrics;
import io.tally.store.StoreHealth;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Wires the HTTP routes (the operations routes here, every feature's {@link RouteGroup} in order) behind the perimeter (connection deadlines and the
 * per-address cap, keys checked before bodies) and maps every failure to a JSON answer.
 */
public final class HttpServerVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(HttpServerVerticle.class);

  private final TallyConfig config;
  private final KeyAuth auth;
  private final ServerState state;
  private final StoreHealth health;
  private final PrometheusMeterRegistry registry;
  private final List<RouteGroup> features;
  private HttpServer server;
  private Router router;
  private ConnectionGuard guard;
  private long sweep;

  public HttpServerVerticle(TallyConfig config, KeyAuth auth, ServerState state, StoreHealth health,
                            PrometheusMeterRegistry registry, List<RouteGroup> features) {
    this.config = config;
    this.auth = auth;
    this.state = state;
    this.health = health;
    this.registry = registry;
    this.features = List.copyOf(features);
  }

  @Override
  public Future<?> start() {
    TallyConfig.Ingest in = config.ingest();
    Perimeter perimeter = state.perimeter(() -> new Perimeter(config.perimeter(), config.enrich().trustedProxies(),
        new MicrometerPerimeterMetrics(registry)));
    // every route checks its key (and the client's failed keys, and a read key's bucket) before reading any body
    KeyAuth auth = this.auth.guardedBy(perimeter);
    Router router = Router.router(vertx);
    router.get("/health/live").handler(ctx -> ctx.json(new JsonObject().put("status", "UP")));
    router.get("/health/ready").handler(this::ready);
    router.get("/metrics").handler(ctx -> ctx.response()
        .putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8").end(registry.scrape()));
    features.forEach(f -> f.mount(router, auth, perimeter));
    router.route().last().handler(ctx -> ctx.fail(ApiError.notFound("no route for "
        + ctx.request().method() + " " + ctx.request().path())));
    router.route().failureHandler(this::failure);
    this.router = router;

    HttpServerOptions options = new HttpServerOptions()
        .setHost(config.http().host()).setPort(config.http().port())
        .setMaxWebSocketFrameSize(in.wsMaxFrameBytes())
        // the ingestion stream puts its messages together itself (StreamSession); this bounds the live socket's
        .setMaxWebSocketMessageSize(in.wsMaxMessageBytes())
        // HTTP/1.1 only: every deadline and cap here is per HTTP/1.1 connection and request (README, Limits and errors)
        .setHttp2ClearTextEnabled(false)
        .setCompressionSupported(false)
        .setDecompressionSupported(false)
        .setTcpNoDelay(true);
    guard = new ConnectionGuard(perimeter, in.retryAfterMs());
    sweep = vertx.setPeriodic(guard.sweepEveryMs(), id -> guard.sweep());
    server = vertx.createHttpServer(options)
        .connectionHandler(guard::opened)
        .requestHandler(req -> {
          if (guard.admit(req)) {
            router.handle(req);
          }
        });
    return server.listen();
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(sweep);
    return Future.succeededFuture();
  }

  /** Stops accepting connections and waits (bounded) for open ones to finish. */
  public Future<Void> shutdownServer(long timeoutMs) {
    return server == null ? Future.succeededFuture() : server.shutdown(timeoutMs, TimeUnit.MILLISECONDS);
  }

  public int actualPort() {
    return server.actualPort();
  }

  /** Every route mounted, as "METHOD path" (a route for any method: "* path"), for the API contract's test. */
  public List<String> routes() {
    List<String> out = new java.util.ArrayList<>();
    for (io.vertx.ext.web.Route r : router.getRoutes()) {
      if (r.getPath() == null) {
        continue; // the catch-all 404 and the failure handler
      }
      if (r.methods() == null || r.methods().isEmpty()) {
        out.add("* " + r.getPath());
      } else {
        r.methods().forEach(m -> out.add(m.name() + " " + r.getPath()));
      }
    }
    return out;
  }

  private void ready(RoutingContext ctx) {
    boolean ok = !state.closing() && health.up();
    JsonObject body = new JsonObject().put("status", ok ? "UP" : "DOWN")
        .put("postgres", health.up() ? "UP" : "DOWN").put("shuttingDown", state.closing());
    if (!health.up()) {
      body.put("error", health.lastError());
    }
    ctx.response().setStatusCode(ok ? 200 : 503).putHeader("Content-Type", "application/json").end(body.encode());
  }

  private void failure(RoutingContext ctx) {
    Throwable f = ctx.failure();
    ApiError e;
    if (f instanceof ApiError api) {
      e = api;
    } else if (ctx.statusCode() == 413 && BodyLimit.of(ctx) != null) {
      // a route's own body limit (vertx-web's BodyHandler, or the ingestion one), as the route marked it
      e = BodyLimit.of(ctx).error();
    } else if (ctx.statusCode() >= 400 && ctx.statusCode() < 500) {
      // a client error raised by Vert.x itself (e.g. a form it could not decode): its exception text stays here
      e = new ApiError(ctx.statusCode(), "http_" + ctx.statusCode(), "request refused (HTTP " + ctx.statusCode()
          + ")", null, null, null);
    } else if (f == null && ctx.statusCode() > 0) {
      e = new ApiError(ctx.statusCode(), "http_" + ctx.statusCode(), "request failed", null, null, null);
    } else {
      LOG.error("unexpected failure on {} {}", ctx.request().method(), ctx.request().path(), f);
      e = ApiError.internal();
    }
    // refused before its body was read (a key, a limit): close, so the rest is neither read nor taken for a request
    ErrorAnswer.send(ctx.request(), e, ErrorAnswer.bodyUnread(ctx.request()));
  }
}
