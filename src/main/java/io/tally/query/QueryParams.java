package io.tally.query;

import io.tally.auth.KeyAuth;
import io.tally.error.ApiError;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;

/**
 * The query routes' parameters, checked before anything is forwarded: periods and their bounds, filters, enumerated
 * and integer parameters, a funnel's body, the answer language. Shared by every route that forwards a query.
 */
public final class QueryParams {
  private QueryParams() {
  }

  /** The largest body of a funnel, pattern or settings request. */
  public static final int FUNNEL_MAX_BYTES = 65_536;
  public static final int MAX_FUNNEL_STEPS = 10;
  public static final long MAX_WINDOW_SECONDS = 90L * 86_400;
  private static final int MAX_FILTER_CHARS = 200;

  public static java.util.List<String> sorted(java.util.Set<String> s) {
    return s.stream().sorted().toList();
  }

  /** {@code index=false}: patterns computed by the SQL over the rollups instead of the in-memory index. */
  public static JsonObject noIndex(RoutingContext ctx, JsonObject q) {
    String v = ctx.request().getParam("index");
    if (v == null || v.equals("true")) {
      return q;
    }
    if (!v.equals("false")) {
      throw ApiError.badRequest("index", "index must be true or false");
    }
    return q.put("noIndex", true);
  }

  /** {@code raw=true}: computed from raw events only, bypassing the rollups (slow; for verification). */
  public static JsonObject raw(RoutingContext ctx, JsonObject q) {
    String v = ctx.request().getParam("raw");
    if (v == null || v.equals("false")) {
      return q;
    }
    if (!v.equals("true")) {
      throw ApiError.badRequest("raw", "raw must be true or false");
    }
    return q.put("raw", true);
  }

  /** provider, model, country, device: each optional, non-empty, at most 200 characters. */
  public static JsonObject filters(RoutingContext ctx) {
    JsonObject f = new JsonObject();
    for (String name : new String[] {"provider", "model", "country", "device"}) {
      String v = ctx.request().getParam(name);
      if (v == null) {
        continue;
      }
      if (v.isBlank() || v.length() > MAX_FILTER_CHARS) {
        throw ApiError.badRequest(name, name + " must be a non-empty value of at most " + MAX_FILTER_CHARS
            + " characters");
      }
      f.put(name, v);
    }
    return f;
  }

  public static String oneOf(RoutingContext ctx, String name, java.util.List<String> allowed, String dflt) {
    String v = ctx.request().getParam(name);
    if (v == null || v.isEmpty()) {
      if (dflt == null) {
        throw ApiError.badRequest(name, name + " is required: one of " + String.join(", ", allowed));
      }
      return dflt;
    }
    if (!allowed.contains(v)) {
      throw ApiError.badRequest(name, name + " must be one of " + String.join(", ", allowed) + " (got '"
          + (v.length() > 50 ? v.substring(0, 50) + "…" : v) + "')");
    }
    return v;
  }

  public static int intParam(RoutingContext ctx, String name, int min, int max, int dflt) {
    String v = ctx.request().getParam(name);
    if (v == null || v.isEmpty()) {
      return dflt;
    }
    try {
      int n = Integer.parseInt(v);
      if (n >= min && n <= max) {
        return n;
      }
    } catch (NumberFormatException ignored) {
      // reported below
    }
    throw new ApiError(400, "invalid_request", name + " must be an integer from " + min + " to " + max, name,
        (long) max, null);
  }

  /** Validates a funnel definition: {name, steps: [{event, where?}], windowSeconds, from, to}. */
  public static JsonObject funnel(RoutingContext ctx) {
    JsonObject body;
    try {
      body = ctx.body().asJsonObject();
    } catch (RuntimeException e) {
      throw ApiError.badRequest("body", "the body must be a JSON object (it is not valid JSON)");
    }
    if (body == null) {
      throw ApiError.badRequest("body", "the body must be a JSON object {name, steps, windowSeconds, from, to}");
    }
    Object name = body.getValue("name", "funnel");
    if (!(name instanceof String n) || n.isBlank() || n.length() > 200) {
      throw ApiError.badRequest("name", "name must be a non-empty string of at most 200 characters");
    }
    Object rawSteps = body.getValue("steps");
    if (!(rawSteps instanceof io.vertx.core.json.JsonArray steps) || steps.size() < 2
        || steps.size() > MAX_FUNNEL_STEPS) {
      throw new ApiError(400, "invalid_request", "steps must be an array of 2 to " + MAX_FUNNEL_STEPS + " steps",
          "steps", (long) MAX_FUNNEL_STEPS, null);
    }
    for (int i = 0; i < steps.size(); i++) {
      String field = "steps[" + i + "]";
      if (!(steps.getValue(i) instanceof JsonObject step)) {
        throw ApiError.badRequest(field, field + " must be an object {event, where?}");
      }
      if (!(step.getValue("event") instanceof String ev) || ev.isBlank() || ev.length() > 200) {
        throw ApiError.badRequest(field + ".event", field + ".event must be a non-empty event type name");
      }
      Object where = step.getValue("where");
      if (where != null) {
        if (!(where instanceof JsonObject w)) {
          throw ApiError.badRequest(field + ".where", field + ".where must be an object {property: value}");
        }
        for (String k : w.fieldNames()) {
          Object v = w.getValue(k);
          if (v instanceof JsonObject || v instanceof io.vertx.core.json.JsonArray) {
            throw ApiError.badRequest(field + ".where." + k, "where compares properties with a string, number, "
                + "boolean or null");
          }
        }
      }
    }
    Object ws = body.getValue("windowSeconds", 7L * 86_400);
    if (!(ws instanceof Number w) || w.doubleValue() != Math.rint(w.doubleValue()) || w.longValue() < 1
        || w.longValue() > MAX_WINDOW_SECONDS) {
      throw new ApiError(400, "invalid_request", "windowSeconds must be an integer from 1 to " + MAX_WINDOW_SECONDS
          + " (90 days)", "windowSeconds", MAX_WINDOW_SECONDS, null);
    }
    Instant to = body.getValue("to") == null ? Instant.now() : instant(text(body, "to"), "to");
    Instant from = body.getValue("from") == null ? to.minus(Duration.ofDays(30)) : instant(text(body, "from"), "from");
    checkPeriod(from, to, MAX_PERIOD, ctx.request().path());
    return base(ctx).put("name", name).put("steps", rawSteps).put("windowSeconds", ((Number) ws).longValue())
        .put("from", from.toString()).put("to", to.toString());
  }

