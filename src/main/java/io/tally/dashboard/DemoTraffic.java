package io.tally.dashboard;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;

/**
 * {@code --demo}: realistic chat-product traffic sent through the normal ingestion path ({@code POST /v1/events}
 * with the project's write key), so a fresh dashboard has something to show. First the last
 * {@value #BACKFILL_HOURS} hours are back-filled (event ids are derived from the hour, so a restart re-sends
 * duplicates, which Tally drops), then live sessions stream a few events every second.
 */
public final class DemoTraffic {
  private static final Logger LOG = LoggerFactory.getLogger(DemoTraffic.class);
  static final int BACKFILL_HOURS = 72;
  static final int PERSONS = 400;
  private static final String[] AGENTS = {
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
      "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
      "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
      "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 "
          + "Mobile/15E148 Safari/604.1",
      "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile "
          + "Safari/537.36",
      "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 "
          + "Mobile/15E148 Safari/604.1"};
  private static final String[][] MODELS = {{"openai", "gpt-4o"}, {"openai", "gpt-4o-mini"}, {"anthropic",
      "claude-sonnet"}, {"anthropic", "claude-haiku"}, {"google", "gemini-pro"}};
  private static final String[] FEATURES = {"voice", "search", "file_upload", "code_interpreter"};

  private final Vertx vertx;
  private final HttpClient client;
  private final int port;
  private final String writeKey;
  private final Random rnd = new Random();
  private final List<Script> live = new ArrayList<>();
  private long timer = -1;

  public DemoTraffic(Vertx vertx, int port, String writeKey) {
    this.vertx = vertx;
    this.client = vertx.createHttpClient();
    this.port = port;
    this.writeKey = writeKey;
  }

  /** Back-fills, then streams until {@link #stop()}; failures are logged, never fatal. */
  public Future<Void> start() {
    Instant thisHour = Instant.now().truncatedTo(ChronoUnit.HOURS);
    Future<Void> chain = Future.succeededFuture();
    for (int h = BACKFILL_HOURS; h >= 1; h--) {
      Instant hour = thisHour.minus(h, ChronoUnit.HOURS);
      chain = chain.compose(v -> send(backfillHour(hour)));
    }
    return chain.onComplete(r -> {
      if (r.failed()) {
        LOG.warn("demo back-fill failed: {}", r.cause().toString());
      } else {
        LOG.info("demo: back-filled {} hours; streaming live traffic", BACKFILL_HOURS);
      }
      timer = vertx.setPeriodic(1000, id -> tick());
    });
  }

