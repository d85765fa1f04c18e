package io.tally.index;

import io.tally.derive.DerivedChange;
import io.tally.derive.DerivedFlush;
import io.tally.derive.DerivedRewrite;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * In-memory bitmap index of who was active on which UTC day, per project: each person gets a dense number and each
 * day a {@link BitSet} of the persons active that day, plus each person's first-seen time. Distinct-person figures
 * over whole days (active, new, churned, retained, daily active users, retention cohorts) become bitmap unions and
 * intersections instead of DISTINCT over millions of rows.
 *
 * <p>Loaded from {@code users} and {@code user_days} at start, then kept current from the {@code derived.flushed}
 * notices the writer publishes after each flush (new person-days, first-seen times, identity merges). Notices that
 * arrive while loading are replayed after it; applying one twice changes nothing. Used from the query verticle's (worker)
 * context only. Tally runs one writer per database, so the notices are the whole story.
 */
public final class PersonIndex {
  private static final Logger LOG = LoggerFactory.getLogger(PersonIndex.class);

  /** One project's index. */
  public static final class Project {
    public final Map<String, Integer> ids = new HashMap<>();
    final List<String> keys = new ArrayList<>();
    public long[] firstSeen = new long[1024];
    public final BitSet alive = new BitSet();
    final TreeMap<Integer, BitSet> days = new TreeMap<>();

    int id(String key) {
      Integer id = ids.get(key);
      if (id != null) {
        return id;
      }
      int n = keys.size();
      ids.put(key, n);
      keys.add(key);
      if (n == firstSeen.length) {
        firstSeen = Arrays.copyOf(firstSeen, n * 2);
      }
      firstSeen[n] = Long.MAX_VALUE;
      return n;
    }

    public void seen(String key, long firstSeenMs) {
      int id = id(key);
      firstSeen[id] = Math.min(firstSeen[id], firstSeenMs);
      alive.set(id);
    }

    void active(String key, int epochDay) {
      days.computeIfAbsent(epochDay, d -> new BitSet()).set(id(key));
    }

    /** An anonymous id's history now belongs to a user id. */
    public void merge(String from, String to) {
      Integer a = ids.get(from);
      if (a == null) {
        return;
      }
      int u = id(to);
      for (BitSet b : days.values()) {
        if (b.get(a)) {
          b.clear(a);
          b.set(u);
        }
      }
      if (alive.get(a)) {
        firstSeen[u] = Math.min(firstSeen[u], firstSeen[a]);
        alive.set(u);
      }
      alive.clear(a);
      firstSeen[a] = Long.MAX_VALUE;
    }

    /** A deleted person: no longer active on any day, nor counted as seen. */
    void forget(String key) {
      Integer a = ids.get(key);
      if (a == null) {
        return;
      }
      for (BitSet b : days.values()) {
        b.clear(a);
      }
      alive.clear(a);
      firstSeen[a] = Long.MAX_VALUE;
    }

    /** Persons active on any day of [fromDay, toDay). */
    public BitSet activeOn(int fromDay, int toDay) {
      BitSet out = new BitSet();
      for (BitSet b : days.subMap(fromDay, true, toDay, false).values()) {
        out.or(b);
      }
      return out;
    }

    public BitSet day(int epochDay) {
      return days.getOrDefault(epochDay, new BitSet());
    }

    /** Persons (alive) first seen in [fromMs, toMs). */
    public BitSet firstSeenIn(long fromMs, long toMs) {
      BitSet out = new BitSet();
      for (int i = alive.nextSetBit(0); i >= 0; i = alive.nextSetBit(i + 1)) {
        if (firstSeen[i] >= fromMs && firstSeen[i] < toMs) {
          out.set(i);
        }
      }
      return out;
    }

    /** Adds the persons of the given keys (from raw edges). */
    public void addKeys(BitSet into, Iterable<String> keys) {
      for (String k : keys) {
        Integer id = ids.get(k);
        into.set(id != null ? id : id(k));
      }
    }
  }

  private final Pool pool;
  private final Map<String, Project> projects = new HashMap<>();
  private List<DerivedChange> pending = new ArrayList<>();
  private boolean ready;
  private volatile long persons;

  public PersonIndex(Pool pool) {
    this.pool = pool;
  }

  boolean ready() {
    return ready;
  }

  /** Persons indexed (0 until loaded); read from the metrics thread. */
  public long persons() {
    return persons;
  }

  private void count() {
    persons = projects.values().stream().mapToLong(p -> p.keys.size()).sum();
  }

  /** The project's index, or null while loading. */
  public Project project(String id) {
    return ready ? projects.computeIfAbsent(id, k -> new Project()) : null;
  }

