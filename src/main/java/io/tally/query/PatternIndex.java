package io.tally.query;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
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
import java.util.Iterator;
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
 * from the query verticle's context only (a worker context: one handler at a time, never an event loop).
 */
final class PatternIndex {
  private static final Logger LOG = LoggerFactory.getLogger(PatternIndex.class);
  private static final int[] NO_IDS = new int[0];
  private static final long[] NO_COUNTS = new long[0];

  /** One person-day. */
  static final class Day {
    int pid;
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
    // shared empty arrays: most person-days use no feature, provider or model (16 bytes each saved per record)
    int[] features = NO_IDS;
    long[] featureCounts = NO_COUNTS;
    int[] providers = NO_IDS;
    int[] models = NO_IDS;
  }

  /** One day's records as columns (sets as CSR: the ids of record i are at [off[i], off[i + 1])). */
  static final class Cols {
    final int n;
    final int[] pid;
    final long[] events;
    final long[] sent;
    final long[] msgs;
    final long[] errors;
    final long[] conv;
    final long[] sessions;
    final double[] tokens;
    final double[] cost;
    final double[] revenue;
    final double[] sessionMs;
    final int[] featOff;
    final int[] featId;
    final long[] featCount;
    final int[] provOff;
    final int[] provId;
    final int[] modelOff;
    final int[] modelId;

    Cols(java.util.Collection<Day> days) {
      n = days.size();
      pid = new int[n];
      events = new long[n];
      sent = new long[n];
      msgs = new long[n];
      errors = new long[n];
      conv = new long[n];
      sessions = new long[n];
      tokens = new double[n];
      cost = new double[n];
      revenue = new double[n];
      sessionMs = new double[n];
      featOff = new int[n + 1];
      provOff = new int[n + 1];
      modelOff = new int[n + 1];
      int nf = 0;
      int np = 0;
      int nm = 0;
      for (Day d : days) {
        nf += d.features.length;
        np += d.providers.length;
        nm += d.models.length;
      }
      featId = new int[nf];
      featCount = new long[nf];
      provId = new int[np];
      modelId = new int[nm];
      int i = 0;
      nf = 0;
      np = 0;
      nm = 0;
      for (Day d : days) {
        pid[i] = d.pid;
        events[i] = d.events;
        sent[i] = d.sent;
        msgs[i] = d.msgs;
        errors[i] = d.errors;
        conv[i] = d.conversions;
        sessions[i] = d.sessions;
        tokens[i] = d.tokens;
        cost[i] = d.cost;
        revenue[i] = d.revenue;
        sessionMs[i] = d.sessionMs;
        featOff[i] = nf;
        for (int k = 0; k < d.features.length; k++) {
          featId[nf] = d.features[k];
          featCount[nf++] = d.featureCounts[k];
        }
        provOff[i] = np;
        for (int v : d.providers) {
          provId[np++] = v;
        }
        modelOff[i] = nm;
        for (int v : d.models) {
          modelId[nm++] = v;
        }
        i++;
      }
      featOff[n] = nf;
      provOff[n] = np;
      modelOff[n] = nm;
    }
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
    /** The same records by day: a window's features read only its days. */
    final TreeMap<Integer, HashMap<String, Day>> byDay = new TreeMap<>();
    /** Column snapshots of whole days, built on first use and dropped when a record of the day changes. */
    final HashMap<Integer, Cols> cols = new HashMap<>();
    /** Dense person numbers (never reused). */
    final Map<String, Integer> ids = new HashMap<>();
    final List<String> keys = new ArrayList<>();

    int pid(String person) {
      return ids.computeIfAbsent(person, k -> {
        keys.add(k);
        return keys.size() - 1;
      });
    }

    Day day(String person, int day) {
      return persons.computeIfAbsent(person, k -> new TreeMap<>()).computeIfAbsent(day, k -> {
        Day d = new Day();
        d.pid = pid(person);
        byDay.computeIfAbsent(k, x -> new HashMap<>()).put(person, d);
        cols.remove(k);
        return d;
      });
    }

