package io.tally.query;

import io.tally.query.KatCheck.Approx;
import io.tally.query.KatCheck.At;
import io.tally.query.KatCheck.DayStart;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.time.temporal.TemporalAdjusters;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Computes every expected figure of the analytics routes from the generated event list alone, following the README's
 * "Analytics routes and metrics glossary" literally. Never reads Tally's answers or its database.
 */
final class KatOracle {
  /** Means in milliseconds: an answer rounded to a whole millisecond is accepted. */
  static final double MS = 0.5 + 1e-9;

  final ZoneId zone;
  /** Non-bot events, in time order. */
  final List<KatEvent> ev;
  final Map<String, Sess> sessions = new LinkedHashMap<>();
  final Map<String, Instant> firstSeen = new TreeMap<>();
  final Map<String, List<KatEvent>> byPerson = new TreeMap<>();

  record Sess(String id, String person, Instant start, Instant end, List<KatEvent> events) {
    long duration() {
      return Duration.between(start, end).toMillis();
    }
  }

  KatOracle(KatDataset data) {
    this.zone = data.zone;
    this.ev = data.all().stream().filter(e -> !e.bot).sorted(Comparator.comparing(e -> e.ts)).toList();
    Map<String, List<KatEvent>> bySession = new LinkedHashMap<>();
    for (KatEvent e : ev) {
      bySession.computeIfAbsent(e.sessionId, k -> new ArrayList<>()).add(e);
      if (e.person != null) {
        firstSeen.putIfAbsent(e.person, e.ts);
        byPerson.computeIfAbsent(e.person, k -> new ArrayList<>()).add(e);
      }
    }
    for (Map.Entry<String, List<KatEvent>> s : bySession.entrySet()) {
      List<KatEvent> l = s.getValue();
      Set<String> persons = l.stream().map(e -> e.person).filter(Objects::nonNull).collect(Collectors.toSet());
      if (persons.size() > 1) {
        throw new IllegalStateException("dataset error: session " + s.getKey() + " has persons " + persons);
      }
      sessions.put(s.getKey(), new Sess(s.getKey(), persons.isEmpty() ? null : persons.iterator().next(),
          l.get(0).ts, l.get(l.size() - 1).ts, l));
    }
  }

  static boolean in(Instant t, Instant from, Instant to) {
    return !t.isBefore(from) && t.isBefore(to);
  }

  LocalDate day(Instant t) {
    return t.atZone(zone).toLocalDate();
  }

  static double ratio(double a, double b) {
    return b == 0 ? 0 : a / b;
  }

  static double sum(List<KatEvent> l, String prop) {
    double s = 0;
    for (KatEvent e : l) {
      Double v = e.num(prop);
      if (v != null) {
        s += v;
      }
    }
    return s;
  }

  static double mean(List<KatEvent> l, String prop) {
    double s = 0;
    int n = 0;
    for (KatEvent e : l) {
      Double v = e.num(prop);
      if (v != null) {
        s += v;
        n++;
      }
    }
    return n == 0 ? 0 : s / n;
  }

  static long count(List<KatEvent> l, String type) {
    return l.stream().filter(e -> e.type.equals(type)).count();
  }

  static List<KatEvent> of(List<KatEvent> l, String type) {
    return l.stream().filter(e -> e.type.equals(type)).toList();
  }

  static List<KatEvent> messages(List<KatEvent> l) {
    return l.stream().filter(KatEvent::isMessage).toList();
  }

