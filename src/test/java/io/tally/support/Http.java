package io.tally.support;

import io.vertx.core.json.JsonObject;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.zip.GZIPOutputStream;

/** A small synchronous HTTP client for tests (JDK HttpClient). */
public final class Http {
  // HTTP/1.1: no h2c upgrade dance (a pooled upgraded connection to a stopped server's port once hung a test)
  private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(60);
  private final int port;
  private final String writeKey;
  private final String readKey;

  public Http(int port, String writeKey, String readKey) {
    this.port = port;
    this.writeKey = writeKey;
    this.readKey = readKey;
  }

  public record Response(int status, String body, java.net.http.HttpHeaders headers) {
    public JsonObject json() {
      return new JsonObject(body);
    }
  }

  public URI uri(String path) {
    return URI.create("http://127.0.0.1:" + port + path);
  }

  public Response post(String body) {
    return send(HttpRequest.newBuilder(uri("/v1/events")).header("Authorization", "Bearer " + writeKey)
        .POST(HttpRequest.BodyPublishers.ofString(body)).build());
  }

  public Response postGzip(byte[] gzipped) {
    return send(HttpRequest.newBuilder(uri("/v1/events")).header("Authorization", "Bearer " + writeKey)
        .header("Content-Encoding", "gzip").POST(HttpRequest.BodyPublishers.ofByteArray(gzipped)).build());
  }

  /** POST with extra headers given as name, value, name, value... */
  public Response postHeaders(String body, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri("/v1/events")).header("Authorization", "Bearer " + writeKey)
        .POST(HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return send(b.build());
  }

  /** POST of raw bytes (any encoding) with extra headers given as name, value, name, value... */
  public Response postBytes(byte[] body, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri("/v1/events")).header("Authorization", "Bearer " + writeKey)
        .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return send(b.build());
  }

  public Response postWith(String authorization, String body) {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri("/v1/events")).POST(HttpRequest.BodyPublishers.ofString(body));
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    return send(b.build());
  }

  public Response get(String path) {
    return getWith("Bearer " + readKey, path);
  }

  public Response getWith(String authorization, String path) {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).GET();
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    return send(b.build());
  }

  public Response send(HttpRequest request) {
    try {
      HttpRequest bounded = request.timeout().isPresent() ? request
          : HttpRequest.newBuilder(request, (name, value) -> true).timeout(REQUEST_TIMEOUT).build();
      HttpResponse<String> r = CLIENT.send(bounded, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
      return new Response(r.statusCode(), r.body(), r.headers());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * For a body the server refuses as soon as it reads the declared length: it answers and closes without reading the
   * rest, and a client still sending may see that close as a reset before it reads the answer (a race of TCP, not of
   * Tally). The request is made again, up to 5 times, when no answer arrived; every answer that arrives is returned.
   */
  public Response sendRefusedUnread(HttpRequest request) {
    UncheckedIOException last = null;
    for (int attempt = 0; attempt < 5; attempt++) {
      try {
        return send(request);
      } catch (UncheckedIOException reset) {
        last = reset;
      }
    }
    throw last;
  }

  public static byte[] gzip(byte[] raw) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(raw);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
