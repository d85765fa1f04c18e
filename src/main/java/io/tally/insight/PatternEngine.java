package io.tally.insight;

import io.tally.error.ApiError;
import io.tally.event.EventCatalog;
import io.tally.index.PatternIndex;
import io.tally.index.PatternProject;
import io.tally.query.Agg;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;

/**
 * Behaviour patterns: per-person features computed in SQL over the per-person daily rollup ({@code user_daily}) and
 * the sessions table, conditions evaluated in the same statement, confidence measured by a backtest on the
 * preceding window. Definitions: docs/queries.md "Behaviour patterns".
 */
final class PatternEngine {
  /** A rollup row's feature (as UserAnalytics' featureUsage): feature_used's feature, or chat/share/export/settings. */
  static final String FEAT = "CASE type WHEN 'feature_used' THEN nullif(feature, '') "
      + "WHEN 'message_sent' THEN 'chat' WHEN 'share_created' THEN 'share' WHEN 'export_generated' THEN 'export' "
      + "WHEN 'customization_made' THEN 'settings' END";
  static final List<String> FIXED_FEATURES = List.of("chat", "share", "export", "settings");

  /** Caches one pattern's result; {@code period} ({projectId, from, to}) says which new events invalidate it. */
  interface ResultCache {
    Future<JsonObject> get(String family, JsonObject period, java.util.function.Supplier<Future<JsonObject>> compute);
  }

  private final Pool pool;
  private final List<String> conversionTypes;
  private final ResultCache cache;
  private final PatternIndex index;
  /** Window features computed during the current detection (shared by the patterns with the same windows). */
  private Map<String, Object[]> memo;

  PatternEngine(Pool pool, EventCatalog catalog, ResultCache cache, int bulkThreshold) {
    this.pool = pool;
    this.cache = cache;
    List<String> conv = catalog.typesOf("conversion");
    this.conversionTypes = conv.isEmpty() ? List.of("signup", "subscription", "upgrade", "payment", "referral") : conv;
    this.index = new PatternIndex(pool, conversionTypes, bulkThreshold);
  }

  public PatternIndex index() {
    return index;
  }

  /** The in-memory index of the project, unless loading or the query asks for the SQL path ({@code index=false}). */
  private PatternProject indexed(JsonObject q) {
    return q.getBoolean("noIndex", false) ? null : index.project(q.getString("projectId"));
  }

  /** A window of whole UTC days [a, b). */
  record Window(LocalDate a, LocalDate b) {
    int days() {
      return (int) (b.toEpochDay() - a.toEpochDay());
    }

    Window before() {
      return new Window(a.minusDays(days()), a);
    }

    JsonObject toJson() {
      return new JsonObject().put("from", a.atStartOfDay(ZoneOffset.UTC).toInstant().toString())
          .put("to", b.atStartOfDay(ZoneOffset.UTC).toInstant().toString());
    }
  }

  /**
   * The pattern's window: the last {@code timeWindow} whole UTC days before {@code to} (a partial last day is left
   * out), starting no earlier than the first whole day of [from, to); at least one day.
   */
  static Window window(PatternDef p, Instant from, Instant to) {
    LocalDate b = to.atOffset(ZoneOffset.UTC).toLocalDate();
    LocalDate a = b.minusDays(p.timeWindow());
    LocalDate f = from.atOffset(ZoneOffset.UTC).toLocalDate();
    if (!f.atStartOfDay(ZoneOffset.UTC).toInstant().equals(from)) {
      f = f.plusDays(1);
    }
    if (f.isAfter(a)) {
      a = f.isBefore(b) ? f : b.minusDays(1);
    }
    return new Window(a, b);
  }

  // ---------------------------------------------------------------------------------------------------- detect

