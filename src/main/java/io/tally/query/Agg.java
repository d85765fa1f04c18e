package io.tally.query;

import io.tally.schema.RollupDimension;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

/**
 * Event aggregates over a period, grouped by event type and one optional key, read from the hourly rollup for the
 * whole hours of the period and from raw events for its ragged edges (or from raw events only when the grouping
 * needs a column the rollup does not keep). Bots are excluded.
 */
public final class Agg {
  /** Sums of one (key, type) group. */
  public record Row2(String key, String type, long events, double tokens, double cost, double amount, double rtSum, long rtN,
              double durSum, long durN) {}

  /**
   * A grouping: the expression over {@code rollup_daily} columns, over {@code rollup_hourly} columns (null: that
   * rollup cannot serve it), over raw {@code events} columns and over {@code rollup_minute_t} columns (minute, type;
   * null: not served, and never with filters or dimensions); all must yield text.
   */
  public record Group(String dailyExpr, String hourlyExpr, String rawExpr, boolean dims, String minuteExpr,
               boolean pages) {
    static final Group NONE = new Group("''", "''", "''", false, "''", false);
    /**
     * By page path: whole UTC days from {@code rollup_page_daily} (unfiltered only; it keeps no other dimension), the
     * rest from raw events.
     */
    static final Group PAGE = new Group("nullif(path, '')", null, "page ->> 'path'", false, null, true);

    public Group(String dailyExpr, String hourlyExpr, String rawExpr, boolean dims, String minuteExpr) {
      this(dailyExpr, hourlyExpr, rawExpr, dims, minuteExpr, false);
    }

    public Group(String dailyExpr, String hourlyExpr, String rawExpr, boolean dims) {
      this(dailyExpr, hourlyExpr, rawExpr, dims, null, false);
    }

    public Group(String dailyExpr, String hourlyExpr, String rawExpr) {
      this(dailyExpr, hourlyExpr, rawExpr, true, null, false);
    }
  }

  private Agg() {
  }

  public static OffsetDateTime odt(Instant i) {
    return OffsetDateTime.ofInstant(i, ZoneOffset.UTC);
  }

  /** [from, to) split into raw head, rollup middle (whole units) and raw tail. */
  record Split(Instant from, Instant a, Instant b, Instant to) {
    boolean hasMiddle() {
      return a.isBefore(b);
    }

    /** Raw ranges (non-empty). */
    List<Instant[]> raw() {
      List<Instant[]> r = new ArrayList<>(2);
      if (!hasMiddle()) {
        r.add(new Instant[] {from, to});
        return r;
      }
      if (from.isBefore(a)) {
        r.add(new Instant[] {from, a});
      }
      if (b.isBefore(to)) {
        r.add(new Instant[] {b, to});
      }
      return r;
    }

    static Split of(Instant from, Instant to, ChronoUnit unit) {
      Instant a = from.truncatedTo(unit);
      if (a.isBefore(from)) {
        a = a.plus(1, unit);
      }
      Instant b = to.truncatedTo(unit);
      if (!a.isBefore(b)) {
        return new Split(from, to, to, to);
      }
      return new Split(from, a, b, to);
    }
  }

  /** Appends the SQL filter conditions and their parameters, in the rollup dimensions' order. */
  public static String filterSql(Filters f, Tuple t, boolean rollup) {
    StringBuilder sb = new StringBuilder();
    for (RollupDimension d : RollupDimension.ALL) {
      String v = filterValue(f, d);
      if (v != null) {
        t.addString(v);
        sb.append(" AND ").append(rollup ? d.column() : d.rawOf("")).append(" = $").append(t.size());
      }
    }
    return sb.toString();
  }

  /** The value a query filters the dimension by (its query parameter), null when it does not or cannot. */
  static String filterValue(Filters f, RollupDimension d) {
    return switch (d.apiName()) {
      case "provider" -> f.provider();
      case "model" -> f.model();
      case "country" -> f.country();
      case "device" -> f.device();
      default -> null;
    };
  }

