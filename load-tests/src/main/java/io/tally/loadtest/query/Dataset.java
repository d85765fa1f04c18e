package io.tally.loadtest.query;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.SplittableRandom;

/**
 * A deterministic, seeded chat-product dataset, addressed by event index: the stream is a sequence of sessions
 * (session {@code s} has a length that depends only on the seed and {@code s}), each generated from its own seeded
 * random source, so any range {@code [skip, skip + count)} of events can be produced on its own and a dataset can be
 * grown later with exactly the events a single bigger run would have produced.
 *
 * <p>Persons ({@code users}) fall in three activity classes: 5 % heavy persons get 40 % of the sessions, 25 % medium
 * ones 35 %, 70 % light ones 25 %. Each person has a first day, a device (desktop / mobile / tablet, a few user
 * agents each), a preferred LLM provider, and 8 % of them stay anonymous (anonymousId only). A session starts on a
 * day at or after the person's first day (activity decays after it) at a time drawn from a daily curve, and holds
 * several events with increasing timestamps and an explicit {@code sessionId}: page views (50 paths, some with UTM
 * parameters or an external referrer), page loads, conversations of message_sent / message_received pairs (provider,
 * model, tokens, cost, responseTimeMs) with occasional errors, feature use, shares, exports, settings, feedback,
 * support tickets, signups, subscriptions, upgrades, referrals, payments, identify and a rare alias: every type of
 * {@code config/event-types.json}.
 */
final class Dataset {
  static final String[] PROVIDERS = {"openai", "anthropic", "google", "mistral"};
  static final String[][] MODELS = {{"gpt-4o", "gpt-4o-mini", "o3-mini"}, {"claude-sonnet-4", "claude-haiku-3.5"},
      {"gemini-2.0-flash", "gemini-1.5-pro"}, {"mistral-large", "mistral-small"}};
  /** USD per 1,000 tokens, by provider and model. */
  private static final double[][] PRICE = {{0.01, 0.0006, 0.0044}, {0.015, 0.004}, {0.0004, 0.005}, {0.006, 0.001}};
  /** Median response time (ms) by provider and model. */
  private static final int[][] LATENCY = {{1400, 700, 2600}, {1600, 800}, {600, 1500}, {1300, 650}};
  static final String[] PAGES = {"/", "/chat", "/chat/new", "/chat/history", "/chat/shared", "/chat/search",
      "/c/recent", "/c/starred", "/c/archived", "/projects", "/projects/new", "/projects/settings", "/templates",
      "/templates/coding", "/templates/writing", "/templates/marketing", "/explore", "/explore/agents",
      "/explore/prompts", "/settings", "/settings/profile", "/settings/billing", "/settings/api-keys",
      "/settings/appearance", "/settings/data", "/settings/notifications", "/settings/team", "/pricing",
      "/pricing/teams", "/pricing/enterprise", "/checkout", "/checkout/success", "/signup", "/login",
      "/login/sso", "/onboarding", "/onboarding/step-2", "/onboarding/step-3", "/docs", "/docs/getting-started",
      "/docs/api", "/docs/models", "/docs/faq", "/blog", "/blog/new-models", "/blog/release-notes", "/changelog",
      "/help", "/help/contact", "/status"};
  /** Pages of the product itself (most views); the rest are marketing, docs and settings pages. */
  private static final int APP_PAGES = 10;
  static final String[] FEATURES = {"voice_input", "file_upload", "image_generation", "code_interpreter",
      "web_search", "templates", "dark_mode", "keyboard_shortcuts", "memory", "custom_instructions"};
  private static final String[] ERROR_CODES = {"rate_limit", "timeout", "context_length", "server_error",
      "invalid_request", "content_filter"};
  private static final String[] UTM_SOURCES = {"google", "newsletter", "twitter", "linkedin", "producthunt"};
  private static final String[] UTM_MEDIUMS = {"cpc", "email", "social", "social", "referral"};
  private static final String[] CAMPAIGNS = {"spring_launch", "weekly_digest", "new_models", "teams_promo"};
  private static final String[] REFERRERS = {"https://www.google.com/", "https://www.bing.com/",
      "https://news.ycombinator.com/", "https://www.reddit.com/r/LocalLLaMA/", "https://t.co/abc"};
  private static final String[] DESKTOP_UA = {
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
      "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0"};
  private static final String[] MOBILE_UA = {
      "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
      "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
      "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Mobile Safari/537.36"};
  private static final String[] TABLET_UA = {
      "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
      "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"};
  private static final String[] LANGS = {"en-US", "en-GB", "fr-FR", "de-DE", "es-ES", "ja-JP", "pt-BR"};
  private static final String[] PLANS = {"plus", "pro", "team"};
  private static final double[] PLAN_PRICE = {9.99, 19.99, 49.0};
  /** Relative session starts per UTC hour of day. */
  private static final double[] HOURLY = {2, 1.5, 1, 1, 1, 1.5, 3, 5, 7, 8, 8.5, 8.5, 8, 8, 8.5, 8.5, 8, 7.5, 7, 7,
      6.5, 5.5, 4, 3};
  private static final double[] HOURLY_CDF = cdf(HOURLY);

