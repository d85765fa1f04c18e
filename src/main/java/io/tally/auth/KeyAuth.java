package io.tally.auth;

import io.tally.config.ProjectConfig;
import io.tally.error.ApiError;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.PlatformHandler;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Resolves API keys ({@code Authorization: Bearer <key>} or Basic {@code <key>:}) to a project and a role.
 * Write keys ingest, read keys query, admin keys delete and export a user's data; the wrong role gets 403, a missing
 * or unknown key 401.
 * <p>
 * Each key has its own {@link TokenBucket} from its project's {@code rateLimits}: {@link #require} spends one token per
 * request of a read or admin key; a write key's tokens are events, spent by {@link IngestService} once the body is
 * parsed. A KeyAuth {@link #guardedBy guarded by} the perimeter also throttles clients that send unknown keys.
 */
public final class KeyAuth {
  public enum Role { WRITE, READ, ADMIN }

  /** A key's project and role, and the bucket its requests (read, admin) or events (write) spend. */
  public record Principal(ProjectConfig project, Role role, TokenBucket bucket) {
    public String projectId() {
      return project.id();
    }
  }

  static final String PRINCIPAL = "tally.principal";
  private final Map<String, Principal> keys;
  /** Null: no throttling of failed keys (as Tally builds it; the HTTP verticle hands out a guarded one). */
  private final Perimeter perimeter;
  /** The client address a view made by {@link #forClient} checks and charges (null: none). */
  private final String client;

  public KeyAuth(List<ProjectConfig> projects) {
    this(principals(projects), null, null);
  }

  private static Map<String, Principal> principals(List<ProjectConfig> projects) {
    Map<String, Principal> map = new HashMap<>();
    for (ProjectConfig p : projects) {
      ProjectConfig.RateLimits r = p.rateLimits();
      p.writeKeys().forEach(k -> map.put(k, new Principal(p, Role.WRITE,
          new TokenBucket(r.writeEventsPerSecond(), r.writeBurst()))));
      p.readKeys().forEach(k -> map.put(k, new Principal(p, Role.READ,
          new TokenBucket(r.readRequestsPerSecond(), r.readBurst()))));
      p.adminKeys().forEach(k -> map.put(k, new Principal(p, Role.ADMIN,
          new TokenBucket(r.readRequestsPerSecond(), r.readBurst()))));
    }
    return map;
  }

  private KeyAuth(Map<String, Principal> keys, Perimeter perimeter, String client) {
    this.keys = keys;
    this.perimeter = perimeter;
    this.client = client;
  }

  /** The same keys and buckets, throttling failed keys per client address. */
  public KeyAuth guardedBy(Perimeter p) {
    return new KeyAuth(keys, p, null);
  }

  /**
   * A view for one request's client, for handlers that read the key later than the request head (the live
   * WebSocket's first frame): its {@link #authenticate(String, String, Role)} refuses a blocked client and counts
   * its unknown keys.
   */
  public KeyAuth forClient(HttpServerRequest request) {
    return perimeter == null ? this : new KeyAuth(keys, perimeter, perimeter.clientOf(request));
  }

  /** Throws 429 when the request's client is blocked after failed keys (for handlers that authenticate later). */
  public void refuseIfBlocked(HttpServerRequest request) {
    if (perimeter != null) {
      checkBlocked(perimeter.clientOf(request));
    }
  }

  /**
   * The principal for a key (from the Authorization header value, else {@code queryKey}), or an {@link ApiError}:
   * 401 missing or unknown, 403 wrong role, 429 when this view's client is blocked after failed keys.
   */
  public Principal authenticate(String authorization, String queryKey, Role needed) {
    return authenticate(authorization, queryKey, java.util.EnumSet.of(needed), null, client);
  }

  /** The same for a request, throttled per client address when guarded. */
  public Principal authenticate(HttpServerRequest request, String queryKey, Role needed) {
    return authenticate(request.getHeader("Authorization"), queryKey, java.util.EnumSet.of(needed), request, null);
  }

  /**
   * {@code known}: the client of a view made by {@link #forClient}; else it is worked out from {@code request} only
   * when it matters (some client has failed keys lately, or this key fails), so most requests never parse addresses.
   */
  private Principal authenticate(String authorization, String queryKey, java.util.Set<Role> needed,
                                 HttpServerRequest request, String known) {
    String client = known;
    if (client == null && request != null && perimeter != null && !perimeter.keyFailures.quiet()) {
      client = perimeter.clientOf(request);
    }
    if (client != null) {
      checkBlocked(client);
    }
    String key;
    Principal p;
    try {
      key = keyFrom(authorization);
      if (key == null) {
        key = queryKey;
      }
      if (key == null || key.isEmpty()) {
        throw ApiError.unauthorized("missing API key: send 'Authorization: Bearer <key>'");
      }
      p = keys.get(key);
      if (p == null) {
        throw new Guess(ApiError.unauthorized("unknown API key"));
      }
    } catch (Guess g) {
      if (client == null && request != null && perimeter != null) {
        client = perimeter.clientOf(request);
      }
      if (client != null) {
        perimeter.metrics().keyFailed(perimeter.keyFailures.failed(client));
      }
      throw g.error;
    }
    if (!needed.contains(p.role())) {
      throw ApiError.forbidden("this is a " + p.role().name().toLowerCase() + " key; this route needs a "
          + needed.stream().map(r -> r.name().toLowerCase()).collect(java.util.stream.Collectors.joining(" or "))
          + " key");
    }
    return p;
  }

  private void checkBlocked(String client) {
    long blocked = perimeter.keyFailures.blockedFor(client);
    if (blocked > 0) {
      perimeter.metrics().keyThrottled();
      int allowed = perimeter.keyFailures.allowed();
      throw ApiError.tooManyRequests("too_many_key_failures", allowed + " unknown keys from this "
          + "address within a minute (http.keyFailuresPerMinute); every request needing a key is refused until the "
          + "block ends", "http.keyFailuresPerMinute", allowed, TokenBucket.millis(blocked));
    }
  }

  /**
   * Route handler: authenticates from the Authorization header before anything of the body is read, spends a read
   * (or admin) key's token, and stores the principal in the context. A write key with not even one token left is
   * refused here too, before its body is read; its events are counted once the body is parsed.
   */
  public Handler<RoutingContext> require(Role role) {
    return requireAny(role);
  }

  /** {@link #require} accepting a key of any of these roles (e.g. read or admin). */
  public Handler<RoutingContext> requireAny(Role... roles) {
    return requireAny(req -> null, roles);
  }

  /**
   * {@link #require}({@code WRITE}) that also takes the key from {@code ?key=} when the body is {@code text/plain} and
   * no Authorization header came: {@code navigator.sendBeacon}, which a page uses as it closes, can set no header,
   * and only a CORS-safelisted type goes out without a preflight. Everything else about the key (the failed-key
   * throttle, the write bucket) is the same.
   */
  public Handler<RoutingContext> requireWriteOrBeacon() {
    return requireAny(req -> {
      String type = req.getHeader("Content-Type");
      return req.getHeader("Authorization") == null && type != null
          && type.regionMatches(true, 0, "text/plain", 0, 10) ? req.getParam("key") : null;
    }, Role.WRITE);
  }

  private Handler<RoutingContext> requireAny(java.util.function.Function<HttpServerRequest, String> queryKey,
                                             Role... roles) {
    java.util.Set<Role> allowed = java.util.EnumSet.copyOf(java.util.List.of(roles));
    // a PlatformHandler, because vertx-web only lets those run before a BodyHandler on a route
    return (PlatformHandler) ctx -> {
      try {
        Principal p = authenticate(ctx.request().getHeader("Authorization"), queryKey.apply(ctx.request()), allowed,
            ctx.request(), null);
        long now = System.nanoTime();
        Role role = p.role();
        long wait = role == Role.WRITE ? p.bucket().untilOne(now) : p.bucket().take(1, now);
        if (wait > 0) {
          if (perimeter != null) {
            perimeter.metrics().rateLimited(role == Role.WRITE ? "write" : "read");
          }
          throw rateLimited(p, wait);
        }
        ctx.put(PRINCIPAL, p);
        ctx.next();
      } catch (ApiError e) {
        ctx.fail(e);
      }
    };
  }

  /** 429 naming the key's limit, with the wait until its bucket has what was asked. */
  public static ApiError rateLimited(Principal p, long waitNanos) {
    boolean write = p.role() == Role.WRITE;
    String field = write ? "rateLimits.writeEventsPerSecond" : "rateLimits.readRequestsPerSecond";
    return ApiError.tooManyRequests("rate_limited", "this key is over its project's " + field + " ("
        + p.bucket().perSecond() + (write ? " events" : " requests") + " per second, burst " + p.bucket().burst()
        + "); nothing of this request was " + (write ? "stored" : "run") + ", retry later", field,
        p.bucket().perSecond(), TokenBucket.millis(waitNanos));
  }

  public static Principal principal(RoutingContext ctx) {
    return ctx.get(PRINCIPAL);
  }

  private static String keyFrom(String authorization) {
    if (authorization == null) {
      return null;
    }
    String h = authorization.trim();
    if (h.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return h.substring(7).trim();
    }
    if (h.regionMatches(true, 0, "Basic ", 0, 6)) {
      try {
        String decoded = new String(Base64.getDecoder().decode(h.substring(6).trim()), StandardCharsets.UTF_8);
        int colon = decoded.indexOf(':');
        return colon < 0 ? decoded : decoded.substring(0, colon);
      } catch (IllegalArgumentException e) {
        throw new Guess(ApiError.unauthorized("malformed Basic credentials"));
      }
    }
    throw new Guess(ApiError.unauthorized("unsupported Authorization scheme: use Bearer <key> or Basic <key>:"));
  }

  /** A 401 that counts as a guess (a key was sent and is not one), unlike a missing key. */
  private static final class Guess extends RuntimeException {
    final ApiError error;

    Guess(ApiError error) {
      super(null, null, false, false);
      this.error = error;
    }
  }
}
