package io.tally.loadtest;

import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Realistic chat-product traffic: messages sent and received (provider, model, tokens, cost, response time), page
 * views, errors, feature use and conversions, from a population of users and their sessions. Every event has a
 * fresh UUID and carries the run id in {@code label}, so a run can count exactly its own rows.
 */
final class BenchEvents {
  private static final String[] PROVIDERS = {"openai", "anthropic", "mistral", "google"};
  private static final String[][] MODELS = {{"gpt-4o", "gpt-4o-mini"}, {"claude-sonnet", "claude-haiku"},
      {"mistral-large", "mistral-small"}, {"gemini-pro", "gemini-flash"}};
  private static final String[] PAGES = {"/chat", "/history", "/settings", "/pricing", "/"};
  private static final String[] AGENTS = {
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
      "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 "
          + "Mobile/15E148 Safari/604.1",
      "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.1; rv:120.0) Gecko/20100101 Firefox/120.0"};

  private final String runId;
  private final int users;

  BenchEvents(String runId, int users) {
    this.runId = runId;
    this.users = users;
  }

  /** One {"batch": [...]} body of {@code n} events (optionally with a WebSocket seq). */
  String batch(int n, long seq) {
    StringBuilder sb = new StringBuilder(n * 620 + 32);
    sb.append("{\"batch\":[");
    String now = Instant.now().toString();
    for (int i = 0; i < n; i++) {
      if (i > 0) {
        sb.append(',');
      }
      event(sb, now);
    }
    sb.append(']');
    if (seq >= 0) {
      sb.append(",\"seq\":").append(seq);
    }
    return sb.append('}').toString();
  }

  /** The same event as a row for COPY (CSV), for the physical-limit run. */
  String csvRow(String project) {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    int u = r.nextInt(users);
    int p = r.nextInt(PROVIDERS.length);
    String now = Instant.now().toString();
    String props = "{\"\"provider\"\":\"\"" + PROVIDERS[p] + "\"\",\"\"model\"\":\"\"" + MODELS[p][r.nextInt(2)]
        + "\"\",\"\"tokens\"\":" + (50 + r.nextInt(2000)) + ",\"\"cost\"\":" + (r.nextInt(500) / 10000.0)
        + ",\"\"responseTimeMs\"\":" + (200 + r.nextInt(3000)) + "}";
    String page = "{\"\"url\"\":\"\"https://app.example" + PAGES[u % PAGES.length] + "\"\",\"\"path\"\":\"\""
        + PAGES[u % PAGES.length] + "\"\"}";
    String ctx = "{\"\"userId\"\":\"\"u-" + u + "\"\",\"\"sessionId\"\":\"\"s-" + u + "\"\"}";
    String context = "{\"\"device\"\":{\"\"type\"\":\"\"desktop\"\",\"\"os\"\":\"\"Windows NT\"\"},\"\"browser\"\":"
        + "{\"\"name\"\":\"\"Chrome\"\"},\"\"location\"\":{},\"\"ip\"\":\"\"127.0.0.0\"\"}";
    return project + "," + UUID.randomUUID() + "," + now + "," + now + ",message_received,conversation,receive,"
        + runId + ",,s-" + u + ",u-" + u + ",,\"" + props + "\",\"" + page + "\",\"" + ctx + "\",0,\"" + context
        + "\",,,desktop,Chrome,127.0.0.0,false\n";
  }

  static final String COPY_COLUMNS = "project_id,id,ts,received_at,type,category,action,label,value,session_id,"
      + "user_id,anonymous_id,properties,page,user_context,flags,context,attribution,country,device_type,browser,ip,"
      + "is_bot";

  private void event(StringBuilder sb, String now) {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    int u = r.nextInt(users);
    int kind = r.nextInt(100);
    int p = r.nextInt(PROVIDERS.length);
    String provider = PROVIDERS[p];
    String model = MODELS[p][r.nextInt(2)];
    sb.append("{\"id\":\"").append(new UUID((r.nextLong() & ~0xF000L) | 0x4000L,
            (r.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L)).append("\",\"sessionId\":\"s-").append(u)
        .append("\",\"timestamp\":\"").append(now).append("\",\"label\":\"").append(runId).append('"');
    if (kind < 35) {
      type(sb, "message_sent", "conversation").append(",\"action\":\"send\",\"properties\":{\"provider\":\"")
          .append(provider).append("\",\"model\":\"").append(model).append("\",\"tokens\":").append(20 + r.nextInt(800))
          .append(",\"conversationId\":\"c-").append(u).append("\"}");
    } else if (kind < 70) {
      type(sb, "message_received", "conversation").append(",\"action\":\"receive\",\"properties\":{\"provider\":\"")
          .append(provider).append("\",\"model\":\"").append(model).append("\",\"tokens\":").append(50 + r.nextInt(2000))
          .append(",\"cost\":").append(r.nextInt(500) / 10000.0).append(",\"responseTimeMs\":")
          .append(200 + r.nextInt(3000)).append(",\"conversationId\":\"c-").append(u).append("\"}");
    } else if (kind < 88) {
      type(sb, "page_view", "navigation").append(",\"properties\":{\"title\":\"Chat\"}");
    } else if (kind < 93) {
      type(sb, "feature_used", "interaction").append(",\"properties\":{\"feature\":\"")
          .append(r.nextBoolean() ? "share" : "export").append("\"}");
    } else if (kind < 97) {
      type(sb, "error", "error").append(",\"properties\":{\"code\":\"").append(r.nextBoolean() ? "rate_limit" : "timeout")
          .append("\",\"message\":\"provider error\",\"provider\":\"").append(provider).append("\"}");
    } else if (kind < 99) {
      type(sb, "signup", "conversion").append(",\"properties\":{\"method\":\"email\"}");
    } else {
      type(sb, "payment", "conversion").append(",\"value\":20,\"properties\":{\"amount\":20,\"currency\":\"EUR\"}");
    }
    String path = PAGES[u % PAGES.length];
    sb.append(",\"page\":{\"url\":\"https://app.example").append(path).append("\",\"title\":\"Chat\",\"path\":\"")
        .append(path).append("\",\"search\":\"\",\"hash\":\"\"},\"context\":{\"userAgent\":\"")
        .append(AGENTS[u % AGENTS.length]).append("\",\"language\":\"fr-FR\"},\"userContext\":{\"userId\":\"u-")
        .append(u).append("\",\"sessionId\":\"s-").append(u).append("\"}}");
  }

  private static StringBuilder type(StringBuilder sb, String name, String category) {
    return sb.append(",\"type\":{\"name\":\"").append(name).append("\",\"category\":\"").append(category)
        .append("\"},\"category\":{\"id\":\"").append(category).append("\"}");
  }
}
