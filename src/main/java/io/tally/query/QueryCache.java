package io.tally.query;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.tally.derive.DerivedChange;
import io.tally.derive.DerivedFlush;
import io.tally.derive.DerivedRewrite;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;

/**
 * Results of analytics queries, keyed by the whole query. Every answer depends only on events before the query's
 * {@code to} and on sessions started before it; a flush of the derived tables therefore drops only the entries of its
 * projects whose {@code to} lies after the earliest event it carried or the earliest start of a session it extended,
 * and identity merges (which rewrite history) drop all of the project's. An answer whose computation overlapped a
 * notice that would have dropped it is not stored: it may have read the tables from before that flush
 * ({@link #mark} before computing, {@link #put} with that mark).
 * Used from the query verticle's (worker) context only.
 */
public final class QueryCache {
  /** @param bytes the answer's size as JSON text (with its key), what the cache is bounded by */
  private record Entry(String project, long toMs, JsonObject result, int bytes) {}

  private final Cache<String, Entry> cache;
  final LongAdder hits = new LongAdder();
  final LongAdder misses = new LongAdder();

  /**
   * @param maxBytes the answers held, counted as their JSON text, stay under this: a count of entries let a few huge
   *                 answers hold the heap
   */
  QueryCache(long maxBytes, Duration ttl) {
    cache = Caffeine.newBuilder().maximumWeight(maxBytes).<String, Entry>weigher((k, e) -> e.bytes())
        .expireAfterWrite(ttl).executor(Runnable::run).build();
  }

  public static String key(String family, JsonObject q) {
    return family + '|' + q.encode();
  }

  JsonObject get(String key) {
    Entry e = cache.getIfPresent(key);
    if (e == null) {
      misses.increment();
      return null;
    }
    hits.increment();
    return e.result().copy();
  }

  /** Notices applied so far; per project, the latest ones as {number, earliest ms} (Long.MIN_VALUE: everything). */
  private long applied;
  private final Map<String, ArrayDeque<long[]>> recent = new HashMap<>();
  /** Per project: the number of the newest notice no longer in {@link #recent}. */
  private final Map<String, Long> forgotten = new HashMap<>();
  private static final int RECENT = 256;

  /** Taken before computing an answer, handed to {@link #put} with it. */
  long mark() {
    return applied;
  }

  void put(String key, JsonObject q, JsonObject result, long mark) {
    String to = q.getString("to");
    if (to == null) {
      return;
    }
    String project = q.getString("projectId");
    long toMs = Instant.parse(to).toEpochMilli();
    if (droppedSince(project, toMs, mark)) {
      return;
    }
    String text = result.encode();
    long bytes = (long) text.length() + key.length();
    if (bytes > Integer.MAX_VALUE) {
      return;
    }
    cache.put(key, new Entry(project, toMs, new JsonObject(text), (int) bytes));
  }

  /** Whether a notice applied after {@code mark} would have dropped an entry of the project ending at {@code toMs}. */
  private boolean droppedSince(String project, long toMs, long mark) {
    if (forgotten.getOrDefault(project, 0L) > mark) {
      return true;
    }
    for (long[] n : recent.getOrDefault(project, new ArrayDeque<>())) {
      if (n[0] > mark && toMs > n[1]) {
        return true;
      }
    }
    return false;
  }

  private void remember(String project, long minMs) {
    ArrayDeque<long[]> d = recent.computeIfAbsent(project, k -> new ArrayDeque<>());
    d.addLast(new long[] {applied, minMs});
    if (d.size() > RECENT) {
      forgotten.put(project, d.removeFirst()[0]);
    }
  }

  /**
   * Applies a change of the derived tables: after a flush, a project's answers whose period ends after the earliest
   * event it changed are dropped; after a rewrite, all of the project's.
   */
  void invalidate(DerivedChange change) {
    Map<String, Long> projects = change instanceof DerivedFlush f ? f.earliestMs() : Map.of();
    Set<String> merged = change instanceof DerivedRewrite r ? r.projects() : Set.of();
    if (projects.isEmpty() && merged.isEmpty()) {
      return;
    }
    applied++;
    projects.forEach(this::remember);
    for (String p : merged) {
      remember(p, Long.MIN_VALUE);
    }
    cache.asMap().entrySet().removeIf(en -> {
      Entry e = en.getValue();
      if (merged.contains(e.project())) {
        return true;
      }
      Long min = projects.get(e.project());
      return min != null && e.toMs() > min;
    });
  }

  long size() {
    return cache.estimatedSize();
  }

  /** The answers held, as their JSON text (after pending evictions). */
  long bytes() {
    cache.cleanUp();
    return cache.asMap().values().stream().mapToLong(Entry::bytes).sum();
  }
}