  final long seed;
  final int users;
  final int days;
  /** Exclusive end: the dataset covers the {@code days} UTC days before this one. */
  final LocalDate endDay;
  final long startMs;
  final long endMs;
  private final int prime;
  private final int heavy;
  private final int medium;
  private final boolean[] weekend;

  Dataset(long seed, int users, int days, LocalDate endDay) {
    this.seed = seed;
    this.users = users;
    this.days = days;
    this.endDay = endDay;
    this.endMs = endDay.atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
    this.startMs = endMs - days * 86_400_000L;
    int p = 7919; // any multiplier coprime with users makes rank -> person a permutation
    while (java.math.BigInteger.valueOf(p).gcd(java.math.BigInteger.valueOf(users)).intValue() != 1) {
      p += 2;
    }
    this.prime = p;
    this.heavy = Math.max(1, users / 20);
    this.medium = Math.max(1, users / 4);
    this.weekend = new boolean[days];
    for (int i = 0; i < days; i++) {
      weekend[i] = firstDay().plusDays(i).getDayOfWeek().getValue() >= 6;
    }
  }

  Instant startInstant() {
    return Instant.ofEpochMilli(startMs);
  }

  Instant endInstant() {
    return Instant.ofEpochMilli(endMs);
  }

  LocalDate firstDay() {
    return endDay.minusDays(days);
  }

