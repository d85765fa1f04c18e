package io.tally.ingest;

import io.tally.auth.KeyAuth;
import io.tally.auth.Perimeter;
import io.tally.config.TallyConfig;
import io.tally.enrich.Enricher;
import io.tally.event.EventCatalog;
import io.tally.http.BodyLimit;
import io.tally.http.RouteGroup;
import io.tally.http.ServerState;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/** The ingestion routes: {@code POST /v1/events}, the {@code /v1/stream} WebSocket, and the event catalogue. */
public final class IngestRoutes implements RouteGroup {
  private final Vertx vertx;
  private final TallyConfig.Ingest config;
  private final IngestService ingest;
  private final ServerState state;
  private final EventCatalog catalog;
  private final BrowserOrigins origins;

  public IngestRoutes(Vertx vertx, TallyConfig.Ingest config, IngestService ingest, ServerState state,
                      EventCatalog catalog, BrowserOrigins origins) {
    this.origins = origins;
    this.vertx = vertx;
    this.config = config;
    this.ingest = ingest;
    this.state = state;
    this.catalog = catalog;
  }

  @Override
  public void mount(Router router, KeyAuth auth, Perimeter perimeter) {
    router.options("/v1/events").handler(origins.headers());
    router.post("/v1/events").handler(origins.headers())
        .handler(new BodyLimit(config.maxBodyBytes(), "ingest.maxBodyBytes").mark())
        .handler(auth.requireWriteOrBeacon())
        .handler(origins.enforce())
        .handler(new RawBody(config.maxBodyBytes()))
        .handler(this::ingestHttp);
    router.get("/v1/stream").handler(new StreamUpgrade(vertx, auth, ingest, state, config, perimeter.metrics(),
        origins));
    router.get("/v1/event-types").handler(auth.require(KeyAuth.Role.READ)).handler(ctx -> ctx.json(catalog.toJson()
        .put("strict", KeyAuth.principal(ctx).project().strictEventTypes())));
    router.get("/v1/about").handler(auth.require(KeyAuth.Role.READ))
        .handler(ctx -> ctx.json(new io.vertx.core.json.JsonObject().put("location", ingest.location())));
  }

  private void ingestHttp(RoutingContext ctx) {
    long start = System.nanoTime();
    int[] len = new int[1];
    byte[] raw = RawBody.of(ctx).getBytes();
    byte[] body = BodyDecoder.decode(ctx.request().getHeader("Content-Encoding"), raw, config.maxBodyBytes(), len);
    HttpServerRequest req = ctx.request();
    Enricher.RequestInfo info = new Enricher.RequestInfo(req.remoteAddress() == null ? null
        : req.remoteAddress().hostAddress(), req.getHeader("X-Forwarded-For"), req.getHeader("User-Agent"),
        "1".equals(req.getHeader("DNT")));
    ingest.submit(KeyAuth.principal(ctx), body, len[0], start, true, info).answer()
        .onSuccess(ctx::json)
        .onFailure(ctx::fail);
  }
}
