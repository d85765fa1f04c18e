package io.tally.query;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;

/**
 * The known-answer dataset: a deterministic (fixed seed) list of events of several persons over several weeks, with
 * every catalogue type the analytics routes use, several providers/models, devices (user agents) and countries
 * (addresses of the test's geo database), and the edge cases of the spec (identify, ties, midnight, bots, ...).
 */
final class KatDataset {
  static final long SEED = 20261005L;

  static final Map<String, String> CATEGORY = Map.ofEntries(
      Map.entry("page_view", "navigation"), Map.entry("conversation_created", "conversation"),
      Map.entry("conversation_completed", "conversation"), Map.entry("message_sent", "conversation"),
      Map.entry("message_received", "conversation"), Map.entry("error", "error"),
      Map.entry("feature_used", "interaction"), Map.entry("share_created", "interaction"),
      Map.entry("export_generated", "interaction"), Map.entry("customization_made", "interaction"),
      Map.entry("feedback_given", "interaction"), Map.entry("support_ticket_created", "interaction"),
      Map.entry("signup", "conversion"), Map.entry("subscription", "conversion"), Map.entry("upgrade", "conversion"),
      Map.entry("referral", "conversion"), Map.entry("payment", "conversion"), Map.entry("page_load", "performance"),
      Map.entry("identify", "interaction"),
      // a custom (non-catalogue) type of category conversion: an "engagement" conversion
      Map.entry("trial_started", "conversion"));

  static final Map<String, String> PROVIDER = Map.of(
      "gpt-4o", "openai", "gpt-4o-mini", "openai", "claude-3-5-sonnet", "anthropic", "claude-3-haiku", "anthropic",
      "gemini-1.5-pro", "google");

  static final String APP = "https://app.example";
  static final String ANON = "a-kat-visitor";
  static final String IDENT = "u-ident";

  final ZoneId zone;
  /** Sent first. */
  final List<KatEvent> events = new ArrayList<>();
  /** Sent after the identity merge of the first round is visible (anonymous-only events of a linked id). */
  final List<KatEvent> late = new ArrayList<>();
  /** anonymous id → user id (identify events). */
  final Map<String, String> links = new LinkedHashMap<>();
  private final Set<Long> usedMillis = new HashSet<>();
  private final Random rnd;
  private int ids;
  private final String idPrefix;

  private KatDataset(ZoneId zone, long seed, String idPrefix) {
    this.zone = zone;
    this.rnd = new Random(seed);
    this.idPrefix = idPrefix;
  }

  List<KatEvent> all() {
    List<KatEvent> a = new ArrayList<>(events);
    a.addAll(late);
    return a;
  }

  /** Resolves each event's person (user id, else the anonymous id, through links) and environment. */
  void resolve() {
    for (KatEvent e : all()) {
      e.deriveEnvironment();
      e.person = e.userId != null ? e.userId : e.anonId == null ? null : links.getOrDefault(e.anonId, e.anonId);
    }
  }