  /** Every pattern evaluated; {@code reported} when its backtested confidence exceeds its minimum. */
  Future<JsonObject> detect(JsonObject q, List<PatternDef> defs, boolean french) {
    String project = q.getString("projectId");
    Instant from = Instant.parse(q.getString("from"));
    Instant to = Instant.parse(q.getString("to"));
    List<Future<JsonObject>> all = new ArrayList<>();
    memo = new java.util.HashMap<>();
    for (PatternDef p : defs) {
      // a pattern's answer depends only on its windows (whole days): cached per window, so every period sharing
      // them — and "to = now" all day long, as today's partial day is left out — reuses it until a flush brings an
      // event older than the window's end
      Window w = window(p, from, to);
      PatternProject ip = indexed(q);
      JsonObject key = new JsonObject().put("projectId", project).put("def", p.toJson()).put("fr", french)
          .put("sql", ip == null).put("from", w.before().toJson().getString("from"))
          .put("to", w.toJson().getString("to"));
      all.add(cache.get("pattern", key, () -> ip != null
          ? Future.succeededFuture(p.featureGap() ? featureGapIndexed(ip, p, from, to, french)
              : evaluateIndexed(ip, p, from, to, french))
          : p.featureGap() ? featureGap(project, p, from, to, french) : evaluate(project, p, from, to, french)));
    }
    memo = null;
    return Future.all(all).map(v -> {
      JsonArray reported = new JsonArray();
      JsonArray others = new JsonArray();
      for (Future<JsonObject> f : all) {
        JsonObject r = f.result();
        (r.getBoolean("reported") ? reported : others).add(r);
      }
      return new JsonObject().put("from", from.toString()).put("to", to.toString())
          .put("patterns", reported).put("notReported", others);
    });
  }

  private Future<JsonObject> evaluate(String project, PatternDef p, Instant from, Instant to, boolean french) {
    Window w = window(p, from, to);
    Window w0 = w.before();
    List<String> rf = PatternSql.rateFeatures(p);
    Tuple t = Tuple.tuple().addString(project);
    String cur = PatternSql.features("cur", w, t, rf);
    String prev = PatternSql.features("prev", w0, t, rf);
    String m = PatternSql.match(p, "x", t, rf);
    String m0 = PatternSql.match(p, "y", t, rf);
    String o = PatternSql.outcome(p, "y", t, conversionTypes);
    if (o == null) {
      o = "(y.user_key IN (SELECT user_key FROM cur x WHERE " + PatternSql.match(p, "x", t, rf) + "))";
    }
    String sql = "WITH " + cur + ", " + prev + " SELECT a.*, b.* FROM "
        + "(SELECT count(*) AS active, count(*) FILTER (WHERE " + m + ") AS matched, "
        + "coalesce(sum(events), 0)::float8 AS events, coalesce(sum(events) FILTER (WHERE " + m + "), 0)::float8 "
        + "AS m_events, coalesce(sum(revenue), 0) AS revenue, coalesce(sum(revenue) FILTER (WHERE " + m + "), 0) "
        + "AS m_revenue FROM cur x) a, "
        + "(SELECT count(*) FILTER (WHERE " + m0 + ") AS matched0, count(*) FILTER (WHERE " + m0 + " AND " + o
        + ") AS hits FROM prev y) b";
    return pool.preparedQuery(sql).execute(t).map(rows -> {
      Row r = rows.iterator().next();
      long active = r.getLong("active");
      long matched = r.getLong("matched");
      long matched0 = r.getLong("matched0");
      long hits = r.getLong("hits");
      double evShare = Agg.div(r.getDouble("m_events"), r.getDouble("events"));
      double revShare = Agg.div(r.getDouble("m_revenue"), r.getDouble("revenue"));
      Double confidence = matched0 == 0 ? null : (double) hits / matched0;
      return result(p, french, w, active, matched, evShare, revShare, confidence,
          new JsonObject().put("window", w0.toJson()).put("outcomeWindow", w.toJson())
              .put("matchedAtStart", matched0).put("outcomeHits", hits).put("outcome", PatternSql.outcomeName(p)));
    });
  }

