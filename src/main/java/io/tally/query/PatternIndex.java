package io.tally.query;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The pattern engine's per-person features in memory: for each person and UTC day, the sums the feature SQL reads
 * ({@code user_daily} grouped by person-day, and the sessions started that day). Loaded by one SQL statement per
 * table at start; every flush names the person-days it changed, and those are read again from the same SQL (so the
 * index holds exactly what the SQL path would compute); identity merges re-read both persons. Window features and
 * pattern matches are then sums over a few records per person instead of a scan of millions of rollup rows. Used
 * from the query verticle's event loop only.
 */
final class PatternIndex {
  private static final Logger LOG = LoggerFactory.getLogger(PatternIndex.class);

  /** One person-day. */
  static final class Day {
    long events;
    long sent;
    long msgs;
    long errors;
    long conversions;
    long sessions;
    double tokens;
    double cost;
    double revenue;
    double sessionMs;
    int[] features = new int[0];
    long[] featureCounts = new long[0];
    int[] providers = new int[0];
    int[] models = new int[0];
  }

  /** Names ↔ dense ids (features, providers, models). */
  static final class Dict {
    final Map<String, Integer> ids = new HashMap<>();
    final List<String> names = new ArrayList<>();

    int id(String name) {
      return ids.computeIfAbsent(name, n -> {
        names.add(n);
        return names.size() - 1;
      });
    }
  }

  static final class Project {
    final Map<String, TreeMap<Integer, Day>> persons = new HashMap<>();
    final Dict features = new Dict();
    final Dict providers = new Dict();
    final Dict models = new Dict();
  }

  private final Pool pool;
  private final List<String> conversionTypes;
  private final Map<String, Project> projects = new HashMap<>();
  private boolean ready;
  private List<JsonObject> pending = new ArrayList<>();
  private long personDays;

  PatternIndex(Pool pool, List<String> conversionTypes) {
    this.pool = pool;
    this.conversionTypes = conversionTypes;
  }

  /** The project's index, or null while loading. */
  Project project(String id) {
    return ready ? projects.computeIfAbsent(id, k -> new Project()) : null;
  }

  long personDays() {
    return personDays;
  }

  private static final String FEAT = "CASE type WHEN 'feature_used' THEN nullif(feature, '') "
      + "WHEN 'message_sent' THEN 'chat' WHEN 'share_created' THEN 'share' WHEN 'export_generated' THEN 'export' "
      + "WHEN 'customization_made' THEN 'settings' END";

  /** Person-day sums of user_daily; {@code where} restricts the rows (alias u). */
  private static String daysSql(String where) {
    String msg = "type IN ('message_sent', 'message_received')";
    return "WITH r AS (SELECT * FROM user_daily u WHERE " + where + "), "
        + "g AS (SELECT project_id, user_key, day, sum(events)::int8 AS ev, "
        + "coalesce(sum(events) FILTER (WHERE type = 'message_sent'), 0)::int8 AS sent, "
        + "coalesce(sum(events) FILTER (WHERE " + msg + "), 0)::int8 AS msgs, "
        + "coalesce(sum(events) FILTER (WHERE type = 'error'), 0)::int8 AS errors, "
        + "coalesce(sum(events) FILTER (WHERE type = ANY($1)), 0)::int8 AS conv, "
        + "coalesce(sum(tokens) FILTER (WHERE " + msg + "), 0) AS tokens, "
        + "coalesce(sum(cost) FILTER (WHERE " + msg + "), 0) AS cost, "
        + "coalesce(sum(amount) FILTER (WHERE type = 'payment'), 0) AS revenue, "
        + "array_agg(DISTINCT provider) FILTER (WHERE provider <> '' AND " + msg + ") AS pr, "
        + "array_agg(DISTINCT model) FILTER (WHERE model <> '' AND " + msg + ") AS mo "
        + "FROM r GROUP BY 1, 2, 3), "
        + "f AS (SELECT project_id, user_key, day, array_agg(feat ORDER BY feat) AS fs, array_agg(n ORDER BY feat) AS ns "
        + "FROM (SELECT project_id, user_key, day, " + FEAT + " AS feat, sum(events)::int8 AS n FROM r "
        + "GROUP BY 1, 2, 3, 4) x WHERE feat IS NOT NULL GROUP BY 1, 2, 3) "
        + "SELECT g.project_id, g.user_key, g.day - date '1970-01-01', g.ev, g.sent, g.msgs, g.errors, g.conv, "
        + "g.tokens, g.cost, g.revenue, g.pr, g.mo, f.fs, f.ns FROM g LEFT JOIN f USING (project_id, user_key, day)";
  }

