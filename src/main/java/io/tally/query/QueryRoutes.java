package io.tally.query;

import io.tally.ApiError;
import io.tally.event.Addresses;
import io.tally.ingest.KeyAuth;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;

/** Query routes: authenticate with a read key, forward to {@link AnalyticsQueryVerticle}, relay the answer. */
public final class QueryRoutes {
  private static final DeliveryOptions DELIVERY = new DeliveryOptions().setSendTimeout(30_000);
  private final Vertx vertx;
  private final KeyAuth auth;

  public QueryRoutes(Vertx vertx, KeyAuth auth) {
    this.vertx = vertx;
    this.auth = auth;
  }

  public void mount(Router router) {
    router.get("/v1/realtime").handler(auth.require(KeyAuth.Role.READ))
        .handler(ctx -> forward(ctx, Addresses.QUERY_REALTIME, base(ctx)));
    router.get("/v1/events/count").handler(auth.require(KeyAuth.Role.READ)).handler(ctx -> {
      JsonObject q = period(ctx, Duration.ofDays(1));
      String type = ctx.request().getParam("type");
      if (type != null && !type.isBlank()) {
        q.put("type", type);
      }
      if ("true".equals(ctx.request().getParam("includeBots"))) {
        q.put("includeBots", true);
      }
      forward(ctx, Addresses.QUERY_EVENT_COUNT, q);
    });
    router.get("/v1/sessions/:id").handler(auth.require(KeyAuth.Role.READ))
        .handler(ctx -> forward(ctx, Addresses.QUERY_SESSION, base(ctx).put("sessionId", ctx.pathParam("id"))));
    router.get("/v1/users/:id/analytics").handler(auth.require(KeyAuth.Role.READ))
        .handler(ctx -> forward(ctx, Addresses.QUERY_USER_ANALYTICS,
            period(ctx, Duration.ofDays(30)).put("userId", ctx.pathParam("id"))));
    router.get("/v1/metrics/usage").handler(auth.require(KeyAuth.Role.READ))
        .handler(ctx -> forward(ctx, Addresses.QUERY_USAGE, raw(ctx, period(ctx, Duration.ofDays(30))
            .put("filters", filters(ctx)))));
    router.get("/v1/people").handler(auth.require(KeyAuth.Role.READ)).handler(ctx -> forward(ctx,
        Addresses.QUERY_PEOPLE, period(ctx, Duration.ofDays(30))
            .put("sort", oneOf(ctx, "sort", java.util.List.of("active", "recent"), "active"))
            .put("prefix", PeopleQuery.prefix(ctx.request().getParam("prefix")))
            .put("limit", intParam(ctx, "limit", 1, PeopleQuery.MAX_LIMIT, 20))));
    router.get("/v1/retention").handler(auth.require(KeyAuth.Role.READ)).handler(ctx -> {
      String granularity = oneOf(ctx, "granularity", java.util.List.of("day", "week"), "day");
      JsonObject q = period(ctx, Duration.ofDays(30), granularity.equals("week") ? MAX_WEEKLY_PERIOD : MAX_PERIOD);
      q.put("granularity", granularity);
      q.put("periods", intParam(ctx, "periods", 1, 90, 7));
      forward(ctx, Addresses.QUERY_RETENTION, raw(ctx, q));
    });
    router.get("/v1/conversions").handler(auth.require(KeyAuth.Role.READ)).handler(ctx -> forward(ctx,
        Addresses.QUERY_CONVERSIONS, period(ctx, Duration.ofDays(30)).put("limit",
            intParam(ctx, "limit", 1, 10_000, 1_000))));
    router.get("/v1/timeseries").handler(auth.require(KeyAuth.Role.READ)).handler(ctx -> {
      JsonObject q = period(ctx, Duration.ofDays(1)).put("filters", filters(ctx));
      q.put("metric", oneOf(ctx, "metric", sorted(SeriesQuery.METRICS), null));
      String interval = oneOf(ctx, "interval", java.util.List.of("minute", "hour", "day"), "hour");
      q.put("interval", interval);
      int points = SeriesQuery.buckets(Instant.parse(q.getString("from")), Instant.parse(q.getString("to")),
          interval, KeyAuth.principal(ctx).project().timezone()).size();
      if (points > SeriesQuery.MAX_POINTS) {
        throw new ApiError(400, "invalid_request", "the period holds more than " + SeriesQuery.MAX_POINTS + " "
            + interval + " buckets (limit " + SeriesQuery.MAX_POINTS + " points): use a longer interval or a shorter "
            + "period", "interval", (long) SeriesQuery.MAX_POINTS, null);
      }
      forward(ctx, Addresses.QUERY_TIMESERIES, raw(ctx, q));
    });
    router.get("/v1/breakdown").handler(auth.require(KeyAuth.Role.READ)).handler(ctx -> {
      JsonObject q = period(ctx, Duration.ofDays(30)).put("filters", filters(ctx));
      q.put("dimension", oneOf(ctx, "dimension", sorted(SeriesQuery.DIMENSIONS), null));
      q.put("metric", oneOf(ctx, "metric", sorted(SeriesQuery.METRICS), "events"));
      q.put("limit", intParam(ctx, "limit", 1, 1_000, 10));
      forward(ctx, Addresses.QUERY_BREAKDOWN, raw(ctx, q));
    });
    router.post("/v1/funnels").handler(auth.require(KeyAuth.Role.READ))
        .handler(io.vertx.ext.web.handler.BodyHandler.create(false).setBodyLimit(FUNNEL_MAX_BYTES))
        .handler(ctx -> forward(ctx, Addresses.QUERY_FUNNEL, raw(ctx, funnel(ctx))));
    router.get("/v1/patterns").handler(auth.require(KeyAuth.Role.READ))
        .handler(ctx -> forward(ctx, Addresses.QUERY_PATTERNS, base(ctx).put("lang", lang(ctx))));
    router.post("/v1/patterns").handler(auth.require(KeyAuth.Role.READ))
        .handler(io.vertx.ext.web.handler.BodyHandler.create(false).setBodyLimit(FUNNEL_MAX_BYTES))
        .handler(ctx -> {
          JsonObject body;
          try {
            body = ctx.body().asJsonObject();
          } catch (RuntimeException e) {
            throw ApiError.badRequest("body", "the body must be a JSON object (it is not valid JSON)");
          }
          forward(ctx, Addresses.QUERY_PATTERN_CREATE, base(ctx).put("body", body), 201);
        });
    router.get("/v1/patterns/detect").handler(auth.require(KeyAuth.Role.READ))
        .handler(ctx -> forward(ctx, Addresses.QUERY_PATTERNS_DETECT,
            noIndex(ctx, period(ctx, Duration.ofDays(PatternDef.MAX_WINDOW_DAYS)).put("lang", lang(ctx)))));
    router.delete("/v1/patterns/:id").handler(auth.require(KeyAuth.Role.READ))
        .handler(ctx -> forward(ctx, Addresses.QUERY_PATTERN_DELETE, base(ctx).put("id", ctx.pathParam("id"))));
    router.get("/v1/patterns/:id/users").handler(auth.require(KeyAuth.Role.READ))
        .handler(ctx -> forward(ctx, Addresses.QUERY_PATTERN_USERS, noIndex(ctx, period(ctx,
            Duration.ofDays(PatternDef.MAX_WINDOW_DAYS))
            .put("id", ctx.pathParam("id")).put("limit", intParam(ctx, "limit", 1, 100_000, 1_000)))));
    router.get("/v1/anomalies").handler(auth.require(KeyAuth.Role.READ)).handler(ctx -> {
      String granularity = oneOf(ctx, "granularity", java.util.List.of("hour", "day"), "hour");
      JsonObject q = period(ctx, granularity.equals("hour") ? Duration.ofDays(1) : Duration.ofDays(14));
      q.put("metric", oneOf(ctx, "metric", sorted(AnomalyQuery.METRICS), "events")).put("granularity", granularity);
      JsonObject f = filters(ctx);
      if (f.containsKey("country") || f.containsKey("device")) {
        throw ApiError.badRequest(f.containsKey("country") ? "country" : "device", "anomalies are computed overall "
            + "or per provider/model: country and device filters are not supported here");
      }
      q.put("filters", f);
      long buckets = Duration.between(Instant.parse(q.getString("from")), Instant.parse(q.getString("to")))
          .toHours() / (granularity.equals("hour") ? 1 : 24);
      if (buckets > AnomalyQuery.MAX_JUDGED) {
        throw new ApiError(400, "invalid_request", "the period holds more than " + AnomalyQuery.MAX_JUDGED + " "
            + granularity + " points (limit " + AnomalyQuery.MAX_JUDGED + "): shorten it or use granularity=day",
            "to", (long) AnomalyQuery.MAX_JUDGED, null);
      }
      forward(ctx, Addresses.QUERY_ANOMALIES, q);
    });
    // a read key sees the settings with the webhook URL redacted, an admin key whole; only an admin key changes them
    // (the webhook decides where Tally sends requests)
    router.get("/v1/insights/settings").handler(auth.requireAny(KeyAuth.Role.READ, KeyAuth.Role.ADMIN))
        .handler(ctx -> forward(ctx, Addresses.QUERY_INSIGHT_SETTINGS, base(ctx)
            .put("admin", KeyAuth.principal(ctx).role() == KeyAuth.Role.ADMIN)));
    router.put("/v1/insights/settings").handler(auth.require(KeyAuth.Role.ADMIN))
        .handler(io.vertx.ext.web.handler.BodyHandler.create(false).setBodyLimit(FUNNEL_MAX_BYTES))
        .handler(ctx -> {
          JsonObject body;
          try {
            body = ctx.body().asJsonObject();
          } catch (RuntimeException e) {
            throw ApiError.badRequest("body", "the body must be a JSON object (it is not valid JSON)");
          }
          forward(ctx, Addresses.QUERY_INSIGHT_SETTINGS_SAVE, base(ctx).put("body", body));
        });
    router.get("/v1/insights").handler(auth.require(KeyAuth.Role.READ)).handler(ctx -> {
      JsonObject q = period(ctx, Duration.ofDays(30)).put("lang", lang(ctx));
      String wait = ctx.request().getParam("wait");
      if (wait != null && !wait.equals("false")) {
        if (!wait.equals("true")) {
          throw ApiError.badRequest("wait", "wait must be true or false");
        }
        q.put("budgetMs", 0);
      }
      String user = ctx.request().getParam("userId");
      if (user != null) {
        if (user.isBlank() || user.length() > 200) {
          throw ApiError.badRequest("userId", "userId must be a non-empty value of at most 200 characters");
        }
        q.put("userId", user);
      }
      forward(ctx, Addresses.QUERY_INSIGHTS, q);
    });
    router.get("/v1/users/:id/sessions").handler(auth.require(KeyAuth.Role.READ))
        .handler(ctx -> forward(ctx, Addresses.QUERY_USER_SESSIONS,
            period(ctx, Duration.ofDays(30)).put("userId", ctx.pathParam("id"))));
  }