    void remove(String person, Integer day) {
      TreeMap<Integer, Day> days = persons.get(person);
      if (days == null) {
        return;
      }
      for (Integer d : day == null ? new ArrayList<>(days.keySet()) : List.of(day)) {
        if (days.remove(d) != null) {
          cols.remove(d);
          HashMap<String, Day> m = byDay.get(d);
          m.remove(person);
          if (m.isEmpty()) {
            byDay.remove(d);
          }
        }
      }
      if (days.isEmpty()) {
        persons.remove(person);
      }
    }
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
    return daysSqlOf("SELECT * FROM user_daily u WHERE " + where);
  }

  /** Person-day sums of the user_daily rows {@code rows} selects. */
  private static String daysSqlOf(String rows) {
    String msg = "type IN ('message_sent', 'message_received')";
    return "WITH r AS (" + rows + "), "
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
    return sessionsSqlOf("SELECT * FROM sessions s WHERE " + where);
  }

  /** Sessions started per person-day among the session rows {@code rows} selects. */
  private static String sessionsSqlOf(String rows) {
    return "SELECT project_id, coalesce(user_id, anonymous_id), (started_at AT TIME ZONE 'UTC')::date - date "
        + "'1970-01-01', count(*), coalesce(sum(duration_ms), 0)::float8 FROM (" + rows + ") s "
        + "WHERE coalesce(user_id, anonymous_id) IS NOT NULL GROUP BY 1, 2, 3";
  }

  private void putDay(Row r) {
    Project p = projects.computeIfAbsent(r.getString(0), k -> new Project());
    Day d = p.day(r.getString(1), r.getInteger(2));
    p.cols.remove(r.getInteger(2));
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
    d.featureCounts = d.features.length == 0 ? NO_COUNTS : new long[d.features.length];
    for (int i = 0; i < d.features.length; i++) {
      d.featureCounts[i] = counts[i];
    }
  }

  private static int[] ids(Dict dict, String[] names) {
    if (names == null || names.length == 0) {
      return NO_IDS;
    }
    int[] out = new int[names.length];
    for (int i = 0; i < names.length; i++) {
      out[i] = dict.id(names[i]);
    }
    return out;
  }