  private static JsonObject result(PatternDef p, boolean french, Window w, long active, long matched,
                                   double evShare, double revShare, Double confidence, JsonObject backtest) {
    double impactShare = Math.max(evShare, revShare);
    String impact = impactShare >= 0.3 ? "high" : impactShare >= 0.1 ? "medium" : "low";
    boolean reported = confidence != null && confidence > p.minConfidence() && matched > 0;
    return new JsonObject().put("id", p.id()).put("name", p.name(french)).put("description", p.description(french))
        .put("type", p.type()).put("pattern", p.definitionJson()).put("builtIn", p.builtIn())
        .put("window", w.toJson())
        .put("frequency", matched).put("activeUsers", active).put("share", Agg.div(matched, active))
        .put("confidence", confidence).put("minConfidence", p.minConfidence()).put("reported", reported)
        .put("impact", impact)
        .put("impactShare", new JsonObject().put("events", evShare).put("revenue", revShare))
        .put("backtest", backtest).put("recommendations", p.recommendations(french));
  }

  /** Per catalogue feature: persons who used it in w, and persons active in w. */
  private Future<Map<String, long[]>> featureUse(String project, Window w, Window w0) {
    Tuple t = Tuple.tuple().addString(project).addLocalDate(w.a()).addLocalDate(w.b()).addLocalDate(w0.a())
        .addLocalDate(w0.b());
    String sql = "WITH d AS (SELECT user_key, day >= $2 AS cur, " + FEAT + " AS feat FROM user_daily "
        + "WHERE project_id = $1 AND ((day >= $2 AND day < $3) OR (day >= $4 AND day < $5))) "
        + "SELECT feat, count(DISTINCT user_key) FILTER (WHERE cur), count(DISTINCT user_key) FILTER (WHERE NOT cur) "
        + "FROM d WHERE feat IS NOT NULL GROUP BY feat UNION ALL "
        + "SELECT NULL, count(DISTINCT user_key) FILTER (WHERE cur), count(DISTINCT user_key) FILTER (WHERE NOT cur) "
        + "FROM d";
    return pool.preparedQuery(sql).execute(t).map(rows -> {
      Map<String, long[]> out = new LinkedHashMap<>();
      FIXED_FEATURES.forEach(f -> out.put(f, new long[2]));
      for (Row r : rows) {
        out.put(r.getString(0) == null ? "" : r.getString(0), new long[] {r.getLong(1), r.getLong(2)});
      }
      return out;
    });
  }

  /** Feature gaps: features used by fewer than the threshold's share of active persons (a feature-level pattern). */
  private Future<JsonObject> featureGap(String project, PatternDef p, Instant from, Instant to, boolean french) {
    Window w = window(p, from, to);
    Window w0 = w.before();
    double limit = ((Number) p.conditions().get(0).value()).doubleValue();
    return featureUse(project, w, w0).compose(use -> {
      long[] act = use.remove("");
      long active = act == null ? 0 : act[0];
      long active0 = act == null ? 0 : act[1];
      Set<String> gaps = new TreeSet<>();
      Set<String> gaps0 = new TreeSet<>();
      JsonArray features = new JsonArray();
      for (Map.Entry<String, long[]> e : new java.util.TreeMap<>(use).entrySet()) {
        double rate = Agg.div(e.getValue()[0], active);
        Double rate0 = active0 == 0 ? null : (double) e.getValue()[1] / active0;
        if (active > 0 && rate < limit) {
          gaps.add(e.getKey());
        }
        if (rate0 != null && rate0 < limit) {
          gaps0.add(e.getKey());
        }
        features.add(new JsonObject().put("feature", e.getKey()).put("users", e.getValue()[0])
            .put("usageRate", active == 0 ? null : rate).put("previousUsageRate", rate0)
            .put("gap", gaps.contains(e.getKey())));
      }
      long stayed = gaps0.stream().filter(gaps::contains).count();
      Double confidence = gaps0.isEmpty() || active == 0 ? null : (double) stayed / gaps0.size();
      JsonObject backtest = new JsonObject().put("window", w0.toJson()).put("outcomeWindow", w.toJson())
          .put("matchedAtStart", gaps0.size()).put("outcomeHits", stayed)
          .put("outcome", "features under the threshold at the start that stayed under it");
      return gapUsers(project, w, gaps, null).map(u -> {
        JsonObject r = result(p, french, w, active, (long) u[0], Agg.div(u[1], u[2]), Agg.div(u[3], u[4]),
            confidence, backtest);
        return r.put("features", features).put("gapFeatures", new JsonArray(new ArrayList<>(gaps)));
      });
    });
  }

