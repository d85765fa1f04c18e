package io.tally.index;

import io.tally.config.TallyConfig;
import io.tally.derive.DerivedChange;
import io.tally.derive.DerivedFlush;
import io.tally.derive.DerivedRewrite;
import io.tally.derive.PersonDayDeltas;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The pattern engine's per-person features in memory: for each person and UTC day, the sums the feature SQL reads
 * ({@code user_daily} grouped by person-day, and the sessions started that day). Loaded by SQL at start in one
 * repeatable-read transaction; every flush then hands over exactly what its statement added to each person-day
 * ({@link PersonDayDeltas}), which is added here without reading anything back. Identity merges re-read both
 * persons. The load and each re-read note their snapshot, and a flush that snapshot already saw (told by its
 * transaction id) is not added again, so the index holds what the SQL path would compute. Window features and
 * pattern matches are then sums over a few records per person instead of a scan of millions of rollup rows. Used
 * from the query verticle's context only (a worker context: one handler at a time, never an event loop).
 */
public final class PatternIndex {
  private static final Logger LOG = LoggerFactory.getLogger(PatternIndex.class);

  private final Pool pool;
  private final List<String> conversionTypes;
  private final Map<String, PatternProject> projects = new HashMap<>();
  private boolean ready;
  private List<DerivedChange> pending = new ArrayList<>();
  private volatile long personDays;

  public PatternIndex(Pool pool, List<String> conversionTypes) {
    this(pool, conversionTypes, TallyConfig.Query.DEFAULTS.patternIndexBulkThreshold());
  }

  public PatternIndex(Pool pool, List<String> conversionTypes, int bulkThreshold) {
    this.pool = pool;
    this.conversionTypes = conversionTypes;
    this.small = bulkThreshold;
  }

  /** The project's index, or null while loading. */
  public PatternProject project(String id) {
    return ready ? projects.computeIfAbsent(id, k -> new PatternProject()) : null;
  }

  public long personDays() {
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
    PatternProject p = projects.computeIfAbsent(r.getString(0), k -> new PatternProject());
    PatternProject.Day d = p.day(r.getString(1), r.getInteger(2));
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
    d.featureCounts = d.features.length == 0 ? PatternProject.NO_COUNTS : new long[d.features.length];
    for (int i = 0; i < d.features.length; i++) {
      d.featureCounts[i] = counts[i];
    }
  }

  private static int[] ids(PatternProject.Dict dict, String[] names) {
    if (names == null || names.length == 0) {
      return PatternProject.NO_IDS;
    }
    int[] out = new int[names.length];
    for (int i = 0; i < names.length; i++) {
      out[i] = dict.id(names[i]);
    }
    return out;
  }

  private void putSessions(Row r) {
    PatternProject p = projects.computeIfAbsent(r.getString(0), k -> new PatternProject());
    PatternProject.Day d = p.day(r.getString(1), r.getInteger(2));
    p.cols.remove(r.getInteger(2));
    d.sessions = r.getLong(3);
    d.sessionMs = r.getDouble(4);
  }

  private Tuple conv() {
    return Tuple.tuple().addArrayOfString(conversionTypes.toArray(String[]::new));
  }

  /** Test hook: runs (on the index's context) between a read's snapshot and its statements. */
  java.util.function.Supplier<Future<Void>> afterSnapshot;

  /** One statement of a read, and what to do with each row it returns once the read succeeded. */
  private record Statement(Function<SqlConnection, Future<RowSet<Row>>> run, java.util.function.Consumer<Row> put) {}

  /** What a read returned (one row set per statement, in order), with the snapshot it saw. */
  private record Read(EventTimeline.Snapshot snapshot, List<Statement> statements, List<RowSet<Row>> results) {
    void put() {
      for (int i = 0; i < results.size(); i++) {
        results.get(i).forEach(statements.get(i).put());
      }
    }
  }