  public void stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
  }

  /** One hour of history, the same every time for the same hour (seeded by it). */
  JsonArray backfillHour(Instant hour) {
    Random r = new Random(hour.getEpochSecond());
    int hourOfDay = (int) ((hour.getEpochSecond() / 3600) % 24);
    // a daily rhythm: busy in the (European) afternoon, quiet at night
    int sessions = 6 + (int) (24 * Math.max(0, Math.sin((hourOfDay - 6) / 24.0 * 2 * Math.PI))) + r.nextInt(5);
    JsonArray out = new JsonArray();
    int n = 0;
    for (int s = 0; s < sessions; s++) {
      Script script = new Script(r, "demo-" + hour.getEpochSecond() + "-" + s);
      Instant at = hour.plusSeconds(r.nextInt(3300));
      JsonObject e;
      while ((e = script.next(at)) != null) {
        e.put("id", UUID.nameUUIDFromBytes(("demo|" + hour.getEpochSecond() + "|" + n++)
            .getBytes(StandardCharsets.UTF_8)).toString());
        out.add(e);
        at = at.plusSeconds(2 + r.nextInt(40));
      }
    }
    return out;
  }

  private void tick() {
    while (live.size() < 6 + rnd.nextInt(6)) {
      live.add(new Script(rnd, "demo-live-" + UUID.randomUUID().toString().substring(0, 8)));
    }
    JsonArray batch = new JsonArray();
    Instant now = Instant.now();
    for (var it = live.iterator(); it.hasNext(); ) {
      Script s = it.next();
      if (rnd.nextInt(3) != 0) {
        continue; // not every session acts every second
      }
      JsonObject e = s.next(now);
      if (e == null) {
        it.remove();
      } else {
        batch.add(e.put("id", UUID.randomUUID().toString()));
      }
    }
    if (!batch.isEmpty()) {
      send(batch).onFailure(err -> LOG.debug("demo batch failed: {}", err.toString()));
    }
  }

  private Future<Void> send(JsonArray events) {
    if (events.isEmpty()) {
      return Future.succeededFuture();
    }
    RequestOptions o = new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1").setPort(port)
        .setURI("/v1/events").putHeader("Authorization", "Bearer " + writeKey)
        .putHeader("Content-Type", "application/json");
    return client.request(o).compose(req -> req.send(new JsonObject().put("batch", events).toBuffer()))
        .compose(res -> res.statusCode() == 200 ? Future.<Void>succeededFuture()
            : res.body().compose(b -> Future.failedFuture("HTTP " + res.statusCode() + ": " + b)));
  }

  /** One visit of one person: land, maybe load, chat a few turns with one model, sometimes pay, share or fail. */
  static final class Script {
    private final Random r;
    private final String person;
    private final String session;
    private final String agent;
    private final String[] model;
    private final List<String> steps = new ArrayList<>();
    private int i;

    Script(Random r, String session) {
      this.r = r;
      // a few heavy users, a long tail of occasional ones
      this.person = "user-" + (int) (PERSONS * Math.pow(r.nextDouble(), 2));
      this.session = session;
      this.agent = AGENTS[r.nextInt(AGENTS.length)];
      this.model = MODELS[r.nextInt(10) < 6 ? r.nextInt(2) : r.nextInt(MODELS.length)];
      steps.add("page_view");
      steps.add("page_load");
      if (r.nextInt(8) == 0) {
        steps.add("signup");
      }
      int conversations = r.nextInt(10) < 2 ? 0 : 1 + r.nextInt(2);
      for (int c = 0; c < conversations; c++) {
        steps.add("conversation_created");
        int turns = 1 + r.nextInt(6);
        for (int t = 0; t < turns; t++) {
          steps.add("message_sent");
          steps.add(r.nextInt(25) == 0 ? "error" : "message_received");
        }
        if (r.nextInt(3) > 0) {
          steps.add("conversation_completed");
        }
      }
      if (r.nextInt(5) == 0) {
        steps.add("feature_used");
      }
      if (r.nextInt(12) == 0) {
        steps.add("share_created");
      }
      if (r.nextInt(6) == 0) {
        steps.add("feedback_given");
      }
      if (r.nextInt(20) == 0) {
        steps.add("payment");
      }
    }

    JsonObject next(Instant at) {
      if (i >= steps.size()) {
        return null;
      }
      String type = steps.get(i++);
      JsonObject props = switch (type) {
        case "message_sent" -> new JsonObject().put("provider", model[0]).put("model", model[1])
            .put("tokens", 20 + r.nextInt(400)).put("cost", round(0.0001 + r.nextDouble() * 0.004));
        case "message_received" -> new JsonObject().put("provider", model[0]).put("model", model[1])
            .put("tokens", 80 + r.nextInt(1500)).put("cost", round(0.0005 + r.nextDouble() * 0.02))
            .put("responseTimeMs", 300 + r.nextInt(model[1].contains("mini") || model[1].contains("haiku")
                ? 900 : 4000));
        case "conversation_created", "conversation_completed" -> new JsonObject().put("provider", model[0])
            .put("model", model[1]);
        case "error" -> new JsonObject().put("code", r.nextBoolean() ? "rate_limited" : "timeout")
            .put("provider", model[0]).put("model", model[1]);
        case "page_load" -> new JsonObject().put("durationMs", 150 + r.nextInt(1800));
        case "feature_used" -> new JsonObject().put("feature", FEATURES[r.nextInt(FEATURES.length)]);
        case "feedback_given" -> new JsonObject().put("rating", 1 + r.nextInt(5));
        case "payment" -> new JsonObject().put("amount", r.nextBoolean() ? 20 : 200).put("currency", "USD")
            .put("plan", "pro");
        default -> new JsonObject();
      };
      String path = type.startsWith("page") ? "/" : "/chat";
      return new JsonObject().put("timestamp", at.toString()).put("sessionId", session).put("type", type)
          .put("properties", props)
          .put("page", new JsonObject().put("url", "https://chat.example" + path).put("path", path)
              .put("title", "Chat"))
          .put("userContext", new JsonObject().put("userId", person).put("sessionId", session))
          .put("context", new JsonObject().put("userAgent", agent).put("language", "en-US"));
    }

    private static double round(double v) {
      return Math.round(v * 1e6) / 1e6;
    }
  }
}