  // ---------------------------------------------------------------------------------------------- addressing

  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }

  /** Events in session {@code s}: 1–2 (a bounce) for 15 % of sessions, else 3–40, about 10 on average. */
  int sessionLength(long s) {
    long h = mix(seed * 0x9E3779B97F4A7C15L + s + 1);
    double u = ((h >>> 11) * 0x1.0p-53);
    if (u < 0.15) {
      return 1 + (int) ((h >>> 3) & 1);
    }
    double v = ((mix(h) >>> 11) * 0x1.0p-53);
    return Math.min(40, 3 + (int) (-8.5 * Math.log(1 - v)));
  }

  /** Where event {@code index} lies: {session, offset within it, index of the session's first event}. */
  long[] locate(long index) {
    long s = 0;
    long first = 0;
    while (true) {
      int len = sessionLength(s);
      if (first + len > index) {
        return new long[] {s, index - first, first};
      }
      first += len;
      s++;
    }
  }

  /** The person of rank-in-class order: heavy persons are ranks [0, 5 %), medium [5 %, 30 %), light the rest. */
  int personOfRank(int rank) {
    return (int) (((long) rank * prime + 17) % users);
  }

  static String anonKey(int pid) {
    return "anon-" + pid;
  }

  static String userKey(int pid) {
    return "u-" + pid;
  }

  boolean anonymous(int pid) {
    return (mix(seed ^ (pid * 0x632BE59BD9B4E019L)) & 0xFF) < 20; // 8 %
  }

  /** The person key analytics see for {@code pid}. */
  String personKey(int pid) {
    return anonymous(pid) ? anonKey(pid) : userKey(pid);
  }

  /** A person of the heavy class (for probes that need an active person whatever the dataset's size). */
  int heavyPerson(int i) {
    return personOfRank(Math.floorMod(i, heavy));
  }

  // ---------------------------------------------------------------------------------------------- generation

  /** Appends session {@code s}'s events {@code [from, to)} (offsets within the session) as JSON objects. */
  void session(long s, long firstIndex, int from, int to, Sink out) {
    int len = sessionLength(s);
    SplittableRandom r = new SplittableRandom(mix(seed ^ (s * 0xD1B54A32D192ED03L)) + s);
    // a person, and a day at or after the person's first day; light and medium persons come back less and less
    // often after it (heavy ones stay), and weekends are quieter: rejection sampling, deterministic per session
    int pid;
    int day;
    long ph;
    int joinDay;
    while (true) {
      double c = r.nextDouble();
      int rank;
      if (c < 0.40) {
        rank = (int) (heavy * Math.pow(r.nextDouble(), 1.5));
      } else if (c < 0.75) {
        rank = heavy + (int) ((medium - heavy) * Math.pow(r.nextDouble(), 1.3));
      } else {
        rank = medium + (int) ((users - medium) * r.nextDouble());
      }
      rank = Math.min(users - 1, Math.max(0, rank));
      pid = personOfRank(rank);
      ph = mix(seed ^ (pid * 0x632BE59BD9B4E019L));
      joinDay = joinDay(ph);
      day = r.nextInt(days);
      if (day < joinDay) {
        continue;
      }
      double keep = c < 0.40 ? 1.0 : 0.25 + 0.75 * Math.exp(-(day - joinDay) / (c < 0.75 ? 8.0 : 3.0));
      if (weekend[day]) {
        keep *= 0.7;
      }
      if (r.nextDouble() < keep) {
        break;
      }
    }
    boolean anon = (ph & 0xFF) < 20;
    int deviceRoll = (int) ((ph >>> 24) & 0xFF) % 100;
    String ua;
    if (deviceRoll < 60) {
      ua = DESKTOP_UA[(int) ((ph >>> 32) & 0xFF) % DESKTOP_UA.length];
    } else if (deviceRoll < 90) {
      ua = MOBILE_UA[(int) ((ph >>> 32) & 0xFF) % MOBILE_UA.length];
    } else {
      ua = TABLET_UA[(int) ((ph >>> 32) & 0xFF) % TABLET_UA.length];
    }
    String lang = LANGS[(int) ((ph >>> 40) & 0xFF) % LANGS.length];
    int favProvider = (int) ((ph >>> 48) & 0xFF) % PROVIDERS.length;

    int hour = pick(HOURLY_CDF, r.nextDouble());
    long t = startMs + day * 86_400_000L + hour * 3_600_000L + r.nextLong(3_600_000L);

    // the whole session's timestamps first (gaps 2 s – 3 min), shifted back if it would run past the end
    long[] ts = new long[len];
    ts[0] = t;
    for (int i = 1; i < len; i++) {
      ts[i] = ts[i - 1] + 2_000 + (long) (r.nextDouble() * r.nextDouble() * 180_000);
    }
    long overflow = ts[len - 1] - (endMs - 1_000);
    if (overflow > 0) {
      for (int i = 0; i < len; i++) {
        ts[i] -= overflow;
      }
    }
    SessionState st = new SessionState();
    st.s = s;
    st.pid = pid;
    st.anon = anon;
    st.ua = ua;
    st.lang = lang;
    st.favProvider = favProvider;
    st.firstDay = day == joinDay;
    st.utm = r.nextDouble() < 0.12 ? r.nextInt(UTM_SOURCES.length) : -1;
    st.referrer = st.utm < 0 && r.nextDouble() < 0.10 ? REFERRERS[r.nextInt(REFERRERS.length)] : null;
    st.page = r.nextDouble() < 0.7 ? r.nextInt(APP_PAGES) : r.nextInt(PAGES.length);
    // the whole session is generated (so a split session is the same whichever part is asked for)
    for (int i = 0; i < len; i++) {
      String body = next(st, r, i, len);
      if (i >= from && i < to) {
        out.event(firstIndex + i, ts[i], body, st);
      }
    }
  }

  /** 40 % of persons were already users when the dataset starts (day 0); the others join on a uniform day. */
  private int joinDay(long ph) {
    double v = ((ph >>> 8) & 0xFFFF) / 65536.0;
    return v < 0.4 ? 0 : (int) (days * (v - 0.4) / 0.6);
  }

  private static int pick(double[] cdf, double u) {
    for (int i = 0; i < cdf.length; i++) {
      if (u < cdf[i]) {
        return i;
      }
    }
    return cdf.length - 1;
  }

  private static double[] cdf(double[] w) {
    double sum = 0;
    for (double x : w) {
      sum += x;
    }
    double[] c = new double[w.length];
    double acc = 0;
    for (int i = 0; i < w.length; i++) {
      acc += w[i];
      c[i] = acc / sum;
    }
    return c;
  }

  /** What a session carries from one event to the next. */
  static final class SessionState {
    long s;
    int pid;
    boolean anon;
    String ua;
    String lang;
    int favProvider;
    boolean firstDay;
    int utm;
    String referrer;
    int page;
    boolean landed;
    int conv;
    int provider = -1;
    int model;
    int messages;
    boolean awaitingReply;
  }

  /** Receives generated events: index, timestamp (epoch ms), and the type/properties part of the JSON. */
  interface Sink {
    void event(long index, long tsMs, String typeAndProps, SessionState st);
  }

  /** The type-specific part of event {@code i} of {@code len} in a session: type, action, value, properties, page. */
  private String next(SessionState st, SplittableRandom r, int i, int len) {
    StringBuilder b = new StringBuilder(256);
    if (i == 0) {
      if (len > 2 && r.nextDouble() < 0.5) {
        type(b, "session_start", "navigation");
        return page(b, st, false).toString();
      }
      return pageView(b, st, r, true);
    }
    if (i == len - 1 && len >= 4 && r.nextDouble() < 0.35) {
      type(b, "session_end", "navigation").append(",\"properties\":{\"reason\":\"")
          .append(r.nextDouble() < 0.6 ? "timeout" : r.nextBoolean() ? "logout" : "tab_closed").append("\"}");
      return page(b, st, false).toString();
    }
    if (!st.landed) {
      return pageView(b, st, r, true);
    }
    if (st.awaitingReply) {
      st.awaitingReply = false;
      if (r.nextDouble() < 0.06) {
        type(b, "error", "error").append(",\"properties\":{\"code\":\"")
            .append(ERROR_CODES[r.nextInt(ERROR_CODES.length)]).append("\",\"message\":\"provider error\",")
            .append("\"provider\":\"").append(PROVIDERS[st.provider]).append("\",\"model\":\"")
            .append(MODELS[st.provider][st.model]).append("\"}");
        return page(b, st, false).toString();
      }
      int tokens = 60 + (int) (r.nextDouble() * r.nextDouble() * 2400);
      double cost = Math.round(tokens * PRICE[st.provider][st.model] / 1000.0 * 1e6) / 1e6;
      long rt = Math.round(LATENCY[st.provider][st.model] * Math.exp(r.nextGaussian() * 0.45));
      type(b, "message_received", "conversation").append(",\"action\":\"receive\",\"properties\":{\"provider\":\"")
          .append(PROVIDERS[st.provider]).append("\",\"model\":\"").append(MODELS[st.provider][st.model])
          .append("\",\"conversationId\":\"c-").append(st.s).append('-').append(st.conv).append("\",\"tokens\":")
          .append(tokens).append(",\"cost\":").append(cost).append(",\"responseTimeMs\":").append(rt).append('}');
      return page(b, st, false).toString();
    }
    if (st.firstDay && i == 1 && r.nextDouble() < 0.5) {
      type(b, "signup", "conversion").append(",\"properties\":{\"method\":\"")
          .append(new String[] {"email", "google", "github"}[r.nextInt(3)]).append("\",\"plan\":\"free\"}");
      return page(b, st, false).toString();
    }
    double k = r.nextDouble();
    if (st.provider >= 0 && k < 0.62) {
      if (st.messages >= 3 && r.nextDouble() < 0.12) {
        type(b, "conversation_completed", "conversation").append(",\"properties\":{\"conversationId\":\"c-")
            .append(st.s).append('-').append(st.conv).append("\",\"messages\":").append(st.messages * 2).append('}');
        st.provider = -1;
        return page(b, st, false).toString();
      }
      st.messages++;
      st.awaitingReply = i < len - 1;
      int tokens = 10 + (int) (r.nextDouble() * r.nextDouble() * 900);
      type(b, "message_sent", "conversation").append(",\"action\":\"send\",\"properties\":{\"provider\":\"")
          .append(PROVIDERS[st.provider]).append("\",\"model\":\"").append(MODELS[st.provider][st.model])
          .append("\",\"conversationId\":\"c-").append(st.s).append('-').append(st.conv).append("\",\"tokens\":")
          .append(tokens).append(",\"length\":").append(tokens * 4).append('}');
      return page(b, st, false).toString();
    }
    if (k < 0.80 && st.provider < 0) {
      st.conv++;
      st.messages = 0;
      st.provider = r.nextDouble() < 0.7 ? st.favProvider : r.nextInt(PROVIDERS.length);
      st.model = r.nextInt(MODELS[st.provider].length);
      st.page = 1;
      type(b, "conversation_created", "conversation").append(",\"properties\":{\"conversationId\":\"c-")
          .append(st.s).append('-').append(st.conv).append("\",\"provider\":\"").append(PROVIDERS[st.provider])
          .append("\",\"model\":\"").append(MODELS[st.provider][st.model]).append("\"}");
      return page(b, st, false).toString();
    }
    double o = r.nextDouble();
    if (o < 0.40) {
      st.page = r.nextDouble() < 0.6 ? r.nextInt(APP_PAGES) : r.nextInt(PAGES.length);
      return pageView(b, st, r, false);
    }
    if (o < 0.52) {
      type(b, "page_load", "performance").append(",\"properties\":{\"durationMs\":")
          .append(Math.round(450 * Math.exp(r.nextGaussian() * 0.6))).append('}');
    } else if (o < 0.68) {
      type(b, "feature_used", "interaction").append(",\"properties\":{\"feature\":\"")
          .append(FEATURES[(int) (FEATURES.length * r.nextDouble() * r.nextDouble())]).append("\"}");
    } else if (o < 0.74) {
      type(b, "share_created", "interaction").append(",\"properties\":{\"conversationId\":\"c-").append(st.s)
          .append('-').append(st.conv).append("\",\"channel\":\"")
          .append(new String[] {"link", "email", "slack", "twitter"}[r.nextInt(4)]).append("\"}");
    } else if (o < 0.79) {
      type(b, "export_generated", "interaction").append(",\"properties\":{\"format\":\"")
          .append(new String[] {"pdf", "markdown", "json", "docx"}[r.nextInt(4)]).append("\",\"conversationId\":\"c-")
          .append(st.s).append('-').append(st.conv).append("\"}");
    } else if (o < 0.84) {
      type(b, "customization_made", "interaction").append(",\"properties\":{\"setting\":\"")
          .append(new String[] {"theme", "language", "default_model", "font_size"}[r.nextInt(4)])
          .append("\",\"value\":\"").append(r.nextBoolean() ? "dark" : "compact").append("\"}");
    } else if (o < 0.89) {
      type(b, "feedback_given", "interaction").append(",\"properties\":{\"rating\":").append(1 + r.nextInt(5))
          .append(",\"comment\":\"").append(r.nextBoolean() ? "helpful" : "too slow")
          .append("\",\"conversationId\":\"c-").append(st.s).append('-').append(st.conv).append("\"}");
    } else if (o < 0.91) {
      type(b, "support_ticket_created", "interaction").append(",\"properties\":{\"subject\":\"")
          .append(r.nextBoolean() ? "billing question" : "model unavailable").append("\",\"priority\":\"")
          .append(r.nextDouble() < 0.2 ? "high" : "normal").append("\"}");
    } else if (o < 0.935) {
      int p = r.nextInt(PLANS.length);
      type(b, "payment", "conversion").append(",\"value\":").append(PLAN_PRICE[p])
          .append(",\"properties\":{\"amount\":").append(PLAN_PRICE[p]).append(",\"currency\":\"")
          .append(r.nextDouble() < 0.7 ? "USD" : "EUR").append("\",\"plan\":\"").append(PLANS[p]).append("\"}");
    } else if (o < 0.95) {
      int p = r.nextInt(PLANS.length);
      type(b, "subscription", "conversion").append(",\"properties\":{\"plan\":\"").append(PLANS[p])
          .append("\",\"amount\":").append(PLAN_PRICE[p]).append(",\"currency\":\"USD\"}");
    } else if (o < 0.96) {
      type(b, "upgrade", "conversion").append(",\"properties\":{\"fromPlan\":\"plus\",\"toPlan\":\"")
          .append(r.nextBoolean() ? "pro" : "team").append("\",\"amount\":").append(r.nextBoolean() ? 10.0 : 39.01)
          .append(",\"currency\":\"USD\"}");
    } else if (o < 0.97) {
      type(b, "referral", "conversion").append(",\"properties\":{\"referredUserId\":\"ref-").append(st.s)
          .append("\",\"channel\":\"").append(r.nextBoolean() ? "email" : "link").append("\"}");
    } else if (o < 0.999 || st.anon) {
      type(b, "identify", "interaction").append(",\"properties\":{}");
    } else {
      // a legacy id that never sent anything is linked to the user: an identity merge, rare as in real life
      type(b, "alias", "interaction").append(",\"properties\":{\"previousId\":\"legacy-").append(st.pid)
          .append("\"}");
    }
    return page(b, st, false).toString();
  }

  private String pageView(StringBuilder b, SessionState st, SplittableRandom r, boolean landing) {
    type(b, "page_view", "navigation").append(",\"properties\":{\"title\":\"").append(title(st.page))
        .append("\",\"durationMs\":").append(1_000 + r.nextInt(120_000)).append('}');
    page(b, st, landing && !st.landed);
    st.landed = true;
    return b.toString();
  }

  private static String title(int page) {
    return page == 0 ? "Home" : PAGES[page].substring(1).replace('/', ' ');
  }

  private StringBuilder page(StringBuilder b, SessionState st, boolean landing) {
    String path = PAGES[st.page];
    String search = "";
    if (landing && st.utm >= 0) {
      search = "?utm_source=" + UTM_SOURCES[st.utm] + "&utm_medium=" + UTM_MEDIUMS[st.utm] + "&utm_campaign="
          + CAMPAIGNS[(int) (st.s % CAMPAIGNS.length)];
    }
    b.append(",\"page\":{\"url\":\"https://app.example.com").append(path).append(search).append("\",\"title\":\"")
        .append(title(st.page)).append("\",\"path\":\"").append(path).append("\",\"search\":\"").append(search)
        .append("\",\"hash\":\"\"");
    if (landing && st.referrer != null) {
      b.append(",\"referrer\":\"").append(st.referrer).append('"');
    }
    return b.append('}');
  }

  private static StringBuilder type(StringBuilder b, String name, String category) {
    return b.append("\"type\":{\"name\":\"").append(name).append("\",\"category\":\"").append(category)
        .append("\"},\"category\":{\"id\":\"").append(category).append("\"}");
  }

  /** A full event JSON object. */
  void appendEvent(StringBuilder sb, long index, long tsMs, String typeAndProps, SessionState st) {
    long h = mix(seed ^ 0x5DEECE66DL ^ (index * 0x9E3779B97F4A7C15L));
    long lo = mix(h + index);
    String sid = "s-" + st.s;
    sb.append("{\"id\":\"").append(new java.util.UUID((h & ~0xF000L) | 0x4000L,
            (lo & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L))
        .append("\",\"sessionId\":\"").append(sid).append("\",\"timestamp\":\"")
        .append(Instant.ofEpochMilli(tsMs)).append("\",").append(typeAndProps)
        .append(",\"context\":{\"userAgent\":\"").append(st.ua).append("\",\"language\":\"").append(st.lang)
        .append("\"},\"userContext\":{");
    if (st.anon) {
      sb.append("\"anonymousId\":\"").append(anonKey(st.pid));
    } else {
      sb.append("\"userId\":\"").append(userKey(st.pid));
    }
    sb.append("\",\"sessionId\":\"").append(sid).append("\"}}");
  }
}
