package io.tally.ingest;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.tally.ApiError;
import io.tally.config.TallyConfig;
import io.tally.dashboard.DashboardRoutes;
import io.tally.dashboard.LiveFeed;
import io.tally.enrich.Enricher;
import io.tally.event.EventCatalog;
import io.tally.metrics.MicrometerPerimeterMetrics;
import io.tally.query.QueryRoutes;
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

import java.util.concurrent.TimeUnit;

/**
 * Wires the HTTP routes (ingestion, stream, queries, operations) behind the perimeter (connection deadlines and the
 * per-address cap, keys checked before bodies) and maps every failure to a JSON answer.
 */
public final class HttpServerVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(HttpServerVerticle.class);

  private final TallyConfig config;
  private final KeyAuth auth;
  private final IngestService ingest;
  private final ServerState state;
  private final StoreHealth health;
  private final PrometheusMeterRegistry registry;
  private final EventCatalog catalog;
  private final LiveFeed live;
  private HttpServer server;
  private Router router;
  private ConnectionGuard guard;
  private long sweep;

  public HttpServerVerticle(TallyConfig config, KeyAuth auth, IngestService ingest, ServerState state,
                            StoreHealth health, PrometheusMeterRegistry registry, EventCatalog catalog,
                            LiveFeed live) {
    this.catalog = catalog;
    this.live = live;
    this.config = config;
    this.auth = auth;
    this.ingest = ingest;
    this.state = state;
    this.health = health;
    this.registry = registry;
  }

  @Override
  public Future<?> start() {
    TallyConfig.Ingest in = config.ingest();
    Perimeter perimeter = state.perimeter(() -> new Perimeter(config.perimeter(), config.enrich().trustedProxies(),
        new MicrometerPerimeterMetrics(registry)));
    // every route checks its key (and the client's failed keys, and a read key's bucket) before reading any body
    KeyAuth auth = this.auth.guardedBy(perimeter);
    Router router = Router.router(vertx);
    BrowserOrigins origins = new BrowserOrigins(config.projects(), in.allowedOrigins());
    router.options("/v1/events").handler(origins.headers());
    router.post("/v1/events").handler(origins.headers()).handler(auth.requireWriteOrBeacon())
        .handler(origins.enforce())
        .handler(new RawBody(in.maxBodyBytes()))
        .handler(this::ingestHttp);
    router.get("/v1/stream").handler(new StreamUpgrade(vertx, auth, ingest, state, in, perimeter.metrics, origins));
    new io.tally.compat.SdkRoutes(auth, ingest, catalog, in, origins).mount(router);
    new QueryRoutes(vertx, auth).mount(router);
    new io.tally.lifecycle.PrivacyRoutes(vertx, auth).mount(router);
    router.get("/v1/event-types").handler(auth.require(KeyAuth.Role.READ)).handler(ctx -> ctx.json(catalog.toJson()
        .put("strict", KeyAuth.principal(ctx).project().strictEventTypes())));
    router.get("/v1/about").handler(auth.require(KeyAuth.Role.READ))
        .handler(ctx -> ctx.json(new JsonObject().put("location", ingest.location())));
    router.get("/health/live").handler(ctx -> ctx.json(new JsonObject().put("status", "UP")));
    router.get("/health/ready").handler(this::ready);
    router.get("/metrics").handler(ctx -> ctx.response()
        .putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8").end(registry.scrape()));
    new io.tally.sdk.ClientAssets().mount(router);
    new DashboardRoutes(vertx, auth, live, config.http().host(), config.http().port()).mount(router);
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
  public java.util.List<String> routes() {
    java.util.List<String> out = new java.util.ArrayList<>();
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

  private void ingestHttp(RoutingContext ctx) {
    long start = System.nanoTime();
    int[] len = new int[1];
    byte[] raw = RawBody.of(ctx).getBytes();
    byte[] body = BodyDecoder.decode(ctx.request().getHeader("Content-Encoding"), raw, config.ingest().maxBodyBytes(),
        len);
    var req = ctx.request();
    Enricher.RequestInfo info = new Enricher.RequestInfo(req.remoteAddress() == null ? null
        : req.remoteAddress().hostAddress(), req.getHeader("X-Forwarded-For"), req.getHeader("User-Agent"),
        "1".equals(req.getHeader("DNT")));
    ingest.submit(KeyAuth.principal(ctx), body, len[0], start, true, info).answer()
        .onSuccess(ctx::json)
        .onFailure(ctx::fail);
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
    } else if (ctx.statusCode() == 413 && ctx.request().path().equals("/v1/events")) {
      e = ApiError.tooLarge("ingest.maxBodyBytes", config.ingest().maxBodyBytes(),
          "body exceeds " + config.ingest().maxBodyBytes() + " bytes (ingest.maxBodyBytes)");
    } else if (ctx.statusCode() == 413) {
      // a route's own body limit (vertx-web's BodyHandler), not the ingestion one
      long limit = ctx.request().path().startsWith("/v1/segments") || ctx.request().path().startsWith("/v1/saved-")
          ? DashboardRoutes.MAX_BODY : QueryRoutes.FUNNEL_MAX_BYTES;
      e = new ApiError(413, "too_large", "body exceeds the " + limit + " bytes this route accepts", "body", limit,
          null);
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
