package io.tally.insight;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Seasonal median/MAD anomaly detector for one regular series. Pure: no I/O, no state.
 *
 * <p>For each judged bucket t:
 * <ul>
 *   <li><b>Baseline samples</b>: the same slot of the previous seasons — {@link Granularity#HOUR}: the same hour of
 *   day over the previous 14 days (step 24); {@link Granularity#DAY}: the same weekday over the previous 8 weeks
 *   (step 7). NaN samples are skipped. Hourly samples are first <b>weekday-adjusted</b>: each is multiplied by
 *   level(weekday of t) / level(weekday of the sample), where a weekday's level is the median daily mean of that
 *   weekday over the previous 4 weeks. Without it a same-hour baseline mixes weekdays and weekends, and every
 *   weekend hour of a product used at work would be an "anomaly". Days are 24-bucket blocks counted from index 0
 *   (the caller aligns index 0 on a local midnight); the factor is 1 when a level is unknown or not positive.</li>
 *   <li><b>Expected</b> = median of the samples; no verdict with fewer than {@link Granularity#minSamples} samples
 *   (hourly 7, daily 4): such points are {@link Verdict#INSUFFICIENT_HISTORY}.</li>
 *   <li><b>Scale</b> = the largest of
 *     <ol>
 *       <li>1.4826 × MAD of the samples — the spread of this very slot (1.4826 makes it σ for Gaussian noise);</li>
 *       <li>Q × floor, where Q = 1.4826 × median of |actual − expected| / floor over the previous 7 seasons of
 *       this series — how far the baseline usually misses. With 7–14 samples a MAD alone is too noisy: measured on
 *       Gaussian noise, |score| ≥ 4 then happens 1 % (14 samples) to 5 % (7 samples) of the time instead of
 *       0.006 %. The recent misses pool ~170 hourly (or 28 daily) residuals and already include the error of
 *       the median itself, so their spread is the right yardstick for a new value. Used from one season of
 *       residuals on; residuals of slots whose MAD is 0 (always 0 at night) are left out;</li>
 *       <li>the floor = max(√max(|expected|, 1) for {@link Options#countLike} series — a count cannot be more
 *       certain than Poisson noise, {@link Options#relativeFloor} × |expected| — default 5 %, so a flat history
 *       does not turn a tiny wiggle into a huge score, and changes under 20 % never reach the default threshold,
 *       {@link Options#minScale} — the smallest change that matters, in the series' unit; for a measure left at 0,
 *       5 % of the median |value| of the whole baseline period, so a slot that is always 0 (revenue at night) is
 *       judged against the size of the series). When every term is 0 (a measure whose whole history is exactly
 *       0) there is no score: a different value is a {@code low} anomaly with a null score.</li>
 *     </ol></li>
 *   <li><b>Score</b> = (actual − expected) / scale; an anomaly when |score| ≥ {@link Options#threshold}
 *   (default 4), direction {@code up} or {@code down}.</li>
 *   <li><b>Severity</b> by |score|: below 6 {@code low}, below 9 {@code medium}, from 9 {@code high} — 4 is
 *   already rare for noise (0.02 % of clean hourly points, 0.01 % of daily ones in AnomalyDetectorTest), 9 is
 *   more than twice the threshold and is what deserves a page. Raised one level (at most {@code high}) when the
 *   value at least doubled or at least halved against a positive expected value: an 80 % drop of a noisy series
 *   is an outage even when its score is only 7.</li>
 * </ul>
 * Known limits: a strong trend lags the median (hourly by ~7 days, daily by ~4 weeks); a lasting level shift is
 * reported at first, then absorbed as the recent misses grow.
 */
public final class AnomalyDetector {
  public static final String UP = "up";
  public static final String DOWN = "down";
  public static final String LOW = "low";
  public static final String MEDIUM = "medium";
  public static final String HIGH = "high";

  static final double MAD_TO_SIGMA = 1.4826;
  static final double MEDIUM_SCORE = 6.0;
  static final double HIGH_SCORE = 9.0;
  /** Fewest baseline samples whose median still counts as a residual for Q (conservative: such misses are wide). */
  private static final int RESIDUAL_MIN_SAMPLES = 3;
  private static final int WEEK_DAYS = 7;
  private static final int LEVEL_WEEKS = 4;
  /** A day's mean counts as its level only when at least 18 of its 24 hours have a value. */
  private static final int LEVEL_MIN_HOURS = 18;

  private AnomalyDetector() {
  }

  /** Seasonality of a granularity: the step between baseline samples, how many, and how many are needed. */
  public enum Granularity {
    HOUR(24, 14, 7),
    DAY(7, 8, 4);

    final int step;
    final int seasons;
    final int minSamples;

    Granularity(int step, int seasons, int minSamples) {
      this.step = step;
      this.seasons = seasons;
      this.minSamples = minSamples;
    }

    public int minSamples() {
      return minSamples;
    }

    /** Index of the first bucket that can have a verdict when no value is missing. */
    public int firstVerdictIndex() {
      return step * minSamples;
    }
  }

  public enum Verdict { NORMAL, ANOMALY, INSUFFICIENT_HISTORY, NO_VALUE }

  /**
   * @param threshold     |score| from which a point is an anomaly (default 4)
   * @param countLike     the series counts things (events, users, messages): scale ≥ √expected
   * @param relativeFloor scale ≥ relativeFloor × |expected| (default 0.05)
   * @param minScale      scale ≥ minScale, in the series' unit; 0 for a measure means relativeFloor × the median
   *                      |value| of the baseline period before the point (14 days / 8 weeks, all slots)
   */
  public record Options(double threshold, boolean countLike, double relativeFloor, double minScale) {
    public Options {
      if (!(threshold > 0) || Double.isInfinite(threshold)) {
        throw new IllegalArgumentException("threshold must be a positive number, was " + threshold);
      }
      if (!(relativeFloor >= 0) || relativeFloor >= 1) {
        throw new IllegalArgumentException("relativeFloor must be in [0, 1), was " + relativeFloor);
      }
      if (!(minScale >= 0) || Double.isInfinite(minScale)) {
        throw new IllegalArgumentException("minScale must be a finite number >= 0, was " + minScale);
      }
    }

    /** Threshold 4, a measure (not count-like), 5 % relative floor, minScale from the series itself. */
    public static Options defaults() {
      return new Options(4.0, false, 0.05, 0);
    }

    /** Counts: events, active users, messages, tokens. */
    public static Options counts() {
      return defaults().withCountLike(true);
    }

    /** Measures (error rate, mean response time, cost, revenue): minScale is the smallest change that matters. */
    public static Options measures(double minScale) {
      return new Options(4.0, false, 0.05, minScale);
    }

    public Options withThreshold(double t) {
      return new Options(t, countLike, relativeFloor, minScale);
    }

    public Options withCountLike(boolean c) {
      return new Options(threshold, c, relativeFloor, minScale);
    }

    public Options withMinScale(double m) {
      return new Options(threshold, countLike, relativeFloor, m);
    }

    /** Baseline samples an hourly point needs before it gets a verdict (fixed: {@link Granularity#HOUR}). */
    public int minHourlySamples() {
      return Granularity.HOUR.minSamples;
    }

    /** Baseline samples a daily point needs before it gets a verdict (fixed: {@link Granularity#DAY}). */
    public int minDailySamples() {
      return Granularity.DAY.minSamples;
    }
  }

  /**
   * One judged bucket. expected/scale are null without enough history; score is null also when actual is NaN;
   * direction/severity are null unless {@link #anomaly()}. The band expected ± threshold × scale is "normal".
   */
  public record Point(long ts, double actual, Double expected, Double scale, Double score, int samples,
                      Verdict verdict, String direction, String severity) {
    public boolean anomaly() {
      return verdict == Verdict.ANOMALY;
    }
  }

  /** {@link Options#counts()} with the default threshold. */
  public static List<Point> detect(long[] ts, double[] values, Granularity g, int judgeFrom) {
    return detect(ts, values, g, judgeFrom, Options.counts());
  }

  /**
   * Judges buckets judgeFrom..n-1 of a regular series (earlier buckets are history only).
   *
   * @param ts        bucket starts (ms), increasing, one per bucket with no gaps (a missing value is NaN)
   * @param values    the values; NaN = no value (e.g. an error rate without messages)
   * @param judgeFrom first index to judge, in [0, n]
   */
  public static List<Point> detect(long[] ts, double[] values, Granularity g, int judgeFrom, Options o) {
    check(ts, values, judgeFrom);
    int n = values.length;
    // Baselines for every index: residuals of history points feed Q for later points.
    double[] expected = new double[n];
    double[] localScale = new double[n];
    int[] samples = new int[n];
    baselines(values, g, expected, localScale, samples);
    double[] absMin = absoluteFloors(values, g, o);
    // Residuals in units of the floor: |actual - expected| / floor, NaN when not usable. Slots with a MAD of 0
    // (mostly one value: a revenue that is 0 at night) are left out: their exact hits would drag Q down for the
    // slots that do vary.
    double[] miss = misses(values, expected, localScale, samples, absMin, o);
    int window = g.step * WEEK_DAYS;
    double[] recent = new double[window];
    List<Point> out = new ArrayList<>(n - judgeFrom);
    for (int t = judgeFrom; t < n; t++) {
      double actual = values[t];
      if (samples[t] < g.minSamples) {
        out.add(new Point(ts[t], actual, null, null, null, samples[t], Verdict.INSUFFICIENT_HISTORY, null, null));
        continue;
      }
      int m = 0;
      for (int i = Math.max(0, t - window); i < t; i++) {
        if (!Double.isNaN(miss[i])) {
          recent[m++] = miss[i];
        }
      }
      double e = expected[t];
      double f = floor(e, absMin[t], o);
      // Q needs one season of residuals to mean anything; until then the local MAD and the floor decide.
      double q = m >= g.step ? MAD_TO_SIGMA * median(recent, m) : 0;
      double scale = Math.max(localScale[t], Math.max(f, q * f));
      out.add(judge(ts[t], actual, e, scale, samples[t], o));
    }
    return out;
  }

  private static void check(long[] ts, double[] values, int judgeFrom) {
    if (ts.length != values.length) {
      throw new IllegalArgumentException("ts and values must have the same length, were " + ts.length + " and "
          + values.length);
    }
    int n = values.length;
    if (judgeFrom < 0 || judgeFrom > n) {
      throw new IllegalArgumentException("judgeFrom must be in [0, " + n + "], was " + judgeFrom);
    }
    for (int i = 0; i < n; i++) {
      if (i > 0 && ts[i] <= ts[i - 1]) {
        throw new IllegalArgumentException("ts must be increasing, ts[" + i + "] = " + ts[i] + " <= " + ts[i - 1]);
      }
      if (Double.isInfinite(values[i])) {
        throw new IllegalArgumentException("values[" + i + "] is infinite; use NaN for no value");
      }
    }
  }

  /** Each point's residual in units of its floor, NaN where not usable (see {@link #detect}). */
  private static double[] misses(double[] values, double[] expected, double[] localScale, int[] samples,
                                 double[] absMin, Options o) {
    double[] miss = new double[values.length];
    for (int i = 0; i < values.length; i++) {
      double f = floor(expected[i], absMin[i], o);
      miss[i] = samples[i] >= RESIDUAL_MIN_SAMPLES && localScale[i] > 0 && !Double.isNaN(values[i]) && f > 0
          ? Math.abs(values[i] - expected[i]) / f : Double.NaN;
    }
    return miss;
  }

  /** The verdict on a point with enough history. */
  private static Point judge(long ts, double actual, double e, double scale, int samples, Options o) {
    if (Double.isNaN(actual)) {
      return new Point(ts, actual, e, scale, null, samples, Verdict.NO_VALUE, null, null);
    }
    if (scale == 0) {
      // a history of exact zeros in a measure without a unit: no score, any change is an anomaly (low)
      return actual == e
          ? new Point(ts, actual, e, scale, 0.0, samples, Verdict.NORMAL, null, null)
          : new Point(ts, actual, e, scale, null, samples, Verdict.ANOMALY, actual > e ? UP : DOWN, LOW);
    }
    double score = (actual - e) / scale;
    if (Math.abs(score) < o.threshold()) {
      return new Point(ts, actual, e, scale, score, samples, Verdict.NORMAL, null, null);
    }
    return new Point(ts, actual, e, scale, score, samples, Verdict.ANOMALY, score > 0 ? UP : DOWN,
        severity(score, actual, e));
  }

  /** Expected value (median), 1.4826 × MAD and sample count of every index; NaN without samples. */
  private static void baselines(double[] values, Granularity g, double[] expected, double[] localScale,
                                int[] samples) {
    double[] dayMean = g == Granularity.HOUR ? dayMeans(values) : null;
    double[] buf = new double[g.seasons];
    double[] dev = new double[g.seasons];
    for (int i = 0; i < values.length; i++) {
      int k = 0;
      for (int s = 1; s <= g.seasons && i - s * g.step >= 0; s++) {
        int j = i - s * g.step;
        double x = values[j];
        if (!Double.isNaN(x)) {
          buf[k++] = dayMean == null ? x : x * weekdayFactor(dayMean, i / 24, j / 24);
        }
      }
      samples[i] = k;
      if (k == 0) {
        expected[i] = Double.NaN;
        localScale[i] = Double.NaN;
        continue;
      }
      double med = median(buf, k);
      for (int s = 0; s < k; s++) {
        dev[s] = Math.abs(buf[s] - med);
      }
      expected[i] = med;
      localScale[i] = MAD_TO_SIGMA * median(dev, k);
    }
  }

  static String severity(double score, double actual, double expected) {
    double a = Math.abs(score);
    int level = a >= HIGH_SCORE ? 2 : a >= MEDIUM_SCORE ? 1 : 0;
    if (expected > 0 && actual >= 0 && (actual >= 2 * expected || actual <= 0.5 * expected)) {
      level = Math.min(2, level + 1);
    }
    return level == 2 ? HIGH : level == 1 ? MEDIUM : LOW;
  }

  private static double floor(double expected, double absMin, Options o) {
    if (Double.isNaN(expected)) {
      return Double.NaN;
    }
    double a = Math.abs(expected);
    double poisson = o.countLike() ? Math.sqrt(Math.max(a, 1)) : 0;
    return Math.max(poisson, Math.max(o.relativeFloor() * a, absMin));
  }

  /**
   * The absolute part of each point's floor: minScale, or for a measure without one, relativeFloor × the median
   * |value| of the whole baseline period before the point (a night slot that is always 0 then is judged against
   * the size of the series, not against nothing).
   */
  private static double[] absoluteFloors(double[] v, Granularity g, Options o) {
    double[] out = new double[v.length];
    if (o.countLike() || o.minScale() > 0) {
      Arrays.fill(out, o.minScale());
      return out;
    }
    int span = g.step * g.seasons;
    double[] buf = new double[span];
    for (int i = 0; i < v.length; i++) {
      int k = 0;
      for (int j = Math.max(0, i - span); j < i; j++) {
        if (!Double.isNaN(v[j])) {
          buf[k++] = Math.abs(v[j]);
        }
      }
      out[i] = k == 0 ? 0 : o.relativeFloor() * median(buf, k);
    }
    return out;
  }

  /** Mean of each 24-bucket day, NaN when fewer than {@link #LEVEL_MIN_HOURS} hours have a value. */
  private static double[] dayMeans(double[] v) {
    double[] out = new double[v.length / 24];
    for (int d = 0; d < out.length; d++) {
      double sum = 0;
      int c = 0;
      for (int h = d * 24; h < d * 24 + 24; h++) {
        if (!Double.isNaN(v[h])) {
          sum += v[h];
          c++;
        }
      }
      out[d] = c >= LEVEL_MIN_HOURS ? sum / c : Double.NaN;
    }
    return out;
  }

  /** level(weekday of targetDay) / level(weekday of sampleDay), levels from the weeks before targetDay. */
  private static double weekdayFactor(double[] dayMean, int targetDay, int sampleDay) {
    if ((targetDay - sampleDay) % WEEK_DAYS == 0) {
      return 1;
    }
    double to = weekdayLevel(dayMean, targetDay, targetDay);
    double from = weekdayLevel(dayMean, targetDay, sampleDay);
    return to > 0 && from > 0 ? to / from : 1;
  }

  /** Median mean of the days sharing day's weekday among the {@link #LEVEL_WEEKS} weeks before beforeDay. */
  private static double weekdayLevel(double[] dayMean, int beforeDay, int day) {
    double[] buf = new double[LEVEL_WEEKS];
    int k = 0;
    int last = beforeDay - 1;
    // the latest day before beforeDay with day's weekday, then one week earlier at a time
    for (int d = last - ((last - day) % WEEK_DAYS + WEEK_DAYS) % WEEK_DAYS;
         d >= 0 && d > last - LEVEL_WEEKS * WEEK_DAYS; d -= WEEK_DAYS) {
      if (d < dayMean.length && !Double.isNaN(dayMean[d])) {
        buf[k++] = dayMean[d];
      }
    }
    return k == 0 ? Double.NaN : median(buf, k);
  }

  /** Median of the first k values of a (reordered in place). */
  static double median(double[] a, int k) {
    Arrays.sort(a, 0, k);
    return (k & 1) == 1 ? a[k / 2] : (a[k / 2 - 1] + a[k / 2]) / 2;
  }
}
