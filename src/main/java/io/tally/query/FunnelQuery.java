package io.tally.query;

import io.tally.index.EventTimeline;
import io.tally.index.TimelineProject;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Ordered funnels per person. From the {@link EventTimeline} when it is loaded and no step has a property condition
 * (each person's events are already sorted in memory); otherwise step events are read once (type index, step
 * conditions evaluated in SQL as a bit mask), the best attempt of each person is found in memory, then the drop-off
 * reasons are counted from the dropped persons' events. Both paths give the same answer (tested).
 */
public final class FunnelQuery {
  private final Pool pool;
  private final EventTimeline timeline;

  FunnelQuery(Pool pool, EventTimeline timeline) {
    this.pool = pool;
    this.timeline = timeline;
  }

  /** One person's best attempt: the number of steps reached and the time of each. */
  record Attempt(int reached, long[] times) {}

  public Future<JsonObject> run(JsonObject q) {
    String project = q.getString("projectId");
    Instant from = Instant.parse(q.getString("from"));
    Instant to = Instant.parse(q.getString("to"));
    long windowMs = q.getLong("windowSeconds") * 1000L;
    JsonArray steps = q.getJsonArray("steps");
    int n = steps.size();
    boolean typesOnly = true;
    for (int i = 0; i < n; i++) {
      JsonObject where = steps.getJsonObject(i).getJsonObject("where");
      typesOnly &= where == null || where.isEmpty();
    }
    TimelineProject events = typesOnly && !q.getBoolean("raw", false) && timeline != null
        ? timeline.project(project) : null;
    if (events != null) {
      return Future.succeededFuture(inMemory(q, events, from.toEpochMilli(), to.toEpochMilli(), windowMs, steps));
    }
    Tuple t = Tuple.of(project, Agg.odt(from), Agg.odt(to));
    List<String> types = new ArrayList<>();
    StringBuilder mask = new StringBuilder();
    for (int i = 0; i < n; i++) {
      JsonObject step = steps.getJsonObject(i);
      String ev = step.getString("event");
      if (!types.contains(ev)) {
        types.add(ev);
      }
      t.addString(ev);
      String cond = "type = $" + t.size();
      JsonObject where = step.getJsonObject("where");
      if (where != null && !where.isEmpty()) {
        t.addJsonObject(where);
        cond += " AND properties @> $" + t.size() + "::jsonb";
      }
      mask.append(i == 0 ? "" : " | ").append("(CASE WHEN ").append(cond).append(" THEN ").append(1 << i)
          .append(" ELSE 0 END)");
    }
    t.addArrayOfString(types.toArray(String[]::new));
    String sql = "SELECT k, ms, m FROM (SELECT coalesce(user_id, anonymous_id) AS k, "
        + "(extract(epoch FROM ts) * 1000)::int8 AS ms, " + mask + " AS m FROM events "
        + "WHERE project_id = $1 AND ts >= $2 AND ts < $3 AND NOT is_bot AND type = ANY($" + t.size() + ") "
        + "AND coalesce(user_id, anonymous_id) IS NOT NULL) x WHERE m <> 0 ORDER BY k, ms";
    return pool.preparedQuery(sql).execute(t).compose(rows -> {
      // each person's events packed as the timeline packs them, with the step mask in place of the type number
      // (at most 10 steps: masks < 4,096), so both paths share bestAttempt
      int[] identity = new int[1 << n];
      for (int m = 0; m < identity.length; m++) {
        identity[m] = m;
      }
      Map<String, Attempt> best = new HashMap<>();
      String cur = null;
      long[] evs = new long[16];
      int len = 0;
      for (Row r : rows) {
        String k = r.getString(0);
        if (!k.equals(cur)) {
          if (cur != null) {
            best.put(cur, bestAttempt(evs, 0, len, identity, n, windowMs));
          }
          cur = k;
          len = 0;
        }
        if (len == evs.length) {
          evs = java.util.Arrays.copyOf(evs, len * 2);
        }
        evs[len++] = (r.getLong(1) << EventTimeline.TYPE_BITS) | r.getInteger(2);
      }
      if (cur != null) {
        best.put(cur, bestAttempt(evs, 0, len, identity, n, windowMs));
      }
      return reasons(project, to, windowMs, steps, best)
          .map(reasons -> build(q, steps, best, reasons));
    });
  }