  private static final String MEASURES = "type, events AS n, tokens, cost, amount, rt_sum, rt_n, dur_sum, dur_n";

  /**
   * Aggregates over [from, to) grouped by (key, type); {@code types} (null = all) restricts the event types. Whole
   * UTC days come from the daily rollup, whole hours of the ragged days from the hourly one, the rest from events.
   */
  public static Future<List<Row2>> run(Pool pool, String project, Instant from, Instant to, Filters f, Group g,
                                List<String> types) {
    return run(pool, project, from, to, f, g, types, Instant.now());
  }

  /** As above, with the current time given (it decides which side of a ragged hour is cheaper to read raw). */
  public static Future<List<Row2>> run(Pool pool, String project, Instant from, Instant to, Filters f, Group g,
                                List<String> types, Instant now) {
    Tuple t = Tuple.tuple().addString(project);
    String typeCond = "";
    if (types != null) {
      t.addArrayOfString(types.toArray(String[]::new));
      typeCond = " AND type = ANY($" + t.size() + ")";
    }
    List<String> parts = new ArrayList<>();
    List<Instant[]> hourly = new ArrayList<>();
    // without filters or a dimension grouping, the type-only rollups hold the same sums in far fewer rows
    String suffix = f.any() || g.dims() ? "" : "_t";
    // whole minutes of what would be read raw come from the per-minute type rollup when nothing filters by dimension
    boolean minutes = !f.raw() && suffix.equals("_t") && g.minuteExpr() != null;
    boolean pages = g.pages() && !f.any();
    if (f.raw() || (g.hourlyExpr() == null && !pages)) {
      edges(parts, t, List.<Instant[]>of(new Instant[] {from, to}), g, typeCond, f, minutes, now);
    } else {
      Split days = g.dailyExpr() == null ? new Split(from, to, to, to) : Split.of(from, to, ChronoUnit.DAYS);
      if (days.hasMiddle()) {
        t.addLocalDate(days.a().atOffset(ZoneOffset.UTC).toLocalDate())
            .addLocalDate(days.b().atOffset(ZoneOffset.UTC).toLocalDate());
        parts.add("SELECT " + g.dailyExpr() + " AS k, " + MEASURES + " FROM "
            + (pages ? "rollup_page_daily" : "rollup_daily" + suffix) + " WHERE project_id = $1 "
            + "AND day >= $" + (t.size() - 1) + " AND day < $" + t.size() + typeCond
            + (pages ? "" : filterSql(f, t, true)));
      }
      hourly.addAll(days.raw());
      for (Instant[] r : hourly) {
        hourParts(parts, t, r, g, suffix, typeCond, f, minutes, now);
      }
    }
    return execute(pool, parts, t);
  }

  /** The parts of a range outside whole days: its whole hours from the hourly rollup, its edges raw or complemented. */
  private static void hourParts(List<String> parts, Tuple t, Instant[] r, Group g, String suffix, String typeCond,
                                Filters f, boolean minutes, Instant now) {
    if (g.hourlyExpr() == null) {
      edges(parts, t, List.<Instant[]>of(r), g, typeCond, f, minutes, now);
      return;
    }
    Split hours = Split.of(r[0], r[1], ChronoUnit.HOURS);
    if (hours.hasMiddle()) {
      t.addOffsetDateTime(odt(hours.a())).addOffsetDateTime(odt(hours.b()));
      parts.add("SELECT " + g.hourlyExpr() + " AS k, " + MEASURES + " FROM rollup_hourly" + suffix
          + " WHERE project_id = $1 "
          + "AND hour >= $" + (t.size() - 1) + " AND hour < $" + t.size() + typeCond + filterSql(f, t, true));
    }
    List<Instant[]> rest = hours.raw();
    if (!minutes) {
      rest = complemented(parts, t, rest, g.hourlyExpr(), "rollup_hourly" + suffix, "hour", ChronoUnit.HOURS, g,
          typeCond, f, now);
    }
    edges(parts, t, rest, g, typeCond, f, minutes, now);
  }