  /** Runs the statements in one repeatable-read, read-only transaction and notes its snapshot. */
  private Future<Read> read(List<Statement> statements, boolean noTimeout) {
    List<RowSet<Row>> results = new ArrayList<>();
    return pool.getConnection().compose(c -> c.begin().compose(tx -> c.query(
                "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute()
            .compose(v -> noTimeout ? c.query("SET LOCAL statement_timeout = 0").execute().mapEmpty()
                : Future.succeededFuture())
            .compose(v -> c.query("SELECT pg_current_snapshot()::text").execute())
            .compose(snap -> {
              Future<Void> chain = afterSnapshot == null ? Future.succeededFuture() : afterSnapshot.get();
              for (Statement st : statements) {
                chain = chain.compose(v -> st.run().apply(c).map(r -> {
                  results.add(r);
                  return null;
                }));
              }
              return chain.map(v -> new Read(EventTimeline.Snapshot.parse(snap.iterator().next().getString(0)),
                  statements, results));
            })
            .eventually(tx::rollback))
        .eventually(c::close));
  }

  /**
   * Loads everything stored (one snapshot), then adds what the flushes notified meanwhile added, unless the snapshot
   * already saw them.
   */
  public Future<Void> load() {
    long start = System.currentTimeMillis();
    return read(List.of(new Statement(c -> c.preparedQuery(daysSql("true")).execute(conv()), this::putDay),
            new Statement(c -> c.query(sessionsSql("true")).execute(), this::putSessions)), true)
        .<Void>map(r -> {
          r.put();
          ready = true;
          guards.add(new Guard(r.snapshot(), null));
          List<DerivedChange> replay = pending;
          pending = null;
          replay.forEach(this::apply);
          // the day columns windows read, built now rather than by the first detection
          for (PatternProject p : projects.values()) {
            p.byDay.forEach((day, records) -> p.cols.computeIfAbsent(day, k -> new PatternProject.Cols(records.values())));
          }
          count();
          LOG.info("pattern index loaded: {} person-days ({} ms)", personDays, System.currentTimeMillis() - start);
          return null;
        })
        // not loaded: patterns stay on SQL, and the notices kept for the replay would only pile up
        .onFailure(err -> pending = null);
  }

  /** A project's records, one line per person-day in key order (tests compare indexes with it). */
  String describe(String project) {
    PatternProject p = projects.get(project);
    if (p == null) {
      return "";
    }
    StringBuilder out = new StringBuilder();
    new TreeMap<>(p.persons).forEach((person, days) -> days.forEach((day, d) -> {
      TreeMap<String, Long> feats = new TreeMap<>();
      for (int i = 0; i < d.features.length; i++) {
        feats.put(p.features.names.get(d.features[i]), d.featureCounts[i]);
      }
      out.append(person).append(' ').append(day).append(": events ").append(d.events).append(" sent ").append(d.sent)
          .append(" msgs ").append(d.msgs).append(" errors ").append(d.errors).append(" conv ").append(d.conversions)
          .append(" sessions ").append(d.sessions).append(" tokens ").append(d.tokens).append(" cost ").append(d.cost)
          .append(" revenue ").append(d.revenue).append(" sessionMs ").append(d.sessionMs)
          .append(" providers ").append(names(p.providers, d.providers)).append(" models ")
          .append(names(p.models, d.models)).append(" features ").append(feats).append('\n');
    }));
    return out.toString();
  }

  private static java.util.TreeSet<String> names(PatternProject.Dict dict, int[] ids) {
    java.util.TreeSet<String> out = new java.util.TreeSet<>();
    for (int id : ids) {
      out.add(dict.names.get(id));
    }
    return out;
  }

  private void count() {
    long n = 0;
    for (PatternProject p : projects.values()) {
      n += p.size;
    }
    personDays = n;
  }

  /**
   * A snapshot a read of the index took (the load's: every person; a re-read's: its persons): additions from a flush
   * it saw are already in what it read.
   */
  private record Guard(EventTimeline.Snapshot snapshot, Map<String, Set<String>> persons) {
    boolean covers(String project, String person) {
      return persons == null || holds(persons, project, person);
    }
  }

  private static boolean holds(Map<String, Set<String>> persons, String project, String person) {
    Set<String> s = persons.get(project);
    return s != null && s.contains(person);
  }

  /** Reads whose snapshot may have seen flushes not notified yet. */
  private final List<Guard> guards = new ArrayList<>();
  /** Persons being re-read now (per project), and the flushes notified meanwhile (their rows for those persons wait). */
  private Map<String, Set<String>> reading;
  private final List<PersonDayDeltas> held = new ArrayList<>();
  private final List<String[]> deletedWhileReading = new ArrayList<>();

  /** Persons waiting to be re-read (identity merges), per project, and the callers waiting for them. */
  private Map<String, Set<String>> queued = new HashMap<>();
  private List<Promise<Void>> waiting = new ArrayList<>();
  /** True while a re-read runs, and during the pause before the next one (bulk pacing, retry after a failure). */
  private boolean reloading;
  /** {@link #queuedPersons()} as of the last change, for the metrics scrape. */
  private volatile long queuedGauge;
  private int failures;
  private static final int CHUNK = 5_000;
  /** Up to this many queued persons are re-read at once, without waiting ({@code query.patternIndexBulkThreshold}). */
  private final int small;
  private volatile long bulkReads;
  /**
   * Beyond that: one re-read of at most PER_READ persons every BIG_EVERY_MS, or three times as long as the last such
   * re-read took (so re-reads hold at most a quarter of one connection's time while the writer is busy).
   */
  private static final int PER_READ = 10_000;
  private static final long BIG_EVERY_MS = 10_000;
  private long lastBig;
  private long lastBigMs;

  /**
   * Applies a notice: adds what a flush added to each person-day (exactly the sums its statement wrote, so the index
   * holds what the SQL would compute without reading anything back), queues both persons of an identity merge for a
   * re-read, drops deleted persons. The future completes when the index reflects the notice (at once, unless persons
   * are re-read; the caller drops cached answers again then). A failed re-read (a timeout, the database gone) is
   * retried with backoff, so the index never keeps a stale person.
   */
  public Future<Void> apply(DerivedChange change) {
    if (!ready) {
      if (pending != null) {
        pending.add(change);
      }
      return Future.succeededFuture();
    }
    if (change instanceof DerivedFlush f && f.personDays() != null) {
      add(f.personDays());
    }
    List<DerivedRewrite.IdentityMerge> merges = change instanceof DerivedRewrite r ? r.merges() : List.of();
    for (DerivedRewrite.IdentityMerge m : merges) {
      Set<String> persons = queued.computeIfAbsent(m.project(), k -> new HashSet<>());
      persons.add(m.from());
      persons.add(m.to());
    }
    // a deleted person (DELETE /v1/users/{id}): every id of theirs
    List<DerivedRewrite.PersonKey> deleted = change instanceof DerivedRewrite r ? r.deleted() : List.of();
    for (DerivedRewrite.PersonKey k : deleted) {
      projects.computeIfAbsent(k.project(), x -> new PatternProject()).remove(k.person(), null);
      if (reading != null) {
        deletedWhileReading.add(new String[] {k.project(), k.person()});
      }
    }
    count();
    if (merges.isEmpty()) {
      return Future.succeededFuture();
    }
    Promise<Void> done = Promise.promise();
    waiting.add(done);
    drain();
    queuedGauge = queuedPersons();
    return done.future();
  }

  /** Adds a flush's person-day sums, except for persons whose last read already saw that flush. */
  private void add(PersonDayDeltas d) {
    // a snapshot that did not see this flush sees no later one either (flushes commit one after another, and their
    // notices arrive in that order): its guard has done its work
    guards.removeIf(g -> !g.snapshot().sees(d.xid));
    if (reading != null) {
      held.add(d);
    }
    add(d, (project, person) -> !skip(project, person));
  }

  /** Adds the rows of the persons {@code take} accepts. */
  private void add(PersonDayDeltas d, java.util.function.BiPredicate<String, String> take) {
    for (int i = 0; i < d.rows(); i++) {
      if (take.test(d.project[i], d.person[i])) {
        addRollup(d, i);
      }
    }
    for (int i = 0; i < d.sessionRows(); i++) {
      if (take.test(d.sProject[i], d.sPerson[i])) {
        addSessions(d, i);
      }
    }
  }

  private boolean skip(String project, String person) {
    for (Guard g : guards) {
      if (g.covers(project, person)) {
        return true;
      }
    }
    return reading != null && holds(reading, project, person);
  }

  private static boolean message(String type) {
    return "message_sent".equals(type) || "message_received".equals(type);
  }

  /** One per-person rollup row added to its person-day, as the feature SQL ({@link #daysSqlOf}) sums it. */
  private void addRollup(PersonDayDeltas d, int i) {
    PatternProject p = projects.computeIfAbsent(d.project[i], k -> new PatternProject());
    int day = d.day[i];
    PatternProject.Day r = p.day(d.person[i], day);
    p.cols.remove(day);
    String type = d.type[i];
    long n = d.events[i];
    r.events += n;
    boolean msg = message(type);
    if ("message_sent".equals(type)) {
      r.sent += n;
    }
    if (msg) {
      r.msgs += n;
      r.tokens += d.tokens[i];
      r.cost += d.cost[i];
      if (!d.provider[i].isEmpty()) {
        r.providers = with(r.providers, p.providers.id(d.provider[i]));
      }
      if (!d.model[i].isEmpty()) {
        r.models = with(r.models, p.models.id(d.model[i]));
      }
    }
    if ("error".equals(type)) {
      r.errors += n;
    }
    if (conversionTypes.contains(type)) {
      r.conversions += n;
    }
    if ("payment".equals(type)) {
      r.revenue += d.amount[i];
    }
    String feat = switch (type) {
      case "feature_used" -> d.feature[i].isEmpty() ? null : d.feature[i];
      case "message_sent" -> "chat";
      case "share_created" -> "share";
      case "export_generated" -> "export";
      case "customization_made" -> "settings";
      default -> null;
    };
    if (feat != null) {
      int id = p.features.id(feat);
      int at = indexOf(r.features, id);
      if (at < 0) {
        r.features = java.util.Arrays.copyOf(r.features, r.features.length + 1);
        r.features[r.features.length - 1] = id;
        r.featureCounts = java.util.Arrays.copyOf(r.featureCounts, r.featureCounts.length + 1);
        at = r.features.length - 1;
      }
      r.featureCounts[at] += n;
    }
  }

  /** Sessions started on a person-day added (or, for a session whose start or person moved, taken away). */
  private void addSessions(PersonDayDeltas d, int i) {
    PatternProject p = projects.computeIfAbsent(d.sProject[i], k -> new PatternProject());
    int day = d.sDay[i];
    PatternProject.Day r = p.day(d.sPerson[i], day);
    p.cols.remove(day);
    r.sessions += d.sessions[i];
    r.sessionMs += d.sessionMs[i];
    if (r.sessions == 0 && r.events == 0) {
      // neither a rollup row nor a session left: the SQL has no record for this person-day
      p.remove(d.sPerson[i], day);
    }
  }

  private static int indexOf(int[] ids, int id) {
    for (int k = 0; k < ids.length; k++) {
      if (ids[k] == id) {
        return k;
      }
    }
    return -1;
  }

  private static int[] with(int[] ids, int id) {
    if (indexOf(ids, id) >= 0) {
      return ids;
    }
    int[] out = java.util.Arrays.copyOf(ids, ids.length + 1);
    out[ids.length] = id;
    return out;
  }

  /** Number of persons queued for re-reading (0 when the index is current). */
  public int queuedPersons() {
    return queued.values().stream().mapToInt(Set::size).sum();
  }

  /** Re-reads made in bulk mode (more than the threshold queued), readable from any thread. */
  public long bulkReads() {
    return bulkReads;
  }

  /** The same, readable from any thread (the metrics scrape). */
  public long queuedGauge() {
    return queuedGauge;
  }

  private void drain() {
    if (reloading || queued.isEmpty()) {
      return;
    }
    int queuedNow = queuedPersons();
    long now = System.currentTimeMillis();
    Context ctx = Vertx.currentContext();
    long next = lastBig + Math.max(BIG_EVERY_MS, 3 * lastBigMs);
    if (queuedNow > small && now < next && ctx != null) {
      // many merges at once: re-read at most PER_READ persons per pause (each costs index probes in PostgreSQL,
      // which the writer's statements wait behind); the index lags meanwhile
      // (analytics_pattern_index_queued_person_days says by how much)
      drainAfter(ctx, next - now);
      return;
    }
    boolean big = queuedNow > small;
    if (big) {
      lastBig = now;
      bulkReads++;
      LOG.info("pattern index: bulk re-read of {} of {} queued persons", Math.min(queuedNow, PER_READ), queuedNow);
    }
    reloading = true;
    Map<String, Set<String>> batch = QueuedPersons.take(queued, PER_READ);
    // callers are told after this re-read even when part of the queue waits for the next one
    List<Promise<Void>> done = waiting;
    waiting = new ArrayList<>();
    queuedGauge = queuedPersons();
    reading = batch;
    read(rereads(batch), false).onComplete(ar -> {
      List<PersonDayDeltas> meanwhile = new ArrayList<>(held);
      held.clear();
      reading = null;
      if (big) {
        lastBigMs = System.currentTimeMillis() - now;
      }
      if (ar.succeeded()) {
        reread(batch, ar.result(), meanwhile, done);
      } else {
        rereadFailed(batch, ar.cause(), done, ctx);
      }
    });
  }

  /** Marks the index reloading and drains again after {@code ms} (on {@code ctx}'s event loop). */
  private void drainAfter(Context ctx, long ms) {
    reloading = true;
    ctx.owner().setTimer(ms, id -> {
      reloading = false;
      drain();
    });
  }

  /** The statements re-reading the batch's persons: their days and their sessions, CHUNK persons a statement. */
  private List<Statement> rereads(Map<String, Set<String>> batch) {
    List<Statement> statements = new ArrayList<>();
    batch.forEach((project, persons) -> {
      List<String> list = new ArrayList<>(persons);
      for (int i = 0; i < list.size(); i += CHUNK) {
        String[] k = list.subList(i, Math.min(list.size(), i + CHUNK)).toArray(String[]::new);
        statements.add(new Statement(c -> c.preparedQuery(daysSql("u.project_id = $2 AND u.user_key = ANY($3)"))
            .execute(conv().addString(project).addArrayOfString(k)), this::putDay));
        statements.add(new Statement(c -> c.preparedQuery(sessionsSql(
                "s.project_id = $1 AND (s.user_id = ANY($2) OR (s.user_id IS NULL AND s.anonymous_id = ANY($2)))"))
            .execute(Tuple.of(project).addArrayOfString(k)), this::putSessions));
      }
    });
    return statements;
  }

  /** Replaces the batch's persons by what was read, then drains what queued meanwhile. */
  private void reread(Map<String, Set<String>> batch, Read r, List<PersonDayDeltas> meanwhile,
                      List<Promise<Void>> done) {
    batch.forEach((project, persons) -> {
      PatternProject p = projects.computeIfAbsent(project, x -> new PatternProject());
      persons.forEach(person -> p.remove(person, null));
    });
    r.put();
    // what flushes notified during the read added for these persons, unless the read already saw it
    for (PersonDayDeltas d : meanwhile) {
      if (!r.snapshot().sees(d.xid)) {
        add(d, (project, person) -> holds(batch, project, person));
      }
    }
    guards.add(new Guard(r.snapshot(), batch));
    for (String[] gone : deletedWhileReading) {
      projects.computeIfAbsent(gone[0], x -> new PatternProject()).remove(gone[1], null);
    }
    deletedWhileReading.clear();
    count();
    failures = 0;
    done.forEach(Promise::complete);
    reloading = false;
    drain();
  }

  /** Queues the batch's persons again and retries later, backing off; its callers wait for the retry. */
  private void rereadFailed(Map<String, Set<String>> batch, Throwable cause, List<Promise<Void>> done, Context ctx) {
    // nothing read: these persons keep what was added so far (the flushes held meanwhile are committed, so the
    // retry, which starts after them, reads them)
    deletedWhileReading.clear();
    failures++;
    long delay = Math.min(30_000L, 250L << Math.min(failures, 7));
    int size = batch.values().stream().mapToInt(Set::size).sum();
    LOG.warn("pattern index: re-reading {} persons failed ({}); retrying in {} ms", size, cause.getMessage(), delay);
    batch.forEach((project, persons) -> queued.computeIfAbsent(project, k -> new HashSet<>()).addAll(persons));
    queuedGauge = queuedPersons();
    done.addAll(waiting);
    waiting = done;
    if (ctx == null) {
      reloading = false;
      return;
    }
    drainAfter(ctx, delay);
  }
}
