package io.tally.dashboard;

import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;

/**
 * One visit (session) of one person: lands, maybe starts a conversation and chats with their model (answers take the
 * model's time, some fail), maybe finishes it, uses a feature, shares, pays. During the incident the incident
 * provider's answers mostly fail and come slowly; people retry and open support tickets. Event ids are derived from
 * the person, day, visit and position, so the same visit always yields the same events.
 */
final class DemoVisit {
  /** The provider's outage: UTC hours [from, to) of the incident day. */
  static final int INCIDENT_FROM_HOUR = 12;
  static final int INCIDENT_TO_HOUR = 19;
  /** A pack of credits, in USD. */
  static final int CREDITS = 10;

  private final DemoPerson person;
  private final long day;
  private final int index;
  private final Instant start;
  private final boolean incidentDay;
  private final long seed;

  DemoVisit(DemoPerson person, long day, int index, Instant start, boolean incidentDay, long seed) {
    this.person = person;
    this.day = day;
    this.index = index;
    this.start = start;
    this.incidentDay = incidentDay;
    this.seed = seed;
  }

  Instant start() {
    return start;
  }

  DemoPerson person() {
    return person;
  }

  /** The visit's events in time order. */
  List<JsonObject> events() {
    Random r = new Random(seed);
    Builder b = new Builder(r);
    DemoPerson.Kind kind = person.kind();
    land(b, r, kind);
    // the funnel: landing → conversation → message → completed conversation, with a real drop at each step
    double startsChat = switch (kind) {
      case ONE_TIME -> 0.45;
      case CASUAL -> 0.8;
      default -> 0.93;
    };
    int conversations = r.nextDouble() < startsChat ? 1 + (kind == DemoPerson.Kind.POWER ? 1
        : r.nextDouble() < 0.25 ? 1 : 0) : 0;
    boolean troubled = false;
    for (int c = 0; c < conversations; c++) {
      troubled |= conversation(b, r, kind);
    }
    afterChat(b, r, kind, conversations, troubled);
    if (person.paysOn(day) && index == 0) {
      pay(b, r);
    }
    return b.events;
  }

  /** The landing page, its load time, and on the person's first day maybe a signup and a setting. */
  private void land(Builder b, Random r, DemoPerson.Kind kind) {
    boolean first = day == person.joinDay();
    b.add("page_view", new JsonObject().put("title", "Chat"), "/", 0);
    b.add("page_load", new JsonObject().put("durationMs", 300 + r.nextInt(kind == DemoPerson.Kind.ONE_TIME ? 3_000
        : 1_400)), "/", 1 + r.nextInt(2));
    if (first && r.nextDouble() < (kind == DemoPerson.Kind.ONE_TIME ? 0.25 : 0.75)) {
      b.add("signup", new JsonObject().put("method", r.nextBoolean() ? "google" : "email").put("plan", "free"),
          "/signup", 10 + r.nextInt(40));
    }
    if (first && kind != DemoPerson.Kind.ONE_TIME && r.nextDouble() < 0.3) {
      b.add("customization_made", new JsonObject().put("setting", r.nextBoolean() ? "theme" : "language"),
          "/settings", 5 + r.nextInt(30));
    }
  }

  /** One conversation: its turns, maybe its completion, a share, an export; true when the incident hit a turn. */
  private boolean conversation(Builder b, Random r, DemoPerson.Kind kind) {
    String conversation = "c-" + Long.toHexString(r.nextLong() & 0xffffffffL);
    b.add("conversation_created", new JsonObject().put("conversationId", conversation)
        .put("provider", person.model().provider()).put("model", person.model().name()), "/chat", 3 + r.nextInt(20));
    if (r.nextDouble() < 0.05) {
      return false; // opened, never wrote
    }
    int turns = switch (kind) {
      case POWER -> 11 + r.nextInt(3); // two conversations: more than 20 messages a day, in sessions over an hour
      case REGULAR -> 2 + r.nextInt(6);
      default -> 1 + r.nextInt(3);
    };
    boolean troubled = false;
    int sent = 0;
    for (int t = 0; t < turns; t++) {
      int gap = kind == DemoPerson.Kind.POWER ? 150 + r.nextInt(150) : 8 + r.nextInt(50);
      troubled |= turn(b, r, conversation, gap);
      sent++;
    }
    // most conversations are left open: finishing one (the funnel's last step) is the real drop
    if (r.nextDouble() < (kind == DemoPerson.Kind.POWER ? 0.6 : 0.3)) {
      b.add("conversation_completed", new JsonObject().put("conversationId", conversation).put("messages", sent),
          "/chat", 5 + r.nextInt(30));
    }
    if (r.nextDouble() < 0.08) {
      b.add("share_created", new JsonObject().put("conversationId", conversation)
          .put("channel", r.nextBoolean() ? "link" : "slack"), "/chat", 5 + r.nextInt(20));
    }
    if (r.nextDouble() < 0.04) {
      b.add("export_generated", new JsonObject().put("format", r.nextBoolean() ? "pdf" : "markdown")
          .put("conversationId", conversation), "/chat", 5 + r.nextInt(20));
    }
    return troubled;
  }

