package io.tally.compat;

import io.tally.error.ApiError;
import io.tally.config.TallyConfig;
import io.tally.enrich.Enricher;
import io.tally.event.EventCatalog;
import io.tally.ingest.BrowserOrigins;
import io.tally.ingest.IngestService;
import io.tally.auth.KeyAuth;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.util.List;
import java.util.function.Function;

/**
 * The ingestion routes of the SDKs people already use: Segment and RudderStack ({@code /v1/batch} and the single
 * calls) and PostHog ({@code /batch/}, {@code /capture/}, {@code /e/}, {@code /i/v0/e/}). Each request is translated
 * into Tally's own events and then takes the path of {@code POST /v1/events} unchanged (key and its rate, bounds,
 * enrichment, dedupe on the SDK's message id, an answer only after commit). Both spellings of each path (with and
 * without the trailing slash) are routes: a redirect would make the SDKs resend the POST as a GET.
 */
public final class SdkRoutes {
  private static final String PRINCIPAL = "tally.sdkPrincipal";
  private static final List<String> SEGMENT_CALLS = List.of("track", "identify", "page", "screen", "group", "alias");
  private static final List<String> POSTHOG_PATHS = List.of("/batch", "/capture", "/e", "/i/v0/e", "/i/v0/ai/batch");

  private final KeyAuth auth;
  /** posthog-js and analytics.js post from pages: CORS follows the key's project, as on POST /v1/events. */
  private final BrowserOrigins origins;
  private final IngestService ingest;
  private final int maxBatchBytes;
  private final SegmentMapping segment;
  private final PostHogMapping posthog;

  /** {@code auth}: the HTTP verticle's, guarded by the perimeter (failed keys are counted per client). */
  public SdkRoutes(KeyAuth auth, IngestService ingest, EventCatalog catalog, TallyConfig.Ingest limits,
                   BrowserOrigins origins) {
    this.auth = auth;
    this.origins = origins;
    this.ingest = ingest;
    this.maxBatchBytes = Math.min(SdkLimits.MAX_BATCH_BYTES, limits.maxBodyBytes());
    this.segment = new SegmentMapping(catalog, limits.maxBatchEvents());
    this.posthog = new PostHogMapping(catalog, limits.maxBatchEvents());
  }

  public void mount(Router router) {
    route(router, "/v1/batch", root -> segment.map(root, null), false);
    for (String call : SEGMENT_CALLS) {
      route(router, "/v1/" + call, root -> segment.map(root, call), false);
    }
    for (String path : POSTHOG_PATHS) {
      route(router, path, posthog::map, true);
    }
  }

  private void route(Router router, String path, Function<Object, MappedBatch> mapping, boolean sniffGzip) {
    for (String p : List.of(path, path + "/")) {
      router.options(p).handler(origins.headers());
      router.post(p).handler(origins.headers()).handler(this::keyFromHeader).handler(SdkBody.reader(maxBatchBytes))
          .handler(ctx -> ingest(ctx, mapping, sniffGzip));
    }
  }

  /**
   * A key in the Authorization header (Segment, RudderStack) is checked before any of the body is read; one in the
   * body (PostHog, Segment's {@code writeKey}) once the body is read. A client blocked for failed keys is refused
   * before its body either way.
   */
  private void keyFromHeader(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    String authorization = req.getHeader("Authorization");
    try {
      if (authorization != null) {
        ctx.put(PRINCIPAL, auth.forClient(req).authenticate(authorization, null, KeyAuth.Role.WRITE));
      } else {
        auth.refuseIfBlocked(req);
      }
      ctx.next();
    } catch (ApiError e) {
      ctx.fail(e);
    }
  }

  private void ingest(RoutingContext ctx, Function<Object, MappedBatch> mapping, boolean sniffGzip) {
    long start = System.nanoTime();
    HttpServerRequest req = ctx.request();
    try {
      byte[] json = SdkBody.decode(req.getHeader("Content-Encoding"), SdkBody.of(ctx), maxBatchBytes, sniffGzip);
      MappedBatch batch = mapping.apply(parse(json));
      KeyAuth.Principal principal = ctx.get(PRINCIPAL);
      if (principal == null) {
        if (batch.bodyKey() == null) {
          throw ApiError.unauthorized("missing write key: send it as the HTTP Basic user name (Segment, RudderStack),"
              + " as writeKey in the body (Segment) or as api_key / token (PostHog)");
        }
        principal = auth.forClient(req).authenticate((String) null, batch.bodyKey(), KeyAuth.Role.WRITE);
      }
      String origin = req.getHeader("Origin");
      if (origin != null && !origins.allows(principal.project(), origin)) {
        throw BrowserOrigins.refusal(origin);
      }
      if (batch.events().isEmpty()) {
        answer(ctx, SdkAnswer.of(batch, null));
        return;
      }
      byte[] body = batch.tallyBody();
      Enricher.RequestInfo info = new Enricher.RequestInfo(req.remoteAddress() == null ? null
          : req.remoteAddress().hostAddress(), req.getHeader("X-Forwarded-For"), req.getHeader("User-Agent"),
          "1".equals(req.getHeader("DNT")));
      ingest.submit(principal, body, body.length, start, false, info).answer()
          .onSuccess(a -> answer(ctx, SdkAnswer.of(batch, a)))
          .onFailure(ctx::fail);
    } catch (ApiError e) {
      ctx.fail(e);
    }
  }

  /** The body as a JSON value; the parser's own words stay here (they describe Jackson, not the request). */
  private static Object parse(byte[] json) {
    if (json.length == 0) {
      throw ApiError.malformedJson("empty body: expected JSON");
    }
    try {
      return Json.decodeValue(Buffer.buffer(json));
    } catch (DecodeException e) {
      throw ApiError.malformedJson("body is not valid JSON");
    }
  }

  private static void answer(RoutingContext ctx, SdkAnswer a) {
    JsonObject body = a.body();
    ctx.response().setStatusCode(a.status()).putHeader("Content-Type", "application/json").end(body.encode());
  }
}
