package io.tally.support;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;

/**
 * A deterministic dataset that exercises every rule of the derived tables: identified users whose traits change,
 * anonymous visitors who identify mid-way and send anonymous-only events afterwards, aliases, pure anonymous visitors,
 * bots, server-cut sessions, campaign landings and referrers, events tied on their timestamp, environments that
 * change mid-session, several days, and late events (sent after later ones). {@link #batches} gives them in the order
 * a client would send them.
 */
public final class DerivedDataset {
  private static final String[] AGENTS = {
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
      "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 "
          + "Mobile/15E148 Safari/604.1",
      "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile "
          + "Safari/537.36",
      "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15"};
  private static final String BOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
  private static final String[] PATHS = {"/chat", "/settings", "/pricing", "/docs/start", "/chat/history", "/"};
  private static final String[][] MODELS = {{"openai", "gpt-4o"}, {"openai", "gpt-4o-mini"},
      {"anthropic", "claude-3-5-sonnet"}, {"google", "gemini-1.5-pro"}};

  private final Random rnd;
  private final Instant base;
  private final List<JsonObject> events = new ArrayList<>();
  private final List<JsonObject> late = new ArrayList<>();
  private int ids;
  private final String idPrefix;

  private DerivedDataset(long seed, Instant base) {
    this.rnd = new Random(seed);
    this.base = base;
    this.idPrefix = "ds-" + seed + "-";
  }

  /**
   * @param seed  fixes every choice
   * @param end   the latest event time (events span the three days before it)
   * @param scale persons of each kind (about 200 events each)
   */
  public static DerivedDataset generate(long seed, Instant end, int scale) {
    DerivedDataset d = new DerivedDataset(seed, end.minusSeconds(3 * 86_400L));
    for (int i = 0; i < scale; i++) {
      d.identified("u-" + i, i);
      d.identifiesLater("a-" + i, "u-id-" + i, i);
      d.anonymous("anon-" + i, i);
      if (i % 2 == 0) {
        d.aliased("old-" + i, "new-" + i, i);
      }
      if (i % 3 == 0) {
        d.bot("bot-" + i);
      }
    }
    return d;
  }

  /** Every event, in the order sent: mostly in time order, with the late ones after everything else. */
  public List<JsonObject> all() {
    List<JsonObject> out = new ArrayList<>(events);
    out.sort(java.util.Comparator.comparing(e -> e.getString("timestamp")));
    // a few neighbours swap places: batches are not in time order either
    for (int i = 1; i < out.size(); i += 7) {
      java.util.Collections.swap(out, i, i - 1);
    }
    out.addAll(late);
    return out;
  }

  /** {@link #all} in batches of {@code size}, as {@code {"batch": [...]}} bodies. */
  public List<String> batches(int size) {
    List<JsonObject> all = all();
    List<String> out = new ArrayList<>();
    for (int i = 0; i < all.size(); i += size) {
      JsonArray b = new JsonArray();
      all.subList(i, Math.min(all.size(), i + size)).forEach(b::add);
      out.add(new JsonObject().put("batch", b).encode());
    }
    return out;
  }

  private Instant at(long offsetMs) {
    return base.plusMillis(offsetMs);
  }

  private JsonObject event(String type, String user, String anon, String session, Instant ts, String agent) {
    JsonObject uc = new JsonObject();
    if (user != null) {
      uc.put("userId", user);
    }
    if (anon != null) {
      uc.put("anonymousId", anon);
    }
    if (session != null) {
      uc.put("sessionId", session);
    }
    JsonObject e = new JsonObject().put("id", UUID.nameUUIDFromBytes((idPrefix + ids++).getBytes()).toString())
        .put("type", type).put("timestamp", ts.toString()).put("userContext", uc)
        .put("context", new JsonObject().put("userAgent", agent).put("ip", "203.0.113." + (rnd.nextInt(200) + 1))
            .put("language", rnd.nextInt(10) == 0 ? "fr-FR" : "en-US"));
    if (session != null) {
      e.put("sessionId", session);
    }
    return e;
  }

  private void page(JsonObject e, String path, String search, String referrer) {
    JsonObject p = new JsonObject().put("path", path).put("url", "https://app.example" + path + search)
        .put("title", "T " + path).put("search", search);
    if (referrer != null) {
      p.put("referrer", referrer);
    }
    e.put("page", p);
  }