  /** Loads everything stored, then replays the notices received meanwhile. */
  public Future<Void> load() {
    long start = System.currentTimeMillis();
    // a one-off bulk read: not bound by the query pool's statement timeout
    return pool.withTransaction(c -> c.query("SET LOCAL statement_timeout = 0").execute()
        .compose(v -> c.query("SELECT project_id, user_key, floor(extract(epoch FROM first_seen) * 1000)::int8 "
            + "FROM users").execute())
        .compose(users -> {
          for (Row r : users) {
            projects.computeIfAbsent(r.getString(0), k -> new Project()).seen(r.getString(1), r.getLong(2));
          }
          return c.query("SELECT project_id, user_key, array_agg(day - date '1970-01-01') FROM user_days "
              + "GROUP BY 1, 2").execute();
        }))
        .map(rows -> {
          long pairs = 0;
          for (Row r : rows) {
            Project p = projects.computeIfAbsent(r.getString(0), k -> new Project());
            String key = r.getString(1);
            for (Integer d : r.getArrayOfIntegers(2)) {
              p.active(key, d);
              pairs++;
            }
          }
          ready = true;
          List<DerivedChange> replay = pending;
          pending = null;
          replay.forEach(this::apply);
          count();
          LOG.info("person index loaded: {} persons, {} person-days ({} ms)", persons, pairs,
              System.currentTimeMillis() - start);
          return null;
        });
  }

  /**
   * Applies a change of the derived tables: a flush's new persons and person-days, a rewrite's identity merges and
   * deleted persons.
   */
  public void apply(DerivedChange change) {
    if (!ready) {
      if (pending != null) {
        pending.add(change);
      }
      return;
    }
    if (change instanceof DerivedFlush f) {
      for (DerivedFlush.PersonSeen s : f.people()) {
        indexOf(s.project()).seen(s.person(), s.firstMs());
      }
      for (DerivedFlush.PersonDay d : f.days()) {
        indexOf(d.project()).active(d.person(), d.epochDay());
      }
    } else if (change instanceof DerivedRewrite r) {
      for (DerivedRewrite.IdentityMerge m : r.merges()) {
        indexOf(m.project()).merge(m.from(), m.to());
      }
      // persons deleted by an admin (issue 8)
      for (DerivedRewrite.PersonKey k : r.deleted()) {
        indexOf(k.project()).forget(k.person());
      }
    }
    count();
  }

  private Project indexOf(String id) {
    return projects.computeIfAbsent(id, k -> new Project());
  }

  /** Which of {@code keys} (raw person keys) have a non-bot event in [fromMs, toMs): index probes per key. */
  public Future<List<String>> keysActiveIn(String project, long fromMs, long toMs, List<String> keys) {
    if (fromMs >= toMs || keys.isEmpty()) {
      return Future.succeededFuture(List.of());
    }
    return pool.preparedQuery("SELECT k FROM unnest($4::text[]) k WHERE EXISTS (SELECT 1 FROM events e "
            + "WHERE e.project_id = $1 AND e.user_id = k AND e.ts >= $2 AND e.ts < $3 AND NOT e.is_bot) "
            + "OR EXISTS (SELECT 1 FROM events e WHERE e.project_id = $1 AND e.user_id IS NULL AND e.anonymous_id = k "
            + "AND e.ts >= $2 AND e.ts < $3 AND NOT e.is_bot)")
        .execute(Tuple.of(project, java.time.OffsetDateTime.ofInstant(java.time.Instant.ofEpochMilli(fromMs), java.time.ZoneOffset.UTC),
            java.time.OffsetDateTime.ofInstant(java.time.Instant.ofEpochMilli(toMs), java.time.ZoneOffset.UTC), keys.toArray(String[]::new)))
        .map(rows -> {
          List<String> out = new ArrayList<>(rows.size());
          rows.forEach(r -> out.add(r.getString(0)));
          return out;
        });
  }

  /** Persons of raw events in [fromMs, toMs) (ragged edges of a period). */
  public Future<List<String>> rawKeys(String project, long fromMs, long toMs) {
    return rawKeys(project, fromMs, toMs, Long.MAX_VALUE);
  }

  /** As {@link #rawKeys(String, long, long)}, at most {@code limit} of them. */
  public Future<List<String>> rawKeys(String project, long fromMs, long toMs, long limit) {
    if (fromMs >= toMs) {
      return Future.succeededFuture(List.of());
    }
    return pool.preparedQuery("SELECT DISTINCT coalesce(user_id, anonymous_id) FROM events WHERE project_id = $1 "
            + "AND ts >= $2 AND ts < $3 AND NOT is_bot AND coalesce(user_id, anonymous_id) IS NOT NULL LIMIT $4")
        .execute(Tuple.of(project, java.time.OffsetDateTime.ofInstant(java.time.Instant.ofEpochMilli(fromMs), java.time.ZoneOffset.UTC),
            java.time.OffsetDateTime.ofInstant(java.time.Instant.ofEpochMilli(toMs), java.time.ZoneOffset.UTC), limit))
        .map(rows -> {
          List<String> out = new ArrayList<>(rows.size());
          rows.forEach(r -> out.add(r.getString(0)));
          return out;
        });
  }
}