  private static String sessionsSql(String where) {
    return "SELECT project_id, coalesce(user_id, anonymous_id), (started_at AT TIME ZONE 'UTC')::date - date "
        + "'1970-01-01', count(*), coalesce(sum(duration_ms), 0)::float8 FROM sessions s WHERE " + where
        + " AND coalesce(user_id, anonymous_id) IS NOT NULL GROUP BY 1, 2, 3";
  }

  private void putDay(Row r) {
    Project p = projects.computeIfAbsent(r.getString(0), k -> new Project());
    Day d = p.persons.computeIfAbsent(r.getString(1), k -> new TreeMap<>())
        .computeIfAbsent(r.getInteger(2), k -> new Day());
    d.events = r.getLong(3);
    d.sent = r.getLong(4);
    d.msgs = r.getLong(5);
    d.errors = r.getLong(6);
    d.conversions = r.getLong(7);
    d.tokens = r.getDouble(8);
    d.cost = r.getDouble(9);
    d.revenue = r.getDouble(10);
    d.providers = ids(p.providers, r.getArrayOfStrings(11));
    d.models = ids(p.models, r.getArrayOfStrings(12));
    String[] feats = r.getArrayOfStrings(13);
    d.features = ids(p.features, feats);
    Long[] counts = r.getArrayOfLongs(14);
    d.featureCounts = new long[d.features.length];
    for (int i = 0; i < d.features.length; i++) {
      d.featureCounts[i] = counts[i];
    }
  }

  private static int[] ids(Dict dict, String[] names) {
    if (names == null) {
      return new int[0];
    }
    int[] out = new int[names.length];
    for (int i = 0; i < names.length; i++) {
      out[i] = dict.id(names[i]);
    }
    return out;
  }

  private void putSessions(Row r) {
    Project p = projects.computeIfAbsent(r.getString(0), k -> new Project());
    Day d = p.persons.computeIfAbsent(r.getString(1), k -> new TreeMap<>())
        .computeIfAbsent(r.getInteger(2), k -> new Day());
    d.sessions = r.getLong(3);
    d.sessionMs = r.getDouble(4);
  }

  private Tuple conv() {
    return Tuple.tuple().addArrayOfString(conversionTypes.toArray(String[]::new));
  }

  /** Loads everything stored, then replays the notices received meanwhile. */
  Future<Void> load() {
    long start = System.currentTimeMillis();
    return pool.withTransaction(c -> c.query("SET LOCAL statement_timeout = 0").execute()
            .compose(v -> c.preparedQuery(daysSql("true")).execute(conv()))
            .compose(days -> {
              days.forEach(this::putDay);
              return c.query(sessionsSql("true")).execute();
            }))
        .map(sessions -> {
          sessions.forEach(this::putSessions);
          ready = true;
          count();
          List<JsonObject> replay = pending;
          pending = null;
          replay.forEach(this::apply);
          LOG.info("pattern index loaded: {} person-days ({} ms)", personDays, System.currentTimeMillis() - start);
          return null;
        });
  }

  private void count() {
    personDays = projects.values().stream().mapToLong(p -> p.persons.values().stream().mapToLong(TreeMap::size).sum())
        .sum();
  }

  /**
   * Re-reads the person-days a flush changed and the persons an identity merge touched; completes when the index
   * holds them (the caller drops cached answers again then).
   */
  Future<Void> apply(JsonObject notice) {
    if (!ready) {
      if (pending != null) {
        pending.add(notice);
      }
      return Future.succeededFuture();
    }
    Map<String, List<Object[]>> touched = new HashMap<>();
    for (Object o : notice.getJsonArray("personDays", new JsonArray())) {
      JsonArray a = (JsonArray) o;
      touched.computeIfAbsent(a.getString(0), k -> new ArrayList<>()).add(new Object[] {a.getString(1),
          a.getInteger(2)});
    }
    List<Future<Void>> work = new ArrayList<>();
    touched.forEach((project, keys) -> work.add(reloadDays(project, keys)));
    for (Object o : notice.getJsonArray("merges", new JsonArray())) {
      JsonArray a = (JsonArray) o;
      work.add(reloadPersons(a.getString(0), List.of(a.getString(1), a.getString(2))));
    }
    return Future.all(work).<Void>mapEmpty().onComplete(ar -> count());
  }