  /** The same funnel from the per-person timelines: best attempts, then the drop-off reasons, in one pass each. */
  static JsonObject inMemory(JsonObject q, TimelineProject events, long fromMs, long toMs, long windowMs,
                             JsonArray steps) {
    int n = steps.size();
    List<String> stepTypes = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      stepTypes.add(steps.getJsonObject(i).getString("event"));
    }
    int[] masks = events.masks(stepTypes);
    Map<String, Attempt> best = new HashMap<>();
    // per step not reached (index), per event type number: how often dropped persons did it instead
    long[][] instead = new long[n][];
    int[] excluded = new int[n];
    for (int i = 0; i < n; i++) {
      Integer id = events.typeIds.get(stepTypes.get(i));
      excluded[i] = id == null ? -1 : id;
    }
    for (int p = 0; p < events.persons(); p++) {
      TimelineProject.Track track = events.tracks[p];
      long[] ev = track.ev;
      int lo = events.from(p, fromMs);
      int hi = events.from(p, toMs);
      if (lo == hi) {
        continue;
      }
      Attempt a = bestAttempt(ev, lo, hi, masks, n, windowMs);
      if (a == null) {
        continue;
      }
      best.put(events.keys.get(p), a);
      if (a.reached() < n) {
        countInstead(track, a, windowMs, toMs, instead, excluded, events.types.size());
      }
    }
    return build(q, steps, best, reasons(instead, events.types));
  }

  /** Counts what a person who dropped did instead: events after the last step reached, in the window and period. */
  private static void countInstead(TimelineProject.Track track, Attempt a, long windowMs, long toMs, long[][] instead,
                                   int[] excluded, int types) {
    long[] ev = track.ev;
    long s = a.times()[a.reached() - 1];
    long e = Math.min(a.times()[0] + windowMs, toMs - 1);
    int next = a.reached();
    long[] counts = instead[next];
    if (counts == null) {
      counts = new long[types];
      instead[next] = counts;
    }
    for (int j = EventTimeline.upper(ev, 0, track.len, (s << EventTimeline.TYPE_BITS)
        | EventTimeline.TYPE_MASK); j < track.len; j++) {
      long ms = EventTimeline.ms(ev[j]);
      if (ms > e) {
        break;
      }
      int type = EventTimeline.type(ev[j]);
      if (type != excluded[next]) {
        counts[type]++;
      }
    }
  }

  /** The counts of what dropped persons did instead, by step not reached, as type names and counts. */
  private static Map<Integer, Map<String, Long>> reasons(long[][] instead, List<String> types) {
    Map<Integer, Map<String, Long>> reasons = new HashMap<>();
    for (int i = 0; i < instead.length; i++) {
      if (instead[i] == null) {
        continue;
      }
      Map<String, Long> m = new TreeMap<>();
      for (int t = 0; t < instead[i].length; t++) {
        if (instead[i][t] > 0) {
          m.put(types.get(t), instead[i][t]);
        }
      }
      if (!m.isEmpty()) {
        reasons.put(i, m);
      }
    }
    return reasons;
  }

  /**
   * The attempt reaching the most steps, the earliest on ties, over a person's events [lo, hi) sorted by time and
   * packed as {@link EventTimeline} packs them; {@code masks} maps the low bits (a type number) to the steps it is.
   */
  static Attempt bestAttempt(long[] ev, int lo, int hi, int[] masks, int n, long windowMs) {
    Attempt best = null;
    for (int s = lo; s < hi; s++) {
      int type = EventTimeline.type(ev[s]);
      if (type >= masks.length || (masks[type] & 1) == 0) {
        continue;
      }
      long[] times = new long[n];
      long start = EventTimeline.ms(ev[s]);
      times[0] = start;
      int reached = 1;
      for (int j = s + 1; j < hi && reached < n; j++) {
        long ms = EventTimeline.ms(ev[j]);
        if (ms - start > windowMs) {
          break;
        }
        int t = EventTimeline.type(ev[j]);
        if (ms > times[reached - 1] && t < masks.length && (masks[t] & (1 << reached)) != 0) {
          times[reached] = ms;
          reached++;
        }
      }
      if (best == null || reached > best.reached()) {
        best = new Attempt(reached, times);
        if (reached == n) {
          break;
        }
      }
    }
    return best;
  }

  /** Event types the persons who stopped after step i did instead, per step not reached: {step index: {type: n}}. */
  private Future<Map<Integer, Map<String, Long>>> reasons(String project, Instant to, long windowMs, JsonArray steps,
                                                         Map<String, Attempt> best) {
    int n = steps.size();
    List<String> keys = new ArrayList<>();
    List<Long> starts = new ArrayList<>();
    List<Long> ends = new ArrayList<>();
    List<Integer> next = new ArrayList<>();
    List<String> exclude = new ArrayList<>();
    best.forEach((k, a) -> {
      if (a != null && a.reached() < n) {
        keys.add(k);
        starts.add(a.times()[a.reached() - 1]);
        ends.add(Math.min(a.times()[0] + windowMs, to.toEpochMilli() - 1));
        next.add(a.reached());
        exclude.add(steps.getJsonObject(a.reached()).getString("event"));
      }
    });
    Map<Integer, Map<String, Long>> out = new HashMap<>();
    if (keys.isEmpty()) {
      return Future.succeededFuture(out);
    }
    String sql = """
        WITH d AS (
          SELECT * FROM unnest($2::text[], $3::int8[], $4::int8[], $5::int4[], $6::text[]) AS d(k, s, e, step, excl)
        ), ev AS (
          SELECT d.step, e.type FROM d JOIN events e ON e.project_id = $1 AND e.user_id = d.k
            AND e.ts > to_timestamp(d.s / 1000.0) AND e.ts <= to_timestamp(d.e / 1000.0)
          WHERE NOT e.is_bot AND e.type <> d.excl
          UNION ALL
          SELECT d.step, e.type FROM d JOIN events e ON e.project_id = $1 AND e.user_id IS NULL
            AND e.anonymous_id = d.k AND e.ts > to_timestamp(d.s / 1000.0) AND e.ts <= to_timestamp(d.e / 1000.0)
          WHERE NOT e.is_bot AND e.type <> d.excl
        )
        SELECT step, type, count(*) FROM ev GROUP BY 1, 2
        """;
    Tuple t = Tuple.tuple().addString(project).addArrayOfString(keys.toArray(String[]::new))
        .addArrayOfLong(starts.toArray(Long[]::new)).addArrayOfLong(ends.toArray(Long[]::new))
        .addArrayOfInteger(next.toArray(Integer[]::new)).addArrayOfString(exclude.toArray(String[]::new));
    return pool.preparedQuery(sql).execute(t).map(rows -> {
      for (Row r : rows) {
        out.computeIfAbsent(r.getInteger(0), x -> new TreeMap<>()).put(r.getString(1), r.getLong(2));
      }
      return out;
    });
  }

  private static JsonObject build(JsonObject q, JsonArray steps, Map<String, Attempt> best,
                                  Map<Integer, Map<String, Long>> reasons) {
    int n = steps.size();
    long[] users = new long[n];
    double[] timeSum = new double[n];
    double totalTime = 0;
    for (Attempt a : best.values()) {
      if (a == null) {
        continue;
      }
      for (int i = 0; i < a.reached(); i++) {
        users[i]++;
        if (i > 0) {
          timeSum[i] += a.times()[i] - a.times()[i - 1];
        }
      }
      if (a.reached() == n) {
        totalTime += a.times()[n - 1] - a.times()[0];
      }
    }
    // every person's time from each step to the next, and through the whole funnel, for the medians
    long[][] gaps = new long[n][];
    for (int i = 0; i < n; i++) {
      gaps[i] = new long[i == 0 ? 0 : (int) users[i]];
    }
    long[] through = new long[(int) users[n - 1]];
    int[] filled = new int[n];
    int throughFilled = 0;
    for (Attempt a : best.values()) {
      if (a == null) {
        continue;
      }
      for (int i = 1; i < a.reached(); i++) {
        gaps[i][filled[i]++] = a.times()[i] - a.times()[i - 1];
      }
      if (a.reached() == n) {
        through[throughFilled++] = a.times()[n - 1] - a.times()[0];
      }
    }
    JsonArray outSteps = new JsonArray();
    JsonArray drops = new JsonArray();
    for (int i = 0; i < n; i++) {
      outSteps.add(step(steps.getJsonObject(i), i, users, timeSum[i], gaps[i]));
      if (i > 0) {
        drops.add(drop(i, users, reasons.getOrDefault(i, Map.of())));
      }
    }
    String id = UUID.nameUUIDFromBytes(new JsonObject().put("steps", steps).put("windowSeconds",
        q.getLong("windowSeconds")).encode().getBytes(StandardCharsets.UTF_8)).toString();
    return new JsonObject().put("id", id).put("name", q.getString("name")).put("steps", outSteps)
        .put("users", users[0]).put("conversionRate", Agg.div(users[n - 1], users[0]))
        .put("averageTime", Agg.div(totalTime, users[n - 1])).put("medianTime", median(through))
        .put("dropOffPoints", drops)
        .put("windowSeconds", q.getLong("windowSeconds")).put("from", q.getString("from"))
        .put("to", q.getString("to"));
  }

  /** Step {@code i}'s answer: persons reaching it, conversion, mean and median time from the previous step. */
  private static JsonObject step(JsonObject step, int i, long[] users, double timeSum, long[] gaps) {
    JsonObject where = step.getJsonObject("where");
    String description = step.getString("event") + (where == null || where.isEmpty() ? "" : " where " + where.encode());
    return new JsonObject().put("id", "step-" + (i + 1)).put("name", step.getString("name",
            step.getString("event"))).put("description", description).put("event", step.getString("event"))
        .put("order", i + 1).put("users", users[i])
        .put("conversionRate", Agg.div(users[i], users[0]))
        .put("conversionFromPrevious", i == 0 ? (users[0] > 0 ? 1.0 : 0.0) : Agg.div(users[i], users[i - 1]))
        .put("averageTime", i == 0 ? 0.0 : Agg.div(timeSum, users[i]))
        .put("medianTime", median(gaps));
  }

  /** The drop before step {@code i}: how many, what share, and the three things done most instead. */
  private static JsonObject drop(int i, long[] users, Map<String, Long> reasons) {
    long dropped = users[i - 1] - users[i];
    List<Map.Entry<String, Long>> rs = new ArrayList<>(reasons.entrySet());
    rs.sort((a, b) -> a.getValue().equals(b.getValue()) ? a.getKey().compareTo(b.getKey())
        : Long.compare(b.getValue(), a.getValue()));
    JsonArray top = new JsonArray();
    rs.stream().limit(3).forEach(e -> top.add(e.getKey()));
    return new JsonObject().put("stepId", "step-" + (i + 1)).put("users", dropped)
        .put("percentage", users[i - 1] == 0 ? 0.0 : 100.0 * dropped / users[i - 1]).put("reasons", top);
  }

  /** The median of the times (ms), the mean of the middle two when even; 0 when there are none (as the mean). */
  static double median(long[] times) {
    if (times.length == 0) {
      return 0.0;
    }
    long[] sorted = times.clone();
    java.util.Arrays.sort(sorted);
    int mid = sorted.length / 2;
    return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2.0;
  }
}
