package io.tally.ingest;

import io.tally.auth.KeyAuth;
import io.tally.config.TallyConfig;
import io.tally.enrich.Enricher;
import io.tally.error.ApiError;
import io.tally.http.ServerState;
import io.tally.metrics.PerimeterMetrics;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Authenticates (throttled per client address, like every keyed request) and checks the Origin before upgrading
 * {@code GET /v1/stream} to a WebSocket. The connection was counted against {@code http.maxConnectionsPerAddress}
 * when it opened, and stays counted as a WebSocket.
 */
final class StreamUpgrade implements Handler<RoutingContext> {
  private static final Logger LOG = LoggerFactory.getLogger(StreamUpgrade.class);
  private final Vertx vertx;
  private final KeyAuth auth;
  private final IngestService ingest;
  private final ServerState state;
  private final TallyConfig.Ingest cfg;
  private final PerimeterMetrics metrics;
  private final BrowserOrigins origins;

  StreamUpgrade(Vertx vertx, KeyAuth auth, IngestService ingest, ServerState state, TallyConfig.Ingest cfg,
                PerimeterMetrics metrics, BrowserOrigins origins) {
    this.origins = origins;
    this.vertx = vertx;
    this.auth = auth;
    this.ingest = ingest;
    this.state = state;
    this.cfg = cfg;
    this.metrics = metrics;
  }

  @Override
  public void handle(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    KeyAuth.Principal principal = auth.authenticate(req, req.getParam("key"), KeyAuth.Role.WRITE);
    String origin = req.getHeader("Origin");
    if (origin != null && !origins.allows(principal.project(), origin)) {
      throw BrowserOrigins.refusal(origin);
    }
    if (state.closing()) {
      throw ApiError.unavailable("shutting_down", "server is shutting down", cfg.retryAfterMs());
    }
    Enricher.RequestInfo info = new Enricher.RequestInfo(req.remoteAddress() == null ? null
        : req.remoteAddress().hostAddress(), req.getHeader("X-Forwarded-For"), req.getHeader("User-Agent"),
        "1".equals(req.getHeader("DNT")));
    req.toWebSocket()
        .onSuccess(ws -> new StreamSession(vertx, ws, principal, ingest, state, cfg, info, metrics).start())
        .onFailure(err -> {
          // the handshake's own refusal (a bad version or header) is already answered; its text stays in the log
          LOG.debug("WebSocket upgrade failed: {}", err.toString());
          if (!ctx.response().ended()) {
            ctx.fail(ApiError.badRequest("Upgrade", "WebSocket upgrade failed"));
          }
        });
  }
}