  /** Persons active in w who used none of the gap features: count, events, all events, revenue, all revenue. */
  private Future<double[]> gapUsers(String project, Window w, Set<String> gaps, List<String> ids) {
    Tuple t = Tuple.tuple().addString(project).addLocalDate(w.a()).addLocalDate(w.b())
        .addArrayOfString(gaps.toArray(String[]::new));
    String sql = "WITH u AS (SELECT user_key, sum(events) AS ev, coalesce(sum(amount) FILTER (WHERE type = "
        + "'payment'), 0) AS rev, bool_or(coalesce(" + FEAT + " = ANY($4), false)) AS used FROM user_daily "
        + "WHERE project_id = $1 AND day >= $2 AND day < $3 GROUP BY user_key) ";
    if (ids != null) {
      return pool.preparedQuery(sql + "SELECT user_key FROM u WHERE NOT used ORDER BY user_key").execute(t)
          .map(rows -> {
            rows.forEach(r -> ids.add(r.getString(0)));
            return new double[0];
          });
    }
    return pool.preparedQuery(sql + "SELECT count(*) FILTER (WHERE NOT used), coalesce(sum(ev) FILTER (WHERE NOT "
            + "used), 0)::float8, coalesce(sum(ev), 0)::float8, coalesce(sum(rev) FILTER (WHERE NOT used), 0), "
            + "coalesce(sum(rev), 0) FROM u").execute(t)
        .map(rows -> {
          Row r = rows.iterator().next();
          return new double[] {r.getLong(0), r.getDouble(1), r.getDouble(2), r.getDouble(3), r.getDouble(4)};
        });
  }

  /** The ids of the persons a pattern matches (sorted), at most {@code limit}. */
  Future<JsonObject> users(JsonObject q, PatternDef p) {
    String project = q.getString("projectId");
    Instant from = Instant.parse(q.getString("from"));
    Instant to = Instant.parse(q.getString("to"));
    int limit = q.getInteger("limit", 1000);
    Window w = window(p, from, to);
    Future<List<String>> ids;
    PatternProject ip = indexed(q);
    if (ip != null) {
      ids = Future.succeededFuture(p.featureGap() ? gapUsersIndexed(ip, p, w) : matchedIndexed(ip, p, w));
    } else if (p.featureGap()) {
      ids = featureUse(project, w, w.before()).compose(use -> {
        long[] act = use.remove("");
        long active = act == null ? 0 : act[0];
        double limitRate = ((Number) p.conditions().get(0).value()).doubleValue();
        Set<String> gaps = new TreeSet<>();
        use.forEach((f, n) -> {
          if (active > 0 && (double) n[0] / active < limitRate) {
            gaps.add(f);
          }
        });
        List<String> out = new ArrayList<>();
        return gapUsers(project, w, gaps, out).map(x -> out);
      });
    } else {
      List<String> rf = PatternSql.rateFeatures(p);
      Tuple t = Tuple.tuple().addString(project);
      String cur = PatternSql.features("cur", w, t, rf);
      String m = PatternSql.match(p, "x", t, rf);
      ids = pool.preparedQuery("WITH " + cur + " SELECT user_key FROM cur x WHERE " + m + " ORDER BY user_key")
          .execute(t).map(rows -> {
            List<String> out = new ArrayList<>(rows.size());
            rows.forEach(r -> out.add(r.getString(0)));
            return out;
          });
    }
    return ids.map(all -> new JsonObject().put("patternId", p.id()).put("window", w.toJson())
        .put("total", all.size()).put("users", new JsonArray(new ArrayList<>(all.subList(0, Math.min(limit,
            all.size()))))).put("truncated", all.size() > limit));
  }

