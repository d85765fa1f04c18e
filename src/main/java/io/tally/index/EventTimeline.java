package io.tally.index;

import io.tally.config.TallyConfig;
import io.tally.derive.DerivedChange;
import io.tally.derive.DerivedRewrite;
import io.tally.event.Event;
import io.tally.schema.RollupDimension;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Every stored non-bot event, in memory, as one sorted {@link TimelineProject.Track} per person: event time (epoch ms) shifted left
 * 12 bits, or-ed with the event type's number in the project, and in parallel the number of the event's dimension
 * combination and of its session (16 bytes an event). Events without a person (a session id only) sit in one track
 * of their own, used only by figures over sessions and events. Ordered funnels, drop-off reasons, distinct persons
 * per minute, hour or value, and filtered usage (persons, sessions, uptime) are then passes over memory instead of
 * sorting millions of rows in PostgreSQL (a 30-day funnel over 10M events: 10.7 s in SQL).
 *
 * <p><b>Kept exact.</b> The writer hands each committed batch over ({@link #committed}, on its own context) with the
 * id of the transaction that stored it; the query verticle's worker context drains them. The load at start reads
 * the events table in one repeatable-read transaction and notes its snapshot; a batch drained later is skipped when
 * that snapshot already saw its transaction, so no event is counted twice or missed. The person of an event is the
 * one the events table holds: its user id, else the user its anonymous id was linked to (the {@code identities}
 * table, then each merge notice), else the anonymous id; a merge notice moves the anonymous id's history to the user,
 * as the identity merge does in SQL. A deleted person is forgotten; a retention run (history rewritten) reloads.
 *
 * <p>Bounded: past {@code query.timelineMaxEvents} events (default max heap ÷ 64, ~16 bytes each plus ~40 per session) or
 * 4,096 event types in a project, or while loading, {@link #project} answers null and callers use SQL.
 */
public final class EventTimeline {
  private static final Logger LOG = LoggerFactory.getLogger(EventTimeline.class);
  public static final int TYPE_BITS = 12;
  static final int MAX_TYPES = 1 << TYPE_BITS;
  public static final long TYPE_MASK = MAX_TYPES - 1;
  static final long[] EMPTY = new long[0];
  static final int[] NO_INTS = new int[0];

  /**
   * Events past which the index gives up (falls back to SQL) rather than grow the heap further: by default one per
   * 64 bytes of maximum heap (16 bytes an event and its share of the session table, plus room for array growth and
   * everything else Tally holds).
   */
  private final long maxEvents;
  /** Events handed over but not yet drained past which the hand-over stops and a reload is due. */
  private final long maxInbox;
  /**
   * A pause between starting to keep handed-over batches and taking the load's snapshot, so that a test can make
   * batches land in both (default 0).
   */
  private final long loadDelayMs;

  /** A committed batch: the columns the index needs, and the storing transaction's id. */
  private record Batch(long xid, String[] project, String[] user, String[] anon, String[] session, long[] ms,
                       String[] type, String[][] dims) {}

  /** The dimensions kept per event (a combination is stored once per project, events carry its number). */
  public static final int PROVIDER = 0;
  public static final int MODEL = 1;
  public static final int COUNTRY = 2;
  public static final int DEVICE = 3;
  public static final int BROWSER = 4;
  public static final int PAGE = 5;
  public static final int DIMS = 6;

  public static long ms(long v) {
    return v >> TYPE_BITS;
  }

  public static int type(long v) {
    return (int) (v & TYPE_MASK);
  }

  /** First index in a[lo, hi) with a[i] >= v. */
  static int lower(long[] a, int lo, int hi, long v) {
    while (lo < hi) {
      int m = (lo + hi) >>> 1;
      if (a[m] < v) {
        lo = m + 1;
      } else {
        hi = m;
      }
    }
    return lo;
  }

  /** First index in a[lo, hi) with a[i] > v. */
  public static int upper(long[] a, int lo, int hi, long v) {
    while (lo < hi) {
      int m = (lo + hi) >>> 1;
      if (a[m] <= v) {
        lo = m + 1;
      } else {
        hi = m;
      }
    }
    return lo;
  }

  private final Pool pool;
  private final ConcurrentLinkedQueue<Batch> inbox = new ConcurrentLinkedQueue<>();
  private final AtomicLong inboxEvents = new AtomicLong();
  private volatile boolean accepting = true;
  private Map<String, TimelineProject> projects = new HashMap<>();
  private boolean ready;
  private boolean loading;
  private boolean reloadDue;
  /** Merge / deletion notices received while loading, applied after it. */
  private List<DerivedRewrite> pending = new ArrayList<>();
  private volatile long indexed;

  public EventTimeline(Pool pool) {
    this(pool, TallyConfig.Query.DEFAULTS);
  }

  /** Bounded by {@code query.timelineMaxEvents} and {@code query.timelineMaxInbox}. */
  public EventTimeline(Pool pool, TallyConfig.Query config) {
    this.pool = pool;
    this.maxEvents = config.timelineMaxEventsResolved();
    this.maxInbox = config.timelineMaxInbox();
    this.loadDelayMs = config.timelineLoadDelayMs();
  }

  /** Events held (0 until loaded); read from the metrics thread. */
  public long events() {
    return indexed;
  }

  /** Called on the writer's context with the events a transaction newly stored. Cheap: a few array copies. */
  public void committed(List<Event> stored, long xid) {
    if (!accepting) {
      return;
    }
    int n = 0;
    for (Event e : stored) {
      if (!e.bot()) {
        n++;
      }
    }
    if (n == 0) {
      return;
    }
    String[] project = new String[n];
    String[] user = new String[n];
    String[] anon = new String[n];
    String[] session = new String[n];
    long[] ms = new long[n];
    String[] type = new String[n];
    String[][] dims = new String[n][];
    int i = 0;
    for (Event e : stored) {
      if (!e.bot()) {
        project[i] = e.projectId();
        user[i] = e.userId();
        anon[i] = e.anonymousId();
        session[i] = e.sessionId();
        ms[i] = millis(e.timestamp());
        type[i] = e.type();
        dims[i] = dims(e);
        i++;
      }
    }
    inbox.add(new Batch(xid, project, user, anon, session, ms, type, dims));
    if (inboxEvents.addAndGet(n) > maxInbox) {
      // nobody drains (still loading, or the query side is stuck): stop holding events, reload when possible
      accepting = false;
    }
  }

  /** The event's dimensions as the events table holds them (provider and model: string properties only). */
  static String[] dims(Event e) {
    String[] d = new String[DIMS];
    if (e.measures() != null) {
      d[PROVIDER] = e.measures().provider();
      d[MODEL] = e.measures().model();
    }
    if (e.enrichment() != null) {
      d[COUNTRY] = e.enrichment().country();
      d[DEVICE] = e.enrichment().deviceType();
      d[BROWSER] = e.enrichment().browser();
    }
    if (e.client() != null) {
      d[PAGE] = e.client().pagePath();
    }
    return d;
  }

  /** Epoch ms as PostgreSQL computes {@code (extract(epoch FROM ts) * 1000)::int8} (µs stored, rounded). */
  static long millis(java.time.Instant t) {
    long micros = Math.floorDiv(t.getNano(), 1000);
    long totalMicros = t.getEpochSecond() * 1_000_000L + micros;
    return Math.round(totalMicros / 1000.0);
  }

  /** The project's index, or null while loading, after an overflow, or before any event. */
  public TimelineProject project(String id) {
    if (!ready) {
      return null;
    }
    drain();
    if (!ready) {
      return null;
    }
    TimelineProject p = projects.get(id);
    if (p == null) {
      p = new TimelineProject();
      projects.put(id, p);
    }
    return p.overflow ? null : p;
  }

  /** Applies the batches the writer handed over since the last call. */
  public void drain() {
    if (!ready) {
      return;
    }
    if (!accepting) {
      reload("hand-over overflowed (more than " + maxInbox + " events waiting)");
      return;
    }
    Batch b;
    while ((b = inbox.poll()) != null) {
      inboxEvents.addAndGet(-b.ms().length);
      apply(b);
    }
    indexed = total();
    if (indexed > maxEvents) {
      LOG.warn("event timeline holds {} events, more than tally.timeline.maxEvents ({}): funnels, distinct persons "
          + "per bucket or value and filtered usage go back to SQL", indexed, maxEvents);
      ready = false;
      accepting = false;
      inbox.clear();
      projects = new HashMap<>();
    }
  }

  private void apply(Batch b) {
    TimelineProject p = null;
    String pid = null;
    for (int i = 0; i < b.ms().length; i++) {
      if (!b.project()[i].equals(pid)) {
        pid = b.project()[i];
        p = projects.computeIfAbsent(pid, k -> new TimelineProject());
      }
      p.add(p.key(b.user()[i], b.anon()[i]), b.ms()[i], b.type()[i], b.dims()[i], b.session()[i]);
    }
  }

  private long total() {
    long n = 0;
    for (TimelineProject p : projects.values()) {
      n += p.size;
    }
    return n;
  }

  /**
   * Applies a change of the derived tables: a rewrite's identity merges, deleted persons and rewritten history (a
   * flush adds nothing here: the timeline takes committed events from the writer itself).
   */
  public void apply(DerivedChange change) {
    if (!(change instanceof DerivedRewrite notice)) {
      return;
    }
    if (loading) {
      if (notice.rewritten()) {
        reloadDue = true;
      }
      pending.add(notice);
      return;
    }
    if (!ready) {
      return;
    }
    drain();
    if (!ready) {
      return;
    }
    if (notice.rewritten()) {
      reload("history rewritten (retention or restore)");
      return;
    }
    for (DerivedRewrite.IdentityMerge m : notice.merges()) {
      projects.computeIfAbsent(m.project(), k -> new TimelineProject()).merge(m.from(), m.to());
    }
    for (DerivedRewrite.PersonKey k : notice.deleted()) {
      TimelineProject p = projects.get(k.project());
      if (p != null) {
        p.forget(k.person());
      }
    }
    indexed = total();
  }

  private void reload(String why) {
    if (loading) {
      reloadDue = true;
      return;
    }
    LOG.info("event timeline reloads: {}", why);
    start();
  }

  /** Runs a task later (set by the query verticle: a timer); loads that fail for a passing reason are retried. */
  private java.util.function.Consumer<Runnable> later = r -> { };
  private boolean overBound;

  public void retryWith(java.util.function.Consumer<Runnable> later) {
    this.later = later;
  }

  /** Loads, and when that fails for a reason other than the size bound, tries again a minute later. */
  public void start() {
    load().onFailure(err -> {
      if (overBound) {
        LOG.warn("event timeline not kept: {}", err.getMessage());
      } else {
        LOG.error("event timeline failed to load (retried in 60 s); funnels, distinct persons per bucket or value and "
            + "filtered usage use SQL meanwhile", err);
        later.accept(() -> {
          if (!ready && !loading) {
            start();
          }
        });
      }
    });
  }

  /**
   * Loads every stored event (one day partition at a time, in one repeatable-read transaction), then applies the
   * batches committed after its snapshot and the notices received meanwhile.
   */
  public Future<Void> load() {
    long start = System.currentTimeMillis();
    loading = true;
    ready = false;
    pending = new ArrayList<>();
    // what arrives from now on is kept (the snapshot below decides what of it is new)
    inbox.clear();
    inboxEvents.set(0);
    accepting = true;
    Map<String, TimelineProject> fresh = new HashMap<>();
    long delay = loadDelayMs;
    return pool.getConnection().compose(c -> (delay > 0
        ? c.query("SELECT pg_sleep(" + delay / 1000.0 + ")").execute().<Void>mapEmpty()
        : Future.<Void>succeededFuture()).compose(d -> c.begin()).compose(tx -> c.query(
                "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute()
            .compose(v -> c.query("SET LOCAL statement_timeout = 0").execute())
            .compose(v -> c.query("SELECT pg_current_snapshot()::text").execute())
            .compose(snap -> readAll(c, fresh, start).map(v -> snap.iterator().next().getString(0)))
            .eventually(tx::rollback))
        .eventually(c::close))
        .map(snapshot -> {
          loaded(fresh, Snapshot.parse(snapshot), start);
          return (Void) null;
        })
        .onFailure(err -> {
          loading = false;
          ready = false;
          accepting = false;
          inbox.clear();
        });
  }

  /** Reads the identity links, then every day's events, into {@code fresh} (inside the load's transaction). */
  private Future<Void> readAll(SqlConnection c, Map<String, TimelineProject> fresh, long start) {
    long[] rows = {0};
    return c.query("SELECT project_id, anonymous_id, user_id FROM identities").execute()
        .compose(links -> {
          for (Row r : links) {
            fresh.computeIfAbsent(r.getString(0), k -> new TimelineProject()).links
                .put(r.getString(1), r.getString(2));
          }
          return days(c);
        })
        .compose(days -> readDays(c, days, 0, fresh, rows, start));
  }

  /**
   * The load is done: the fresh index takes over, then the batches committed after its snapshot and the rewrites
   * received meanwhile are applied (a rewrite of history while loading loads again).
   */
  private void loaded(Map<String, TimelineProject> fresh, Snapshot s, long start) {
    projects = fresh;
    loading = false;
    ready = true;
    long skipped = 0;
    Batch b;
    while ((b = inbox.poll()) != null) {
      inboxEvents.addAndGet(-b.ms().length);
      if (s.sees(b.xid())) {
        skipped++;
      } else {
        apply(b);
      }
    }
    List<DerivedRewrite> replay = pending;
    pending = new ArrayList<>();
    boolean again = reloadDue;
    reloadDue = false;
    for (DerivedRewrite n : replay) {
      if (!n.rewritten()) {
        apply(n);
      }
    }
    indexed = total();
    LOG.info("event timeline loaded: {} events of {} persons in {} ms ({} batches already in the snapshot)",
        indexed, fresh.values().stream().mapToInt(TimelineProject::persons).sum(), System.currentTimeMillis() - start,
        skipped);
    if (again) {
      reload("history rewritten while loading");
    } else {
      drain();
    }
  }

  /** The days holding events: one per daily partition, plus whatever the default partition holds. */
  private static Future<List<LocalDate>> days(SqlConnection c) {
    return c.query("""
            SELECT DISTINCT d FROM (
              SELECT to_date(substring(c.relname from 'events_p(\\d{8})$'), 'YYYYMMDD') AS d
              FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
              WHERE i.inhparent = 'events'::regclass AND c.relname ~ '^events_p\\d{8}$'
              UNION ALL
              -- the ingest bounds keep times after 2000; an older row stored before them is not read
              SELECT DISTINCT (ts AT TIME ZONE 'UTC')::date FROM events_default
              WHERE ts >= '2000-01-01T00:00:00Z' AND ts < '10000-01-01T00:00:00Z'
            ) x ORDER BY d
            """).execute()
        .map(rows -> {
          List<LocalDate> out = new ArrayList<>();
          rows.forEach(r -> out.add(r.getLocalDate(0)));
          return out;
        });
  }

  /** The dimensions the timeline keeps, by index ({@link #PROVIDER}…{@link #BROWSER}), as the rollups name them. */
  private static final List<String> KEPT = List.of("provider", "model", "country", "device", "browser");

  /** One day's events: their dimensions in the timeline's order (read from the description), then page and session. */
  private static final String LOAD_DAY = """
      SELECT project_id, coalesce(user_id, anonymous_id), (extract(epoch FROM ts) * 1000)::int8, type,
             {dims}, tally_str(page, 'path'), session_id
      FROM events
      WHERE ts >= $1 AND ts < $2 AND NOT is_bot
      """.replace("{dims}", KEPT.stream().map(n -> RollupDimension.byApiName(n).rawOf(""))
      .collect(java.util.stream.Collectors.joining(", ")));

  private Future<Void> readDays(SqlConnection c, List<LocalDate> days, int i, Map<String, TimelineProject> into, long[] rows,
                                long start) {
    if (i == days.size()) {
      return Future.succeededFuture();
    }
    LocalDate d = days.get(i);
    return c.preparedQuery(LOAD_DAY)
        .execute(Tuple.of(d.atStartOfDay().atOffset(java.time.ZoneOffset.UTC),
            d.plusDays(1).atStartOfDay().atOffset(java.time.ZoneOffset.UTC)))
        .compose(rs -> {
          TimelineProject p = null;
          String pid = null;
          String[] values = new String[DIMS];
          for (Row r : rs) {
            String project = r.getString(0);
            if (!project.equals(pid)) {
              pid = project;
              p = into.computeIfAbsent(project, k -> new TimelineProject());
            }
            for (int k = 0; k < DIMS; k++) {
              values[k] = r.getString(4 + k);
            }
            p.add(r.getString(1), r.getLong(2), r.getString(3), values, r.getString(4 + DIMS));
          }
          rows[0] += rs.size();
          if ((i + 1) % 10 == 0 || i + 1 == days.size()) {
            LOG.info("event timeline loading: {} of {} days, {} events ({} ms)", i + 1, days.size(), rows[0],
                System.currentTimeMillis() - start);
          }
          long total = into.values().stream().mapToLong(x -> x.size).sum();
          if (total > maxEvents) {
            overBound = true;
            return Future.failedFuture(new IllegalStateException("more than query.timelineMaxEvents (" + maxEvents
                + ") events stored: funnels, distinct persons per bucket or value and filtered usage stay on SQL"));
          }
          return readDays(c, days, i + 1, into, rows, start);
        });
  }

  /** A PostgreSQL snapshot {@code xmin:xmax:xip,...}: which transactions' effects it sees. */
  record Snapshot(long xmin, long xmax, Set<Long> inProgress) {
    static Snapshot parse(String s) {
      String[] parts = s.split(":", -1);
      Set<Long> xip = new HashSet<>();
      if (parts.length > 2 && !parts[2].isEmpty()) {
        for (String x : parts[2].split(",")) {
          xip.add(Long.parseLong(x));
        }
      }
      return new Snapshot(Long.parseLong(parts[0]), Long.parseLong(parts[1]), xip);
    }

    /** Whether a transaction that committed was visible to this snapshot. */
    boolean sees(long xid) {
      return xid < xmin || (xid < xmax && !inProgress.contains(xid));
    }
  }
}
