package io.tally.index;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** One project's person-day records for the pattern index: by person, by day, and as column snapshots. */
public final class PatternProject {
  static final int[] NO_IDS = new int[0];
  static final long[] NO_COUNTS = new long[0];
  final Map<String, TreeMap<Integer, Day>> persons = new HashMap<>();
  /** The same records by day: a window's features read only its days. */
  public final TreeMap<Integer, HashMap<String, Day>> byDay = new TreeMap<>();
  /** Column snapshots of whole days, built on first use and dropped when a record of the day changes. */
  public final HashMap<Integer, Cols> cols = new HashMap<>();
  /** Dense person numbers (never reused). */
  public final Map<String, Integer> ids = new HashMap<>();
  public final List<String> keys = new ArrayList<>();
  /** Number of person-days held. */
  public long size;

  public int pid(String person) {
    return ids.computeIfAbsent(person, k -> {
      keys.add(k);
      return keys.size() - 1;
    });
  }

  Day day(String person, int day) {
    return persons.computeIfAbsent(person, k -> new TreeMap<>()).computeIfAbsent(day, k -> {
      Day d = new Day();
      d.pid = pid(person);
      size++;
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
        size--;
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
  public final Dict features = new Dict();
  public final Dict providers = new Dict();
  public final Dict models = new Dict();

  /** One person-day. */
  public static final class Day {
    public int pid;
    public long events;
    public long sent;
    public long msgs;
    public long errors;
    public long conversions;
    public long sessions;
    public double tokens;
    public double cost;
    public double revenue;
    public double sessionMs;
    // shared empty arrays: most person-days use no feature, provider or model (16 bytes each saved per record)
    public int[] features = NO_IDS;
    long[] featureCounts = NO_COUNTS;
    public int[] providers = NO_IDS;
    public int[] models = NO_IDS;
  }

  /** One day's records as columns (sets as CSR: the ids of record i are at [off[i], off[i + 1])). */
  public static final class Cols {
    public final int n;
    public final int[] pid;
    public final long[] events;
    public final long[] sent;
    public final long[] msgs;
    public final long[] errors;
    public final long[] conv;
    public final long[] sessions;
    public final double[] tokens;
    public final double[] cost;
    public final double[] revenue;
    public final double[] sessionMs;
    public final int[] featOff;
    public final int[] featId;
    public final long[] featCount;
    public final int[] provOff;
    public final int[] provId;
    public final int[] modelOff;
    public final int[] modelId;

    public Cols(java.util.Collection<Day> days) {
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
  public static final class Dict {
    public final Map<String, Integer> ids = new HashMap<>();
    public final List<String> names = new ArrayList<>();

    public int id(String name) {
      return ids.computeIfAbsent(name, n -> {
        names.add(n);
        return names.size() - 1;
      });
    }
  }
}