  private void putSessions(Row r) {
    Project p = projects.computeIfAbsent(r.getString(0), k -> new Project());
    Day d = p.day(r.getString(1), r.getInteger(2));
    p.cols.remove(r.getInteger(2));
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
          // the day columns windows read, built now rather than by the first detection
          for (Project p : projects.values()) {
            p.byDay.forEach((day, records) -> p.cols.computeIfAbsent(day, k -> new Cols(records.values())));
          }
          LOG.info("pattern index loaded: {} person-days ({} ms)", personDays, System.currentTimeMillis() - start);
          return null;
        });
  }

  private void count() {
    personDays = projects.values().stream().mapToLong(p -> p.persons.values().stream().mapToLong(TreeMap::size).sum())
        .sum();
  }

  /** A person-day to re-read; day null: every day of the person. */
  private record Key(String person, Integer day) {}

  /** Person-days waiting to be re-read, per project, and the callers waiting for them. */
  private Map<String, Set<Key>> queued = new HashMap<>();
  private List<Promise<Void>> waiting = new ArrayList<>();
  /** True while a re-read runs, and during the pause before the next one (bulk pacing, retry after a failure). */
  private boolean reloading;
  /** {@link #queuedPersonDays()} as of the last change, for the metrics scrape. */
  private volatile long queuedGauge;
  private int failures;
  private static final int CHUNK = 5_000;
  /**
   * Up to this many queued person-days are re-read at once, without waiting (system property
   * {@code tally.patternIndex.bulkThreshold}, read at start: a tuning and test knob).
   */
  private final int small = Integer.getInteger("tally.patternIndex.bulkThreshold", 2_000);
  private volatile long bulkReads;
  /**
   * Beyond that: one re-read of at most PER_READ person-days every BIG_EVERY_MS, or three times as long as the last
   * such re-read took (so re-reads hold at most a quarter of one connection's time while the writer is busy).
   */
  private static final int PER_READ = 10_000;
  private static final long BIG_EVERY_MS = 10_000;
  private long lastBig;
  private long lastBigMs;

  /**
   * Queues the person-days a flush changed and the persons an identity merge touched for re-reading; completes when
   * the index holds them (the caller drops cached answers again then). One re-read runs at a time and takes every
   * person-day queued meanwhile (under a bulk load many flushes share one statement); a failed one (a timeout, the
   * database gone) is retried with backoff, so the index never keeps a stale person-day.
   */
  Future<Void> apply(JsonObject notice) {
    if (!ready) {
      if (pending != null) {
        pending.add(notice);
      }
      return Future.succeededFuture();
    }
    boolean any = false;
    for (Object o : notice.getJsonArray("personDays", new JsonArray())) {
      JsonArray a = (JsonArray) o;
      queued.computeIfAbsent(a.getString(0), k -> new HashSet<>()).add(new Key(a.getString(1), a.getInteger(2)));
      any = true;
    }
    for (Object o : notice.getJsonArray("merges", new JsonArray())) {
      JsonArray a = (JsonArray) o;
      Set<Key> keys = queued.computeIfAbsent(a.getString(0), k -> new HashSet<>());
      keys.add(new Key(a.getString(1), null));
      keys.add(new Key(a.getString(2), null));
      any = true;
    }
    // a deleted person (DELETE /v1/users/{id}): every id of theirs
    for (Object o : notice.getJsonArray("deleted", new JsonArray())) {
      JsonArray a = (JsonArray) o;
      projects.computeIfAbsent(a.getString(0), k -> new Project()).remove(a.getString(1), null);
    }
    if (!any) {
      count();
      return Future.succeededFuture();
    }
    Promise<Void> done = Promise.promise();
    waiting.add(done);
    drain();
    queuedGauge = queuedPersonDays();
    return done.future();
  }

  /** Number of person-days queued for re-reading (0 when the index is current). */
  int queuedPersonDays() {
    return queued.values().stream().mapToInt(Set::size).sum();
  }

  /** Re-reads made in bulk mode (more than the threshold queued), readable from any thread. */
  long bulkReads() {
    return bulkReads;
  }

  /** The same, readable from any thread (the metrics scrape). */
  long queuedGauge() {
    return queuedGauge;
  }

  private void drain() {
    if (reloading || queued.isEmpty()) {
      return;
    }
    int queuedNow = queuedPersonDays();
    long now = System.currentTimeMillis();
    Context ctx = Vertx.currentContext();
    long next = lastBig + Math.max(BIG_EVERY_MS, 3 * lastBigMs);
    if (queuedNow > small && now < next && ctx != null) {
      // a bulk load: re-read at most PER_READ person-days per pause (each costs two index probes in PostgreSQL, and
      // re-reading them as fast as they came cut the writer's highest rate by more than half); the index lags
      // meanwhile (analytics_pattern_index_queued_person_days says by how much)
      reloading = true;
      ctx.owner().setTimer(next - now, id -> {
        reloading = false;
        drain();
      });
      return;
    }
    boolean big = queuedNow > small;
    if (big) {
      lastBig = now;
      bulkReads++;
      LOG.info("pattern index: bulk load, re-reading {} of {} queued person-days", Math.min(queuedNow, PER_READ),
          queuedNow);
    }
    reloading = true;
    Map<String, Set<Key>> batch = new HashMap<>();
    int taken = 0;
    for (Iterator<Map.Entry<String, Set<Key>>> pit = queued.entrySet().iterator(); pit.hasNext()
        && taken < PER_READ; ) {
      Map.Entry<String, Set<Key>> e = pit.next();
      Set<Key> into = batch.computeIfAbsent(e.getKey(), k -> new HashSet<>());
      for (Iterator<Key> kit = e.getValue().iterator(); kit.hasNext() && taken < PER_READ; taken++) {
        into.add(kit.next());
        kit.remove();
      }
      if (e.getValue().isEmpty()) {
        pit.remove();
      }
    }
    // callers are told after this re-read even when part of the queue waits for the next one: under a bulk load
    // the flushes keep dropping cached answers anyway
    List<Promise<Void>> done = waiting;
    waiting = new ArrayList<>();
    queuedGauge = queuedPersonDays();
    List<Future<Void>> work = new ArrayList<>();
    int size = batch.values().stream().mapToInt(Set::size).sum();
    batch.forEach((project, keys) -> {
      List<Key> days = new ArrayList<>();
      List<Key> persons = new ArrayList<>();
      for (Key k : keys) {
        (k.day() == null ? persons : days).add(k);
      }
      for (int i = 0; i < days.size(); i += CHUNK) {
        work.add(reloadDays(project, days.subList(i, Math.min(days.size(), i + CHUNK))));
      }
      for (int i = 0; i < persons.size(); i += CHUNK) {
        work.add(reloadPersons(project, persons.subList(i, Math.min(persons.size(), i + CHUNK))));
      }
    });
    Future.all(work).onComplete(ar -> {
      count();
      if (big) {
        lastBigMs = System.currentTimeMillis() - now;
      }
      if (ar.succeeded()) {
        failures = 0;
        done.forEach(Promise::complete);
        reloading = false;
        drain();
        return;
      }
      failures++;
      long delay = Math.min(30_000L, 250L << Math.min(failures, 7));
      LOG.warn("pattern index: re-reading {} person-days failed ({}); retrying in {} ms", size,
          ar.cause().getMessage(), delay);
      batch.forEach((project, keys) -> queued.computeIfAbsent(project, k -> new HashSet<>()).addAll(keys));
      queuedGauge = queuedPersonDays();
      done.addAll(waiting);
      waiting = done;
      if (ctx == null) {
        reloading = false;
        return;
      }
      ctx.owner().setTimer(delay, id -> {
        reloading = false;
        drain();
      });
    });
  }

  private Future<Void> reloadDays(String project, List<Key> keys) {
    String[] k = new String[keys.size()];
    Integer[] d = new Integer[keys.size()];
    for (int i = 0; i < k.length; i++) {
      k[i] = keys.get(i).person();
      d[i] = keys.get(i).day();
    }
    Tuple t = conv().addString(project).addArrayOfString(k).addArrayOfInteger(d);
    // one index probe per person-day (user_daily's primary key; sessions_project_user / sessions_project_anon): a tuple
    // IN (unnest) over coalesce(user_id, anonymous_id) scanned every session of the range instead, 14-24 s per
    // re-read under a bulk load, which slowed the writer's own statements
    String days = "SELECT u.* FROM unnest($3::text[], $4::int4[]) AS k(key, d) JOIN user_daily u "
        + "ON u.project_id = $2 AND u.user_key = k.key AND u.day = date '1970-01-01' + k.d";
    String range = "s.started_at >= (date '1970-01-01' + k.d)::timestamp AT TIME ZONE 'UTC' "
        + "AND s.started_at < (date '1970-01-01' + k.d + 1)::timestamp AT TIME ZONE 'UTC'";
    String sess = "SELECT s.* FROM unnest($2::text[], $3::int4[]) AS k(key, d) JOIN sessions s "
        + "ON s.project_id = $1 AND s.user_id = k.key AND " + range
        + " UNION ALL SELECT s.* FROM unnest($2::text[], $3::int4[]) AS k(key, d) JOIN sessions s "
        + "ON s.project_id = $1 AND s.user_id IS NULL AND s.anonymous_id = k.key AND " + range;
    return reload(project, daysSqlOf(days), t, sessionsSqlOf(sess), Tuple.of(project).addArrayOfString(k)
        .addArrayOfInteger(d), keys);
  }

  private Future<Void> reloadPersons(String project, List<Key> persons) {
    String[] k = persons.stream().map(Key::person).toArray(String[]::new);
    Tuple t = conv().addString(project).addArrayOfString(k);
    String sess = "s.project_id = $1 AND (s.user_id = ANY($2) OR (s.user_id IS NULL AND s.anonymous_id = ANY($2)))";
    return reload(project, daysSql("u.project_id = $2 AND u.user_key = ANY($3)"), t, sessionsSql(sess),
        Tuple.of(project).addArrayOfString(k), persons);
  }

  /** Reads the given person-days (day null: every day of the person) and replaces them. */
  private Future<Void> reload(String project, String daysSql, Tuple daysArgs, String sessSql, Tuple sessArgs,
                              List<Key> keys) {
    SqlClient c = pool;
    Future<io.vertx.sqlclient.RowSet<Row>> days = c.preparedQuery(daysSql).execute(daysArgs);
    Future<io.vertx.sqlclient.RowSet<Row>> sess = c.preparedQuery(sessSql).execute(sessArgs);
    return Future.all(days, sess).map(v -> {
      Project p = projects.computeIfAbsent(project, x -> new Project());
      for (Key key : keys) {
        p.remove(key.person(), key.day());
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
    final int id;
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
    /** Sets of ids as bit masks while their dictionary has at most 64 names, else as BitSets. */
    final long featMask;
    final long provMask;
    final long modelMask;
    final BitSet featBits;
    final BitSet provBits;
    final BitSet modelBits;
    long[] featureCounts;

    F(String key, int id, long featMask, long provMask, long modelMask, BitSet featBits, BitSet provBits,
      BitSet modelBits) {
      this.key = key;
      this.id = id;
      this.featMask = featMask;
      this.provMask = provMask;
      this.modelMask = modelMask;
      this.featBits = featBits;
      this.provBits = provBits;
      this.modelBits = modelBits;
    }

    private static boolean has(long mask, BitSet bits, int id) {
      return bits != null ? bits.get(id) : id < 64 && (mask & (1L << id)) != 0;
    }

    boolean hasFeature(int id) {
      return has(featMask, featBits, id);
    }

    boolean hasProvider(int id) {
      return has(provMask, provBits, id);
    }

    boolean hasModel(int id) {
      return has(modelMask, modelBits, id);
    }

    int featureCount() {
      return featBits != null ? featBits.cardinality() : Long.bitCount(featMask);
    }

    void forEachFeature(java.util.function.IntConsumer c) {
      if (featBits != null) {
        featBits.stream().forEach(c);
        return;
      }
      for (long m = featMask; m != 0; m &= m - 1) {
        c.accept(Long.numberOfTrailingZeros(m));
      }
    }
  }

  /** The features of a window: one entry per active person. */
  static final class Win {
    final Project project;
    final F[] byId;
    final List<F> list = new ArrayList<>();

    Win(Project project) {
      this.project = project;
      this.byId = new F[project.keys.size()];
    }

    F get(String key) {
      Integer id = project.ids.get(key);
      return id == null || id >= byId.length ? null : byId[id];
    }

    boolean containsKey(String key) {
      return get(key) != null;
    }

    List<F> values() {
      return list;
    }

    int size() {
      return list.size();
    }

    boolean isEmpty() {
      return list.isEmpty();
    }
  }

  /** Features of every person with a rollup row in the days [a, b); the catalogue size is in {@code catalogue[0]}. */
  static Win features(Project p, int a, int b, int[] catalogue) {
    Win out = new Win(p);
    int persons = out.byId.length;
    int[] activeDays = new int[persons];
    int[] lastDay = new int[persons];
    long[] events = new long[persons];
    long[] sent = new long[persons];
    long[] msgs = new long[persons];
    long[] errors = new long[persons];
    long[] conv = new long[persons];
    long[] sessions = new long[persons];
    double[] tokens = new double[persons];
    double[] cost = new double[persons];
    double[] revenue = new double[persons];
    double[] sessionMs = new double[persons];
    int dict = p.features.names.size();
    // feature counts per person: one flat array while it stays small, else one array per person using features
    boolean flat = (long) persons * dict <= 16_000_000L;
    long[] featCounts = flat ? new long[persons * Math.max(dict, 1)] : null;
    long[][] perPerson = flat ? null : new long[persons][];
    boolean masks = dict <= 64 && p.providers.names.size() <= 64 && p.models.names.size() <= 64;
    long[] featM = masks ? new long[persons] : null;
    long[] provM = masks ? new long[persons] : null;
    long[] modelM = masks ? new long[persons] : null;
    BitSet[] feats = masks ? null : new BitSet[persons];
    BitSet[] provs = masks ? null : new BitSet[persons];
    BitSet[] models = masks ? null : new BitSet[persons];
    BitSet seen = new BitSet();
    for (Map.Entry<Integer, HashMap<String, Day>> day : p.byDay.subMap(a, b).entrySet()) {
      int dayNo = day.getKey();
      Cols c = p.cols.computeIfAbsent(dayNo, k -> new Cols(day.getValue().values()));
      for (int i = 0; i < c.n; i++) {
        int id = c.pid[i];
        // sessions started in the window, including days without rollup rows of their own
        sessions[id] += c.sessions[i];
        sessionMs[id] += c.sessionMs[i];
        if (c.events[i] == 0) {
          continue;
        }
        activeDays[id]++;
        lastDay[id] = Math.max(lastDay[id], dayNo - a + 1);
        events[id] += c.events[i];
        sent[id] += c.sent[i];
        msgs[id] += c.msgs[i];
        errors[id] += c.errors[i];
        conv[id] += c.conv[i];
        tokens[id] += c.tokens[i];
        cost[id] += c.cost[i];
        revenue[id] += c.revenue[i];
        for (int k = c.featOff[i]; k < c.featOff[i + 1]; k++) {
          int f = c.featId[k];
          if (masks) {
            featM[id] |= 1L << f;
          } else {
            (feats[id] == null ? feats[id] = new BitSet() : feats[id]).set(f);
          }
          seen.set(f);
          if (flat) {
            featCounts[id * dict + f] += c.featCount[k];
          } else {
            (perPerson[id] == null ? perPerson[id] = new long[dict] : perPerson[id])[f] += c.featCount[k];
          }
        }
        for (int k = c.provOff[i]; k < c.provOff[i + 1]; k++) {
          if (masks) {
            provM[id] |= 1L << c.provId[k];
          } else {
            (provs[id] == null ? provs[id] = new BitSet() : provs[id]).set(c.provId[k]);
          }
        }
        for (int k = c.modelOff[i]; k < c.modelOff[i + 1]; k++) {
          if (masks) {
            modelM[id] |= 1L << c.modelId[k];
          } else {
            (models[id] == null ? models[id] = new BitSet() : models[id]).set(c.modelId[k]);
          }
        }
      }
    }
    for (int id = 0; id < persons; id++) {
      if (activeDays[id] == 0) {
        continue;
      }
      F f = masks ? new F(p.keys.get(id), id, featM[id], provM[id], modelM[id], null, null, null)
          : new F(p.keys.get(id), id, 0, 0, 0, feats[id] == null ? new BitSet() : feats[id],
              provs[id] == null ? new BitSet() : provs[id], models[id] == null ? new BitSet() : models[id]);
      f.activeDays = activeDays[id];
      f.lastDay = a - 1 + lastDay[id];
      f.events = events[id];
      f.sent = sent[id];
      f.msgs = msgs[id];
      f.errors = errors[id];
      f.conversions = conv[id];
      f.tokens = tokens[id];
      f.cost = cost[id];
      f.revenue = revenue[id];
      f.sessions = sessions[id];
      f.sessionMs = sessionMs[id];
      if (dict > 0) {
        f.featureCounts = flat ? java.util.Arrays.copyOfRange(featCounts, id * dict, id * dict + dict) : perPerson[id];
      }
      out.byId[id] = f;
      out.list.add(f);
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
      case "feature_adoption" -> catalogue > 0 ? (double) f.featureCount() / catalogue : 0.0;
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
        long n = id == null || f.featureCounts == null || id >= f.featureCounts.length ? 0 : f.featureCounts[id];
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
      java.util.function.IntPredicate set;
      Dict dict;
      switch (c.field()) {
        case "providers" -> {
          set = f::hasProvider;
          dict = p.providers;
        }
        case "models" -> {
          set = f::hasModel;
          dict = p.models;
        }
        default -> {
          set = f::hasFeature;
          dict = p.features;
        }
      }
      return switch (c.operator()) {
        case "in", "not_in" -> {
          boolean any = false;
          for (Object v : (JsonArray) c.value()) {
            Integer id = dict.ids.get(String.valueOf(v));
            any |= id != null && set.test(id);
          }
          yield c.operator().equals("in") == any;
        }
        case "ne" -> {
          Integer id = dict.ids.get((String) c.value());
          yield id == null || !set.test(id);
        }
        default -> {
          Integer id = dict.ids.get((String) c.value());
          yield id != null && set.test(id);
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
  static Set<String> topDecile(Win window) {
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
