package io.tally.event;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Checks an accepted {@link Event} against the documented bounds on its own, without the parser's code: string
 * fields by length, times by range, and each stored JSON object re-parsed with a plain Jackson parser and walked.
 * The figures are written out here again on purpose, so a wrong constant in {@link EventBounds} is caught.
 */
final class BoundsOracle {
  private static final JsonFactory PLAIN = new JsonFactory();
  private static final Map<String, Integer> PROPERTY_STRINGS = Map.of("provider", 128, "model", 128, "feature", 128,
      "previousId", 128);
  private static final Map<String, Integer> PAGE_STRINGS = Map.of("url", 4096, "referrer", 4096, "search", 4096,
      "path", 2048, "title", 1024, "hash", 1024);
  private static final Map<String, Integer> CONTEXT_STRINGS = Map.of("userId", 128, "sessionId", 128,
      "anonymousId", 128);
  private static final Map<String, double[]> MEASURES = Map.of("tokens", new double[] {0, 1e7}, "cost",
      new double[] {0, 1e6}, "amount", new double[] {-1e9, 1e9}, "responseTimeMs", new double[] {0, 86_400_000},
      "durationMs", new double[] {0, 86_400_000});

  private BoundsOracle() {
  }

  static void assertWithinBounds(Event e, Instant receivedAt, long skewMs) {
    text("type", e.type(), 128);
    assertTrue(!e.type().isBlank(), "type is blank");
    text("category", e.category(), 128);
    text("action", e.action(), 1024);
    text("label", e.label(), 1024);
    id("sessionId", e.sessionId());
    id("userId", e.userId());
    id("anonymousId", e.anonymousId());
    assertTrue(e.userId() != null || e.anonymousId() != null || e.sessionId() != null, "no identity");
    assertTrue(!e.timestamp().isBefore(Instant.parse("2000-01-01T00:00:00Z"))
        && !e.timestamp().isAfter(receivedAt.plusMillis(skewMs)), "timestamp out of range: " + e.timestamp());
    if (e.value() != null) {
      number("value", new BigDecimal(Double.toString(e.value())));
    }
    Event.Measures m = e.measures();
    text("provider", m.provider(), 128);
    text("model", m.model(), 128);
    measure(m, Event.Measures.TOKENS, "tokens", m.tokens());
    measure(m, Event.Measures.COST, "cost", m.cost());
    measure(m, Event.Measures.AMOUNT, "amount", m.amount());
    measure(m, Event.Measures.RESPONSE_TIME, "responseTimeMs", m.responseTimeMs());
    measure(m, Event.Measures.DURATION, "durationMs", m.durationMs());
    Event.ClientInfo c = e.client();
    text("userAgent", c.userAgent(), 1024);
    text("ip", c.ip(), 64);
    text("screenResolution", c.screenResolution(), 1024);
    text("viewport", c.viewport(), 1024);
    text("language", c.language(), 1024);
    text("timezone", c.timezone(), 1024);
    text("page.url", c.pageUrl(), 4096);
    text("page.path", c.pagePath(), 2048);
    text("page.search", c.pageSearch(), 4096);
    text("page.referrer", c.referrer(), 4096);
    text("previousId", c.previousId(), 128);
    object("properties", e.propertiesJson());
    object("page", e.pageJson());
    object("userContext", e.userContextJson());
    object("userContext.userProperties", c.userPropertiesJson());
  }

  /** Storable by PostgreSQL: no NUL, and encodable as UTF-8 (no unpaired surrogate). */
  static void storable(String field, String s) {
    assertTrue(s.indexOf('\0') < 0, field + " holds a NUL");
    assertTrue(StandardCharsets.UTF_8.newEncoder().canEncode(s), field + " holds an unpaired surrogate");
  }

  private static void text(String field, String s, int max) {
    if (s != null) {
      assertTrue(s.length() <= max, field + " is " + s.length() + " > " + max);
      storable(field, s);
    }
  }

  /** Ids: 128 characters, or 128 digits for a numeric id (whose sign adds one). */
  private static void id(String field, String s) {
    if (s != null) {
      int max = s.startsWith("-") && s.substring(1).chars().allMatch(Character::isDigit) ? 129 : 128;
      text(field, s, max);
    }
  }

  private static void measure(Event.Measures m, int bit, String name, double v) {
    if (m.has(bit)) {
      double[] range = MEASURES.get(name);
      assertTrue(v >= range[0] && v <= range[1], name + " " + v + " out of " + range[0] + ".." + range[1]);
    }
  }

  /** The rule for every number, on its exact decimal value: what double precision makes of it must be usable. */
  private static void number(String field, BigDecimal exact) {
    double d = exact.doubleValue();
    assertTrue(Double.isFinite(d) && Math.abs(d) <= 1e18, field + " = " + exact + " is too big");
    assertTrue(exact.signum() == 0 ? d == 0 : Math.abs(d) >= 1e-18, field + " = " + exact + " underflows");
  }

  private static void object(String root, String json) {
    if (json == null) {
      return;
    }
    try (JsonParser p = PLAIN.createParser(json)) {
      assertEquals(JsonToken.START_OBJECT, p.nextToken(), root + " is not an object: " + json);
      walk(p, root, 1, root);
      assertEquals(null, p.nextToken(), root + " has content after its end");
    } catch (IOException ex) {
      throw new UncheckedIOException(root + " is not valid JSON: " + json, ex);
    }
  }

  /** Walks the container the parser is on, at {@code level}; {@code path} names it. */
  private static void walk(JsonParser p, String root, int level, String path) throws IOException {
    assertTrue(level <= 16, path + " is at level " + level);
    boolean array = p.currentToken() == JsonToken.START_ARRAY;
    int index = 0;
    while (true) {
      JsonToken t = p.nextToken();
      assertNotNull(t, "unterminated " + path);
      if (t == JsonToken.END_OBJECT || t == JsonToken.END_ARRAY) {
        return;
      }
      String at;
      String key = null;
      if (array) {
        at = path + "[" + index++ + "]";
      } else {
        key = p.currentName();
        assertTrue(key.length() <= 128, "a key of " + path + " is " + key.length() + " long");
        storable("a key of " + path, key);
        at = path + "." + key;
        t = p.nextToken();
      }
      switch (t) {
        case START_OBJECT, START_ARRAY -> walk(p, root, level + 1, at);
        case VALUE_STRING -> text(at, p.getText(), level == 1 && key != null ? rootString(root, key) : 8192);
        case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> {
          if (level == 1 && root.equals("userContext") && CONTEXT_STRINGS.containsKey(key)) {
            // a numeric id follows the id rule: an integer of at most 128 digits
            assertEquals(JsonToken.VALUE_NUMBER_INT, t, at);
            assertTrue(p.getText().replace("-", "").length() <= 128, at + " has more than 128 digits");
            continue;
          }
          BigDecimal exact = p.getDecimalValue();
          number(at, exact);
          double[] range = level == 1 && root.equals("properties") ? MEASURES.get(key) : null;
          if (range != null) {
            assertTrue(exact.doubleValue() >= range[0] && exact.doubleValue() <= range[1], at + " = " + exact);
          }
        }
        case VALUE_TRUE, VALUE_FALSE, VALUE_NULL -> { }
        default -> fail("unexpected " + t + " at " + at);
      }
    }
  }

  private static int rootString(String root, String key) {
    Map<String, Integer> special = switch (root) {
      case "properties" -> PROPERTY_STRINGS;
      case "page" -> PAGE_STRINGS;
      case "userContext" -> CONTEXT_STRINGS;
      default -> Map.of();
    };
    return special.getOrDefault(key, 8192);
  }
}
