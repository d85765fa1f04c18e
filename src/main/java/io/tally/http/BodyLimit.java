package io.tally.http;

import io.tally.error.ApiError;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.PlatformHandler;

/**
 * A route's body limit, told to the failure handler: a 413 raised by vertx-web's BodyHandler carries no limit, so the
 * route marks its own before reading the body, and the answer names it.
 *
 * @param limit   the largest body the route accepts, in bytes
 * @param setting the configuration key of the limit, or null when it is the route's own constant
 */
public record BodyLimit(long limit, String setting) {
  private static final String KEY = "tally.bodyLimit";

  /** A handler to place before the route's body handler (a PlatformHandler: vertx-web runs those first). */
  public PlatformHandler mark() {
    return ctx -> {
      ctx.put(KEY, this);
      ctx.next();
    };
  }

  /** The limit a route marked, or null. */
  static BodyLimit of(RoutingContext ctx) {
    return ctx.get(KEY);
  }

  ApiError error() {
    return setting != null
        ? ApiError.tooLarge(setting, limit, "body exceeds " + limit + " bytes (" + setting + ")")
        : new ApiError(413, "too_large", "body exceeds the " + limit + " bytes this route accepts", "body", limit,
            null);
  }
}