  // ---------------------------------------------------------------------------------------------------- index

  private static int day(LocalDate d) {
    return (int) d.toEpochDay();
  }

  /** The window's features, from the current detection's memo when another pattern computed them already. */
  @SuppressWarnings("unchecked")
  private PatternFeatures.Win features(PatternProject ip, Window w, int[] cat) {
    Object[] hit = memo == null ? null : memo.get(w.a() + "/" + w.b());
    if (hit != null) {
      cat[0] = (Integer) hit[1];
      return (PatternFeatures.Win) hit[0];
    }
    PatternFeatures.Win f = PatternFeatures.features(ip, day(w.a()), day(w.b()), cat);
    if (memo != null) {
      memo.put(w.a() + "/" + w.b(), new Object[] {f, cat[0]});
    }
    return f;
  }

  private List<String> matchedIndexed(PatternProject ip, PatternDef p, Window w) {
    int[] cat = new int[1];
    PatternFeatures.Win cur = features(ip, w, cat);
    List<String> out = new ArrayList<>();
    for (PatternFeatures.F f : cur.values()) {
      if (PatternFeatures.matches(p, f, w.days(), day(w.b()), cat[0], ip)) {
        out.add(f.key);
      }
    }
    out.sort(null);
    return out;
  }

  private JsonObject evaluateIndexed(PatternProject ip, PatternDef p, Instant from, Instant to, boolean french) {
    Window w = window(p, from, to);
    Window w0 = w.before();
    int[] cat = new int[1];
    int[] cat0 = new int[1];
    PatternFeatures.Win cur = features(ip, w, cat);
    PatternFeatures.Win prev = features(ip, w0, cat0);
    long matched = 0;
    double events = 0;
    double mEvents = 0;
    double revenue = 0;
    double mRevenue = 0;
    Set<String> now = new java.util.HashSet<>();
    for (PatternFeatures.F f : cur.values()) {
      events += f.events;
      revenue += f.revenue;
      if (PatternFeatures.matches(p, f, w.days(), day(w.b()), cat[0], ip)) {
        matched++;
        mEvents += f.events;
        mRevenue += f.revenue;
        now.add(f.key);
      }
    }
    Set<String> top = p.type().equals("engagement") ? PatternFeatures.topDecile(cur) : Set.of();
    long matched0 = 0;
    long hits = 0;
    for (PatternFeatures.F y : prev.values()) {
      if (!PatternFeatures.matches(p, y, w0.days(), day(w0.b()), cat0[0], ip)) {
        continue;
      }
      matched0++;
      PatternFeatures.F later = cur.get(y.key);
      boolean hit = switch (p.type()) {
        case "churn" -> later == null;
        case "retention" -> later != null;
        case "conversion" -> later != null && later.conversions > 0;
        case "engagement" -> top.contains(y.key);
        default -> now.contains(y.key);
      };
      if (hit) {
        hits++;
      }
    }
    Double confidence = matched0 == 0 ? null : (double) hits / matched0;
    return result(p, french, w, cur.size(), matched, Agg.div(mEvents, events), Agg.div(mRevenue, revenue),
        confidence, new JsonObject().put("window", w0.toJson()).put("outcomeWindow", w.toJson())
            .put("matchedAtStart", matched0).put("outcomeHits", hits).put("outcome", PatternSql.outcomeName(p)));
  }

