package io.tally.index;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.tally.index.EventTimeline.*;

/** Passes over a project's timeline: distinct persons per bucket or per dimension value, and which combinations pass a filter. */
public final class TimelineScans {
  private TimelineScans() {
  }

  /**
   * Distinct persons per bucket, buckets given by ascending bounds: bucket i is [bounds[i], bounds[i + 1]). A person
   * counts once in each bucket holding at least one of their events whose combination passes ({@code pass} null:
   * every event).
   */
  public static long[] distinctPerBucket(TimelineProject p, long[] bounds, boolean[] pass) {
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
  public static boolean[] passing(TimelineProject p, String provider, String model, String country, String device) {
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

  public static PerValue distinctPerValue(TimelineProject p, int dim, boolean[] pass, long fromMs, long toMs) {
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
}
