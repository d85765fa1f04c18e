package io.tally.insight;

import io.tally.insight.AnomalyDetector.Granularity;
import io.tally.insight.AnomalyDetector.Options;
import io.tally.insight.AnomalyDetector.Point;
import io.tally.insight.AnomalyDetector.Verdict;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class AnomalyDetectorTest {
  private static final long HOUR_MS = 3_600_000L;
  private static final long DAY_MS = 24 * HOUR_MS;
  /** Monday 2026-01-05T00:00Z: index 0 is a midnight, day index 5 and 6 are the weekend. */
  private static final long T0 = 1_767_571_200_000L;
  /** A work product: weekdays at full level, Friday a little lower, the weekend at 60 %. */
  private static final double[] WEEKLY = {1.0, 1.05, 1.0, 1.0, 0.9, 0.6, 0.55};
  private static final int[] SEEDS = {1, 2, 3, 4, 5, 6};

  enum Noise { GAUSSIAN, POISSON }

  private static long[] timestamps(int n, long step) {
    long[] ts = new long[n];
    for (int i = 0; i < n; i++) {
      ts[i] = T0 + i * step;
    }
    return ts;
  }

  /** Noise-free hourly level: a daily sinusoid (peak mid-afternoon, trough ~04:00) times the weekday effect. */
  private static double hourlyLevel(int i, double base) {
    double hourOfDay = i % 24;
    return base * (1 + 0.6 * Math.sin(2 * Math.PI * (hourOfDay - 10) / 24)) * WEEKLY[(i / 24) % 7];
  }

  /** Noise-free daily level: the weekday effect and a slow yearly wave. */
  private static double dailyLevel(int d, double base) {
    return base * WEEKLY[d % 7] * (1 + 0.15 * Math.sin(2 * Math.PI * d / 365.0));
  }

  private static double noisy(double level, Noise noise, Random r) {
    return switch (noise) {
      case GAUSSIAN -> Math.max(0, level * (1 + 0.08 * r.nextGaussian()));
      case POISSON -> poisson(level, r);
    };
  }

  /** Knuth below 30, a rounded normal approximation above (Poisson-like enough for these levels). */
  private static double poisson(double lambda, Random r) {
    if (lambda < 30) {
      double l = Math.exp(-lambda);
      double p = 1;
      int k = 0;
      do {
        k++;
        p *= r.nextDouble();
      } while (p > l);
      return k - 1;
    }
    return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * r.nextGaussian()));
  }

  private static double[] hourlySeries(int days, double base, Noise noise, long seed) {
    Random r = new Random(seed);
    double[] v = new double[days * 24];
    for (int i = 0; i < v.length; i++) {
      v[i] = noisy(hourlyLevel(i, base), noise, r);
    }
    return v;
  }

  private static double[] dailySeries(int days, double base, Noise noise, long seed) {
    Random r = new Random(seed);
    double[] v = new double[days];
    for (int d = 0; d < days; d++) {
      v[d] = noisy(dailyLevel(d, base), noise, r);
    }
    return v;
  }

  private static Options options(Noise noise) {
    return noise == Noise.POISSON ? Options.counts() : Options.measures(1.0);
  }

  /** Injects count spikes (×3) and as many drops (×0.2) at seeded random indices ≥ from, ≥ minGap apart. */
  private static Map<Integer, String> inject(double[] v, int count, int from, int minGap, long seed) {
    Random r = new Random(seed * 31 + 7);
    Map<Integer, String> at = new TreeMap<>();
    while (at.size() < count) {
      int i = from + r.nextInt(v.length - from);
      if (at.keySet().stream().allMatch(j -> Math.abs(j - i) >= minGap)) {
        at.put(i, at.size() % 2 == 0 ? AnomalyDetector.UP : AnomalyDetector.DOWN);
      }
    }
    at.forEach((i, dir) -> v[i] *= dir.equals(AnomalyDetector.UP) ? 3 : 0.2);
    return at;
  }

  private record Rate(int judged, int flagged) {
    double value() {
      return (double) flagged / judged;
    }
  }

  private static Rate falsePositives(List<Point> points) {
    int judged = 0;
    int flagged = 0;
    for (Point p : points) {
      if (p.verdict() == Verdict.NORMAL || p.verdict() == Verdict.ANOMALY) {
        judged++;
        flagged += p.anomaly() ? 1 : 0;
      }
    }
    return new Rate(judged, flagged);
  }

  @Test
  void verifiesThatACleanHourlySeriesWithDailyAndWeeklySeasonalityHasAtMostOnePercentFalsePositives() {
    // GIVEN 70 days of hourly values (sinusoid × weekday effect) with Gaussian or Poisson noise, several seeds
    int judged = 0;
    int flagged = 0;
    for (Noise noise : Noise.values()) {
      for (int seed : SEEDS) {
        double[] v = hourlySeries(70, 400, noise, seed);
        // WHEN every bucket is judged
        List<Point> points = AnomalyDetector.detect(timestamps(v.length, HOUR_MS), v, Granularity.HOUR, 0,
            options(noise));
        // THEN at most 1 % of the judged points are flagged
        Rate r = falsePositives(points);
        System.out.printf("hourly %s seed %d: %d of %d judged flagged (%.3f %%)%n", noise, seed, r.flagged(),
            r.judged(), 100 * r.value());
        assertTrue(r.judged() >= 63 * 24, "judged " + r.judged());
        assertTrue(r.value() <= 0.01, noise + " seed " + seed + ": " + r);
        judged += r.judged();
        flagged += r.flagged();
      }
    }
    System.out.printf("hourly overall: %d of %d (%.3f %%)%n", flagged, judged, 100.0 * flagged / judged);
    assertTrue((double) flagged / judged <= 0.01);
  }

  @Test
  void verifiesThatInjectedHourlySpikesAndDropsAreFoundAtExactlyTheirBucketsWithTheirDirection() {
    for (Noise noise : Noise.values()) {
      for (int seed : SEEDS) {
        // GIVEN a clean hourly series and 12 injected anomalies (×3 and ×0.2) after the first 14 days
        double[] v = hourlySeries(70, 400, noise, seed);
        Map<Integer, String> injected = inject(v, 12, 14 * 24, 30, seed);
        long[] ts = timestamps(v.length, HOUR_MS);
        // WHEN judged
        List<Point> points = AnomalyDetector.detect(ts, v, Granularity.HOUR, 0, options(noise));
        // THEN every injected bucket is an anomaly in its direction, its neighbours are not
        List<Integer> flagged = new ArrayList<>();
        for (int i = 0; i < points.size(); i++) {
          if (points.get(i).anomaly()) {
            flagged.add(i);
          }
        }
        System.out.printf("hourly %s seed %d: injected %s, flagged %s%n", noise, seed, injected.keySet(), flagged);
        injected.forEach((i, dir) -> {
          Point p = points.get(i);
          assertTrue(p.anomaly(), noise + " seed " + seed + " index " + i + " " + dir + ": " + p);
          assertEquals(dir, p.direction(), p.toString());
          assertEquals(ts[i], p.ts());
          assertFalse(points.get(i - 1).anomaly(), "index " + (i - 1) + ": " + points.get(i - 1));
          assertFalse(points.get(i + 1).anomaly(), "index " + (i + 1) + ": " + points.get(i + 1));
        });
        long extra = flagged.stream().filter(i -> !injected.containsKey(i)).count();
        assertTrue(extra <= 0.01 * v.length, "false positives " + extra);
      }
    }
  }

  @Test
  void verifiesThatHourlyBaselinesFollowTheWeekdayEffect() {
    // GIVEN a clean Poisson hourly series whose weekend is at 55-60 % of the weekdays
    double[] v = hourlySeries(56, 400, Noise.POISSON, 11);
    List<Point> points = AnomalyDetector.detect(timestamps(v.length, HOUR_MS), v, Granularity.HOUR, 28 * 24);
    // THEN from day 28 on, expected values track the noise-free level, weekends included (a same-hour median
    // without the weekday adjustment would expect weekend hours at the weekday level, ~70 % too high)
    double worst = 0;
    for (int k = 0; k < points.size(); k++) {
      int i = 28 * 24 + k;
      double level = hourlyLevel(i, 400);
      worst = Math.max(worst, Math.abs(points.get(k).expected() - level) / level);
    }
    System.out.printf("hourly expected vs true level: worst relative error %.3f%n", worst);
    assertTrue(worst < 0.15, "worst relative error " + worst);
  }

  @Test
  void verifiesThatModerateHourlyChangesAreFoundMostOfTheTime() {
    // GIVEN 40 changes of ×1.5 (+5 to +6 sigma of the noise) or ×0.6 in each of several seeded series
    int found = 0;
    int injectedCount = 0;
    for (Noise noise : Noise.values()) {
      for (int seed : SEEDS) {
        double[] v = hourlySeries(70, 400, noise, seed);
        Random r = new Random(seed * 7L);
        List<Integer> at = new ArrayList<>();
        while (at.size() < 40) {
          int i = 14 * 24 + r.nextInt(v.length - 14 * 24);
          if (!at.contains(i)) {
            at.add(i);
            v[i] *= at.size() % 2 == 0 ? 1.5 : 0.6;
          }
        }
        List<Point> points = AnomalyDetector.detect(timestamps(v.length, HOUR_MS), v, Granularity.HOUR, 0,
            options(noise));
        for (int i : at) {
          injectedCount++;
          found += points.get(i).anomaly() ? 1 : 0;
        }
      }
    }
    // THEN most are found: the scale's floors must not make the detector blind
    System.out.printf("hourly ×1.5 / ×0.6 changes found: %d of %d%n", found, injectedCount);
    assertTrue(found >= 0.7 * injectedCount, found + " of " + injectedCount);
  }

  @Test
  void verifiesThatDailyGranularityUsesTheSameWeekdayAndFindsInjectedAnomalies() {
    int judged = 0;
    int falsePositives = 0;
    for (Noise noise : Noise.values()) {
      for (int seed : SEEDS) {
        // GIVEN two years of daily values (weekday effect, yearly wave, noise) and 10 injected anomalies
        double[] clean = dailySeries(730, 5000, noise, seed);
        double[] v = clean.clone();
        Map<Integer, String> injected = inject(v, 10, 8 * 7, 10, seed);
        // WHEN judged
        List<Point> points = AnomalyDetector.detect(timestamps(v.length, DAY_MS), v, Granularity.DAY, 0,
            options(noise));
        // THEN the injected days are found in their direction and the clean ones stay under 1 % flagged
        injected.forEach((i, dir) -> {
          assertTrue(points.get(i).anomaly(), noise + " seed " + seed + " day " + i + ": " + points.get(i));
          assertEquals(dir, points.get(i).direction());
        });
        Rate cleanRate = falsePositives(AnomalyDetector.detect(timestamps(clean.length, DAY_MS), clean,
            Granularity.DAY, 0, options(noise)));
        System.out.printf("daily %s seed %d: clean %d of %d flagged; injected %s all found%n", noise, seed,
            cleanRate.flagged(), cleanRate.judged(), injected.keySet());
        assertTrue(cleanRate.value() <= 0.01, noise + " seed " + seed + ": " + cleanRate);
        judged += cleanRate.judged();
        falsePositives += cleanRate.flagged();
      }
    }
    System.out.printf("daily overall: %d of %d (%.3f %%)%n", falsePositives, judged, 100.0 * falsePositives / judged);
  }

  @Test
  void verifiesThatNoVerdictIsGivenBeforeTheMinimumHistory() {
    // GIVEN 10 days of hourly and 40 days of daily values
    double[] hourly = hourlySeries(10, 400, Noise.POISSON, 1);
    hourly[24 * 3] *= 10;
    List<Point> h = AnomalyDetector.detect(timestamps(hourly.length, HOUR_MS), hourly, Granularity.HOUR, 0);
    double[] daily = dailySeries(40, 5000, Noise.POISSON, 1);
    daily[10] *= 10;
    List<Point> d = AnomalyDetector.detect(timestamps(daily.length, DAY_MS), daily, Granularity.DAY, 0);
    // THEN hourly: 7 samples (day 7) are needed; daily: 4 (day 28) — even a ×10 value earlier is no anomaly
    assertEquals(7 * 24, Granularity.HOUR.firstVerdictIndex());
    assertEquals(28, Granularity.DAY.firstVerdictIndex());
    for (int i = 0; i < h.size(); i++) {
      Point p = h.get(i);
      assertEquals(Math.min(i / 24, 14), p.samples());
      assertEquals(i < 7 * 24 ? Verdict.INSUFFICIENT_HISTORY : Verdict.NORMAL, p.verdict(), "hour " + i);
      assertEquals(i < 7 * 24, p.expected() == null);
      assertEquals(i < 7 * 24, p.score() == null);
    }
    for (int i = 0; i < d.size(); i++) {
      assertEquals(i < 28 ? Verdict.INSUFFICIENT_HISTORY : Verdict.NORMAL, d.get(i).verdict(), "day " + i);
      assertEquals(Math.min(i / 7, 8), d.get(i).samples());
    }
  }

  @Test
  void verifiesThatNaNValuesAreSkippedInTheBaselineAndReportedAsNoValue() {
    // GIVEN a daily series with a fifth of its days missing (NaN)
    double[] v = dailySeries(200, 5000, Noise.GAUSSIAN, 9);
    Random r = new Random(99);
    for (int i = 0; i < v.length; i++) {
      if (r.nextDouble() < 0.2) {
        v[i] = Double.NaN;
      }
    }
    int spike = 150;
    v[spike] = dailyLevel(spike, 5000) * 3;
    List<Point> points = AnomalyDetector.detect(timestamps(v.length, DAY_MS), v, Granularity.DAY, 0,
        options(Noise.GAUSSIAN));
    for (int i = 0; i < v.length; i++) {
      // THEN samples and expected are those of the non-NaN same weekdays of the previous 8 weeks
      double[] base = new double[8];
      int k = 0;
      for (int w = 1; w <= 8 && i - 7 * w >= 0; w++) {
        if (!Double.isNaN(v[i - 7 * w])) {
          base[k++] = v[i - 7 * w];
        }
      }
      Point p = points.get(i);
      assertEquals(k, p.samples(), "day " + i);
      if (k < 4) {
        assertEquals(Verdict.INSUFFICIENT_HISTORY, p.verdict());
        assertNull(p.expected());
        continue;
      }
      Arrays.sort(base, 0, k);
      double median = k % 2 == 1 ? base[k / 2] : (base[k / 2 - 1] + base[k / 2]) / 2;
      assertEquals(median, p.expected(), 1e-9, "day " + i);
      assertNotNull(p.scale());
      // AND a missing actual has an expected value but no score and no verdict
      if (Double.isNaN(v[i])) {
        assertEquals(Verdict.NO_VALUE, p.verdict());
        assertNull(p.score());
        assertFalse(p.anomaly());
      }
    }
    assertTrue(points.get(spike).anomaly(), points.get(spike).toString());
    assertTrue(falsePositives(points).value() <= 0.01, falsePositives(points).toString());
  }

  @Test
  void verifiesThatAnHourlySeriesWithMissingValuesStillFindsItsSpikeAndReportsHoursWithoutHistory() {
    // GIVEN an hourly error rate without messages (NaN) every night from 02:00 to 04:00 and on the first 3 days
    double[] v = hourlySeries(40, 400, Noise.GAUSSIAN, 4);
    for (int i = 0; i < v.length; i++) {
      int h = i % 24;
      if (h >= 2 && h <= 4 || i < 3 * 24) {
        v[i] = Double.NaN;
      }
    }
    int spike = 30 * 24 + 15;
    v[spike] *= 3;
    List<Point> points = AnomalyDetector.detect(timestamps(v.length, HOUR_MS), v, Granularity.HOUR, 0,
        options(Noise.GAUSSIAN));
    // THEN night hours never have history, day 9 (6 samples) neither, day 10 (7 samples) is judged
    assertEquals(Verdict.INSUFFICIENT_HISTORY, points.get(35 * 24 + 3).verdict());
    assertEquals(0, points.get(35 * 24 + 3).samples());
    assertEquals(Verdict.INSUFFICIENT_HISTORY, points.get(9 * 24 + 12).verdict());
    assertEquals(6, points.get(9 * 24 + 12).samples());
    assertEquals(Verdict.NORMAL, points.get(10 * 24 + 12).verdict());
    assertTrue(points.get(spike).anomaly());
    assertEquals(AnomalyDetector.UP, points.get(spike).direction());
    assertEquals(1, points.stream().filter(Point::anomaly).count(), "only the spike");
  }

  @Test
  void verifiesThatJudgeFromOnlyTrimsTheOutputAndEarlierPointsRemainHistory() {
    double[] v = hourlySeries(30, 400, Noise.POISSON, 3);
    long[] ts = timestamps(v.length, HOUR_MS);
    List<Point> all = AnomalyDetector.detect(ts, v, Granularity.HOUR, 0);
    List<Point> tail = AnomalyDetector.detect(ts, v, Granularity.HOUR, 20 * 24);
    assertEquals(10 * 24, tail.size());
    assertEquals(ts[20 * 24], tail.get(0).ts());
    assertEquals(all.subList(20 * 24, all.size()), tail);
    assertTrue(AnomalyDetector.detect(ts, v, Granularity.HOUR, v.length).isEmpty());
  }

  @Test
  void verifiesThatAFlatHistoryDoesNotMakeATinyWiggleAnAnomaly() {
    // GIVEN 30 days of exactly 100 per day (MAD 0), then 101, then 130
    double[] v = new double[32];
    Arrays.fill(v, 100);
    v[30] = 101;
    v[31] = 130;
    List<Point> points = AnomalyDetector.detect(timestamps(v.length, DAY_MS), v, Granularity.DAY, 30,
        Options.measures(0.5));
    // THEN the scale is floored at 5 % of the expected value: +1 % scores 0.2, +30 % scores 6
    assertEquals(5.0, points.get(0).scale(), 1e-9);
    assertEquals(0.2, points.get(0).score(), 1e-9);
    assertFalse(points.get(0).anomaly());
    assertEquals(6.0, points.get(1).score(), 1e-9);
    assertTrue(points.get(1).anomaly());
    assertEquals(AnomalyDetector.MEDIUM, points.get(1).severity());
  }

  @Test
  void verifiesThatAHistoryOfZerosUsesMinScaleForMeasuresAndPoissonForCounts() {
    // GIVEN an error rate that was exactly 0 for 40 days
    double[] rate = new double[42];
    rate[40] = 0.004;
    rate[41] = 0.2;
    List<Point> r = AnomalyDetector.detect(timestamps(rate.length, DAY_MS), rate, Granularity.DAY, 40,
        Options.measures(0.01));
    assertFalse(r.get(0).anomaly(), r.get(0).toString());
    assertEquals(20.0, r.get(1).score(), 1e-9);
    assertEquals(AnomalyDetector.HIGH, r.get(1).severity());
    // AND a count that was 0: 3 events score 3 (scale 1), 6 score 6
    double[] count = new double[42];
    count[40] = 3;
    count[41] = 6;
    List<Point> c = AnomalyDetector.detect(timestamps(count.length, DAY_MS), count, Granularity.DAY, 40);
    assertEquals(3.0, c.get(0).score(), 1e-9);
    assertFalse(c.get(0).anomaly());
    assertEquals(6.0, c.get(1).score(), 1e-9);
    assertTrue(c.get(1).anomaly());
    // AND a measure without minScale: no unit at all, so a change is a low anomaly without a score
    List<Point> d = AnomalyDetector.detect(timestamps(rate.length, DAY_MS), rate, Granularity.DAY, 40,
        Options.defaults());
    assertTrue(d.get(0).anomaly());
    assertNull(d.get(0).score());
    assertEquals(AnomalyDetector.LOW, d.get(0).severity());
    assertEquals(AnomalyDetector.UP, d.get(0).direction());
  }

  @Test
  void verifiesThatAMeasureWithoutMinScaleJudgesAnAlwaysZeroSlotAgainstTheSizeOfTheSeries() {
    // GIVEN hourly revenue: 0 from 00:00 to 05:59, 100 ± 8 % otherwise
    Random r = new Random(5);
    double[] v = new double[30 * 24];
    for (int i = 0; i < v.length; i++) {
      v[i] = i % 24 < 6 ? 0 : 100 * (1 + 0.08 * r.nextGaussian());
    }
    v[20 * 24 + 3] = 1;
    v[21 * 24 + 3] = 40;
    List<Point> points = AnomalyDetector.detect(timestamps(v.length, HOUR_MS), v, Granularity.HOUR, 0,
        Options.defaults());
    // THEN the night floor is 5 % of the median value (100: 18 of 24 hours), times how many floors the day hours
    // usually miss by (8 % noise: ~1.7): 1 is noise, 40 is an anomaly
    Point small = points.get(20 * 24 + 3);
    Point big = points.get(21 * 24 + 3);
    assertEquals(0.0, small.expected());
    assertTrue(small.scale() > 5 && small.scale() < 10, small.toString());
    assertFalse(small.anomaly(), small.toString());
    assertTrue(big.anomaly(), big.toString());
    assertEquals(List.of(big), points.stream().filter(Point::anomaly).toList());
  }

  @Test
  void verifiesTheSeverityBandsAndTheEscalationOfLargeRelativeChanges() {
    assertEquals(AnomalyDetector.LOW, AnomalyDetector.severity(4.5, 130, 100));
    assertEquals(AnomalyDetector.MEDIUM, AnomalyDetector.severity(-6, 70, 100));
    assertEquals(AnomalyDetector.HIGH, AnomalyDetector.severity(9, 145, 100));
    // doubled or halved: one level up
    assertEquals(AnomalyDetector.MEDIUM, AnomalyDetector.severity(4.5, 200, 100));
    assertEquals(AnomalyDetector.HIGH, AnomalyDetector.severity(-7, 20, 100));
    assertEquals(AnomalyDetector.HIGH, AnomalyDetector.severity(20, 300, 100));
  }

  @Test
  void verifiesThatInconsistentInputIsRejectedLoudly() {
    long[] ts = timestamps(3, HOUR_MS);
    assertThrows(IllegalArgumentException.class,
        () -> AnomalyDetector.detect(ts, new double[2], Granularity.HOUR, 0));
    assertThrows(IllegalArgumentException.class,
        () -> AnomalyDetector.detect(ts, new double[3], Granularity.HOUR, 4));
    assertThrows(IllegalArgumentException.class,
        () -> AnomalyDetector.detect(new long[] {3, 2, 1}, new double[3], Granularity.HOUR, 0));
    assertThrows(IllegalArgumentException.class,
        () -> AnomalyDetector.detect(ts, new double[] {1, Double.POSITIVE_INFINITY, 2}, Granularity.HOUR, 0));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Options.defaults().withMinScale(-1));
    assertTrue(e.getMessage().contains("minScale"));
    assertThrows(IllegalArgumentException.class, () -> new Options(4, true, 1.5, 0));
    assertThrows(IllegalArgumentException.class, () -> Options.counts().withThreshold(0));
  }
}
