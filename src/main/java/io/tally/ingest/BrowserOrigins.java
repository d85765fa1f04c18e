package io.tally.ingest;

import io.tally.auth.KeyAuth;
import io.tally.error.ApiError;
import io.tally.config.ProjectConfig;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.PlatformHandler;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Which browser pages may write: each project's {@code allowedOrigins} (else {@code ingest.allowedOrigins}). A
 * preflight carries no key, so CORS answers follow the union of every project's origins; the project's own list is
 * then enforced once the key is known ({@link #enforce}: 403 before the body is read), so a page of an origin only
 * another project allows stores nothing. Requests without an Origin (servers, curl) are not browsers and pass.
 */
public final class BrowserOrigins {
  /** How long a browser may reuse a preflight's answer (Chromium caps this at 2 h). */
  static final int PREFLIGHT_MAX_AGE_S = 7200;
  private final List<String> fallback;
  private final boolean anyAll;
  private final Set<String> union = new LinkedHashSet<>();

  /** {@code fallback}: {@code ingest.allowedOrigins}, the list of a project that has none of its own. */
  public BrowserOrigins(List<ProjectConfig> projects, List<String> fallback) {
    this.fallback = List.copyOf(fallback);
    boolean all = false;
    for (ProjectConfig p : projects) {
      for (String o : of(p)) {
        all |= o.equals("*");
        union.add(o.toLowerCase(java.util.Locale.ROOT));
      }
    }
    this.anyAll = all;
  }

  /** The origins whose pages may write with {@code p}'s keys. */
  public List<String> of(ProjectConfig p) {
    return p.allowedOrigins() != null ? p.allowedOrigins() : fallback;
  }

  /** Whether a page of {@code origin} may write with {@code p}'s keys. */
  public boolean allows(ProjectConfig p, String origin) {
    for (String allowed : of(p)) {
      if (allowed.equals("*") || allowed.equalsIgnoreCase(origin)) {
        return true;
      }
    }
    return false;
  }

  private boolean anyAllows(String origin) {
    return origin != null && (anyAll || union.contains(origin.toLowerCase(java.util.Locale.ROOT)));
  }

  /**
   * First handler of a write route (before its key is read, so refusals are readable by the page too): answers a
   * preflight ({@code OPTIONS}) itself, and marks other answers readable by an origin some project allows.
   */
  public Handler<RoutingContext> headers() {
    return (PlatformHandler) ctx -> {
      String origin = ctx.request().getHeader("Origin");
      HttpServerResponse res = ctx.response();
      res.putHeader("Vary", "Origin");
      if (anyAllows(origin)) {
        res.putHeader("Access-Control-Allow-Origin", origin)
            .putHeader("Access-Control-Expose-Headers", "Retry-After");
      }
      if (ctx.request().method() == HttpMethod.OPTIONS) {
        if (anyAllows(origin)) {
          res.putHeader("Access-Control-Allow-Methods", "POST, OPTIONS")
              .putHeader("Access-Control-Allow-Headers", "Authorization, Content-Type, Content-Encoding")
              .putHeader("Access-Control-Max-Age", Integer.toString(PREFLIGHT_MAX_AGE_S));
        }
        // without the headers above the browser refuses the request itself; nothing here is stored either way
        res.setStatusCode(204).end();
        return;
      }
      ctx.next();
    };
  }

  /** After the key: 403 when the request comes from a page whose origin the key's project does not allow. */
  public Handler<RoutingContext> enforce() {
    return (PlatformHandler) ctx -> {
      String origin = ctx.request().getHeader("Origin");
      KeyAuth.Principal p = KeyAuth.principal(ctx);
      if (origin != null && p != null && !allows(p.project(), origin)) {
        ctx.fail(refusal(origin));
        return;
      }
      ctx.next();
    };
  }

  public static ApiError refusal(String origin) {
    return new ApiError(403, "origin_not_allowed", "pages of Origin '" + clip(origin)
        + "' may not write to this project (projects[].allowedOrigins, else ingest.allowedOrigins)",
        "projects[].allowedOrigins", null, null);
  }

  /** A client's header echoed in an answer: bounded and printable. */
  private static String clip(String s) {
    String t = s.length() > 200 ? s.substring(0, 200) + "…" : s;
    return t.replaceAll("\\p{Cntrl}", "?");
  }
}
