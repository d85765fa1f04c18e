package io.tally.realtime;

import io.tally.config.TallyConfig;
import io.tally.event.Event;
import io.tally.metrics.TallyMetrics;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Real-time counters, updated once per committed batch in one pipelined round trip (never per event): events per
 * type per receipt minute (live events only, {@link LiveWindow}), per-user counters, unique users per event day.
 * Redis being down or slow never touches ingestion: the update is skipped and counted.
 */
public final class RedisCounters {
  private static final Logger LOG = LoggerFactory.getLogger(RedisCounters.class);

  private final Redis redis;
  private final TallyConfig.Redis cfg;
  private final TallyMetrics metrics;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicBoolean failing = new AtomicBoolean();

  public RedisCounters(Redis redis, TallyConfig.Redis cfg, TallyMetrics metrics) {
    this.redis = redis;
    this.cfg = cfg;
    this.metrics = metrics;
  }

  public void record(List<Event> stored) {
    if (inFlight.get() >= cfg.maxInFlightUpdates()) {
      metrics.redisSkipped(stored.size());
      return;
    }
    List<Request> requests = requests(stored);
    inFlight.incrementAndGet();
    redis.batch(requests).onComplete(ar -> {
      inFlight.decrementAndGet();
      if (ar.succeeded()) {
        if (failing.compareAndSet(true, false)) {
          LOG.info("Redis counter updates resumed");
        }
      } else {
        metrics.redisSkipped(stored.size());
        if (failing.compareAndSet(false, true)) {
          LOG.warn("Redis counter update skipped (ingestion continues): {}", ar.cause().toString());
        }
      }
    });
  }

  List<Request> requests(List<Event> stored) {
    Map<String, Map<String, Integer>> hashes = new HashMap<>();
    Map<String, Set<String>> hll = new HashMap<>();
    Map<String, Long> ttl = new HashMap<>();
    for (Event e : stored) {
      if (e.bot()) {
        continue; // bots are kept for audit, not counted
      }
      if (LiveWindow.counts(e)) {
        // per receipt minute, live events only: a back-fill of last month is not this minute's activity
        String minuteKey = RedisKeys.minute(e.projectId(), e.receivedAt().getEpochSecond() / 60);
        hashes.computeIfAbsent(minuteKey, k -> new HashMap<>()).merge(e.type(), 1, Integer::sum);
        ttl.putIfAbsent(minuteKey, cfg.minuteTtlSeconds());
      }
      String actor = e.actor();
      if (actor != null) {
        String userKey = RedisKeys.user(e.projectId(), actor);
        Map<String, Integer> h = hashes.computeIfAbsent(userKey, k -> new HashMap<>());
        h.merge(e.type(), 1, Integer::sum);
        h.merge("_all", 1, Integer::sum);
        ttl.putIfAbsent(userKey, cfg.userTtlSeconds());
        String dayKey = RedisKeys.uniqueUsers(e.projectId(), LocalDate.ofInstant(e.timestamp(), ZoneOffset.UTC));
        hll.computeIfAbsent(dayKey, k -> new LinkedHashSet<>()).add(actor);
        ttl.putIfAbsent(dayKey, cfg.dayTtlSeconds());
      }
    }
    List<Request> out = new ArrayList<>(hashes.size() * 2 + hll.size() * 2);
    for (Map.Entry<String, Map<String, Integer>> h : hashes.entrySet()) {
      for (Map.Entry<String, Integer> f : h.getValue().entrySet()) {
        out.add(Request.cmd(Command.HINCRBY).arg(h.getKey()).arg(f.getKey()).arg(f.getValue()));
      }
    }
    for (Map.Entry<String, Set<String>> h : hll.entrySet()) {
      Request r = Request.cmd(Command.PFADD).arg(h.getKey());
      h.getValue().forEach(r::arg);
      out.add(r);
    }
    for (Map.Entry<String, Long> t : ttl.entrySet()) {
      out.add(Request.cmd(Command.EXPIRE).arg(t.getKey()).arg(t.getValue()));
    }
    return out;
  }
}