  /** Features used, and after the conversations maybe a support ticket, feedback and a credit purchase. */
  private void afterChat(Builder b, Random r, DemoPerson.Kind kind, int conversations, boolean troubled) {
    for (int f = 0; f < DemoCatalog.FEATURES.length; f++) {
      if (person.features()[f] && r.nextDouble() < 0.5) {
        b.add("feature_used", new JsonObject().put("feature", DemoCatalog.FEATURES[f]), "/chat", 10 + r.nextInt(60));
      }
    }
    if (troubled && r.nextDouble() < 0.3) {
      b.add("support_ticket_created", new JsonObject().put("subject", "Answers keep failing")
          .put("priority", "high"), "/help", 20 + r.nextInt(60));
    }
    if (conversations > 0 && r.nextDouble() < 0.12) {
      int rating = troubled ? 1 + r.nextInt(2) : 3 + r.nextInt(3);
      b.add("feedback_given", new JsonObject().put("rating", rating), "/chat", 5 + r.nextInt(20));
    }
    if (kind != DemoPerson.Kind.ONE_TIME && conversations > 0 && r.nextDouble() < 0.04) {
      // credits for the premium models: small payments most days, beside the monthly plans
      b.add("payment", new JsonObject().put("amount", CREDITS).put("currency", "USD").put("plan", "credits"),
          "/billing", 10 + r.nextInt(30));
    }
  }

  /** The plan's page, the subscription on the pay day, and the payment. */
  private void pay(Builder b, Random r) {
    String plan = person.plan() == DemoPerson.TEAM ? "team" : "pro";
    b.add("page_view", new JsonObject().put("title", "Pricing"), "/pricing", 10 + r.nextInt(30));
    if (day == person.payDay()) {
      b.add("subscription", new JsonObject().put("plan", plan).put("amount", person.plan()).put("currency", "USD"),
          "/pricing", 20 + r.nextInt(40));
    }
    b.add("payment", new JsonObject().put("amount", person.plan()).put("currency", "USD").put("plan", plan),
        "/pricing", 2 + r.nextInt(5));
  }

  /** One message and its answer (or failure); true when the incident hit it. */
  private boolean turn(Builder b, Random r, String conversation, int gapSeconds) {
    DemoCatalog.Model m = person.model();
    int prompt = 20 + r.nextInt(380);
    b.add("message_sent", message(m, conversation).put("tokens", prompt)
        .put("cost", round(prompt / 1000.0 * m.inPer1k())).put("length", prompt * 4), "/chat", gapSeconds);
    boolean outage = incident(b.at);
    double latency = m.latencyMs() * (0.6 + 0.8 * r.nextDouble()) * (outage ? 3 : 1);
    if (r.nextDouble() < (outage ? 0.65 : m.errorRate())) {
      b.add("error", new JsonObject().put("code", outage ? "overloaded" : r.nextBoolean() ? "rate_limited" : "timeout")
          .put("message", outage ? "the provider is overloaded" : "the model did not answer").put("provider",
              m.provider()).put("model", m.name()), "/chat", (int) Math.ceil(latency / 1000));
      if (r.nextDouble() < 0.6) {
        // the person tries again
        b.add("message_sent", message(m, conversation).put("tokens", prompt)
            .put("cost", round(prompt / 1000.0 * m.inPer1k())).put("length", prompt * 4), "/chat", 5 + r.nextInt(20));
        if (r.nextDouble() < (outage ? 0.5 : m.errorRate())) {
          b.add("error", new JsonObject().put("code", outage ? "overloaded" : "timeout").put("provider", m.provider())
              .put("model", m.name()), "/chat", (int) Math.ceil(latency / 1000));
          return outage;
        }
      } else {
        return outage;
      }
    }
    int answer = 80 + r.nextInt(1_200);
    b.add("message_received", message(m, conversation).put("tokens", answer)
        .put("cost", round(answer / 1000.0 * m.outPer1k())).put("responseTimeMs", (int) latency), "/chat",
        (int) Math.ceil(latency / 1000));
    return outage;
  }

  private boolean incident(Instant at) {
    if (!incidentDay || !person.model().provider().equals(DemoCatalog.INCIDENT_PROVIDER)) {
      return false;
    }
    int hour = LocalTime.ofInstant(at, ZoneOffset.UTC).getHour();
    return at.getEpochSecond() / 86_400 == day && hour >= INCIDENT_FROM_HOUR && hour < INCIDENT_TO_HOUR;
  }

  private static JsonObject message(DemoCatalog.Model m, String conversation) {
    return new JsonObject().put("conversationId", conversation).put("provider", m.provider()).put("model", m.name());
  }

  private static double round(double v) {
    return Math.round(v * 1e6) / 1e6;
  }

  /** Appends events at increasing times, each with its stable id. */
  private final class Builder {
    final List<JsonObject> events = new ArrayList<>();
    final Random r;
    Instant at = start;
    final String session;

    Builder(Random r) {
      this.r = r;
      this.session = "s-" + Long.toString(DemoWorld.seed(day, person.id().hashCode(), index) & 0xffffffffffL, 36);
    }

    void add(String type, JsonObject properties, String path, int afterSeconds) {
      at = at.plusSeconds(afterSeconds).plusMillis(r.nextInt(1000));
      String id = UUID.nameUUIDFromBytes(("demo|" + person.id() + '|' + day + '|' + index + '|' + events.size())
          .getBytes(StandardCharsets.UTF_8)).toString();
      events.add(new JsonObject().put("id", id).put("timestamp", at.toString()).put("sessionId", session)
          .put("type", type).put("properties", properties)
          .put("page", new JsonObject().put("url", "https://chat.example" + path).put("path", path))
          .put("userContext", new JsonObject().put("userId", person.id()).put("sessionId", session))
          .put("context", new JsonObject().put("userAgent", person.agent()).put("ip", person.ip())
              .put("language", "en-US")));
    }
  }
}
