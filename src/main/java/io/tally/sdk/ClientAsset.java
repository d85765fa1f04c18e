package io.tally.sdk;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.zip.GZIPOutputStream;

/**
 * One file of the jar served as is to any page: read and gzipped once at start, with a strong ETag (its SHA-256), so
 * a revalidation costs a 304 and no body. Tally's server does no compression of its own (see HttpServerVerticle),
 * hence the gzip made here for clients that accept it.
 */
final class ClientAsset implements Handler<RoutingContext> {
  private final String contentType;
  private final String cacheControl;
  private final Buffer plain;
  private final Buffer gzipped;
  private final String etag;

  ClientAsset(String resource, String contentType, int maxAgeSeconds) {
    byte[] bytes = read(resource);
    this.contentType = contentType;
    // a page may pin the file with Subresource Integrity, and every copy of one version is the same bytes
    this.cacheControl = "public, max-age=" + maxAgeSeconds;
    this.plain = Buffer.buffer(bytes);
    this.gzipped = Buffer.buffer(gzip(bytes));
    this.etag = "\"" + HexFormat.of().formatHex(sha256(bytes), 0, 16) + "\"";
  }

  /** Size of the gzipped file, as served to clients that accept gzip. */
  int gzippedBytes() {
    return gzipped.length();
  }

  @Override
  public void handle(RoutingContext ctx) {
    String accept = ctx.request().getHeader(HttpHeaders.ACCEPT_ENCODING);
    boolean gz = accept != null && accept.toLowerCase(java.util.Locale.ROOT).contains("gzip");
    var res = ctx.response()
        .putHeader(HttpHeaders.CACHE_CONTROL, cacheControl)
        .putHeader(HttpHeaders.ETAG, etag)
        .putHeader(HttpHeaders.VARY, "Accept-Encoding")
        .putHeader("X-Content-Type-Options", "nosniff")
        // any page may load it (a script tag needs no CORS; fetch and integrity checks do)
        .putHeader("Access-Control-Allow-Origin", "*")
        .putHeader("Cross-Origin-Resource-Policy", "cross-origin");
    String match = ctx.request().getHeader(HttpHeaders.IF_NONE_MATCH);
    if (match != null && (match.contains(etag) || match.trim().equals("*"))) {
      res.setStatusCode(304).end();
      return;
    }
    res.putHeader(HttpHeaders.CONTENT_TYPE, contentType);
    if (gz) {
      res.putHeader(HttpHeaders.CONTENT_ENCODING, "gzip").end(gzipped);
    } else {
      res.end(plain);
    }
  }

  private static byte[] read(String resource) {
    try (InputStream in = ClientAsset.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("resource " + resource + " is missing from the jar");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static byte[] gzip(byte[] bytes) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(bytes.length / 3 + 64);
    try (GZIPOutputStream gz = new GZIPOutputStream(out) {
      {
        def.setLevel(java.util.zip.Deflater.BEST_COMPRESSION);
      }
    }) {
      gz.write(bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  private static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