  /** The gap features of w: catalogue features used by fewer than the pattern's share of w's active persons. */
  private static Set<String> gaps(PatternProject ip, PatternFeatures.Win cur, double limit,
                                  Map<String, long[]> use, PatternFeatures.Win prev) {
    FIXED_FEATURES.forEach(ip.features::id);
    long[][] counts = new long[ip.features.names.size()][];
    for (PatternFeatures.F f : cur.values()) {
      f.forEachFeature(i -> (counts[i] == null ? counts[i] = new long[2] : counts[i])[0]++);
    }
    if (prev != null) {
      for (PatternFeatures.F f : prev.values()) {
        f.forEachFeature(i -> (counts[i] == null ? counts[i] = new long[2] : counts[i])[1]++);
      }
    }
    Map<Integer, long[]> by = new java.util.HashMap<>();
    for (int i = 0; i < counts.length; i++) {
      if (counts[i] != null) {
        by.put(i, counts[i]);
      }
    }
    for (String fixed : FIXED_FEATURES) {
      by.computeIfAbsent(ip.features.ids.get(fixed), k -> new long[2]);
    }
    Set<String> gaps = new TreeSet<>();
    by.forEach((id, n) -> {
      String name = ip.features.names.get(id);
      if (use != null) {
        use.put(name, n);
      }
      if (!cur.isEmpty() && (double) n[0] / cur.size() < limit) {
        gaps.add(name);
      }
    });
    return gaps;
  }

  private List<String> gapUsersIndexed(PatternProject ip, PatternDef p, Window w) {
    int[] cat = new int[1];
    PatternFeatures.Win cur = features(ip, w, cat);
    Set<String> gaps = gaps(ip, cur, ((Number) p.conditions().get(0).value()).doubleValue(), null, null);
    List<String> out = new ArrayList<>();
    for (PatternFeatures.F f : cur.values()) {
      if (!usesAny(ip, f, gaps)) {
        out.add(f.key);
      }
    }
    out.sort(null);
    return out;
  }

  private static boolean usesAny(PatternProject ip, PatternFeatures.F f, Set<String> gaps) {
    for (String g : gaps) {
      Integer id = ip.features.ids.get(g);
      if (id != null && f.hasFeature(id)) {
        return true;
      }
    }
    return false;
  }

  private JsonObject featureGapIndexed(PatternProject ip, PatternDef p, Instant from, Instant to,
                                      boolean french) {
    Window w = window(p, from, to);
    Window w0 = w.before();
    double limit = ((Number) p.conditions().get(0).value()).doubleValue();
    int[] cat = new int[1];
    PatternFeatures.Win cur = features(ip, w, cat);
    PatternFeatures.Win prev = features(ip, w0, cat);
    Map<String, long[]> use = new java.util.TreeMap<>();
    Set<String> gaps = gaps(ip, cur, limit, use, prev);
    long active = cur.size();
    long active0 = prev.size();
    Set<String> gaps0 = new TreeSet<>();
    JsonArray features = new JsonArray();
    for (Map.Entry<String, long[]> e : use.entrySet()) {
      double rate = Agg.div(e.getValue()[0], active);
      Double rate0 = active0 == 0 ? null : (double) e.getValue()[1] / active0;
      if (rate0 != null && rate0 < limit) {
        gaps0.add(e.getKey());
      }
      features.add(new JsonObject().put("feature", e.getKey()).put("users", e.getValue()[0])
          .put("usageRate", active == 0 ? null : rate).put("previousUsageRate", rate0)
          .put("gap", gaps.contains(e.getKey())));
    }
    long stayed = gaps0.stream().filter(gaps::contains).count();
    Double confidence = gaps0.isEmpty() || active == 0 ? null : (double) stayed / gaps0.size();
    long matched = 0;
    double events = 0;
    double mEvents = 0;
    double revenue = 0;
    double mRevenue = 0;
    for (PatternFeatures.F f : cur.values()) {
      events += f.events;
      revenue += f.revenue;
      if (!usesAny(ip, f, gaps)) {
        matched++;
        mEvents += f.events;
        mRevenue += f.revenue;
      }
    }
    JsonObject backtest = new JsonObject().put("window", w0.toJson()).put("outcomeWindow", w.toJson())
        .put("matchedAtStart", gaps0.size()).put("outcomeHits", stayed)
        .put("outcome", "features under the threshold at the start that stayed under it");
    return result(p, french, w, active, matched, Agg.div(mEvents, events), Agg.div(mRevenue, revenue), confidence,
        backtest).put("features", features).put("gapFeatures", new JsonArray(new ArrayList<>(gaps)));
  }