  /** Sums the parts per key and type. */
  private static Future<List<Row2>> execute(Pool pool, List<String> parts, Tuple t) {
    // HAVING: a key whose events of a complemented hour all fall outside the period sums to no events
    String sql = "SELECT k, type, sum(n)::bigint, sum(tokens), sum(cost), sum(amount), sum(rt_sum), sum(rt_n)::bigint, "
        + "sum(dur_sum), sum(dur_n)::bigint FROM (" + String.join(" UNION ALL ", parts)
        + ") x(k, type, n, tokens, cost, amount, rt_sum, rt_n, dur_sum, dur_n) GROUP BY k, type HAVING sum(n) <> 0";
    return pool.preparedQuery(sql).execute(t).map(rows -> {
      List<Row2> out = new ArrayList<>(rows.size());
      for (Row r : rows) {
        out.add(new Row2(r.getString(0), r.getString(1), r.getLong(2), r.getDouble(3), r.getDouble(4),
            r.getDouble(5), r.getDouble(6), r.getLong(7), r.getDouble(8), r.getLong(9)));
      }
      return out;
    });
  }

  /**
   * Ragged edges that are cheaper read as their whole unit (UTC hour or minute) from that unit's rollup less the raw
   * events of the rest of the unit; returns the edges still to read raw. The cost of a raw range is how much of it is
   * in the past (events are rarely dated ahead), so the usual case, a period ending now, reads its current hour (or
   * minute) from the rollup and subtracts the (normally empty) rest after {@code to}, instead of scanning every event
   * since the hour began (up to an hour of raw events: seconds of both cores at a few thousand events/s). The rollups
   * hold the events the derived flush has applied, so that unit trails ingestion by one flush, as whole units do.
   */
  private static List<Instant[]> complemented(List<String> parts, Tuple t, List<Instant[]> ranges, String expr,
                                              String table, String column, ChronoUnit unit, Group g,
                                              String typeCond, Filters f, Instant now) {
    List<Instant[]> raw = new ArrayList<>(ranges.size());
    for (Instant[] r : ranges) {
      if (!cheaperAsComplement(r[0], r[1], now, unit)) {
        raw.add(r);
        continue;
      }
      Instant u = r[0].truncatedTo(unit);
      t.addOffsetDateTime(odt(u));
      parts.add("SELECT " + expr + " AS k, " + MEASURES + " FROM " + table + " WHERE project_id = $1 AND " + column
          + " = $" + t.size() + typeCond + filterSql(f, t, true));
      rawParts(parts, t, restOfUnit(r[0], r[1], unit), g, typeCond, f, "-");
    }
    return raw;
  }

  /** The non-empty parts of [a, b)'s unit outside it: [unit start, a) and [b, unit end). */
  static List<Instant[]> restOfUnit(Instant a, Instant b, ChronoUnit unit) {
    Instant u = a.truncatedTo(unit);
    Instant end = u.plus(1, unit);
    List<Instant[]> outside = new ArrayList<>(2);
    if (u.isBefore(a)) {
      outside.add(new Instant[] {u, a});
    }
    if (b.isBefore(end)) {
      outside.add(new Instant[] {b, end});
    }
    return outside;
  }

  /** Whether [a, b), inside one unit, has less of the past outside it in its unit than in it. */
  static boolean cheaperAsComplement(Instant a, Instant b, Instant now, ChronoUnit unit) {
    Instant u = a.truncatedTo(unit);
    Instant end = u.plus(1, unit);
    return !b.isAfter(end) && past(a, b, now) > past(u, a, now) + past(b, end, now);
  }

  /** Milliseconds of [a, b) before {@code now}. */
  private static long past(Instant a, Instant b, Instant now) {
    Instant e = b.isBefore(now) ? b : now;
    return e.isAfter(a) ? e.toEpochMilli() - a.toEpochMilli() : 0;
  }

