package io.tally.dashboard;

import io.tally.error.ApiError;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;

/**
 * {@code GET /v1/export/{view}?format=csv|json&...}: the answer of the route behind a dashboard table or chart, as a
 * download. The export asks that very route over loopback with the caller's own key, so it holds exactly the data
 * the view shows (same validation, same cache, same errors), whatever the route.
 */
final class ExportRoute implements Handler<RoutingContext> {
  /** A view: the route it exports, the field holding its rows (null: one object → field,value lines). */
  record View(String path, String rowsField) {
  }

  static final Map<String, View> VIEWS = Map.ofEntries(
      Map.entry("usage", new View("/v1/metrics/usage", null)),
      Map.entry("timeseries", new View("/v1/timeseries", "points")),
      Map.entry("breakdown", new View("/v1/breakdown", "rows")),
      Map.entry("retention", new View("/v1/retention", "cohorts")),
      Map.entry("conversions", new View("/v1/conversions", "conversions")),
      Map.entry("realtime", new View("/v1/realtime", "perMinute")),
      Map.entry("user", new View("/v1/users/{userId}/analytics", null)),
      Map.entry("sessions", new View("/v1/users/{userId}/sessions", "sessions")),
      Map.entry("events", new View("/v1/users/{userId}/events", "events")),
      Map.entry("people", new View("/v1/people", "people")),
      Map.entry("funnel", new View("/v1/funnels", "steps")),
      Map.entry("patterns", new View("/v1/patterns/detect", "patterns")),
      Map.entry("insights", new View("/v1/insights", "insights")),
      Map.entry("anomalies", new View("/v1/anomalies", "points")));
  private static final Set<String> OWN_PARAMS = Set.of("format", "userId", "steps", "windowSeconds", "name");

  private final HttpClient client;
  private final String host;
  private final int port;

  ExportRoute(HttpClient client, String host, int port) {
    this.client = client;
    this.host = host;
    this.port = port;
  }

  @Override
  public void handle(RoutingContext ctx) {
    String name = ctx.pathParam("view");
    View view = VIEWS.get(name);
    if (view == null) {
      throw ApiError.notFound("no export view '" + name + "': one of " + String.join(", ",
          new java.util.TreeSet<>(VIEWS.keySet())));
    }
    String format = ctx.request().getParam("format", "csv");
    if (!format.equals("csv") && !format.equals("json")) {
      throw ApiError.badRequest("format", "format must be csv or json");
    }
    MultiMap params = ctx.request().params();
    String path = view.path();
    if (path.contains("{userId}")) {
      String user = params.get("userId");
      if (user == null || user.isBlank()) {
        throw ApiError.badRequest("userId", "userId is required for the " + name + " export");
      }
      path = path.replace("{userId}", enc(user));
    }
    StringBuilder query = new StringBuilder();
    for (Map.Entry<String, String> p : params) {
      if (!OWN_PARAMS.contains(p.getKey()) && !p.getKey().equals("view")) {
        query.append(query.isEmpty() ? '?' : '&').append(enc(p.getKey())).append('=').append(enc(p.getValue()));
      }
    }
    RequestOptions req = new RequestOptions().setHost(host).setPort(port)
        .putHeader("Authorization", ctx.request().getHeader("Authorization"));
    Buffer body = null;
    if (name.equals("funnel")) {
      req.setMethod(HttpMethod.POST).setURI(path).putHeader("Content-Type", "application/json");
      body = funnelBody(params).toBuffer();
    } else {
      req.setMethod(HttpMethod.GET).setURI(path + query);
    }
    Buffer sent = body;
    client.request(req)
        .compose(r -> sent == null ? r.send() : r.send(sent))
        .compose(res -> res.body().map(b -> new Object[] {res, b}))
        .onSuccess(pair -> answer(ctx, name, view, format, (HttpClientResponse) pair[0], (Buffer) pair[1]))
        .onFailure(err -> ctx.fail(ApiError.unavailable("export_failed", "the export of " + name + " could not reach "
            + "its route; retry shortly", 1000)));
  }

  private static JsonObject funnelBody(MultiMap p) {
    String steps = p.get("steps");
    if (steps == null || steps.isBlank()) {
      throw ApiError.badRequest("steps", "steps is required for the funnel export: event types separated by commas");
    }
    JsonArray arr = new JsonArray();
    for (String s : steps.split(",")) {
      arr.add(new JsonObject().put("event", s.trim()));
    }
    JsonObject b = new JsonObject().put("name", p.get("name") == null ? "funnel" : p.get("name")).put("steps", arr);
    if (p.get("windowSeconds") != null) {
      try {
        b.put("windowSeconds", Long.parseLong(p.get("windowSeconds")));
      } catch (NumberFormatException e) {
        throw ApiError.badRequest("windowSeconds", "windowSeconds must be an integer");
      }
    }
    if (p.get("from") != null) {
      b.put("from", p.get("from"));
    }
    if (p.get("to") != null) {
      b.put("to", p.get("to"));
    }
    return b;
  }

  private static void answer(RoutingContext ctx, String name, View view, String format, HttpClientResponse res,
                             Buffer body) {
    if (res.statusCode() != 200) { // the route's own error, as it gave it
      ctx.response().setStatusCode(res.statusCode()).putHeader("Content-Type", "application/json").end(body);
      return;
    }
    String stamp = java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")
        .withZone(java.time.ZoneOffset.UTC).format(java.time.Instant.now());
    String file = "tally-" + name + "-" + stamp + "." + format;
    ctx.response().putHeader("Content-Disposition", "attachment; filename=\"" + file + "\"");
    if (format.equals("json")) {
      ctx.response().putHeader("Content-Type", "application/json").end(body);
    } else {
      // an answer may be megabytes: turned into CSV on a worker thread, not on this event loop
      ctx.vertx().executeBlocking(() -> CsvTable.of(new JsonObject(body), view.rowsField()), false)
          .onSuccess(csv -> ctx.response().putHeader("Content-Type", "text/csv; charset=utf-8").end(csv))
          .onFailure(ctx::fail);
    }
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
