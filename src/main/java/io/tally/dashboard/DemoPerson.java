package io.tally.dashboard;

import java.util.Random;

/**
 * One person of the demo's world, fixed by the day they join and their place in that day's arrivals: what kind of
 * user they are, how long they stay before churning, how often they come back, where from, with which model and
 * browser, which features they adopt and whether they pay.
 */
record DemoPerson(String id, Kind kind, long joinDay, long lastDay, DemoCatalog.Model model, String agent,
                  String ip, boolean[] features, long payDay, int plan) {

  /** Kinds of users: the share of arrivals, the mean stay in days and the chance of a visit on a weekday. */
  enum Kind {
    ONE_TIME(0.30, 0, 0),
    CASUAL(0.40, 21, 0.22),
    REGULAR(0.27, 90, 0.55),
    POWER(0.03, 150, 0.93);

    final double share;
    final double meanStayDays;
    final double weekdayVisit;

    Kind(double share, double meanStayDays, double weekdayVisit) {
      this.share = share;
      this.meanStayDays = meanStayDays;
      this.weekdayVisit = weekdayVisit;
    }
  }

  /** Nobody stays longer than this (it bounds how far back a day's population reaches). */
  static final int MAX_STAY_DAYS = 120;
  /** Plans: 0 free, else the monthly price in USD. */
  static final int PRO = 20;
  static final int TEAM = 60;

  static DemoPerson make(long joinDay, int index) {
    Random r = new Random(DemoWorld.seed(joinDay, index, 0x9e37));
    double u = r.nextDouble();
    Kind kind = Kind.ONE_TIME;
    double acc = 0;
    for (Kind k : Kind.values()) {
      acc += k.share;
      if (u < acc) {
        kind = k;
        break;
      }
    }
    long stay = kind == Kind.ONE_TIME ? 0
        : Math.min(MAX_STAY_DAYS, Math.round(-Math.log(1 - r.nextDouble()) * kind.meanStayDays));
    DemoCatalog.Model model = kind == Kind.POWER ? pick(r, DemoCatalog.POWER) : pick(r, DemoCatalog.EVERYDAY);
    double device = r.nextDouble();
    String agent = pick(r, device < 0.6 ? DemoCatalog.DESKTOP : device < 0.9 ? DemoCatalog.MOBILE : DemoCatalog.TABLET);
    boolean[] features = new boolean[DemoCatalog.FEATURES.length];
    for (int i = 0; i < features.length; i++) {
      features[i] = kind != Kind.ONE_TIME && r.nextDouble() < DemoCatalog.ADOPTION[i] * (kind == Kind.POWER ? 1.6 : 1);
    }
    double payChance = switch (kind) {
      case REGULAR -> 0.45;
      case POWER -> 0.8;
      case CASUAL -> 0.08;
      default -> 0.01;
    };
    boolean pays = r.nextDouble() < payChance;
    long payDay = pays ? joinDay + 3 + r.nextInt(15) : Long.MAX_VALUE;
    int plan = pays ? (kind == Kind.POWER ? TEAM : PRO) : 0;
    String id = DemoCatalog.NAMES[r.nextInt(DemoCatalog.NAMES.length)] + "-"
        + Long.toString(Math.floorMod(DemoWorld.seed(joinDay, index, 0x51d), 36L * 36 * 36 * 36) + 36L * 36 * 36 * 36, 36)
        .substring(1);
    return new DemoPerson(id, kind, joinDay, joinDay + stay, model, agent, place(r), features, payDay, plan);
  }

  private static String place(Random r) {
    int total = 0;
    for (String[] p : DemoCatalog.PLACES) {
      total += Integer.parseInt(p[2]);
    }
    int x = r.nextInt(total);
    for (String[] p : DemoCatalog.PLACES) {
      x -= Integer.parseInt(p[2]);
      if (x < 0) {
        return p[0];
      }
    }
    return DemoCatalog.PLACES[0][0];
  }

  static <T> T pick(Random r, T[] options) {
    return options[r.nextInt(options.length)];
  }

  /** Whether the person is still around on {@code day} (joined, not yet churned). */
  boolean aliveOn(long day) {
    return day >= joinDay && day <= lastDay;
  }

  /** Whether they pay on {@code day}: their first payment, then every 30 days while they stay. */
  boolean paysOn(long day) {
    return day >= payDay && (day - payDay) % 30 == 0;
  }
}