  static JsonArray json(List<KatEvent> list) {
    JsonArray a = new JsonArray();
    for (KatEvent e : list) {
      a.add(e.toJson());
    }
    return a;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Building blocks

  /** A session being written: events at increasing times, all with the same session id and client environment. */
  final class Session {
    final String sid;
    final String userId;
    final String anonId;
    final String ua;
    final String ip;
    boolean backendContext;
    final List<KatEvent> into;
    Instant t;
    String path = "/";

    Session(List<KatEvent> into, String sid, String userId, String anonId, String ua, String ip, Instant start) {
      this.into = into;
      this.sid = sid;
      this.userId = userId;
      this.anonId = anonId;
      this.ua = ua;
      this.ip = ip;
      this.t = start;
      this.backendContext = rnd.nextBoolean();
    }

    /** A client (browser) event: carries the page and the user agent / address. */
    KatEvent client(String type, long gapMs, JsonObject props) {
      KatEvent e = base(type, gapMs, props);
      e.pagePath = path;
      e.pageUrl = APP + path;
      e.ua = ua;
      e.ip = ip;
      return e;
    }

    /** A backend event: no page; the user's agent and address only when the backend forwards them. */
    KatEvent backend(String type, long gapMs, JsonObject props) {
      KatEvent e = base(type, gapMs, props);
      if (backendContext) {
        e.ua = ua;
        e.ip = ip;
      }
      return e;
    }

    KatEvent pageView(long gapMs, String newPath, String url, String search, String referrer) {
      path = newPath;
      KatEvent e = client("page_view", gapMs, new JsonObject().put("title", newPath));
      if (url != null) {
        e.pageUrl = url;
      }
      e.pageSearch = search;
      e.referrer = referrer;
      return e;
    }

    private KatEvent base(String type, long gapMs, JsonObject props) {
      KatEvent e = new KatEvent();
      t = unique(t.plusMillis(gapMs));
      e.ts = t;
      e.id = UUID.nameUUIDFromBytes((idPrefix + "-" + (ids++)).getBytes(StandardCharsets.UTF_8)).toString();
      e.type = type;
      e.category = CATEGORY.get(type);
      e.sessionId = sid;
      e.userId = userId;
      e.anonId = anonId;
      e.props = props == null ? new JsonObject() : props;
      into.add(e);
      return e;
    }
  }

  private Instant unique(Instant t) {
    long ms = t.toEpochMilli();
    while (!usedMillis.add(ms)) {
      ms++;
    }
    return Instant.ofEpochMilli(ms);
  }

  private int between(int lo, int hi) {
    return lo + rnd.nextInt(hi - lo + 1);
  }

  private <T> T pick(List<T> list) {
    return list.get(rnd.nextInt(list.size()));
  }

  private long gapSeconds(int lo, int hi) {
    return between(lo, hi) * 1000L + rnd.nextInt(1000);
  }

  private static double money(double v) {
    return Math.round(v * 100) / 100.0;
  }

  private static double cost(double v) {
    return Math.round(v * 1_000_000) / 1_000_000.0;
  }

  /** One conversation: created, 0-3 exchanges (maybe errors), maybe completed. */
  private void conversation(Session s, String model) {
    String provider = PROVIDER.get(model);
    String conv = "c-" + ids;
    s.client("conversation_created", gapSeconds(3, 60),
        new JsonObject().put("conversationId", conv).put("provider", provider).put("model", model));
    int exchanges = rnd.nextInt(4);
    for (int i = 0; i < exchanges; i++) {
      JsonObject sent = new JsonObject().put("conversationId", conv).put("length", between(5, 400));
      if (rnd.nextDouble() < 0.8) {
        sent.put("provider", provider).put("model", model);
      }
      if (rnd.nextDouble() < 0.5) {
        sent.put("tokens", between(5, 300));
      }
      if (rnd.nextDouble() < 0.3) {
        sent.put("cost", cost(rnd.nextDouble() * 0.002));
      }
      s.client("message_sent", gapSeconds(5, 90), sent);
      int errors = rnd.nextDouble() < 0.18 ? (rnd.nextDouble() < 0.35 ? 2 : 1) : 0;
      for (int k = 0; k < errors; k++) {
        JsonObject err = new JsonObject().put("code", rnd.nextBoolean() ? "rate_limit" : "timeout")
            .put("message", "upstream failed");
        if (rnd.nextDouble() < 0.7) {
          err.put("provider", provider).put("model", model);
        }
        s.backend("error", between(200, 4000), err);
      }
      int rt = between(300, 9000);
      JsonObject received = new JsonObject().put("provider", provider).put("model", model)
          .put("conversationId", conv).put("tokens", between(20, 1500))
          .put("cost", cost(rnd.nextDouble() * 0.03)).put("responseTimeMs", rt);
      s.backend("message_received", rt, received);
    }
    if (rnd.nextDouble() < 0.6) {
      s.backend("conversation_completed", gapSeconds(2, 30),
          new JsonObject().put("conversationId", conv).put("messages", exchanges * 2));
    }
  }

  private static final List<String> PATHS = List.of("/chat", "/history", "/settings", "/pricing", "/docs");
  private static final List<String> FEATURES = List.of("voice", "search", "export", "chat", "templates");

  private void action(Session s, Profile p) {
    double r = rnd.nextDouble() * (p.noMessages ? 7.3 : 11.3);
    if (r < 2) {
      s.pageView(gapSeconds(5, 200), pick(PATHS), null, null, APP + s.path);
    } else if (r < 3.5) {
      s.client("feature_used", gapSeconds(5, 200), new JsonObject().put("feature", pick(FEATURES)));
    } else if (r < 3.9) {
      s.client("share_created", gapSeconds(5, 200), new JsonObject().put("channel", "link"));
    } else if (r < 4.3) {
      s.client("export_generated", gapSeconds(5, 200), new JsonObject().put("format", rnd.nextBoolean() ? "pdf" : "md"));
    } else if (r < 4.7) {
      s.client("customization_made", gapSeconds(5, 200), new JsonObject().put("setting", "theme").put("value", "dark"));
    } else if (r < 5.1) {
      s.client("feedback_given", gapSeconds(5, 200), new JsonObject().put("rating", between(1, 5)));
    } else if (r < 5.4) {
      s.client("support_ticket_created", gapSeconds(5, 200),
          new JsonObject().put("subject", "help").put("priority", rnd.nextBoolean() ? "low" : "high"));
    } else if (r < 5.6) {
      double amount = rnd.nextBoolean() ? 19.99 : 29.0;
      s.client("subscription", gapSeconds(5, 200), new JsonObject().put("plan", "pro").put("amount", amount)
          .put("currency", rnd.nextBoolean() ? "USD" : "EUR"));
    } else if (r < 5.75) {
      s.client("upgrade", gapSeconds(5, 200), new JsonObject().put("fromPlan", "pro").put("toPlan", "team")
          .put("amount", 30.5).put("currency", "USD"));
    } else if (r < 5.95) {
      KatEvent e = s.client("referral", gapSeconds(5, 200),
          new JsonObject().put("referredUserId", "friend-" + rnd.nextInt(100)).put("channel", "email"));
      if (rnd.nextBoolean()) {
        e.value = 5.0;
      }
    } else if (r < 6.3) {
      s.backend("payment", gapSeconds(5, 200), new JsonObject()
          .put("amount", money(pick(List.of(9.99, 19.99, 49.0, 120.0)))).put("currency", rnd.nextBoolean() ? "USD" : "EUR")
          .put("plan", "pro"));
    } else if (r < 6.45) {
      KatEvent e = s.client("trial_started", gapSeconds(5, 200), new JsonObject().put("plan", "team"));
      if (rnd.nextBoolean()) {
        e.value = 2.5;
      }
    } else if (r < 7.3) {
      // a client-side error without a provider
      s.client("error", gapSeconds(5, 200), new JsonObject().put("code", "ui_crash"));
    } else {
      conversation(s, pick(p.models));
    }
  }

  record Profile(String id, LocalDate first, LocalDate last, double p, int hourFrom, int hourTo, List<String> uas,
                 String ip, List<String> models, String campaign, boolean signup, boolean noMessages) {}

  /** Sessions of one person: the first day always, then each day with probability p. */
  private void person(Profile p) {
    int n = 0;
    for (LocalDate d = p.first; !d.isAfter(p.last); d = d.plusDays(1)) {
      if (n > 0 && rnd.nextDouble() >= p.p) {
        continue;
      }
      int sessionsToday = rnd.nextDouble() < 0.3 ? 2 : 1;
      int hour = between(p.hourFrom, p.hourTo);
      for (int k = 0; k < sessionsToday; k++) {
        Instant start = d.atTime(Math.min(23, hour + 3 * k), between(0, 59), between(0, 59)).atZone(zone).toInstant()
            .plusMillis(rnd.nextInt(1000));
        session(p, "s-" + p.id + "-" + (n++), start, n == 1);
      }
    }
  }

  private void session(Profile p, String sid, Instant start, boolean first) {
    Session s = new Session(events, sid, p.id, null, pick(p.uas), p.ip, start);
    landing(s, first ? p.campaign : null, 0);
    if (rnd.nextDouble() < 0.12) {
      return; // a bounce: one page view
    }
    s.client("page_load", between(300, 2500), new JsonObject().put("durationMs", between(150, 3000)));
    if (first && p.signup) {
      s.client("signup", gapSeconds(5, 60), new JsonObject().put("method", rnd.nextBoolean() ? "email" : "google")
          .put("plan", "free"));
    }
    int actions = 1 + rnd.nextInt(5);
    for (int i = 0; i < actions; i++) {
      action(s, p);
    }
  }

  /** The landing page view: UTM-tagged for a campaign, else maybe an external referrer, else direct. */
  private void landing(Session s, String campaign, long gap) {
    double r = rnd.nextDouble();
    if (campaign != null) {
      String q = "utm_source=newsletter&utm_medium=email&utm_campaign=" + campaign + "&utm_term=llm&utm_content=hero";
      s.pageView(gap, "/", APP + "/?" + q, "?" + q, "");
    } else if (r < 0.2) {
      s.pageView(gap, "/", null, null, "https://www.google.com/search?q=tally");
    } else if (r < 0.3) {
      s.pageView(gap, "/", null, null, "https://blog.example.org/best-llm-tools");
    } else if (r < 0.37) {
      String q = "utm_source=twitter&utm_medium=social&utm_campaign=fall";
      s.pageView(gap, "/chat", APP + "/chat?" + q, "?" + q, "https://t.co/x");
    } else {
      s.pageView(gap, rnd.nextBoolean() ? "/" : "/chat", null, null, "");
    }
  }

  private static LocalDate oct(int day) {
    return LocalDate.of(2026, 10, day);
  }

  private static LocalDate sep(int day) {
    return LocalDate.of(2026, 9, day);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // The UTC project's dataset

  static KatDataset utc() {
    KatDataset k = new KatDataset(ZoneOffset.UTC, SEED, "kat-utc");
    k.buildUtc();
    k.resolve();
    return k;
  }

  private void buildUtc() {
    String cw = KatEvent.CHROME_WINDOWS;
    String ff = KatEvent.FIREFOX_MAC;
    String ip = KatEvent.IPHONE;
    String an = KatEvent.ANDROID_PHONE;
    String pad = KatEvent.IPAD;
    List<Profile> profiles = List.of(
        new Profile("u01", sep(15), oct(21), 0.55, 8, 12, List.of(cw), KatEvent.IP_FR,
            List.of("gpt-4o", "gpt-4o", "claude-3-5-sonnet"), null, false, false),
        new Profile("u02", sep(22), oct(20), 0.6, 19, 22, List.of(ip, cw), KatEvent.IP_DE,
            List.of("claude-3-5-sonnet", "claude-3-haiku"), "autumn", true, false),
        new Profile("u03", oct(5), oct(18), 0.7, 13, 17, List.of(an), KatEvent.IP_US,
            List.of("gemini-1.5-pro", "gpt-4o-mini"), "launch", true, false),
        new Profile("u04", sep(23), oct(4), 0.7, 9, 18, List.of(ff), KatEvent.IP_FR,
            List.of("gpt-4o"), null, true, false),
        new Profile("u05", oct(8), oct(19), 0.8, 6, 10, List.of(pad), KatEvent.IP_UNKNOWN,
            List.of("gpt-4o-mini", "claude-3-haiku"), "launch", true, false),
        new Profile("u06", sep(28), oct(16), 0.4, 10, 20, List.of(cw, ip), KatEvent.IP_US,
            List.of("claude-3-5-sonnet", "gpt-4o", "gemini-1.5-pro"), null, true, false),
        new Profile("u07", oct(12), oct(18), 0.9, 14, 16, List.of(ff), KatEvent.IP_DE,
            List.of("gpt-4o"), "autumn", true, false),
        new Profile("u08", sep(21), oct(12), 0.3, 7, 21, List.of(an), KatEvent.IP_FR,
            List.of("claude-3-haiku"), null, true, false),
        new Profile("u09", oct(1), oct(20), 0.5, 11, 13, List.of(cw), null,
            List.of("gemini-1.5-pro", "gpt-4o"), null, false, false),
        new Profile("u-nomsg", oct(6), oct(15), 0.5, 9, 17, List.of(ff, pad), KatEvent.IP_DE,
            List.of("gpt-4o"), null, true, true));
    for (Profile p : profiles) {
      person(p);
    }
    midnightSession();
    tiePerson();
    identifiedVisitor();
    botAndNobody();
  }

  /** u02: a session from 23:40 on 10 October to 00:25 on 11 October (UTC). */
  private void midnightSession() {
    Instant start = Instant.parse("2026-10-10T23:40:00.123Z");
    Session s = new Session(events, "s-u02-midnight", "u02", null, KatEvent.IPHONE, KatEvent.IP_DE, start);
    s.backendContext = true;
    s.pageView(0, "/chat", null, null, "");
    s.client("conversation_created", 60_000, new JsonObject().put("conversationId", "c-mid").put("provider", "anthropic")
        .put("model", "claude-3-5-sonnet"));
    s.client("message_sent", 5 * 60_000, new JsonObject().put("provider", "anthropic").put("model", "claude-3-5-sonnet")
        .put("tokens", 40));
    s.backend("message_received", 4_000, new JsonObject().put("provider", "anthropic").put("model", "claude-3-5-sonnet")
        .put("tokens", 800).put("cost", 0.0125).put("responseTimeMs", 4000));
    // past midnight
    s.client("message_sent", 15 * 60_000, new JsonObject().put("provider", "anthropic").put("model", "claude-3-5-sonnet")
        .put("tokens", 25));
    s.backend("message_received", 2_500, new JsonObject().put("provider", "anthropic").put("model", "claude-3-5-sonnet")
        .put("tokens", 300).put("cost", 0.004).put("responseTimeMs", 2500));
    s.client("export_generated", 20 * 60_000, new JsonObject().put("format", "pdf"));
  }

  /** u-tie: as many message events with openai/gpt-4o-mini (first in time) as with anthropic/claude-3-haiku. */
  private void tiePerson() {
    Session a = new Session(events, "s-tie-1", "u-tie", null, KatEvent.CHROME_WINDOWS, KatEvent.IP_US,
        Instant.parse("2026-10-09T10:00:00.500Z"));
    a.pageView(0, "/chat", null, null, "");
    a.client("signup", 20_000, new JsonObject().put("method", "email"));
    a.client("conversation_created", 20_000, new JsonObject().put("provider", "openai").put("model", "gpt-4o-mini"));
    a.client("message_sent", 30_000, new JsonObject().put("provider", "openai").put("model", "gpt-4o-mini").put("tokens", 10));
    a.backend("message_received", 1_200, new JsonObject().put("provider", "openai").put("model", "gpt-4o-mini")
        .put("tokens", 90).put("cost", 0.0009).put("responseTimeMs", 1200));
    a.client("feature_used", 40_000, new JsonObject().put("feature", "chat"));
    Session b = new Session(events, "s-tie-2", "u-tie", null, KatEvent.CHROME_WINDOWS, KatEvent.IP_US,
        Instant.parse("2026-10-13T15:00:00.250Z"));
    b.pageView(0, "/chat", null, null, "");
    b.client("conversation_created", 20_000, new JsonObject().put("provider", "anthropic").put("model", "claude-3-haiku"));
    b.client("message_sent", 30_000, new JsonObject().put("provider", "anthropic").put("model", "claude-3-haiku"));
    b.backend("message_received", 800, new JsonObject().put("provider", "anthropic").put("model", "claude-3-haiku")
        .put("tokens", 70).put("cost", 0.0004).put("responseTimeMs", 800));
    b.client("error", 2_000, new JsonObject().put("code", "timeout").put("provider", "anthropic"));
    b.client("feature_used", 10_000, new JsonObject().put("feature", "export"));
    b.client("export_generated", 10_000, new JsonObject().put("format", "md"));
  }

  /**
   * An anonymous visitor (UTM-tagged landing) who identifies as u-ident in their second session, keeps using the
   * product as u-ident, and later sends anonymous-only events again (second round, after the merge).
   */
  private void identifiedVisitor() {
    Session a = new Session(events, "s-anon-1", null, ANON, KatEvent.FIREFOX_MAC, KatEvent.IP_FR,
        Instant.parse("2026-10-06T09:00:00.700Z"));
    String q = "utm_source=partner&utm_medium=cpc&utm_campaign=spring&utm_term=chatbot&utm_content=banner";
    a.pageView(0, "/", APP + "/?" + q, "?" + q, "https://partner.example.net/deals");
    a.client("page_load", 900, new JsonObject().put("durationMs", 1800));
    a.pageView(40_000, "/pricing", null, null, APP + "/");
    a.client("feature_used", 50_000, new JsonObject().put("feature", "search"));
    Session b = new Session(events, "s-anon-2", null, ANON, KatEvent.FIREFOX_MAC, KatEvent.IP_FR,
        Instant.parse("2026-10-07T18:00:00.300Z"));
    b.backendContext = true;
    b.pageView(0, "/", null, null, "https://www.google.com/search?q=llm+chat");
    b.client("conversation_created", 30_000, new JsonObject().put("provider", "openai").put("model", "gpt-4o"));
    b.client("message_sent", 20_000, new JsonObject().put("provider", "openai").put("model", "gpt-4o").put("tokens", 33));
    b.backend("message_received", 3_100, new JsonObject().put("provider", "openai").put("model", "gpt-4o")
        .put("tokens", 420).put("cost", 0.0066).put("responseTimeMs", 3100));
    KatEvent identify = b.client("identify", 60_000, new JsonObject());
    identify.userId = IDENT; // anonymousId + userId: links the anonymous history to u-ident
    links.put(ANON, IDENT);
    KatEvent signup = b.client("signup", 5_000, new JsonObject().put("method", "google").put("plan", "free"));
    signup.userId = IDENT;
    signup.anonId = null;
    KatEvent pv = b.pageView(30_000, "/chat", null, null, APP + "/");
    pv.userId = IDENT;
    pv.anonId = null;
    person(new Profile(IDENT, oct(8), oct(17), 0.6, 18, 21, List.of(KatEvent.FIREFOX_MAC), KatEvent.IP_FR,
        List.of("gpt-4o", "claude-3-5-sonnet"), null, false, false));
    // second round: anonymous-only again, after the link
    Session c = new Session(late, "s-anon-late", null, ANON, KatEvent.FIREFOX_MAC, KatEvent.IP_FR,
        Instant.parse("2026-10-16T20:00:00.900Z"));
    c.backendContext = true;
    c.pageView(0, "/chat", null, null, "");
    c.client("message_sent", 20_000, new JsonObject().put("provider", "anthropic").put("model", "claude-3-5-sonnet")
        .put("tokens", 12));
    c.backend("message_received", 2_000, new JsonObject().put("provider", "anthropic").put("model", "claude-3-5-sonnet")
        .put("tokens", 150).put("cost", 0.0021).put("responseTimeMs", 2000));
    c.client("subscription", 30_000, new JsonObject().put("plan", "pro").put("amount", 19.99).put("currency", "EUR"));
  }

  /** A bot (excluded everywhere) and a session without any person. */
  private void botAndNobody() {
    Session bot = new Session(events, "s-bot", "u-bot", null, KatEvent.GOOGLEBOT, KatEvent.IP_US,
        Instant.parse("2026-10-10T12:00:00.050Z"));
    bot.backendContext = true;
    bot.pageView(0, "/", null, null, "https://www.google.com/");
    bot.client("message_sent", 10_000, new JsonObject().put("provider", "openai").put("model", "gpt-4o").put("tokens", 99));
    bot.backend("payment", 10_000, new JsonObject().put("amount", 999.0).put("currency", "USD"));
    bot.client("signup", 10_000, new JsonObject());
    Session nobody = new Session(events, "s-nobody", null, null, KatEvent.CHROME_WINDOWS, KatEvent.IP_DE,
        Instant.parse("2026-10-12T14:00:00.020Z"));
    nobody.pageView(0, "/docs", null, null, "");
    nobody.client("page_load", 700, new JsonObject().put("durationMs", 640));
    nobody.client("feature_used", 45_000, new JsonObject().put("feature", "search"));
    // conversions without any person: no touchpoints, attribution direct / none
    nobody.client("signup", 20_000, new JsonObject().put("method", "email"));
    KatEvent referral = nobody.client("referral", 20_000, new JsonObject().put("channel", "link"));
    referral.value = 3.0;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // The New York project's dataset: local midnights, the 25-hour day of 1 November 2026 (DST ends)

  static final ZoneId NEW_YORK = ZoneId.of("America/New_York");

  static KatDataset newYork() {
    KatDataset k = new KatDataset(NEW_YORK, SEED + 1, "kat-ny");
    k.buildNewYork();
    k.resolve();
    return k;
  }

  private Instant ny(String local) {
    return LocalDateTime.parse(local).atZone(NEW_YORK).toInstant();
  }

  private void buildNewYork() {
    // n1: a session across local midnight (same UTC day), an evening that is the next day in UTC, both 01:xx hours of
    // 1 November (EDT then EST), and a late evening of 2 November
    Session a = new Session(events, "s-n1-a", "n1", null, KatEvent.CHROME_WINDOWS, KatEvent.IP_US,
        ny("2026-10-28T23:50:00.100"));
    a.backendContext = true;
    a.pageView(0, "/chat", null, null, "");
    a.client("conversation_created", 60_000, new JsonObject().put("provider", "openai").put("model", "gpt-4o"));
    a.client("message_sent", 60_000, new JsonObject().put("provider", "openai").put("model", "gpt-4o").put("tokens", 20));
    a.backend("message_received", 2_000, new JsonObject().put("provider", "openai").put("model", "gpt-4o")
        .put("tokens", 200).put("cost", 0.003).put("responseTimeMs", 2000));
    a.client("feature_used", 10 * 60_000, new JsonObject().put("feature", "voice")); // 00:0x local, 29 Oct
    a.client("message_sent", 60_000, new JsonObject().put("provider", "openai").put("model", "gpt-4o"));
    a.backend("message_received", 1_500, new JsonObject().put("provider", "openai").put("model", "gpt-4o")
        .put("tokens", 100).put("cost", 0.0015).put("responseTimeMs", 1500));
    Session b = new Session(events, "s-n1-b", "n1", null, KatEvent.CHROME_WINDOWS, KatEvent.IP_US,
        ny("2026-10-30T21:00:00.200"));
    b.pageView(0, "/chat", null, null, "");
    b.client("message_sent", 30_000, new JsonObject().put("provider", "anthropic").put("model", "claude-3-5-sonnet"));
    b.backend("message_received", 3_000, new JsonObject().put("provider", "anthropic").put("model", "claude-3-5-sonnet")
        .put("tokens", 300).put("cost", 0.005).put("responseTimeMs", 3000));
    b.backend("payment", 60_000, new JsonObject().put("amount", 10.0).put("currency", "USD"));
    Session c = new Session(events, "s-n1-c", "n1", null, KatEvent.CHROME_WINDOWS, KatEvent.IP_US,
        Instant.parse("2026-11-01T05:30:00.300Z")); // 01:30 EDT
    c.pageView(0, "/chat", null, null, "");
    c.client("message_sent", 30_000, new JsonObject().put("provider", "anthropic").put("model", "claude-3-5-sonnet"));
    c.backend("message_received", 2_000, new JsonObject().put("provider", "anthropic").put("model", "claude-3-5-sonnet")
        .put("tokens", 250).put("cost", 0.004).put("responseTimeMs", 2000));
    Session d = new Session(events, "s-n1-d", "n1", null, KatEvent.CHROME_WINDOWS, KatEvent.IP_US,
        Instant.parse("2026-11-01T06:20:00.400Z")); // 01:20 EST
    d.pageView(0, "/history", null, null, "");
    d.client("error", 5_000, new JsonObject().put("code", "ui_crash"));
    d.client("page_view", 5_000, new JsonObject());
    Session e = new Session(events, "s-n1-e", "n1", null, KatEvent.CHROME_WINDOWS, KatEvent.IP_US,
        ny("2026-11-02T22:00:00.500"));
    e.pageView(0, "/chat", null, null, "");
    e.client("share_created", 20_000, new JsonObject().put("channel", "link"));
    // n2: first event late on 29 October (30 October in UTC), back on the 30th in the evening, and on 3 November
    Session f = new Session(events, "s-n2-a", "n2", null, KatEvent.IPHONE, KatEvent.IP_DE, ny("2026-10-29T22:30:00.600"));
    f.backendContext = true;
    f.pageView(0, "/", null, null, "");
    f.client("signup", 20_000, new JsonObject().put("method", "email"));
    f.client("conversation_created", 20_000, new JsonObject().put("provider", "google").put("model", "gemini-1.5-pro"));
    f.client("message_sent", 20_000, new JsonObject().put("provider", "google").put("model", "gemini-1.5-pro").put("tokens", 8));
    f.backend("message_received", 900, new JsonObject().put("provider", "google").put("model", "gemini-1.5-pro")
        .put("tokens", 64).put("cost", 0.0002).put("responseTimeMs", 900));
    Session g = new Session(events, "s-n2-b", "n2", null, KatEvent.IPHONE, KatEvent.IP_DE, ny("2026-10-30T20:00:00.700"));
    g.pageView(0, "/", null, null, "");
    g.client("export_generated", 40_000, new JsonObject().put("format", "pdf"));
    Session h = new Session(events, "s-n2-c", "n2", null, KatEvent.IPHONE, KatEvent.IP_DE, ny("2026-11-03T23:10:00.800"));
    h.pageView(0, "/", null, null, "");
    // n3: 23:59 on 31 October and 23:30 on 1 November (2 November in UTC)
    Session i = new Session(events, "s-n3-a", "n3", null, KatEvent.IPAD, null, ny("2026-10-31T23:59:00.900"));
    i.pageView(0, "/", null, null, "");
    i.client("page_load", 500, new JsonObject().put("durationMs", 1200));
    i.client("customization_made", 30_000, new JsonObject().put("setting", "theme"));
    Session j = new Session(events, "s-n3-b", "n3", null, KatEvent.IPAD, null, ny("2026-11-01T23:30:00.050"));
    j.pageView(0, "/", null, null, "");
    j.client("feedback_given", 15_000, new JsonObject().put("rating", 4));
  }

  static Duration span(Instant from, Instant to) {
    return Duration.between(from, to);
  }
}
