package io.tally.insight;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;

import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * POSTs alert payloads to a project's webhook: JSON, {@code User-Agent: tally-alerts}, {@code Tally-Alert-Id: <id>}
 * (receivers dedupe on it: a timed-out attempt may have arrived). A 2xx answer delivers; anything else — another
 * status, a refused connection, no answer within the attempt timeout — is retried after an exponential backoff on
 * a Vert.x timer, until maxAttempts. A 429/503 Retry-After (seconds) lengthens the wait, within maxBackoffMs.
 *
 * <p>Dedupe across time is the caller's (it persists sent ids); here only one delivery of an id runs at a time: a
 * second send of an id still in flight joins the first one's future.
 *
 * <p>Every attempt first resolves the host and checks each of its addresses ({@link WebhookAddresses}: public ones
 * only, unless the operator allowed more), then connects to the address it checked — with the URL's host in the
 * Host header and for TLS — so no DNS answer given later (rebinding) can send it elsewhere. A refused destination
 * fails the send at once, without retries (it would be refused again) and without a connection. Redirects are never
 * followed: a 3xx answer is a failed attempt like any other non-2xx.
 */
public final class AlertWebhook {
  public static final String USER_AGENT = "tally-alerts";
  public static final String ALERT_ID_HEADER = "Tally-Alert-Id";

  /**
   * @param maxAttempts      attempts in all, the first included (default 6)
   * @param initialBackoffMs wait after the first failed attempt (default 500 ms)
   * @param multiplier       each next wait is this times longer (default 2)
   * @param maxBackoffMs     cap of one wait (default 30 s)
   * @param attemptTimeoutMs one attempt — connect, send, whole answer — must end within this (default 5 s)
   * @param jitter           each wait is shortened by a random share up to this, in [0, 1) (default 0.2), so
   *                         alerts failing together do not retry in lockstep
   */
  public record Options(int maxAttempts, long initialBackoffMs, double multiplier, long maxBackoffMs,
                        long attemptTimeoutMs, double jitter) {
    public Options {
      if (maxAttempts < 1) {
        throw new IllegalArgumentException("maxAttempts must be >= 1, was " + maxAttempts);
      }
      if (initialBackoffMs < 1 || maxBackoffMs < initialBackoffMs) {
        throw new IllegalArgumentException("backoff must satisfy 1 <= initialBackoffMs <= maxBackoffMs, was "
            + initialBackoffMs + " and " + maxBackoffMs);
      }
      if (!(multiplier >= 1) || Double.isInfinite(multiplier)) {
        throw new IllegalArgumentException("multiplier must be >= 1, was " + multiplier);
      }
      if (attemptTimeoutMs < 1) {
        throw new IllegalArgumentException("attemptTimeoutMs must be >= 1, was " + attemptTimeoutMs);
      }
      if (!(jitter >= 0 && jitter < 1)) {
        throw new IllegalArgumentException("jitter must be in [0, 1), was " + jitter);
      }
    }

    public static Options defaults() {
      return new Options(6, 500, 2.0, 30_000, 5_000, 0.2);
    }

    /** The wait after failed attempt number {@code attempt} (1-based), before jitter. */
    public long backoffMs(int attempt) {
      return (long) Math.min(maxBackoffMs, initialBackoffMs * Math.pow(multiplier, attempt - 1));
    }
  }

  /** Thrown (as the failure of a send) for a non-2xx answer. */
  public static final class StatusException extends RuntimeException {
    private final int status;

    StatusException(int status) {
      super("webhook answered " + status, null, false, false);
      this.status = status;
    }

    public int status() {
      return status;
    }
  }

  private record Answer(int status, String retryAfter) {
  }

  private final Vertx vertx;
  private final Options options;
  private final WebhookAddresses addresses;
  // a strong reference: the client must live as long as deliveries may be under way
  private final HttpClientAgent client;
  private final Map<String, Future<Void>> inFlight = new ConcurrentHashMap<>();
  private final LongAdder attempts = new LongAdder();
  private final LongAdder delivered = new LongAdder();
  private final LongAdder failed = new LongAdder();
  private final LongAdder joined = new LongAdder();
  private final LongAdder refused = new LongAdder();
  private volatile boolean closed;

  /** Delivers to public addresses only. */
  public AlertWebhook(Vertx vertx, Options options) {
    this(vertx, options, WebhookAddresses.PUBLIC_ONLY);
  }

