package io.tally.dashboard;

import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The demo's chat product as a deterministic world: people join every day (more each week, fewer at weekends), each
 * comes back on some days until they churn, and each visit is a {@link DemoVisit}. A day's visits depend only on the
 * day, the world's {@code today} (the growth is relative to it) and where its incident is, so generating a day again
 * (a restart's back-fill) gives the same events with the same ids, which Tally drops as duplicates.
 */
final class DemoWorld {
  private static final long SEED = 0x7a11_2026L;
  /** Weekly growth of the number of people who join. */
  static final double WEEKLY_GROWTH = 1.08;

  private final long today;
  private final double arrivalsPerDay;
  private final long incidentDay;
  /** Each day's arrivals, made once (the back-fill's worker and the live player both ask). */
  private final Map<Long, List<DemoPerson>> arrivals = new ConcurrentHashMap<>();

  /**
   * @param today          the world's present (UTC day); growth is relative to it
   * @param arrivalsPerDay people joining on a weekday around {@code today} (the world's size)
   * @param incidentDay    the UTC day of the provider's outage
   */
  DemoWorld(LocalDate today, double arrivalsPerDay, LocalDate incidentDay) {
    if (arrivalsPerDay <= 0) {
      throw new IllegalArgumentException("arrivalsPerDay must be positive");
    }
    this.today = today.toEpochDay();
    this.arrivalsPerDay = arrivalsPerDay;
    this.incidentDay = incidentDay.toEpochDay();
  }

  static long seed(long a, long b, long c) {
    long h = SEED ^ (a * 0x9E3779B97F4A7C15L) ^ (b * 0xC2B2AE3D27D4EB4FL) ^ (c * 0x165667B19E3779F9L);
    h ^= h >>> 31;
    h *= 0xBF58476D1CE4E5B9L;
    return h ^ (h >>> 29);
  }

  static boolean weekend(long day) {
    DayOfWeek d = LocalDate.ofEpochDay(day).getDayOfWeek();
    return d == DayOfWeek.SATURDAY || d == DayOfWeek.SUNDAY;
  }

  /** The people who join on {@code day}. */
  List<DemoPerson> joining(long day) {
    return arrivals.computeIfAbsent(day, d -> {
      Random r = new Random(seed(d, 0, 0xa4));
      double mean = arrivalsPerDay * Math.pow(WEEKLY_GROWTH, (d - today) / 7.0) * (weekend(d) ? 0.7 : 1.0);
      int n = (int) Math.round(mean * (0.8 + 0.4 * r.nextDouble()));
      List<DemoPerson> out = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        out.add(DemoPerson.make(d, i));
      }
      return out;
    });
  }

  /** Every visit of {@code day}, in no particular order. */
  List<DemoVisit> visits(LocalDate date) {
    long day = date.toEpochDay();
    List<DemoVisit> out = new ArrayList<>();
    for (long j = day - DemoPerson.MAX_STAY_DAYS; j <= day; j++) {
      for (DemoPerson p : joining(j)) {
        if (!p.aliveOn(day)) {
          continue;
        }
        Random r = new Random(seed(day, p.id().hashCode(), j));
        double chance = p.kind().weekdayVisit * (weekend(day) ? (p.kind() == DemoPerson.Kind.POWER ? 0.8 : 0.55) : 1);
        // everyone comes on the day they join and on the days they pay
        if (day != p.joinDay() && !p.paysOn(day) && r.nextDouble() >= chance) {
          continue;
        }
        int sessions = p.kind() == DemoPerson.Kind.REGULAR && r.nextDouble() < 0.25 ? 2 : 1;
        for (int s = 0; s < sessions; s++) {
          out.add(new DemoVisit(p, day, s, start(r, day, p), day == incidentDay, r.nextLong()));
        }
      }
    }
    return out;
  }

  /** When a visit starts: an hour drawn from the daily rhythm (power users' long sessions end the same day). */
  private static Instant start(Random r, long day, DemoPerson p) {
    double total = 0;
    int last = p.kind() == DemoPerson.Kind.POWER ? 20 : 23;
    for (int h = 0; h <= last; h++) {
      total += DemoCatalog.HOURS[h];
    }
    double x = r.nextDouble() * total;
    int hour = 0;
    while (hour < last && (x -= DemoCatalog.HOURS[hour]) >= 0) {
      hour++;
    }
    return Instant.ofEpochSecond(day * 86_400 + hour * 3_600L + r.nextInt(3_600));
  }
}
