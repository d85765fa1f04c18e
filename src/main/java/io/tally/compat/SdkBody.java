package io.tally.compat;

import io.tally.error.ApiError;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.ext.web.RoutingContext;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads an SDK's body as bytes up to the batch limit, whatever its Content-Type (RudderStack labels gzipped JSON as a
 * form), and undoes gzip with the same limit on the inflated size: a gzip bomb is refused after inflating at most the
 * limit, never its whole size.
 */
final class SdkBody implements Handler<RoutingContext> {
  private static final String KEY = "tally.sdkBody";
  private final int maxBytes;

  SdkBody(int maxBytes) {
    this.maxBytes = maxBytes;
  }

  static byte[] of(RoutingContext ctx) {
    Buffer b = ctx.get(KEY);
    return b == null ? new byte[0] : b.getBytes();
  }

  @Override
  public void handle(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    String declared = req.getHeader(HttpHeaders.CONTENT_LENGTH);
    long length = -1;
    try {
      length = declared == null ? -1 : Long.parseLong(declared.trim());
    } catch (NumberFormatException ignored) {
      // chunked or nonsense: the running count below still bounds it
    }
    if (length > maxBytes) {
      ctx.fail(tooLarge(maxBytes, "body"));
      return;
    }
    if (req.isEnded()) {
      ctx.put(KEY, Buffer.buffer());
      ctx.next();
      return;
    }
    if ("100-continue".equalsIgnoreCase(req.getHeader(HttpHeaders.EXPECT)) && req.version() != HttpVersion.HTTP_1_0) {
      ctx.response().writeContinue();
    }
    Buffer body = Buffer.buffer((int) Math.min(Math.max(length, 1024), maxBytes));
    boolean[] failed = new boolean[1];
    req.handler(chunk -> {
      if (failed[0]) {
        return;
      }
      if (body.length() + chunk.length() > maxBytes) {
        failed[0] = true;
        ctx.fail(tooLarge(maxBytes, "body"));
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

  /**
   * The JSON bytes of a body: inflated when {@code Content-Encoding: gzip} says so, or, with {@code sniff} (PostHog,
   * whose browser library may gzip without saying it), when the body starts with gzip's magic bytes.
   */
  static byte[] decode(String contentEncoding, byte[] raw, int maxBytes, boolean sniff) {
    boolean gzip = false;
    if (contentEncoding != null && !contentEncoding.isBlank() && !contentEncoding.trim().equalsIgnoreCase("identity")) {
      if (!contentEncoding.trim().equalsIgnoreCase("gzip")) {
        throw new ApiError(415, "unsupported_encoding", "Content-Encoding must be gzip or none",
            "Content-Encoding", null, null);
      }
      gzip = true;
    } else if (sniff && raw.length >= 2 && raw[0] == (byte) 0x1f && raw[1] == (byte) 0x8b) {
      gzip = true;
    }
    if (!gzip) {
      return raw;
    }
    byte[] out = new byte[Math.min(maxBytes + 1, Math.max(8192, raw.length * 4))];
    int n = 0;
    try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(raw), 8192)) {
      while (true) {
        if (n == out.length) {
          if (out.length > maxBytes) {
            throw tooLarge(maxBytes, "body (decompressed)");
          }
          out = Arrays.copyOf(out, Math.min(maxBytes + 1, out.length * 2));
        }
        int r = in.read(out, n, out.length - n);
        if (r < 0) {
          break;
        }
        n += r;
      }
    } catch (ZipException e) {
      throw ApiError.badRequest("Content-Encoding", "body is not valid gzip");
    } catch (IOException e) {
      throw ApiError.badRequest("Content-Encoding", "body could not be decompressed (truncated or corrupt gzip)");
    }
    if (n > maxBytes) {
      throw tooLarge(maxBytes, "body (decompressed)");
    }
    return Arrays.copyOf(out, n);
  }

  static ApiError tooLarge(int maxBytes, String what) {
    return ApiError.tooLarge("body", maxBytes, what + " exceeds " + maxBytes
        + " bytes, the limit of one SDK request");
  }
}