  public AlertWebhook(Vertx vertx, Options options, WebhookAddresses addresses) {
    this.vertx = vertx;
    this.options = options;
    this.addresses = addresses;
    // pooled connections idle for a minute are closed: alerts are rare, receivers drop idle connections anyway
    this.client = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout((int) Math.min(Integer.MAX_VALUE,
        options.attemptTimeoutMs())).setIdleTimeout(60));
  }

  /**
   * Delivers payload (which must carry a string or number "id") to url. Completes when delivered (2xx), or fails
   * with the last attempt's cause after maxAttempts; never blocks. The payload is encoded once, at the call.
   */
  public Future<Void> send(String url, JsonObject payload) {
    Object rawId = payload == null ? null : payload.getValue("id");
    if (rawId == null || rawId.toString().isBlank()) {
      return Future.failedFuture(new IllegalArgumentException("payload must carry an \"id\""));
    }
    WebhookUrl target;
    try {
      target = WebhookUrl.parse(url);
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    if (closed) {
      return Future.failedFuture(new IllegalStateException("webhook client closed"));
    }
    String id = rawId.toString();
    Promise<Void> done = Promise.promise();
    Future<Void> running = inFlight.putIfAbsent(id, done.future());
    if (running != null) {
      joined.increment();
      return running;
    }
    attempt(target, payload.toBuffer(), id, 1, done);
    return done.future();
  }

  /** Where {@code url} would be delivered now: the checked address, or the refusal ({@link WebhookAddresses}). */
  public Future<java.net.InetAddress> check(String url) {
    try {
      return addresses.resolve(vertx, WebhookUrl.parse(url));
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
  }

  private void attempt(WebhookUrl url, Buffer body, String id, int n, Promise<Void> done) {
    if (closed) {
      finish(id, done, new IllegalStateException("webhook client closed"));
      return;
    }
    attempts.increment();
    post(url, body, id).onComplete(ar -> {
      Throwable cause;
      long retryAfterMs = 0;
      if (ar.succeeded() && ar.result().status() / 100 == 2) {
        delivered.increment();
        inFlight.remove(id, done.future());
        done.complete();
        return;
      } else if (ar.succeeded()) {
        cause = new StatusException(ar.result().status());
        retryAfterMs = retryAfterMs(ar.result());
      } else {
        cause = ar.cause();
      }
      if (cause instanceof WebhookAddresses.RefusedException) {
        refused.increment();
        finish(id, done, cause);
        return;
      }
      if (n >= options.maxAttempts()) {
        finish(id, done, cause);
        return;
      }
      long wait = options.backoffMs(n);
      wait -= (long) (wait * options.jitter() * ThreadLocalRandom.current().nextDouble());
      wait = Math.min(options.maxBackoffMs(), Math.max(wait, retryAfterMs));
      vertx.setTimer(Math.max(1, wait), t -> attempt(url, body, id, n + 1, done));
    });
  }

  private void finish(String id, Promise<Void> done, Throwable cause) {
    failed.increment();
    // removed before completing: a caller reacting to the failure may send the id again at once
    inFlight.remove(id, done.future());
    done.fail(cause);
  }

  /**
   * One attempt — resolution, check, connection, request and answer — bounded as a whole by attemptTimeoutMs: a
   * timeout resets the request (and its connection).
   */
  private Future<Answer> post(WebhookUrl url, Buffer body, String id) {
    Promise<Answer> result = Promise.promise();
    AtomicReference<HttpClientRequest> request = new AtomicReference<>();
    long timer = vertx.setTimer(options.attemptTimeoutMs(), t -> {
      TimeoutException e = new TimeoutException("no answer within " + options.attemptTimeoutMs() + " ms");
      if (result.tryFail(e)) {
        HttpClientRequest r = request.get();
        if (r != null) {
          r.reset(0, e);
        }
      }
    });
    addresses.resolve(vertx, url).compose(address -> {
      if (result.future().isComplete()) {
        return Future.failedFuture("timed out");
      }
      // the host names the request (Host header, TLS server name and certificate); the connection goes to the
      // address just checked, never to another answer of the resolver
      RequestOptions ro = new RequestOptions().setMethod(HttpMethod.POST).setSsl(url.https())
          .setHost(url.host()).setPort(url.port()).setURI(url.pathAndQuery())
          .setServer(SocketAddress.inetSocketAddress(new InetSocketAddress(address, url.port())))
          .setFollowRedirects(false)
          .putHeader(HttpHeaders.HOST, url.hostHeader())
          .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
          .putHeader(HttpHeaders.USER_AGENT, USER_AGENT)
          .putHeader(ALERT_ID_HEADER, id);
      return client.request(ro);
    }).compose(req -> {
      request.set(req);
      if (result.future().isComplete()) {
        // the timeout fired while the connection was being obtained
        req.reset();
        return Future.failedFuture("timed out");
      }
      return req.send(body);
    }).compose(resp -> {
      // drain the answer without keeping it: a webhook's body is of no interest
      resp.handler(b -> { });
      return resp.end().map(v -> new Answer(resp.statusCode(), resp.getHeader(HttpHeaders.RETRY_AFTER)));
    }).onComplete(ar -> {
      vertx.cancelTimer(timer);
      if (ar.succeeded()) {
        result.tryComplete(ar.result());
      } else {
        result.tryFail(ar.cause());
      }
    });
    return result.future();
  }

  private long retryAfterMs(Answer a) {
    if ((a.status() != 429 && a.status() != 503) || a.retryAfter() == null) {
      return 0;
    }
    try {
      return Math.min(options.maxBackoffMs(), Math.max(0, Long.parseLong(a.retryAfter().trim())) * 1000);
    } catch (NumberFormatException e) {
      return 0; // an HTTP date: the backoff decides
    }
  }

  /** Attempts made, first ones and retries. */
  public long attempts() {
    return attempts.sum();
  }

  /** Sends that ended delivered (2xx). */
  public long delivered() {
    return delivered.sum();
  }

  /** Sends that gave up (after maxAttempts, because the client was closed, or refused). */
  public long failed() {
    return failed.sum();
  }

  /** Sends refused because the webhook's host is, or resolves to, an address it may not reach. */
  public long refused() {
    return refused.sum();
  }

  /** Sends of an id already in flight, joined to that delivery instead of sent again. */
  public long joined() {
    return joined.sum();
  }

  /** Deliveries under way. */
  public int inFlight() {
    return inFlight.size();
  }

  /** Stops retrying (pending sends fail at their next attempt) and closes the client. */
  public Future<Void> close() {
    closed = true;
    return client.close();
  }
}
