package io.tally.ingest;

import io.tally.ApiError;
import io.tally.config.ProjectConfig;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Resolves API keys ({@code Authorization: Bearer <key>} or Basic {@code <key>:}) to a project and a role.
 * Write keys ingest, read keys query, admin keys delete and export a user's data; the wrong role gets 403, a missing
 * or unknown key 401.
 */
public final class KeyAuth {
  public enum Role { WRITE, READ, ADMIN }

  public record Principal(ProjectConfig project, Role role) {
    public String projectId() {
      return project.id();
    }
  }

  static final String PRINCIPAL = "tally.principal";
  private final Map<String, Principal> keys = new HashMap<>();

  public KeyAuth(List<ProjectConfig> projects) {
    for (ProjectConfig p : projects) {
      p.writeKeys().forEach(k -> keys.put(k, new Principal(p, Role.WRITE)));
      p.readKeys().forEach(k -> keys.put(k, new Principal(p, Role.READ)));
      p.adminKeys().forEach(k -> keys.put(k, new Principal(p, Role.ADMIN)));
    }
  }

  /** The principal for a request, or an {@link ApiError} (401/403). */
  public Principal authenticate(String authorization, String queryKey, Role needed) {
    String key = keyFrom(authorization);
    if (key == null) {
      key = queryKey;
    }
    if (key == null || key.isEmpty()) {
      throw ApiError.unauthorized("missing API key: send 'Authorization: Bearer <key>'");
    }
    Principal p = keys.get(key);
    if (p == null) {
      throw ApiError.unauthorized("unknown API key");
    }
    if (p.role() != needed) {
      throw ApiError.forbidden("this is a " + p.role().name().toLowerCase() + " key; this route needs a "
          + needed.name().toLowerCase() + " key");
    }
    return p;
  }

  /** Route handler: authenticates from the Authorization header and stores the principal in the context. */
  public Handler<RoutingContext> require(Role role) {
    return ctx -> {
      try {
        ctx.put(PRINCIPAL, authenticate(ctx.request().getHeader("Authorization"), null, role));
        ctx.next();
      } catch (ApiError e) {
        ctx.fail(e);
      }
    };
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
        throw ApiError.unauthorized("malformed Basic credentials");
      }
    }
    throw ApiError.unauthorized("unsupported Authorization scheme: use Bearer <key> or Basic <key>:");
  }
}