  /** Ranges below the hourly rollup: whole minutes from {@code rollup_minute_t} when allowed, the rest raw. */
  private static void edges(List<String> parts, Tuple t, List<Instant[]> ranges, Group g, String typeCond, Filters f,
                            boolean minutes, Instant now) {
    if (!minutes) {
      rawParts(parts, t, ranges, g, typeCond, f, "");
      return;
    }
    for (Instant[] r : ranges) {
      Split m = Split.of(r[0], r[1], ChronoUnit.MINUTES);
      if (m.hasMiddle()) {
        t.addOffsetDateTime(odt(m.a())).addOffsetDateTime(odt(m.b()));
        parts.add("SELECT " + g.minuteExpr() + " AS k, " + MEASURES + " FROM rollup_minute_t WHERE project_id = $1 "
            + "AND minute >= $" + (t.size() - 1) + " AND minute < $" + t.size() + typeCond);
      }
      // minute rows carry no dimension, and are only read without filters
      rawParts(parts, t, complemented(parts, t, m.raw(), g.minuteExpr(), "rollup_minute_t", "minute",
          ChronoUnit.MINUTES, g, typeCond, f, now), g, typeCond, f, "");
    }
  }

  /** Raw events of the ranges, each measure with the sign {@code s} ("-" to subtract them, else ""). */
  private static void rawParts(List<String> parts, Tuple t, List<Instant[]> ranges, Group g, String typeCond,
                               Filters f, String s) {
    for (Instant[] r : ranges) {
      t.addOffsetDateTime(odt(r[0])).addOffsetDateTime(odt(r[1]));
      int ia = t.size() - 1;
      parts.add("SELECT " + g.rawExpr() + " AS k, type, " + s + "1::bigint, " + s
          + "coalesce(tally_num(properties, 'tokens'), 0), "
          + s + "coalesce(tally_num(properties, 'cost'), 0), " + s + "coalesce(tally_num(properties, 'amount'), 0), "
          + s + "coalesce(tally_num(properties, 'responseTimeMs'), 0), "
          + s + "(tally_num(properties, 'responseTimeMs') IS NOT NULL)::int::bigint, "
          + s + "coalesce(tally_num(properties, 'durationMs'), 0), "
          + s + "(tally_num(properties, 'durationMs') IS NOT NULL)::int::bigint "
          + "FROM events WHERE project_id = $1 AND ts >= $" + ia + " AND ts < $" + (ia + 1) + " AND NOT is_bot"
          + typeCond + filterSql(f, t, false));
    }
  }

  /** Totals per metric over aggregate rows (optionally only those of one key). */
  public static final class Totals {
    long events;
    long messages;
    public long sent;
    long received;
    public long errors;
    long conversationsCreated;
    long conversationsCompleted;
    long pageViews;
    long payments;
    double tokens;
    double cost;
    double revenue;
    public double rtSum;
    public long rtN;
    double loadSum;
    long loadN;

    public void add(Row2 r) {
      events += r.events();
      switch (r.type()) {
        case "message_sent", "message_received" -> {
          messages += r.events();
          tokens += r.tokens();
          cost += r.cost();
          if (r.type().equals("message_sent")) {
            sent += r.events();
          } else {
            received += r.events();
            rtSum += r.rtSum();
            rtN += r.rtN();
          }
        }
        case "error" -> errors += r.events();
        case "conversation_created" -> conversationsCreated += r.events();
        case "conversation_completed" -> conversationsCompleted += r.events();
        case "page_view" -> pageViews += r.events();
        case "payment" -> {
          payments += r.events();
          revenue += r.amount();
        }
        case "page_load" -> {
          loadSum += r.durSum();
          loadN += r.durN();
        }
        default -> { }
      }
    }

    /** The value of a summable metric (not active_users). */
    public double metric(String metric) {
      return switch (metric) {
        case "events" -> events;
        case "messages" -> messages;
        case "tokens" -> tokens;
        case "cost" -> cost;
        case "errors" -> errors;
        case "revenue" -> revenue;
        default -> throw new IllegalArgumentException(metric);
      };
    }
  }

  public static double div(double a, double b) {
    return b == 0 ? 0 : a / b;
  }
}
