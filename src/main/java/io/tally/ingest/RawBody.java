package io.tally.ingest;

import io.tally.error.ApiError;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.ext.web.RoutingContext;

/**
 * Reads the ingestion body as bytes, whatever its Content-Type, up to a limit. vertx-web's BodyHandler is not used
 * here because it hands {@code application/x-www-form-urlencoded} bodies (what {@code curl -d} sends) and multipart
 * ones to Vert.x's form decoder, which fails on a "field" over {@code HttpServerOptions.maxFormBufferedBytes} (1 KiB):
 * a JSON body sent that way got a 500. The body is JSON whatever the client labelled it. Each route names its own
 * limit in the refusal (POST /v1/events: {@code ingest.maxBodyBytes}; the SDK routes: their request limit).
 */
public final class RawBody implements Handler<RoutingContext> {
  private static final String KEY = "tally.rawBody";
  private static final int MAX_INITIAL_BYTES = 64 * 1024;
  private final int maxBytes;
  private final java.util.function.Supplier<ApiError> tooLarge;

  RawBody(int maxBytes) {
    this(maxBytes, () -> ApiError.tooLarge("ingest.maxBodyBytes", maxBytes,
        "body exceeds " + maxBytes + " bytes (ingest.maxBodyBytes)"));
  }

  /** @param tooLarge the refusal of a body over {@code maxBytes}, naming the route's limit */
  public RawBody(int maxBytes, java.util.function.Supplier<ApiError> tooLarge) {
    this.maxBytes = maxBytes;
    this.tooLarge = tooLarge;
  }

  /** The body read by this handler (empty when there was none). */
  public static Buffer of(RoutingContext ctx) {
    Buffer b = ctx.get(KEY);
    return b == null ? Buffer.buffer() : b;
  }

  @Override
  public void handle(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    long declared = contentLength(req);
    if (declared > maxBytes) {
      ctx.fail(tooLarge.get());
      return;
    }
    if (req.isEnded()) {
      ctx.put(KEY, Buffer.buffer());
      ctx.next();
      return;
    }
    if ("100-continue".equalsIgnoreCase(req.getHeader(HttpHeaders.EXPECT)) && req.version() != HttpVersion.HTTP_1_0) {
      // curl asks before sending a body over 1 KiB; without the answer it waits a second
      ctx.response().writeContinue();
    }
    Buffer body = Buffer.buffer((int) Math.min(Math.max(declared, 0), MAX_INITIAL_BYTES));
    boolean[] failed = new boolean[1];
    req.handler(chunk -> {
      if (failed[0]) {
        return;
      }
      if (body.length() + chunk.length() > maxBytes) {
        failed[0] = true;
        ctx.fail(tooLarge.get());
      } else {
        body.appendBuffer(chunk);
      }
    });
    req.exceptionHandler(err -> {
      if (!failed[0]) {
        failed[0] = true;
        ctx.fail(ApiError.badRequest("body", "the request body could not be read"));
      }
    });
    req.endHandler(v -> {
      if (!failed[0]) {
        ctx.put(KEY, body);
        ctx.next();
      }
    });
    req.resume();
  }


  private static long contentLength(HttpServerRequest req) {
    String v = req.getHeader(HttpHeaders.CONTENT_LENGTH);
    if (v == null) {
      return -1;
    }
    try {
      return Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