  private Future<Void> reloadDays(String project, List<Object[]> keys) {
    String[] k = new String[keys.size()];
    Integer[] d = new Integer[keys.size()];
    for (int i = 0; i < k.length; i++) {
      k[i] = (String) keys.get(i)[0];
      d[i] = (Integer) keys.get(i)[1];
    }
    Tuple t = conv().addString(project).addArrayOfString(k).addArrayOfInteger(d);
    String days = "u.project_id = $2 AND (u.user_key, u.day - date '1970-01-01') IN "
        + "(SELECT * FROM unnest($3::text[], $4::int4[]))";
    String sess = "s.project_id = $1 AND (coalesce(s.user_id, s.anonymous_id), (s.started_at AT TIME ZONE 'UTC')::date"
        + " - date '1970-01-01') IN (SELECT * FROM unnest($2::text[], $3::int4[])) AND s.started_at >= "
        + "(date '1970-01-01' + (SELECT min(x) FROM unnest($3::int4[]) x))::timestamp AT TIME ZONE 'UTC' "
        + "AND s.started_at < (date '1970-01-01' + 1 + (SELECT max(x) FROM unnest($3::int4[]) x))::timestamp "
        + "AT TIME ZONE 'UTC'";
    return reload(project, daysSql(days), t, sessionsSql(sess), Tuple.of(project).addArrayOfString(k)
        .addArrayOfInteger(d), keys);
  }

  private Future<Void> reloadPersons(String project, List<String> persons) {
    String[] k = persons.toArray(String[]::new);
    Tuple t = conv().addString(project).addArrayOfString(k);
    String sess = "s.project_id = $1 AND (s.user_id = ANY($2) OR (s.user_id IS NULL AND s.anonymous_id = ANY($2)))";
    return reload(project, daysSql("u.project_id = $2 AND u.user_key = ANY($3)"), t, sessionsSql(sess),
        Tuple.of(project).addArrayOfString(k), persons.stream().map(p -> new Object[] {p, null}).toList());
  }

  /** Reads the given person-days (day null: every day of the person) and replaces them. */
  private Future<Void> reload(String project, String daysSql, Tuple daysArgs, String sessSql, Tuple sessArgs,
                              List<Object[]> keys) {
    SqlClient c = pool;
    Future<io.vertx.sqlclient.RowSet<Row>> days = c.preparedQuery(daysSql).execute(daysArgs);
    Future<io.vertx.sqlclient.RowSet<Row>> sess = c.preparedQuery(sessSql).execute(sessArgs);
    return Future.all(days, sess).map(v -> {
      Project p = projects.computeIfAbsent(project, x -> new Project());
      for (Object[] key : keys) {
        TreeMap<Integer, Day> person = p.persons.get((String) key[0]);
        if (person == null) {
          continue;
        }
        if (key[1] == null) {
          person.clear();
        } else {
          person.remove((Integer) key[1]);
        }
        if (person.isEmpty()) {
          p.persons.remove((String) key[0]);
        }
      }
      days.result().forEach(this::putDay);
      sess.result().forEach(this::putSessions);
      return null;
    });
  }

  // ------------------------------------------------------------------------------------------------ features

  /** One person's features over a window (the README's definitions; null where the SQL yields null). */
  static final class F {
    final String key;
    int lastDay = Integer.MIN_VALUE;
    long activeDays;
    long events;
    long sent;
    long msgs;
    long errors;
    long conversions;
    long sessions;
    double tokens;
    double cost;
    double revenue;
    double sessionMs;
    final BitSet features = new BitSet();
    final BitSet providers = new BitSet();
    final BitSet models = new BitSet();
    Map<Integer, Long> featureCounts;

    F(String key) {
      this.key = key;
    }
  }

  /** Features of every person with a rollup row in the days [a, b); the catalogue size is in {@code catalogue[0]}. */
  static Map<String, F> features(Project p, int a, int b, int[] catalogue) {
    Map<String, F> out = new HashMap<>();
    BitSet seen = new BitSet();
    for (Map.Entry<String, TreeMap<Integer, Day>> e : p.persons.entrySet()) {
      F f = null;
      for (Day d : e.getValue().subMap(a, b).values()) {
        if (d.events == 0) {
          continue; // sessions only (the session's events are on rollup rows of other keys): not active here
        }
        if (f == null) {
          f = new F(e.getKey());
        }
        f.activeDays++;
        f.events += d.events;
        f.sent += d.sent;
        f.msgs += d.msgs;
        f.errors += d.errors;
        f.conversions += d.conversions;
        f.tokens += d.tokens;
        f.cost += d.cost;
        f.revenue += d.revenue;
        for (int x : d.providers) {
          f.providers.set(x);
        }
        for (int x : d.models) {
          f.models.set(x);
        }
        for (int i = 0; i < d.features.length; i++) {
          f.features.set(d.features[i]);
          seen.set(d.features[i]);
          if (f.featureCounts == null) {
            f.featureCounts = new HashMap<>();
          }
          f.featureCounts.merge(d.features[i], d.featureCounts[i], Long::sum);
        }
      }
      if (f != null) {
        // sessions started in the window, including days without rollup rows of their own
        for (Map.Entry<Integer, Day> x : e.getValue().subMap(a, b).entrySet()) {
          f.sessions += x.getValue().sessions;
          f.sessionMs += x.getValue().sessionMs;
        }
        f.lastDay = e.getValue().subMap(a, b).entrySet().stream().filter(x -> x.getValue().events > 0)
            .mapToInt(Map.Entry::getKey).max().orElse(Integer.MIN_VALUE);
        out.put(e.getKey(), f);
      }
    }
    catalogue[0] = seen.cardinality();
    return out;
  }

