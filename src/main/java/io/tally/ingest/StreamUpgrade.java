package io.tally.ingest;

import io.tally.ApiError;
import io.tally.config.TallyConfig;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;

/** Authenticates and checks the Origin before upgrading {@code GET /v1/stream} to a WebSocket. */
final class StreamUpgrade implements Handler<RoutingContext> {
  private final Vertx vertx;
  private final KeyAuth auth;
  private final IngestService ingest;
  private final ServerState state;
  private final TallyConfig.Ingest cfg;

  StreamUpgrade(Vertx vertx, KeyAuth auth, IngestService ingest, ServerState state, TallyConfig.Ingest cfg) {
    this.vertx = vertx;
    this.auth = auth;
    this.ingest = ingest;
    this.state = state;
    this.cfg = cfg;
  }

  @Override
  public void handle(RoutingContext ctx) {
    KeyAuth.Principal principal = auth.authenticate(ctx.request().getHeader("Authorization"),
        ctx.request().getParam("key"), KeyAuth.Role.WRITE);
    String origin = ctx.request().getHeader("Origin");
    if (origin != null && !originAllowed(origin)) {
      throw ApiError.forbidden("Origin '" + origin + "' is not in ingest.allowedOrigins");
    }
    if (state.closing()) {
      throw ApiError.unavailable("shutting_down", "server is shutting down", cfg.retryAfterMs());
    }
    var req = ctx.request();
    io.tally.enrich.Enricher.RequestInfo info = new io.tally.enrich.Enricher.RequestInfo(
        req.remoteAddress() == null ? null : req.remoteAddress().hostAddress(), req.getHeader("X-Forwarded-For"),
        req.getHeader("User-Agent"), "1".equals(req.getHeader("DNT")));
    ctx.request().toWebSocket()
        .onSuccess(ws -> new StreamSession(vertx, ws, principal, ingest, state, cfg, info).start())
        .onFailure(err -> {
          org.slf4j.LoggerFactory.getLogger(StreamUpgrade.class).warn("WebSocket upgrade failed", err);
          if (!ctx.response().ended()) {
            ctx.fail(ApiError.badRequest("Upgrade", "WebSocket upgrade failed: " + err.getMessage()));
          }
        });
  }

  private boolean originAllowed(String origin) {
    for (String allowed : cfg.allowedOrigins()) {
      if (allowed.equals("*") || allowed.equalsIgnoreCase(origin)) {
        return true;
      }
    }
    return false;
  }
}