  private static String text(JsonObject body, String field) {
    if (!(body.getValue(field) instanceof String s)) {
      throw ApiError.badRequest(field, field + " must be an ISO-8601 string");
    }
    return s;
  }

  public static JsonObject base(RoutingContext ctx) {
    return new JsonObject().put("projectId", KeyAuth.principal(ctx).projectId());
  }

  /**
   * The longest period a route answers over (a year and a day: this year against the last). Longer periods are refused
   * at once, before any work: a read key once asked daily retention over 2,025 years (a 303 MB answer, then the heap).
   */
  public static final Duration MAX_PERIOD = Duration.ofDays(366);
  /** Weekly retention: three years of weekly cohorts. */
  public static final Duration MAX_WEEKLY_PERIOD = Duration.ofDays(3 * 366);

  /** Half-open period [from, to) of at most {@link #MAX_PERIOD}; defaults to the {@code span} ending now. */
  public static JsonObject period(RoutingContext ctx, Duration span) {
    return period(ctx, span, MAX_PERIOD);
  }

  /** Half-open period [from, to): ISO-8601 instants or dates, at most {@code max}; defaults to {@code span} ending now. */
  public static JsonObject period(RoutingContext ctx, Duration span, Duration max) {
    Instant to = instant(ctx.request().getParam("to"), "to");
    Instant from = instant(ctx.request().getParam("from"), "from");
    if (to == null) {
      to = Instant.now();
    }
    if (from == null) {
      from = to.minus(span);
    }
    checkPeriod(from, to, max, ctx.request().path());
    return base(ctx).put("from", from.toString()).put("to", to.toString());
  }

  /** 400 when {@code from} is not before {@code to}, or the period is longer than {@code max}. */
  public static void checkPeriod(Instant from, Instant to, Duration max, String route) {
    if (!from.isBefore(to)) {
      throw ApiError.badRequest("from", "from must be before to");
    }
    if (Duration.between(from, to).compareTo(max) > 0) {
      throw new ApiError(400, "invalid_request", "the period from " + from + " to " + to + " is longer than "
          + max.toDays() + " days, the most " + route + " answers over: shorten it", "from", max.toDays(), null);
    }
  }

  private static Instant instant(String raw, String field) {
    if (raw == null || raw.isBlank()) {
      return null;
    }
    try {
      return Instant.parse(raw);
    } catch (DateTimeParseException e) {
      try {
        return java.time.OffsetDateTime.parse(raw).toInstant();
      } catch (DateTimeParseException e2) {
        try {
          return LocalDate.parse(raw).atStartOfDay(java.time.ZoneOffset.UTC).toInstant();
        } catch (DateTimeParseException e3) {
          throw ApiError.badRequest(field, field + " must be an ISO-8601 instant (2026-11-24T10:00:00Z) or date");
        }
      }
    }
  }

  /** "fr" when Accept-Language prefers French over English, else "en". */
  public static String lang(RoutingContext ctx) {
    String h = ctx.request().getHeader("Accept-Language");
    if (h == null) {
      return "en";
    }
    String best = "en";
    double bestQ = -1;
    for (String part : h.split(",")) {
      String[] bits = part.trim().split(";");
      String tag = bits[0].trim().toLowerCase(java.util.Locale.ROOT);
      double qv = 1.0;
      for (int i = 1; i < bits.length; i++) {
        String b = bits[i].trim();
        if (b.startsWith("q=")) {
          try {
            qv = Double.parseDouble(b.substring(2));
          } catch (NumberFormatException e) {
            qv = 0;
          }
        }
      }
      String l = tag.startsWith("fr") ? "fr" : tag.startsWith("en") ? "en" : null;
      if (l != null && qv > bestQ) {
        best = l;
        bestQ = qv;
      }
    }
    return best;
  }

}