  /** The largest body of a funnel, pattern or settings request. */
  public static final int FUNNEL_MAX_BYTES = 65_536;
  static final int MAX_FUNNEL_STEPS = 10;
  static final long MAX_WINDOW_SECONDS = 90L * 86_400;
  private static final int MAX_FILTER_CHARS = 200;

  private static java.util.List<String> sorted(java.util.Set<String> s) {
    return s.stream().sorted().toList();
  }

  /** {@code index=false}: patterns computed by the SQL over the rollups instead of the in-memory index. */
  static JsonObject noIndex(RoutingContext ctx, JsonObject q) {
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
  static JsonObject raw(RoutingContext ctx, JsonObject q) {
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
  static JsonObject filters(RoutingContext ctx) {
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

  static String oneOf(RoutingContext ctx, String name, java.util.List<String> allowed, String dflt) {
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
  static JsonObject funnel(RoutingContext ctx) {
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

  private static JsonObject base(RoutingContext ctx) {
    return new JsonObject().put("projectId", KeyAuth.principal(ctx).projectId());
  }

  /**
   * The longest period a route answers over (a year and a day: this year against the last). Longer periods are refused
   * at once, before any work: a read key once asked daily retention over 2,025 years (a 303 MB answer, then the heap).
   */
  static final Duration MAX_PERIOD = Duration.ofDays(366);
  /** Weekly retention: three years of weekly cohorts. */
  static final Duration MAX_WEEKLY_PERIOD = Duration.ofDays(3 * 366);

  /** Half-open period [from, to) of at most {@link #MAX_PERIOD}; defaults to the {@code span} ending now. */
  public static JsonObject period(RoutingContext ctx, Duration span) {
    return period(ctx, span, MAX_PERIOD);
  }

  /** Half-open period [from, to): ISO-8601 instants or dates, at most {@code max}; defaults to {@code span} ending now. */
  static JsonObject period(RoutingContext ctx, Duration span, Duration max) {
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
  static void checkPeriod(Instant from, Instant to, Duration max, String route) {
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
  static String lang(RoutingContext ctx) {
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

  private void forward(RoutingContext ctx, String address, JsonObject query) {
    forward(ctx, address, query, 200);
  }

  private void forward(RoutingContext ctx, String address, JsonObject query, int status) {
    vertx.eventBus().<Object>request(address, query, DELIVERY)
        .onSuccess(reply -> ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json")
            .end(reply.body() instanceof io.vertx.core.buffer.Buffer b ? b
                : io.vertx.core.buffer.Buffer.buffer(String.valueOf(reply.body()))))
        .onFailure(err -> {
          if (err instanceof ReplyException re && re.failureType() == ReplyFailure.RECIPIENT_FAILURE) {
            ctx.response().setStatusCode(re.failureCode()).putHeader("Content-Type", "application/json")
                .end(re.getMessage());
          } else {
            ctx.fail(unavailable(err));
          }
        });
  }

  /** The answer to a query the query service did not answer: its time budget ran out, or it is not there. */
  public static ApiError unavailable(Throwable err) {
    return err instanceof ReplyException re && re.failureType() == ReplyFailure.TIMEOUT
        ? ApiError.unavailable("query_timeout", "the query did not finish within its " + DELIVERY.getSendTimeout()
            / 1000 + " s budget: narrow the period or the filters", 5000)
        : ApiError.unavailable("query_unavailable", "the query service is not available; retry shortly", 1000);
  }
}
