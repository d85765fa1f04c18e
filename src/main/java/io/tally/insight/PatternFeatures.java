package io.tally.insight;

import io.tally.index.PatternProject.Cols;
import io.tally.index.PatternProject.Day;
import io.tally.index.PatternProject.Dict;
import io.tally.index.PatternProject;
import io.vertx.core.json.JsonArray;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The pattern features of each person over a window, summed from the pattern index's person-day records (the README's
 * definitions), and whether a pattern's conditions hold for them.
 */
final class PatternFeatures {
  private PatternFeatures() {
  }

  /** One person's features over a window (the README's definitions; null where the SQL yields null). */
  public static final class F {
    public final String key;
    final int id;
    int lastDay = Integer.MIN_VALUE;
    long activeDays;
    public long events;
    long sent;
    long msgs;
    long errors;
    public long conversions;
    long sessions;
    double tokens;
    double cost;
    public double revenue;
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

    public boolean hasFeature(int id) {
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

    public void forEachFeature(java.util.function.IntConsumer c) {
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
  public static final class Win {
    public final PatternProject project;
    final F[] byId;
    final List<F> list = new ArrayList<>();

    Win(PatternProject project) {
      this.project = project;
      this.byId = new F[project.keys.size()];
    }

    public F get(String key) {
      Integer id = project.ids.get(key);
      return id == null || id >= byId.length ? null : byId[id];
    }

    boolean containsKey(String key) {
      return get(key) != null;
    }

    public List<F> values() {
      return list;
    }

    public int size() {
      return list.size();
    }

    public boolean isEmpty() {
      return list.isEmpty();
    }
  }

  /** Features of every person with a rollup row in the days [a, b); the catalogue size is in {@code catalogue[0]}. */
  public static Win features(PatternProject p, int a, int b, int[] catalogue) {
    Win out = new Win(p);
    Sums sums = new Sums(p, out.byId.length);
    for (Map.Entry<Integer, HashMap<String, Day>> day : p.byDay.subMap(a, b).entrySet()) {
      int dayNo = day.getKey();
      Cols c = p.cols.computeIfAbsent(dayNo, k -> new Cols(day.getValue().values()));
      for (int i = 0; i < c.n; i++) {
        sums.add(c, i, dayNo - a + 1);
      }
    }
    for (int id = 0; id < out.byId.length; id++) {
      if (sums.activeDays[id] != 0) {
        F f = sums.person(p, id, a);
        out.byId[id] = f;
        out.list.add(f);
      }
    }
    catalogue[0] = sums.seen.cardinality();
    return out;
  }

  /** The window's sums per person id, one array per feature (columns, not one object per person, while summing). */
  private static final class Sums {
    final int[] activeDays;
    final int[] lastDay;
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
    final int dict;
    final boolean flat;
    final long[] featCounts;
    final long[][] perPerson;
    final boolean masks;
    final long[] featM;
    final long[] provM;
    final long[] modelM;
    final BitSet[] feats;
    final BitSet[] provs;
    final BitSet[] models;
    final BitSet seen = new BitSet();

    Sums(PatternProject p, int persons) {
      activeDays = new int[persons];
      lastDay = new int[persons];
      events = new long[persons];
      sent = new long[persons];
      msgs = new long[persons];
      errors = new long[persons];
      conv = new long[persons];
      sessions = new long[persons];
      tokens = new double[persons];
      cost = new double[persons];
      revenue = new double[persons];
      sessionMs = new double[persons];
      dict = p.features.names.size();
      // feature counts per person: one flat array while it stays small, else one array per person using features
      flat = (long) persons * dict <= 16_000_000L;
      featCounts = flat ? new long[persons * Math.max(dict, 1)] : null;
      perPerson = flat ? null : new long[persons][];
      masks = dict <= 64 && p.providers.names.size() <= 64 && p.models.names.size() <= 64;
      featM = masks ? new long[persons] : null;
      provM = masks ? new long[persons] : null;
      modelM = masks ? new long[persons] : null;
      feats = masks ? null : new BitSet[persons];
      provs = masks ? null : new BitSet[persons];
      models = masks ? null : new BitSet[persons];
    }

    /** Adds row {@code i} of a day's columns, {@code dayOfWindow} being 1 on the window's first day. */
    void add(Cols c, int i, int dayOfWindow) {
      int id = c.pid[i];
      // sessions started in the window, including days without rollup rows of their own
      sessions[id] += c.sessions[i];
      sessionMs[id] += c.sessionMs[i];
      if (c.events[i] == 0) {
        return;
      }
      activeDays[id]++;
      lastDay[id] = Math.max(lastDay[id], dayOfWindow);
      events[id] += c.events[i];
      sent[id] += c.sent[i];
      msgs[id] += c.msgs[i];
      errors[id] += c.errors[i];
      conv[id] += c.conv[i];
      tokens[id] += c.tokens[i];
      cost[id] += c.cost[i];
      revenue[id] += c.revenue[i];
      addFeatures(c, i, id);
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

    private void addFeatures(Cols c, int i, int id) {
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
    }

    /** Person {@code id}'s features over the window starting on day {@code a}. */
    F person(PatternProject p, int id, int a) {
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
      return f;
    }
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
  public static boolean matches(PatternDef p, F f, int windowDays, int b, int catalogue, PatternProject proj) {
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

  private static boolean holds(PatternDef.Condition c, F f, int windowDays, int b, int catalogue, PatternProject p) {
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
  public static Set<String> topDecile(Win window) {
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
