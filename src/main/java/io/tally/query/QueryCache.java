package io.tally.query;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.LongAdder;

/**
 * Results of analytics queries, keyed by the whole query. Every answer depends only on events before the query's
 * {@code to} and on sessions started before it; a flush of the derived tables therefore drops only the entries of its
 * projects whose {@code to} lies after the earliest event it carried or the earliest start of a session it extended,
 * and identity merges (which rewrite history) drop all of the project's.
 * Used from the query verticle's (worker) context only.
 */
final class QueryCache {
  private record Entry(String project, long toMs, JsonObject result) {}

  private final Cache<String, Entry> cache;
  final LongAdder hits = new LongAdder();
  final LongAdder misses = new LongAdder();

  QueryCache(long maxEntries, Duration ttl) {
    cache = Caffeine.newBuilder().maximumSize(maxEntries).expireAfterWrite(ttl).executor(Runnable::run).build();
  }

  static String key(String family, JsonObject q) {
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

  void put(String key, JsonObject q, JsonObject result) {
    String to = q.getString("to");
    if (to == null) {
      return;
    }
    cache.put(key, new Entry(q.getString("projectId"), Instant.parse(to).toEpochMilli(), result.copy()));
  }

  /** Applies a {@code derived.flushed} notice. */
  void invalidate(JsonObject notice) {
    JsonObject projects = notice.getJsonObject("projects", new JsonObject());
    JsonArray merged = notice.getJsonArray("merged", new JsonArray());
    if (projects.isEmpty() && merged.isEmpty()) {
      return;
    }
    cache.asMap().entrySet().removeIf(en -> {
      Entry e = en.getValue();
      if (merged.contains(e.project())) {
        return true;
      }
      Long min = projects.getLong(e.project());
      return min != null && e.toMs() > min;
    });
  }

  long size() {
    return cache.estimatedSize();
  }
}