  /** The value of a numeric field, or null where the SQL yields null (the condition then fails). */
  static Double value(F f, String field, int windowDays, int b, int catalogue, Dict features) {
    return switch (field) {
      case "last_activity_days" -> (double) ((b - 1) - f.lastDay);
      case "session_frequency" -> f.sessions / (windowDays / 7.0);
      case "messages_per_day" -> (double) f.sent / f.activeDays;
      case "session_duration" -> f.sessions == 0 ? null : f.sessionMs / f.sessions / 1000.0;
      case "usage_frequency" -> (double) f.activeDays;
      case "feature_adoption" -> catalogue > 0 ? (double) f.features.cardinality() / catalogue : 0.0;
      case "cost" -> f.cost;
      case "error_rate" -> f.sent > 0 ? (double) f.errors / f.sent : null;
      case "tokens_per_message" -> f.msgs > 0 ? f.tokens / f.msgs : null;
      case "events" -> (double) f.events;
      case "messages" -> (double) f.msgs;
      case "revenue" -> f.revenue;
      case "sessions" -> (double) f.sessions;
      case "tokens" -> f.tokens;
      default -> {
        String name = field.substring(PatternDef.FEATURE_RATE.length() + 1);
        Integer id = features.ids.get(name);
        long n = id == null || f.featureCounts == null ? 0 : f.featureCounts.getOrDefault(id, 0L);
        yield (double) n / f.events;
      }
    };
  }

  /** Whether person f matches p (conditions, weights, threshold, minOccurrences), as the SQL evaluates it. */
  static boolean matches(PatternDef p, F f, int windowDays, int b, int catalogue, Project proj) {
    double total = 0;
    double sat = 0;
    for (PatternDef.Condition c : p.conditions()) {
      total += c.weight();
      if (holds(c, f, windowDays, b, catalogue, proj)) {
        sat += c.weight();
      }
    }
    double occ = switch (p.aggregation()) {
      case "count" -> f.events;
      case "sum" -> f.sent;
      case "average" -> (double) f.events / f.activeDays;
      default -> f.activeDays;
    };
    return sat / total >= p.threshold() - 1e-9 && occ >= p.minOccurrences();
  }

  private static boolean holds(PatternDef.Condition c, F f, int windowDays, int b, int catalogue, Project p) {
    if (PatternDef.ARRAYS.contains(c.field())) {
      BitSet set;
      Dict dict;
      switch (c.field()) {
        case "providers" -> {
          set = f.providers;
          dict = p.providers;
        }
        case "models" -> {
          set = f.models;
          dict = p.models;
        }
        default -> {
          set = f.features;
          dict = p.features;
        }
      }
      return switch (c.operator()) {
        case "in", "not_in" -> {
          boolean any = false;
          for (Object v : (JsonArray) c.value()) {
            Integer id = dict.ids.get(String.valueOf(v));
            any |= id != null && set.get(id);
          }
          yield c.operator().equals("in") == any;
        }
        case "ne" -> {
          Integer id = dict.ids.get((String) c.value());
          yield id == null || !set.get(id);
        }
        default -> {
          Integer id = dict.ids.get((String) c.value());
          yield id != null && set.get(id);
        }
      };
    }
    Double x = value(f, c.field(), windowDays, b, catalogue, p.features);
    if (x == null) {
      return false;
    }
    double v;
    if (c.operator().equals("in") || c.operator().equals("not_in")) {
      boolean any = false;
      for (Object o : (JsonArray) c.value()) {
        any |= ((Number) o).doubleValue() == x;
      }
      return c.operator().equals("in") == any;
    }
    v = ((Number) c.value()).doubleValue();
    return switch (c.operator()) {
      case "eq" -> x == v;
      case "ne" -> x != v;
      case "gt" -> x > v;
      case "gte" -> x >= v;
      case "lt" -> x < v;
      default -> x <= v;
    };
  }

  /** The persons of {@code window} in the top decile by messages sent (percentile_disc(0.9), above 0). */
  static Set<String> topDecile(Map<String, F> window) {
    if (window.isEmpty()) {
      return Set.of();
    }
    long[] sent = window.values().stream().mapToLong(f -> f.sent).sorted().toArray();
    long p90 = sent[(int) Math.ceil(0.9 * sent.length) - 1];
    Set<String> out = new HashSet<>();
    window.values().forEach(f -> {
      if (f.sent > 0 && f.sent >= p90) {
        out.add(f.key);
      }
    });
    return out;
  }
}