  /** One session's activity: a landing page view, then a mix of the catalogue's types. */
  private long session(String user, String anon, String session, long startMs, String agent, int events,
                       boolean campaign, List<JsonObject> sink) {
    long t = startMs;
    JsonObject land = event("page_view", user, anon, session, at(t), agent);
    page(land, "/", campaign ? "?utm_source=news&utm_medium=email&utm_campaign=c" + rnd.nextInt(3) : "",
        rnd.nextInt(3) == 0 ? "https://www.google.com/search?q=tally" : null);
    sink.add(land);
    for (int k = 1; k < events; k++) {
      t += 1_000 + rnd.nextInt(90_000);
      JsonObject e;
      int pick = rnd.nextInt(20);
      if (pick < 5) {
        e = event("page_view", user, anon, session, at(t), agent);
        page(e, PATHS[rnd.nextInt(PATHS.length)], "", null);
      } else if (pick < 9) {
        e = event("message_sent", user, anon, session, at(t), agent);
        String[] m = MODELS[rnd.nextInt(MODELS.length)];
        e.put("properties", new JsonObject().put("provider", m[0]).put("model", m[1]).put("tokens", rnd.nextInt(900)));
      } else if (pick < 13) {
        e = event("message_received", user, anon, session, at(t), agent);
        String[] m = MODELS[rnd.nextInt(MODELS.length)];
        e.put("properties", new JsonObject().put("provider", m[0]).put("model", m[1]).put("tokens", rnd.nextInt(2000))
            .put("cost", rnd.nextInt(1000) / 7919.0).put("responseTimeMs", 200 + rnd.nextInt(5000)));
      } else if (pick < 15) {
        e = event("feature_used", user, anon, session, at(t), agent);
        e.put("properties", new JsonObject().put("feature", rnd.nextBoolean() ? "export" : "voice"));
      } else if (pick == 15) {
        e = event("payment", user, anon, session, at(t), agent);
        e.put("properties", new JsonObject().put("amount", 5 + rnd.nextInt(50) + 0.99).put("currency", "USD"));
      } else if (pick == 16) {
        e = event("page_load", user, anon, session, at(t), agent);
        e.put("properties", new JsonObject().put("durationMs", 100 + rnd.nextInt(3000)));
        page(e, PATHS[rnd.nextInt(PATHS.length)], "", null);
      } else if (pick == 17) {
        e = event("error", user, anon, session, at(t), agent);
        e.put("properties", new JsonObject().put("code", "E" + rnd.nextInt(4)));
      } else if (pick == 18) {
        e = event("conversation_created", user, anon, session, at(t), agent);
      } else {
        e = event("trial_started", user, anon, session, at(t), agent);
        e.put("properties", new JsonObject().put("provider", "custom"));
      }
      if (rnd.nextInt(12) == 0) {
        // a tie: another event of the session at the very same millisecond, on another page
        JsonObject twin = event("page_view", user, anon, session, at(t), agent);
        page(twin, PATHS[rnd.nextInt(PATHS.length)], "", null);
        sink.add(twin);
      }
      if (rnd.nextInt(15) == 0) {
        // the environment changes mid-session
        e.getJsonObject("context").put("viewport", "1280x" + (600 + rnd.nextInt(300)));
      }
      if (user != null && rnd.nextInt(8) == 0) {
        e.getJsonObject("userContext").put("userProperties", new JsonObject()
            .put("plan", rnd.nextBoolean() ? "pro" : "free").put(rnd.nextBoolean() ? "seats" : "company",
                rnd.nextInt(40)));
      }
      sink.add(e);
    }
    return t;
  }

  private long startOf(int k) {
    return (long) k * 20 * 3_600_000L + rnd.nextInt(12 * 3_600_000);
  }

  private void identified(String user, int i) {
    String agent = AGENTS[i % AGENTS.length];
    int sessions = 1 + rnd.nextInt(3);
    for (int k = 0; k < sessions; k++) {
      String session = rnd.nextInt(10) == 0 ? null : user + "-s" + k;
      List<JsonObject> sink = rnd.nextInt(6) == 0 ? late : events;
      session(user, null, session, startOf(k), agent, 8 + rnd.nextInt(25), k == 0 && i % 2 == 0, sink);
    }
  }

  private void identifiesLater(String anon, String user, int i) {
    String agent = AGENTS[(i + 1) % AGENTS.length];
    long end = session(null, anon, anon + "-s0", startOf(0), agent, 6 + rnd.nextInt(10), true, events);
    // second session: anonymous, then identifies, then identified (with the anonymous id too)
    long t = session(null, anon, anon + "-s1", end + 3_600_000L, agent, 4 + rnd.nextInt(6), false, events);
    JsonObject identify = event("identify", user, anon, anon + "-s1", at(t + 2_000), agent);
    identify.getJsonObject("userContext").put("userProperties", new JsonObject().put("plan", "free"));
    events.add(identify);
    long after = session(user, anon, anon + "-s1", t + 5_000, agent, 5 + rnd.nextInt(10), false, events);
    // anonymous-only again later (an old tab), some of it sent late
    session(null, anon, anon + "-s2", after + 7_200_000L, agent, 4 + rnd.nextInt(4), false, late);
  }

  private void anonymous(String anon, int i) {
    String agent = AGENTS[(i + 2) % AGENTS.length];
    session(null, anon, anon + "-s0", startOf(1), agent, 3 + rnd.nextInt(10), i % 3 == 0, events);
  }

  private void aliased(String old, String renamed, int i) {
    String agent = AGENTS[(i + 3) % AGENTS.length];
    long t = session(old, null, old + "-s0", startOf(0), agent, 6 + rnd.nextInt(8), false, events);
    JsonObject alias = event("alias", renamed, null, old + "-s0", at(t + 1_000), agent);
    alias.put("properties", new JsonObject().put("previousId", old));
    events.add(alias);
    session(renamed, null, renamed + "-s1", t + 86_400_000L, agent, 5 + rnd.nextInt(8), false, events);
  }

  private void bot(String user) {
    session(user, null, user + "-s0", startOf(1), BOT, 10, false, events);
  }
}
