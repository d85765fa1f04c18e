package io.tally.index;

import io.tally.event.Event;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Every stored non-bot event, in memory, as one sorted {@link Track} per person: event time (epoch ms) shifted left
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
 * <p>Bounded: past {@code tally.timeline.maxEvents} events (JVM property, default max heap ÷ 64, ~16 bytes each plus ~40 per session) or
 * 4,096 event types in a project, or while loading, {@link #project} answers null and callers use SQL.
 */
public final class EventTimeline {
  private static final Logger LOG = LoggerFactory.getLogger(EventTimeline.class);
  public static final int TYPE_BITS = 12;
  static final int MAX_TYPES = 1 << TYPE_BITS;
  public static final long TYPE_MASK = MAX_TYPES - 1;
  private static final long[] EMPTY = new long[0];
  private static final int[] NO_INTS = new int[0];

  /**
   * Events past which the index gives up (falls back to SQL) rather than grow the heap further: by default one per
   * 64 bytes of maximum heap (16 bytes an event and its share of the session table, plus room for array growth and
   * everything else Tally holds).
   */
  static final long MAX_EVENTS = Long.getLong("tally.timeline.maxEvents", Runtime.getRuntime().maxMemory() / 64);
  /** Events handed over but not yet drained past which the hand-over stops and a reload is due. */
  static final long MAX_INBOX = Long.getLong("tally.timeline.maxInbox", 5_000_000L);

  /**
   * Test hook: a pause between starting to keep handed-over batches and taking the load's snapshot, so that a test
   * can make batches land in both (default 0).
   */
  private static long loadDelayMs() {
    return Long.getLong("tally.timeline.loadDelayMs", 0L);
  }

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

  /**
   * One person's events (or a project's person-less ones), sorted by time: the packed time and type, and in parallel
   * the event's dimension combination and its session's number (-1: none).
   */
  public static final class Track {
    public long[] ev = EMPTY;
    public int[] dims = NO_INTS;
    public int[] sess = NO_INTS;
    public int len;

    /** Inserts keeping the events sorted (appends in the usual case: time moves forward). */
    void insert(long v, int combo, int session) {
      int n = len;
      if (n == ev.length) {
        int cap = Math.max(4, n + (n >> 1));
        ev = Arrays.copyOf(ev, cap);
        dims = Arrays.copyOf(dims, cap);
        sess = Arrays.copyOf(sess, cap);
      }
      int i = n == 0 || ev[n - 1] <= v ? n : upper(ev, 0, n, v);
      if (i < n) {
        System.arraycopy(ev, i, ev, i + 1, n - i);
        System.arraycopy(dims, i, dims, i + 1, n - i);
        System.arraycopy(sess, i, sess, i + 1, n - i);
      }
      ev[i] = v;
      dims[i] = combo;
      sess[i] = session;
      len = n + 1;
    }

    /** Both tracks' events in one, in time order. */
    static Track merged(Track a, Track b) {
      Track out = new Track();
      int n = a.len + b.len;
      out.ev = new long[n];
      out.dims = new int[n];
      out.sess = new int[n];
      int i = 0;
      int j = 0;
      for (int k = 0; k < n; k++) {
        Track src;
        int at;
        if (j >= b.len || (i < a.len && a.ev[i] <= b.ev[j])) {
          src = a;
          at = i++;
        } else {
          src = b;
          at = j++;
        }
        out.ev[k] = src.ev[at];
        out.dims[k] = src.dims[at];
        out.sess[k] = src.sess[at];
      }
      out.len = n;
      return out;
    }

    /** Index of the first event at or after {@code ms}. */
    public int from(long ms) {
      return lower(ev, 0, len, ms << TYPE_BITS);
    }
  }

  /**
   * A project's sessions: a dense number per session id, and each session's first and last event (epoch ms) over the
   * events held, which is how the {@code sessions} table defines start, end, duration and bounce. Session ids are
   * kept as two independent 64-bit hashes in an open-addressing table (~40 bytes a session instead of ~140 for a
   * string map); telling two ids apart then fails with probability ~n²/2¹²⁹.
   */
  public static final class Sessions {
    private long[] keyA = new long[1024];
    private long[] keyB = new long[1024];
    /** Per slot: session number + 1, 0 when free. */
    private int[] slot = new int[1024];
    public long[] start = new long[256];
    public long[] end = new long[256];
    public int count;

    /** The session's number; widens its first/last event to include {@code ms}. */
    public int id(String session, long ms) {
      long a = hashA(session);
      long b = hashB(session);
      int mask = slot.length - 1;
      int i = (int) a & mask;
      while (slot[i] != 0) {
        if (keyA[i] == a && keyB[i] == b) {
          int id = slot[i] - 1;
          start[id] = Math.min(start[id], ms);
          end[id] = Math.max(end[id], ms);
          return id;
        }
        i = (i + 1) & mask;
      }
      int id = count++;
      if (id == start.length) {
        start = Arrays.copyOf(start, id * 2);
        end = Arrays.copyOf(end, id * 2);
      }
      start[id] = ms;
      end[id] = ms;
      keyA[i] = a;
      keyB[i] = b;
      slot[i] = id + 1;
      if (count * 2 > slot.length) {
        grow();
      }
      return id;
    }

    private void grow() {
      long[] oa = keyA;
      long[] ob = keyB;
      int[] os = slot;
      keyA = new long[os.length * 2];
      keyB = new long[os.length * 2];
      slot = new int[os.length * 2];
      int mask = slot.length - 1;
      for (int k = 0; k < os.length; k++) {
        if (os[k] != 0) {
          int i = (int) oa[k] & mask;
          while (slot[i] != 0) {
            i = (i + 1) & mask;
          }
          keyA[i] = oa[k];
          keyB[i] = ob[k];
          slot[i] = os[k];
        }
      }
    }

    /** FNV-1a over the UTF-16 units, finalised. */
    public static long hashA(String s) {
      long h = 0xcbf29ce484222325L;
      for (int k = 0; k < s.length(); k++) {
        h = (h ^ s.charAt(k)) * 0x100000001b3L;
      }
      return mix(h);
    }

    /** A multiply-rotate hash with other constants, finalised. */
    static long hashB(String s) {
      long h = 0x9E3779B97F4A7C15L ^ s.length();
      for (int k = 0; k < s.length(); k++) {
        h = Long.rotateLeft((h + s.charAt(k)) * 0xC2B2AE3D27D4EB4FL, 31);
      }
      return mix(h ^ 0x27D4EB2F165667C5L);
    }

    /** MurmurHash3's 64-bit finaliser. */
    private static long mix(long h) {
      h ^= h >>> 33;
      h *= 0xff51afd7ed558ccdL;
      h ^= h >>> 33;
      h *= 0xc4ceb9fe1a85ec53L;
      return h ^ (h >>> 33);
    }
  }

  /** One project's events per person (and its person-less events, which only session and event figures use). */
  public static final class Project {
    public final Map<String, Integer> ids = new HashMap<>();
    public final List<String> keys = new ArrayList<>();
    public Track[] tracks = new Track[1024];
    /** Events without a person (a session id only): never counted as a person, never in a funnel. */
    public final Track orphans = new Track();
    public final Sessions sessions = new Sessions();
    final Map<List<String>, Integer> comboIds = new HashMap<>();
    final List<String[]> combos = new ArrayList<>();
    public final Map<String, Integer> typeIds = new HashMap<>();
    public final List<String> types = new ArrayList<>();
    /** anonymous (or previous) id → the user its events are stored under, as in {@code identities}. */
    final Map<String, String> links = new HashMap<>();
    public long size;
    boolean overflow;

    int person(String key) {
      Integer id = ids.get(key);
      if (id != null) {
        return id;
      }
      int n = keys.size();
      ids.put(key, n);
      keys.add(key);
      if (n == tracks.length) {
        tracks = Arrays.copyOf(tracks, n * 2);
      }
      tracks[n] = new Track();
      return n;
    }

    int type(String name) {
      Integer id = typeIds.get(name);
      if (id != null) {
        return id;
      }
      if (types.size() == MAX_TYPES) {
        overflow = true;
        return 0;
      }
      types.add(name);
      typeIds.put(name, types.size() - 1);
      return types.size() - 1;
    }

    /**
     * The stored person of an event: the user its user id (an alias's previous id) or, without one, its anonymous id
     * was linked to; else the user id, else the anonymous id.
     */
    String key(String user, String anon) {
      String id = user != null ? user : anon;
      return id == null ? null : links.getOrDefault(id, id);
    }

    /** The number of a dimension combination (values as stored: null when absent). */
    int combo(String[] values) {
      List<String> k = Arrays.asList(values);
      Integer id = comboIds.get(k);
      if (id == null) {
        String[] copy = values.clone();
        id = combos.size();
        combos.add(copy);
        comboIds.put(Arrays.asList(copy), id);
      }
      return id;
    }

    /** Adds an event of a person ({@code key}), or a person-less one ({@code key} null). */
    public void add(String key, long ms, String type, String[] dimValues, String session) {
      int s = session == null ? -1 : sessions.id(session, ms);
      Track t = orphans;
      if (key != null) {
        int p = person(key); // may grow the tracks array: index it after the call
        t = tracks[p];
      }
      t.insert((ms << TYPE_BITS) | type(type), combo(dimValues), s);
      size++;
    }

    /** Moves the history of {@code from} to {@code to} (an identity merge). */
    public void merge(String from, String to) {
      links.putIfAbsent(from, to);
      Integer f = ids.get(from);
      if (f == null || tracks[f].len == 0 || from.equals(to)) {
        return;
      }
      int t = person(to);
      tracks[t] = Track.merged(tracks[f], tracks[t]);
      tracks[f] = new Track();
    }

    void forget(String key) {
      Integer f = ids.get(key);
      if (f != null) {
        size -= tracks[f].len;
        tracks[f] = new Track();
      }
    }

    public int persons() {
      return keys.size();
    }

    /** Index of the first event of person p at or after {@code ms}. */
    public int from(int p, long ms) {
      return tracks[p].from(ms);
    }

    /** The persons with an event in [toMs, endMs) and none in [fromMs, toMs): one pass over the persons. */
    public List<String> onlyAfter(long fromMs, long toMs, long endMs) {
      List<String> out = new ArrayList<>();
      for (int p = 0; p < keys.size(); p++) {
        Track t = tracks[p];
        if (t.len == 0 || ms(t.ev[t.len - 1]) < toMs) {
          continue;
        }
        int i = t.from(fromMs);
        if (i < t.len && ms(t.ev[i]) >= toMs && ms(t.ev[i]) < endMs) {
          out.add(keys.get(p));
        }
      }
      return out;
    }

    /** Per type number: the bit set of steps (or 0). Types unknown to the project match nothing. */
    public int[] masks(List<String> stepTypes) {
      int[] m = new int[types.size()];
      for (int s = 0; s < stepTypes.size(); s++) {
        Integer id = typeIds.get(stepTypes.get(s));
        if (id != null) {
          m[id] |= 1 << s;
        }
      }
      return m;
    }
  }

  /**
   * Distinct persons per bucket, buckets given by ascending bounds: bucket i is [bounds[i], bounds[i + 1]). A person
   * counts once in each bucket holding at least one of their events whose combination passes ({@code pass} null:
   * every event).
   */
  public static long[] distinctPerBucket(Project p, long[] bounds, boolean[] pass) {
    int k = bounds.length - 1;
    long[] counts = new long[Math.max(k, 0)];
    if (k <= 0) {
      return counts;
    }
    for (int person = 0; person < p.persons(); person++) {
      long[] ev = p.tracks[person].ev;
      int hi = p.from(person, bounds[k]);
      int[] d = p.tracks[person].dims;
      int j = p.from(person, bounds[0]);
      while (j < hi) {
        if (pass != null && !pass[d[j]]) {
          j++;
          continue;
        }
        long ms = ms(ev[j]);
        // the bucket holding ms (last bound <= ms), counted once; then straight to the first event after it
        int b = upper(bounds, 0, k, ms) - 1;
        counts[b]++;
        long end = bounds[b + 1] << TYPE_BITS;
        j++;
        if (j < hi && ev[j] < end) {
          j = lower(ev, j + 1, hi, end);
        }
      }
    }
    return counts;
  }

  /** Per combination: whether its events pass the filters (provider, model, country, device; null = any). */
  public static boolean[] passing(Project p, String provider, String model, String country, String device) {
    boolean[] ok = new boolean[p.combos.size()];
    for (int c = 0; c < ok.length; c++) {
      String[] v = p.combos.get(c);
      ok[c] = (provider == null || provider.equals(v[PROVIDER])) && (model == null || model.equals(v[MODEL]))
          && (country == null || country.equals(v[COUNTRY])) && (device == null || device.equals(v[DEVICE]));
    }
    return ok;
  }

  /**
   * Distinct persons per value of one dimension (or per event type when {@code dim} is -1) over [fromMs, toMs),
   * counting only events whose combination passes (the null key is the absent value), and the distinct persons with
   * any passing event.
   */
  public record PerValue(Map<String, Long> counts, long total) {}

  public static PerValue distinctPerValue(Project p, int dim, boolean[] pass, long fromMs, long toMs) {
    // value number per combination (or per type)
    Map<String, Integer> valueIds = new HashMap<>();
    List<String> values = new ArrayList<>();
    int[] valueOf;
    if (dim < 0) {
      valueOf = null;
      values.addAll(p.types);
    } else {
      valueOf = new int[p.combos.size()];
      for (int c = 0; c < valueOf.length; c++) {
        String v = p.combos.get(c)[dim];
        Integer id = valueIds.get(v);
        if (id == null) {
          id = values.size();
          values.add(v);
          valueIds.put(v, id);
        }
        valueOf[c] = id;
      }
    }
    long[] counts = new long[values.size()];
    int[] seenBy = new int[values.size()];
    Arrays.fill(seenBy, -1);
    long total = 0;
    for (int person = 0; person < p.persons(); person++) {
      long[] ev = p.tracks[person].ev;
      int[] d = p.tracks[person].dims;
      int hi = p.from(person, toMs);
      boolean any = false;
      for (int j = p.from(person, fromMs); j < hi; j++) {
        int c = d[j];
        if (!pass[c]) {
          continue;
        }
        any = true;
        int v = valueOf == null ? type(ev[j]) : valueOf[c];
        if (seenBy[v] != person) {
          seenBy[v] = person;
          counts[v]++;
        }
      }
      if (any) {
        total++;
      }
    }
    Map<String, Long> out = new HashMap<>();
    for (int v = 0; v < counts.length; v++) {
      if (counts[v] > 0) {
        out.put(values.get(v), counts[v]);
      }
    }
    return new PerValue(out, total);
  }

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
  private Map<String, Project> projects = new HashMap<>();
  private boolean ready;
  private boolean loading;
  private boolean reloadDue;
  /** Merge / deletion notices received while loading, applied after it. */
  private List<JsonObject> pending = new ArrayList<>();
  private volatile long indexed;

  public EventTimeline(Pool pool) {
    this.pool = pool;
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
    if (inboxEvents.addAndGet(n) > MAX_INBOX) {
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
  public Project project(String id) {
    if (!ready) {
      return null;
    }
    drain();
    if (!ready) {
      return null;
    }
    Project p = projects.get(id);
    if (p == null) {
      p = new Project();
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
      reload("hand-over overflowed (more than " + MAX_INBOX + " events waiting)");
      return;
    }
    Batch b;
    while ((b = inbox.poll()) != null) {
      inboxEvents.addAndGet(-b.ms().length);
      apply(b);
    }
    indexed = total();
    if (indexed > MAX_EVENTS) {
      LOG.warn("event timeline holds {} events, more than tally.timeline.maxEvents ({}): funnels, distinct persons "
          + "per bucket or value and filtered usage go back to SQL", indexed, MAX_EVENTS);
      ready = false;
      accepting = false;
      inbox.clear();
      projects = new HashMap<>();
    }
  }

  private void apply(Batch b) {
    Project p = null;
    String pid = null;
    for (int i = 0; i < b.ms().length; i++) {
      if (!b.project()[i].equals(pid)) {
        pid = b.project()[i];
        p = projects.computeIfAbsent(pid, k -> new Project());
      }
      p.add(p.key(b.user()[i], b.anon()[i]), b.ms()[i], b.type()[i], b.dims()[i], b.session()[i]);
    }
  }

  private long total() {
    long n = 0;
    for (Project p : projects.values()) {
      n += p.size;
    }
    return n;
  }

  /** Applies a {@code derived.flushed} notice: identity merges, deleted persons, rewritten history. */
  public void apply(JsonObject notice) {
    if (loading) {
      if (notice.getBoolean("rewritten", false)) {
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
    if (notice.getBoolean("rewritten", false)) {
      reload("history rewritten (retention or restore)");
      return;
    }
    for (Object o : notice.getJsonArray("merges", new JsonArray())) {
      JsonArray a = (JsonArray) o;
      projects.computeIfAbsent(a.getString(0), k -> new Project()).merge(a.getString(1), a.getString(2));
    }
    for (Object o : notice.getJsonArray("deleted", new JsonArray())) {
      JsonArray a = (JsonArray) o;
      Project p = projects.get(a.getString(0));
      if (p != null) {
        p.forget(a.getString(1));
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
    Map<String, Project> fresh = new HashMap<>();
    long[] rows = {0};
    long delay = loadDelayMs();
    return pool.getConnection().compose(c -> (delay > 0
        ? c.query("SELECT pg_sleep(" + delay / 1000.0 + ")").execute().<Void>mapEmpty()
        : Future.<Void>succeededFuture()).compose(d -> c.begin()).compose(tx -> c.query(
                "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute()
            .compose(v -> c.query("SET LOCAL statement_timeout = 0").execute())
            .compose(v -> c.query("SELECT pg_current_snapshot()::text").execute())
            .compose(snap -> {
              String snapshot = snap.iterator().next().getString(0);
              return c.query("SELECT project_id, anonymous_id, user_id FROM identities").execute()
                  .compose(links -> {
                    for (Row r : links) {
                      fresh.computeIfAbsent(r.getString(0), k -> new Project()).links
                          .put(r.getString(1), r.getString(2));
                    }
                    return days(c);
                  })
                  .compose(days -> readDays(c, days, 0, fresh, rows, start))
                  .map(v -> snapshot);
            })
            .eventually(tx::rollback))
        .eventually(c::close))
        .map(snapshot -> {
          Snapshot s = Snapshot.parse(snapshot);
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
          List<JsonObject> replay = pending;
          pending = new ArrayList<>();
          boolean again = reloadDue;
          reloadDue = false;
          for (JsonObject n : replay) {
            if (!n.getBoolean("rewritten", false)) {
              apply(n);
            }
          }
          indexed = total();
          LOG.info("event timeline loaded: {} events of {} persons in {} ms ({} batches already in the snapshot)",
              indexed, fresh.values().stream().mapToInt(Project::persons).sum(), System.currentTimeMillis() - start,
              skipped);
          if (again) {
            reload("history rewritten while loading");
          } else {
            drain();
          }
          return (Void) null;
        })
        .onFailure(err -> {
          loading = false;
          ready = false;
          accepting = false;
          inbox.clear();
        });
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

  private Future<Void> readDays(SqlConnection c, List<LocalDate> days, int i, Map<String, Project> into, long[] rows,
                                long start) {
    if (i == days.size()) {
      return Future.succeededFuture();
    }
    LocalDate d = days.get(i);
    return c.preparedQuery("""
            SELECT project_id, coalesce(user_id, anonymous_id), (extract(epoch FROM ts) * 1000)::int8, type,
                   tally_str(properties, 'provider'), tally_str(properties, 'model'), country, device_type, browser,
                   tally_str(page, 'path'), session_id
            FROM events
            WHERE ts >= $1 AND ts < $2 AND NOT is_bot
            """)
        .execute(Tuple.of(d.atStartOfDay().atOffset(java.time.ZoneOffset.UTC),
            d.plusDays(1).atStartOfDay().atOffset(java.time.ZoneOffset.UTC)))
        .compose(rs -> {
          Project p = null;
          String pid = null;
          String[] values = new String[DIMS];
          for (Row r : rs) {
            String project = r.getString(0);
            if (!project.equals(pid)) {
              pid = project;
              p = into.computeIfAbsent(project, k -> new Project());
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
          if (total > MAX_EVENTS) {
            overBound = true;
            return Future.failedFuture(new IllegalStateException("more than tally.timeline.maxEvents (" + MAX_EVENTS
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