  // ---------------------------------------------------------------------------------------------------- store

  Future<List<PatternDef>> all(String project) {
    return pool.preparedQuery("SELECT id, definition FROM patterns WHERE project_id = $1 ORDER BY created_at, id")
        .execute(Tuple.of(project)).map(rows -> {
          List<PatternDef> out = new ArrayList<>(PatternDef.BUILT_IN);
          for (Row r : rows) {
            out.add(PatternDef.fromStored(r.getString(0), (JsonObject) r.getValue(1)));
          }
          return out;
        });
  }

  Future<PatternDef> one(String project, String id) {
    PatternDef b = PatternDef.builtIn(id);
    if (b != null) {
      return Future.succeededFuture(b);
    }
    return pool.preparedQuery("SELECT definition FROM patterns WHERE project_id = $1 AND id = $2")
        .execute(Tuple.of(project, id)).map(rows -> {
          if (rows.size() == 0) {
            throw ApiError.notFound("no pattern '" + id + "' in this project");
          }
          return PatternDef.fromStored(id, (JsonObject) rows.iterator().next().getValue(0));
        });
  }

  Future<JsonObject> create(JsonObject q) {
    String project = q.getString("projectId");
    PatternDef p = PatternDef.parse(q.getJsonObject("body"), "p-" + UUID.randomUUID().toString().substring(0, 8));
    JsonObject stored = p.toJson();
    return pool.preparedQuery("INSERT INTO patterns (project_id, id, definition) SELECT $1, $2, $3 "
            + "WHERE (SELECT count(*) FROM patterns WHERE project_id = $1) < " + PatternDef.MAX_PATTERNS
            + " ON CONFLICT DO NOTHING RETURNING id")
        .execute(Tuple.of(project, p.id(), stored)).compose(rows -> {
          if (rows.size() == 1) {
            return Future.succeededFuture(stored);
          }
          return pool.preparedQuery("SELECT count(*), count(*) FILTER (WHERE id = $2) FROM patterns "
              + "WHERE project_id = $1").execute(Tuple.of(project, p.id())).map(r -> {
                Row c = r.iterator().next();
                if (c.getLong(1) > 0) {
                  throw new ApiError(409, "conflict", "a pattern with id '" + p.id() + "' exists", "id", null, null);
                }
                throw new ApiError(422, "limit_exceeded", "a project holds at most " + PatternDef.MAX_PATTERNS
                    + " custom patterns", "patterns", (long) PatternDef.MAX_PATTERNS, null);
              });
        });
  }

  Future<JsonObject> delete(JsonObject q) {
    String id = q.getString("id");
    if (PatternDef.builtIn(id) != null) {
      return Future.failedFuture(ApiError.badRequest("id", "built-in patterns cannot be deleted"));
    }
    return pool.preparedQuery("DELETE FROM patterns WHERE project_id = $1 AND id = $2 RETURNING id")
        .execute(Tuple.of(q.getString("projectId"), id)).map(rows -> {
          if (rows.size() == 0) {
            throw ApiError.notFound("no pattern '" + id + "' in this project");
          }
          return new JsonObject().put("deleted", id);
        });
  }
}