  /** The provider / model with the most message events; ties: first in sort order; null if none. */
  static String preferred(List<KatEvent> msgs, String prop) {
    TreeMap<String, Integer> counts = new TreeMap<>();
    for (KatEvent e : msgs) {
      String v = e.prop(prop);
      if (v != null) {
        counts.merge(v, 1, Integer::sum);
      }
    }
    String best = null;
    int max = 0;
    for (Map.Entry<String, Integer> c : counts.entrySet()) {
      if (c.getValue() > max) {
        max = c.getValue();
        best = c.getKey();
      }
    }
    return best;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // GET /v1/users/{id}/analytics

  Map<String, Object> userAnalytics(String person, Instant from, Instant to) {
    List<KatEvent> evs = ev.stream().filter(e -> person.equals(e.person) && in(e.ts, from, to)).toList();
    List<Sess> sess = sessions.values().stream()
        .filter(s -> person.equals(s.person) && in(s.start, from, to)).toList();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("period", map("start", new At(from), "end", new At(to)));
    long total = sess.stream().mapToLong(Sess::duration).sum();
    Set<LocalDate> days = new TreeSet<>();
    evs.forEach(e -> days.add(day(e.ts)));
    double retention = 0;
    if (!evs.isEmpty()) {
      long span = ChronoUnit.DAYS.between(day(evs.get(0).ts), day(to.minusMillis(1))) + 1;
      retention = (double) days.size() / span;
    }
    out.put("activity", map(
        "totalSessions", (long) sess.size(),
        "totalDuration", total,
        "averageSessionDuration", new Approx(ratio(total, sess.size()), MS),
        "lastActiveAt", evs.isEmpty() ? null : new At(evs.get(evs.size() - 1).ts),
        "daysActive", (long) days.size(),
        "retentionRate", retention));
    List<KatEvent> msgs = messages(evs);
    out.put("usage", map(
        "messagesSent", count(evs, "message_sent"),
        "messagesReceived", count(evs, "message_received"),
        "conversationsCreated", count(evs, "conversation_created"),
        "tokensUsed", sum(msgs, "tokens"),
        "costIncurred", sum(msgs, "cost"),
        "providersUsed", new ArrayList<>(distinct(msgs, "provider")),
        "modelsUsed", new ArrayList<>(distinct(msgs, "model"))));
    Map<Integer, Integer> hours = new TreeMap<>();
    evs.forEach(e -> hours.merge(e.ts.atZone(zone).getHour(), 1, Integer::sum));
    List<Object> peak = hours.entrySet().stream()
        .sorted(Comparator.<Map.Entry<Integer, Integer>>comparingInt(Map.Entry::getValue).reversed()
            .thenComparing(Map.Entry::getKey))
        .limit(5).map(x -> (Object) (long) x.getKey()).toList();
    Map<String, Object> features = new TreeMap<>();
    features.put("chat", count(evs, "message_sent"));
    features.put("share", count(evs, "share_created"));
    features.put("export", count(evs, "export_generated"));
    features.put("settings", count(evs, "customization_made"));
    for (KatEvent e : of(evs, "feature_used")) {
      features.merge(e.prop("feature"), 1L, (a, b) -> (Long) a + (Long) b);
    }
    out.put("behavior", map(
        "peakHours", new ArrayList<>(peak),
        "preferredProvider", preferred(msgs, "provider"),
        "preferredModel", preferred(msgs, "model"),
        "averageResponseTime", new Approx(mean(of(evs, "message_received"), "responseTimeMs"), MS),
        "errorRate", ratio(count(evs, "error"), count(evs, "message_sent")),
        "featureUsage", new KatCheck.ExactKeys(features)));
    out.put("engagement", map(
        "sharesCreated", count(evs, "share_created"),
        "exportsGenerated", count(evs, "export_generated"),
        "customizationsMade", count(evs, "customization_made"),
        "feedbackGiven", count(evs, "feedback_given"),
        "supportTickets", count(evs, "support_ticket_created")));
    return out;
  }

  static Set<String> distinct(List<KatEvent> l, String prop) {
    Set<String> s = new TreeSet<>();
    l.forEach(e -> {
      if (e.prop(prop) != null) {
        s.add(e.prop(prop));
      }
    });
    return s;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Filters (usage metrics, timeseries, breakdown)

  record Filters(String provider, String model, String country, String device) {
    static final Filters NONE = new Filters(null, null, null, null);

    boolean match(KatEvent e) {
      return (provider == null || provider.equals(e.prop("provider")))
          && (model == null || model.equals(e.prop("model")))
          && (country == null || country.equals(e.country))
          && (device == null || device.equals(e.device));
    }

    String query() {
      StringBuilder b = new StringBuilder();
      if (provider != null) {
        b.append("&provider=").append(provider);
      }
      if (model != null) {
        b.append("&model=").append(model);
      }
      if (country != null) {
        b.append("&country=").append(country);
      }
      if (device != null) {
        b.append("&device=").append(device);
      }
      return b.toString();
    }

    @Override
    public String toString() {
      return query().isEmpty() ? "unfiltered" : query().substring(1);
    }
  }

  List<KatEvent> matching(Filters f, Instant from, Instant to) {
    return ev.stream().filter(e -> f.match(e) && in(e.ts, from, to)).toList();
  }

  static Set<String> persons(List<KatEvent> l) {
    Set<String> s = new TreeSet<>();
    l.forEach(e -> {
      if (e.person != null) {
        s.add(e.person);
      }
    });
    return s;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // GET /v1/metrics/usage

  Map<String, Object> usage(Filters f, Instant from, Instant to) {
    Instant prevFrom = from.minus(Duration.between(from, to));
    List<KatEvent> cur = matching(f, from, to);
    List<KatEvent> prev = matching(f, prevFrom, from);
    Set<String> total = persons(ev.stream().filter(e -> f.match(e) && e.ts.isBefore(to)).toList());
    Set<String> active = persons(cur);
    Set<String> fresh = new TreeSet<>();
    for (String p : active) {
      if (in(firstSeen.get(p), from, to)) {
        fresh.add(p);
      }
    }
    Set<String> before = persons(prev);
    Set<String> churned = new TreeSet<>(before);
    churned.removeAll(active);
    Set<String> retained = new TreeSet<>(before);
    retained.retainAll(active);
    Set<String> sessionIds = new HashSet<>();
    cur.forEach(e -> sessionIds.add(e.sessionId));
    List<Sess> sess = sessions.values().stream().filter(s -> in(s.start, from, to) && sessionIds.contains(s.id)).toList();
    long dur = sess.stream().mapToLong(Sess::duration).sum();
    long bounces = sess.stream().filter(s -> s.duration() < 30_000).count();
    long conversations = count(cur, "conversation_created");
    List<KatEvent> msgs = messages(cur);
    // uptime: UTC minutes with a matching message_sent in which matching errors < matching message_sent
    Map<Instant, long[]> minutes = new TreeMap<>();
    for (KatEvent e : cur) {
      if (e.type.equals("message_sent") || e.type.equals("error")) {
        long[] c = minutes.computeIfAbsent(e.ts.truncatedTo(ChronoUnit.MINUTES), k -> new long[2]);
        c[e.type.equals("message_sent") ? 0 : 1]++;
      }
    }
    long requestMinutes = minutes.values().stream().filter(c -> c[0] > 0).count();
    long upMinutes = minutes.values().stream().filter(c -> c[0] > 0 && c[1] < c[0]).count();
    double revenue = sum(of(cur, "payment"), "amount");
    double previous = sum(of(prev, "payment"), "amount");
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("users", map(
        "total", (long) total.size(),
        "active", (long) active.size(),
        "new", (long) fresh.size(),
        "returning", (long) (active.size() - fresh.size()),
        "churned", (long) churned.size(),
        "retained", (long) retained.size()));
    out.put("sessions", map(
        "total", (long) sess.size(),
        "averageDuration", new Approx(ratio(dur, sess.size()), MS),
        "bounceRate", ratio(bounces, sess.size()),
        "pagesPerSession", ratio(count(cur, "page_view"), sess.size())));
    out.put("conversations", map(
        "total", conversations,
        "averageMessages", ratio(msgs.size(), conversations),
        "averageTokens", ratio(sum(msgs, "tokens"), conversations),
        "averageCost", ratio(sum(msgs, "cost"), conversations),
        "completionRate", ratio(count(cur, "conversation_completed"), conversations)));
    out.put("performance", map(
        "averageResponseTime", new Approx(mean(of(cur, "message_received"), "responseTimeMs"), MS),
        "errorRate", ratio(count(cur, "error"), count(cur, "message_sent")),
        "uptime", requestMinutes == 0 ? 100.0 : 100.0 * upMinutes / requestMinutes,
        "pageLoadTime", new Approx(mean(of(cur, "page_load"), "durationMs"), MS)));
    out.put("revenue", map(
        "total", revenue,
        "averagePerUser", ratio(revenue, active.size()),
        "averagePerSession", ratio(revenue, sess.size()),
        "growth", previous == 0 ? null : (revenue - previous) / previous * 100));
    return out;
  }

  /** Facts about the dataset the test wants to be sure of (so the checks are meaningful). */
  double revenue(Instant from, Instant to) {
    return sum(of(matching(Filters.NONE, from, to), "payment"), "amount");
  }

  // ---------------------------------------------------------------------------------------------------------------
  // POST /v1/funnels

  record Step(String event, Map<String, Object> where) {
    boolean match(KatEvent e) {
      if (!e.type.equals(event)) {
        return false;
      }
      for (Map.Entry<String, Object> w : where.entrySet()) {
        Object v = e.props.getValue(w.getKey());
        if (v == null) {
          return false;
        }
        if (v instanceof Number n && w.getValue() instanceof Number m) {
          if (n.doubleValue() != m.doubleValue()) {
            return false;
          }
        } else if (!v.equals(w.getValue())) {
          return false;
        }
      }
      return true;
    }
  }

  Map<String, Object> funnel(String name, List<Step> steps, long windowSeconds, Instant from, Instant to) {
    int n = steps.size();
    Map<String, List<KatEvent>> chosen = new TreeMap<>();
    for (Map.Entry<String, List<KatEvent>> p : byPerson.entrySet()) {
      List<KatEvent> pe = p.getValue();
      List<KatEvent> best = null;
      for (KatEvent s1 : pe) {
        if (!in(s1.ts, from, to) || !steps.get(0).match(s1)) {
          continue;
        }
        Instant limit = s1.ts.plusSeconds(windowSeconds);
        List<KatEvent> chain = new ArrayList<>(List.of(s1));
        for (int i = 1; i < n; i++) {
          KatEvent prev = chain.get(i - 1);
          KatEvent next = null;
          for (KatEvent x : pe) {
            if (x.ts.isAfter(prev.ts) && !x.ts.isAfter(limit) && x.ts.isBefore(to) && steps.get(i).match(x)) {
              next = x;
              break;
            }
          }
          if (next == null) {
            break;
          }
          chain.add(next);
        }
        if (best == null || chain.size() > best.size()) {
          best = chain;
        }
      }
      if (best != null) {
        chosen.put(p.getKey(), best);
      }
    }
    long[] users = new long[n];
    double[] timeSum = new double[n];
    for (List<KatEvent> c : chosen.values()) {
      for (int i = 0; i < c.size(); i++) {
        users[i]++;
        if (i > 0) {
          timeSum[i] += Duration.between(c.get(i - 1).ts, c.get(i).ts).toMillis();
        }
      }
    }
    List<Object> stepsOut = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      stepsOut.add(map(
          "id", "step-" + (i + 1),
          "name", KatCheck.PRESENT,
          "description", KatCheck.PRESENT,
          "event", steps.get(i).event,
          "order", (long) (i + 1),
          "users", users[i],
          "conversionRate", ratio(users[i], users[0]),
          "conversionFromPrevious", i == 0 ? ratio(users[0], users[0]) : ratio(users[i], users[i - 1]),
          "averageTime", new Approx(i == 0 ? 0 : ratio(timeSum[i], users[i]), MS)));
    }
    double total = 0;
    long completers = 0;
    for (List<KatEvent> c : chosen.values()) {
      if (c.size() == n) {
        completers++;
        total += Duration.between(c.get(0).ts, c.get(n - 1).ts).toMillis();
      }
    }
    List<Object> drops = new ArrayList<>();
    for (int i = 1; i < n; i++) {
      Map<String, Integer> reasons = new TreeMap<>();
      for (Map.Entry<String, List<KatEvent>> c : chosen.entrySet()) {
        List<KatEvent> chain = c.getValue();
        if (chain.size() != i) {
          continue;
        }
        Instant after = chain.get(i - 1).ts;
        Instant limit = chain.get(0).ts.plusSeconds(windowSeconds);
        for (KatEvent x : byPerson.get(c.getKey())) {
          if (x.ts.isAfter(after) && !x.ts.isAfter(limit) && x.ts.isBefore(to) && !x.type.equals(steps.get(i).event)) {
            reasons.merge(x.type, 1, Integer::sum);
          }
        }
      }
      List<Object> top = reasons.entrySet().stream()
          .sorted(Comparator.<Map.Entry<String, Integer>>comparingInt(Map.Entry::getValue).reversed()
              .thenComparing(Map.Entry::getKey))
          .limit(3).map(x -> (Object) x.getKey()).toList();
      long dropped = users[i - 1] - users[i];
      drops.add(map(
          "stepId", "step-" + (i + 1),
          "users", dropped,
          "percentage", ratio(dropped, users[i - 1]) * 100,
          "reasons", new KatCheck.Reasons(new ArrayList<>(top))));
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("steps", stepsOut);
    out.put("users", users[0]);
    out.put("conversionRate", ratio(users[n - 1], users[0]));
    out.put("averageTime", new Approx(ratio(total, completers), MS));
    out.put("dropOffPoints", drops);
    return out;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // GET /v1/retention

  LocalDate periodStart(LocalDate d, boolean week) {
    return week ? d.with(TemporalAdjusters.previousOrSame(DayOfWeek.MONDAY)) : d;
  }

  Instant startOf(LocalDate d) {
    return d.atStartOfDay(zone).toInstant();
  }

  Map<String, Object> retention(String granularity, int periods, Instant from, Instant to) {
    boolean week = granularity.equals("week");
    int step = week ? 7 : 1;
    LocalDate c = periodStart(day(from), week);
    if (startOf(c).isBefore(from)) {
      c = c.plusDays(step);
    }
    List<Object> cohorts = new ArrayList<>();
    for (; startOf(c).isBefore(to); c = c.plusDays(step)) {
      final LocalDate cohort = c;
      List<String> members = firstSeen.entrySet().stream()
          .filter(x -> periodStart(day(x.getValue()), week).equals(cohort)).map(Map.Entry::getKey).toList();
      List<Object> r = new ArrayList<>();
      r.add(members.isEmpty() ? 0.0 : 1.0);
      for (int k = 1; k <= periods; k++) {
        LocalDate ps = c.plusDays((long) k * step);
        Instant a = startOf(ps);
        Instant b = startOf(ps.plusDays(step));
        if (!a.isBefore(to)) {
          r.add(null);
          continue;
        }
        long back = members.stream().filter(p -> byPerson.get(p).stream().anyMatch(e -> in(e.ts, a, b))).count();
        r.add(ratio(back, members.size()));
      }
      cohorts.add(map("start", new DayStart(c, startOf(c)), "size", (long) members.size(), "retention", r));
    }
    return map("granularity", granularity, "periods", (long) periods, "cohorts", cohorts);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // GET /v1/conversions

  static final List<String> CONVERSION_TYPES = List.of("signup", "subscription", "upgrade", "referral", "engagement");

  static String conversionType(KatEvent e) {
    if (List.of("signup", "subscription", "upgrade", "referral").contains(e.type)) {
      return e.type;
    }
    // engagement: other catalogue types of category conversion except payment; the default catalogue has none, so a
    // custom (uncatalogued) event sent with category conversion is not a conversion
    return null;
  }

  static double conversionValue(KatEvent e) {
    Double amount = e.num("amount");
    return amount != null ? amount : e.value != null ? e.value : 0;
  }

  /** The test's own model of a touch (UTM of the page, else an external referrer). */
  static Map<String, String> touch(KatEvent e) {
    if (e.pagePath == null) {
      return null;
    }
    String query = e.pageSearch != null && !e.pageSearch.isEmpty() ? e.pageSearch.substring(1)
        : e.pageUrl != null && e.pageUrl.contains("?") ? e.pageUrl.substring(e.pageUrl.indexOf('?') + 1) : null;
    Map<String, String> utm = new LinkedHashMap<>();
    if (query != null) {
      for (String pair : query.split("&")) {
        String[] kv = pair.split("=", 2);
        if (kv[0].startsWith("utm_")) {
          utm.put(kv[0].substring(4), URLDecoder.decode(kv[1], StandardCharsets.UTF_8));
        }
      }
    }
    String ref = e.referrer == null || e.referrer.isEmpty() ? null : URI.create(e.referrer).getHost();
    boolean external = ref != null && !ref.replaceFirst("^www\\.", "").equals("app.example");
    if (utm.isEmpty() && !external) {
      return null;
    }
    Map<String, String> t = new LinkedHashMap<>();
    t.put("source", utm.containsKey("source") ? utm.get("source") : ref);
    t.put("medium", utm.containsKey("medium") ? utm.get("medium")
        : ref.contains("google.") ? "organic" : ref.equals("t.co") ? "social" : "referral");
    t.put("campaign", utm.get("campaign"));
    t.put("term", utm.get("term"));
    t.put("content", utm.get("content"));
    return t;
  }

  List<KatEvent> conversionEvents(Instant from, Instant to) {
    return ev.stream().filter(e -> in(e.ts, from, to) && conversionType(e) != null)
        .sorted(Comparator.comparing((KatEvent e) -> e.ts).reversed()).toList();
  }

  Map<String, Object> conversions(Instant from, Instant to, int limit) {
    List<KatEvent> all = conversionEvents(from, to);
    List<Object> list = new ArrayList<>();
    for (KatEvent e : all.subList(0, Math.min(limit, all.size()))) {
      List<KatEvent> touches = e.person == null ? List.of() : byPerson.get(e.person).stream()
          .filter(x -> !x.ts.isAfter(e.ts) && touch(x) != null).toList();
      Map<String, Object> attribution;
      if (touches.isEmpty()) {
        attribution = map("source", "direct", "medium", "(none)", "campaign", null, "term", null, "content", null,
            "firstTouch", KatCheck.PRESENT, "lastTouch", KatCheck.PRESENT, "touchpoints", List.of());
      } else {
        Map<String, String> last = touch(touches.get(touches.size() - 1));
        List<Object> tps = new ArrayList<>();
        for (KatEvent x : touches) {
          tps.add(map("timestamp", new At(x.ts), "channel", KatCheck.PRESENT, "action", KatCheck.PRESENT,
              "properties", KatCheck.PRESENT));
        }
        attribution = map("source", last.get("source"), "medium", last.get("medium"), "campaign", last.get("campaign"),
            "term", last.get("term"), "content", last.get("content"), "firstTouch", KatCheck.PRESENT,
            "lastTouch", KatCheck.PRESENT, "touchpoints", tps);
      }
      String type = conversionType(e);
      list.add(map(
          "id", e.id,
          "type", map("id", type, "name", KatCheck.PRESENT, "description", KatCheck.PRESENT,
              "category", KatCheck.PRESENT, "value", KatCheck.PRESENT),
          "value", conversionValue(e),
          "currency", e.prop("currency"),
          "timestamp", new At(e.ts),
          "userId", e.person,
          "properties", new KatCheck.ExactKeys(e.props.getMap()),
          "attribution", attribution));
    }
    Map<String, Object> byType = new LinkedHashMap<>();
    double value = 0;
    for (String t : CONVERSION_TYPES) {
      List<KatEvent> ofType = all.stream().filter(e -> t.equals(conversionType(e))).toList();
      double v = ofType.stream().mapToDouble(KatOracle::conversionValue).sum();
      value += v;
      byType.put(t, map("count", (long) ofType.size(), "value", v));
    }
    return map("conversions", list, "truncated", all.size() > limit,
        "totals", map("count", (long) all.size(), "value", value, "byType", new KatCheck.ExactKeys(byType)));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // GET /v1/timeseries and /v1/breakdown

  static final List<String> METRICS = List.of("events", "active_users", "messages", "tokens", "cost", "errors", "revenue");

  static Object metric(String metric, List<KatEvent> l) {
    return switch (metric) {
      case "events" -> (long) l.size();
      case "active_users" -> (long) persons(l).size();
      case "messages" -> (long) messages(l).size();
      case "tokens" -> sum(messages(l), "tokens");
      case "cost" -> sum(messages(l), "cost");
      case "errors" -> count(l, "error");
      case "revenue" -> sum(of(l, "payment"), "amount");
      default -> throw new IllegalArgumentException(metric);
    };
  }

  Instant bucketStart(Instant t, String interval) {
    ZonedDateTime z = t.atZone(zone);
    return switch (interval) {
      case "minute" -> z.truncatedTo(ChronoUnit.MINUTES).toInstant();
      case "hour" -> z.truncatedTo(ChronoUnit.HOURS).toInstant();
      case "day" -> z.toLocalDate().atStartOfDay(zone).toInstant();
      default -> throw new IllegalArgumentException(interval);
    };
  }

  Instant bucketEnd(Instant start, String interval) {
    return switch (interval) {
      case "minute" -> start.plus(1, ChronoUnit.MINUTES);
      case "hour" -> start.plus(1, ChronoUnit.HOURS);
      default -> day(start).plusDays(1).atStartOfDay(zone).toInstant();
    };
  }

  Map<String, Object> timeseries(String metric, String interval, Filters f, Instant from, Instant to) {
    List<KatEvent> cur = matching(f, from, to);
    List<Object> points = new ArrayList<>();
    for (Instant b = bucketStart(from, interval); b.isBefore(to); b = bucketEnd(b, interval)) {
      Instant s = b;
      Instant e = bucketEnd(b, interval);
      points.add(map("t", new At(b), "value", metric(metric, cur.stream().filter(x -> in(x.ts, s, e)).toList())));
    }
    return map("metric", metric, "interval", interval, "points", points);
  }

  static String key(KatEvent e, String dimension) {
    return switch (dimension) {
      case "event" -> e.type;
      case "provider" -> e.prop("provider");
      case "model" -> e.prop("model");
      case "country" -> e.country;
      case "device" -> e.device;
      case "browser" -> e.browser;
      case "page" -> e.pagePath;
      default -> throw new IllegalArgumentException(dimension);
    };
  }

  record Row(String key, Object value) {
    double v() {
      return ((Number) value).doubleValue();
    }
  }

  static final Comparator<Row> ROW_ORDER = Comparator.comparingDouble(Row::v).reversed()
      .thenComparing(Row::key, Comparator.nullsLast(Comparator.naturalOrder()));

  /** The events a metric is computed from (the other reading of which rows a breakdown has). */
  static boolean contributes(String metric, KatEvent e) {
    return switch (metric) {
      case "events" -> true;
      case "active_users" -> e.person != null;
      case "messages", "tokens", "cost" -> e.isMessage();
      case "errors" -> e.type.equals("error");
      case "revenue" -> e.type.equals("payment");
      default -> throw new IllegalArgumentException(metric);
    };
  }

  /** Rows when only keys of the metric's own events get a row. */
  List<Row> breakdownRowsOfMetricEvents(String dimension, String metric, Filters f, Instant from, Instant to) {
    Map<String, List<KatEvent>> groups = new LinkedHashMap<>();
    for (KatEvent e : matching(f, from, to)) {
      if (contributes(metric, e)) {
        groups.computeIfAbsent(key(e, dimension), k -> new ArrayList<>()).add(e);
      }
    }
    List<Row> rows = new ArrayList<>();
    groups.forEach((k, l) -> rows.add(new Row(k, metric(metric, l))));
    rows.sort(ROW_ORDER);
    return rows;
  }

  Object breakdownTotal(String metric, Filters f, Instant from, Instant to) {
    return metric(metric, matching(f, from, to));
  }

  static Map<String, Object> map(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }

}
