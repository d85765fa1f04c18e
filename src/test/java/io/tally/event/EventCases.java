package io.tally.event;

import io.tally.event.EventJson.Raw;
import io.tally.event.EventJson.RawBytes;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.function.BiConsumer;

/**
 * Events for the parser's property tests: random valid ones, ways to break exactly one field (with the field the
 * rejection must name), and values exactly at each bound (which must be accepted). Built from a {@link Random}, so
 * jqwik's seed reproduces a case.
 */
final class EventCases {
  static final Instant NOW = Instant.parse("2026-11-24T12:00:00Z");
  static final long SKEW_MS = Duration.ofHours(24).toMillis();
  static final int MAX_EVENT_BYTES = 32768;
  private static final Instant MIN_TS = Instant.parse("2000-01-01T00:00:00Z");

  /**
   * What a break does: rejects the event alone naming {@code field}; refuses the whole body (field "body"); or makes
   * the event larger than any event may be, which Jackson's string limit may catch for the whole body (it checks a
   * string it reads into its own buffer only in part) or the event-size limit for that event alone.
   */
  enum Outcome { EVENT, OVERSIZED, BODY }

  record Breaker(String name, Outcome outcome, String field, BiConsumer<Map<String, Object>, Random> apply) {
    @Override
    public String toString() {
      return name;
    }
  }

  record Edge(String name, BiConsumer<Map<String, Object>, Random> apply) {
    @Override
    public String toString() {
      return name;
    }
  }

  private EventCases() {
  }

  // ---- text ----

  private static final String[] PIECES = {"a", "Z", "0", " ", "é", "ß", "€", "中", "😀", "𝄞", "\"", "\\", "\n",
      "\t", "/", "\u007f", "\u2028", "\uFEFF", "<", "&", "'", "ー"};

  /** Exactly {@code len} UTF-16 units of one kind (ASCII, 2-, 3- or 4-byte UTF-8, or mixed); never unpaired. */
  static String fill(Random r, int len) {
    StringBuilder b = new StringBuilder(len);
    int kind = r.nextInt(5);
    while (b.length() < len) {
      String piece = switch (kind) {
        case 0 -> "x";
        case 1 -> "é";
        case 2 -> "中";
        case 3 -> "😀";
        default -> PIECES[r.nextInt(PIECES.length)];
      };
      if (b.length() + piece.length() > len) {
        piece = "y";
      }
      b.append(piece);
    }
    return b.toString();
  }

  /** Random text of min..max units, mostly short. */
  static String text(Random r, int min, int max) {
    int len = r.nextInt(10) == 0 ? min + r.nextInt(max - min + 1) : Math.min(max, min + r.nextInt(Math.min(12, max
        - min + 1)));
    return fill(r, len);
  }

  /** A name that is never blank. */
  static String name(Random r, int max) {
    return "t" + text(r, 0, max - 1);
  }

  /** {@code s} with something PostgreSQL cannot store: a NUL or an unpaired surrogate, at a random place. */
  static String poison(Random r, String s) {
    String bad = switch (r.nextInt(6)) {
      case 0 -> "\u0000";
      case 1 -> "\ud800";
      case 2 -> "\udc00";
      case 3 -> "\ud800a";
      case 4 -> "\udc00\ud800";
      default -> "\udbff";
    };
    int at = s.isEmpty() ? 0 : r.nextInt(s.length() + 1);
    if (at > 0 && at < s.length() && Character.isHighSurrogate(s.charAt(at - 1))) {
      at++; // never split a pair
    }
    return s.substring(0, at) + bad + s.substring(at);
  }

  // ---- numbers ----

  static final String[] VALID_NUMBERS = {"0", "-0", "0.0", "-0.0", "0e10", "0E-400", "1", "-1", "42", "3.14",
      "1e-18", "-1e-18", "1E-18", "1e18", "-1e18", "1E+18", "999999999999999999", "-999999999999999999",
      "1000000000000000000", "-1000000000000000000", "0.000000000000000001", "1.5e-10", "2147483648"};
  static final String[] BAD_NUMBERS = {"1e19", "-1e19", "1e309", "-1e309", "1e-19", "-1e-19", "1e-400", "-1e-400",
      "1000000000000000001", "-1000000000000000001", "99999999999999999999", "1" + "0".repeat(100),
      "0.0000000000000000001", "123456789012345678901234567890e-50", "1.7976931348623157e308"};

  static Raw number(Random r) {
    return switch (r.nextInt(4)) {
      case 0 -> new Raw(VALID_NUMBERS[r.nextInt(VALID_NUMBERS.length)]);
      case 1 -> new Raw(Long.toString(r.nextLong() % 1_000_000_000_000_000_000L));
      case 2 -> new Raw(Double.toString((r.nextDouble() - 0.5) * 2e6));
      default -> new Raw(Integer.toString(r.nextInt(1000)));
    };
  }

  // ---- random valid events ----

  static Map<String, Object> validEvent(Random r) {
    Map<String, Object> e = new LinkedHashMap<>();
    switch (r.nextInt(4)) {
      case 0 -> e.put("id", UUID.randomUUID().toString());
      case 1 -> e.put("id", name(r, 128));
      case 2 -> e.put("id", new Raw(digits(r, 1 + r.nextInt(128))));
      default -> { }
    }
    String type = name(r, 40);
    if (r.nextBoolean()) {
      e.put("type", type);
    } else {
      Map<String, Object> t = map("name", type);
      if (r.nextBoolean()) {
        t.put("category", r.nextBoolean() ? name(r, 20) : map("id", name(r, 20)));
      }
      e.put("type", t);
    }
    times(r, e);
    identity(r, e);
    if (r.nextInt(3) == 0) {
      e.put("category", r.nextBoolean() ? name(r, 20) : map("id", name(r, 20), "name", text(r, 0, 20)));
    }
    if (r.nextInt(3) == 0) {
      e.put("action", text(r, 0, 1024));
    }
    if (r.nextInt(3) == 0) {
      e.put("label", text(r, 0, 1024));
    }
    if (r.nextInt(3) == 0) {
      e.put("value", number(r));
    }
    if (r.nextInt(4) > 0) {
      e.put("properties", properties(r));
    }
    if (r.nextInt(3) == 0) {
      e.put("page", page(r));
    }
    if (r.nextInt(4) == 0) {
      Map<String, Object> ctx = map("userAgent", text(r, 0, 200), "ip", r.nextBoolean() ? "203.0.113.7"
          : "2001:db8::1", "language", "en-US", "screenResolution", "1920x1080", "cookiesEnabled", r.nextBoolean());
      e.put(r.nextInt(4) == 0 ? "device" : "context", ctx);
    }
    return e;
  }

  private static void times(Random r, Map<String, Object> e) {
    long span = NOW.plusMillis(2 * SKEW_MS).toEpochMilli() - MIN_TS.toEpochMilli();
    Instant ts = MIN_TS.plusMillis((long) (r.nextDouble() * span));
    e.put("timestamp", timeValue(r, ts));
    if (r.nextInt(3) == 0) {
      // the corrected time, NOW - (sentAt - timestamp), stays after 2000 for any offset within a year
      Instant sent = ts.plusMillis((long) ((r.nextDouble() - 0.5) * 2 * Duration.ofDays(365).toMillis()));
      e.put("sentAt", timeValue(r, sent));
    }
  }

  static Object timeValue(Random r, Instant at) {
    return switch (r.nextInt(3)) {
      case 0 -> at.toString();
      case 1 -> at.atOffset(ZoneOffset.ofHoursMinutes(r.nextInt(27) - 13, 0)).toString();
      default -> at.toEpochMilli();
    };
  }

  private static void identity(Random r, Map<String, Object> e) {
    Map<String, Object> ctx = new LinkedHashMap<>();
    int which = r.nextInt(6);
    switch (which) {
      case 0 -> e.put("userId", id(r));
      case 1 -> e.put("anonymousId", id(r));
      case 2 -> e.put("sessionId", id(r));
      case 3 -> ctx.put("anonymousId", id(r));
      default -> ctx.put("userId", id(r));
    }
    if (r.nextBoolean()) {
      ctx.put("sessionId", id(r));
    }
    if (r.nextBoolean()) {
      ctx.put("userProperties", tree(r, 2, 1 + r.nextInt(15)));
    }
    if (r.nextInt(3) == 0) {
      ctx.put("sessionProperties", tree(r, 2, 1 + r.nextInt(15)));
    }
    if (r.nextBoolean()) {
      ctx.put("isNewUser", r.nextBoolean());
    }
    if (!ctx.isEmpty()) {
      e.put("userContext", ctx);
    }
  }

  private static Object id(Random r) {
    return r.nextInt(5) == 0 ? new Raw(digits(r, 1 + r.nextInt(20))) : name(r, 128);
  }

  static String digits(Random r, int n) {
    StringBuilder b = new StringBuilder(n);
    b.append((char) ('1' + r.nextInt(9)));
    while (b.length() < n) {
      b.append((char) ('0' + r.nextInt(10)));
    }
    return b.toString();
  }

  private static Map<String, Object> properties(Random r) {
    Map<String, Object> p = tree(r, 1, 1 + r.nextInt(16));
    if (r.nextBoolean()) {
      p.put("provider", name(r, 128));
      p.put("model", name(r, 128));
    }
    if (r.nextInt(4) == 0) {
      p.put("feature", name(r, 128));
    }
    if (r.nextBoolean()) {
      p.put("tokens", new Raw(Integer.toString(r.nextInt(10_000_001))));
    }
    if (r.nextInt(3) == 0) {
      p.put("cost", new Raw(Double.toString(r.nextDouble() * 1_000_000)));
    }
    if (r.nextInt(4) == 0) {
      p.put("amount", new Raw(Long.toString(r.nextLong() % 1_000_000_001L)));
    }
    if (r.nextInt(3) == 0) {
      p.put(r.nextBoolean() ? "responseTimeMs" : "durationMs", new Raw(Integer.toString(r.nextInt(86_400_001))));
    }
    if (r.nextInt(6) == 0) {
      p.put("previousId", name(r, 128));
    }
    return p;
  }

  private static Map<String, Object> page(Random r) {
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("url", "https://app.example/" + text(r, 0, 300));
    p.put("path", "/" + text(r, 0, 200));
    if (r.nextBoolean()) {
      p.put("search", r.nextBoolean() ? "?utm_source=x&utm_medium=y" : text(r, 0, 100));
      p.put("referrer", r.nextBoolean() ? "" : "https://www.google.com/");
    }
    if (r.nextBoolean()) {
      p.put("title", text(r, 0, 1024));
      p.put("hash", r.nextBoolean() ? null : text(r, 0, 30));
    }
    if (r.nextInt(3) == 0) {
      p.put("extra", tree(r, 2, 4));
    }
    return p;
  }

  /** A random object at {@code level} whose containers go no deeper than {@code maxLevel} (≤ 16). */
  static Map<String, Object> tree(Random r, int level, int maxLevel) {
    Map<String, Object> m = new LinkedHashMap<>();
    int keys = r.nextInt(level == 1 ? 6 : 4);
    for (int i = 0; i < keys; i++) {
      m.put(r.nextInt(20) == 0 ? fill(r, 128) : text(r, 0, 16), treeValue(r, level, maxLevel));
    }
    return m;
  }

  private static Object treeValue(Random r, int level, int maxLevel) {
    int pick = r.nextInt(level < maxLevel ? 8 : 6);
    return switch (pick) {
      case 0, 1 -> text(r, 0, r.nextInt(30) == 0 ? 8192 : 40);
      case 2 -> number(r);
      case 3 -> r.nextBoolean();
      case 4 -> null;
      case 5 -> r.nextBoolean() ? "" : fill(r, 1);
      case 6 -> tree(r, level + 1, maxLevel);
      default -> {
        List<Object> l = new ArrayList<>();
        for (int i = r.nextInt(4); i > 0; i--) {
          l.add(treeValue(r, level + 1, maxLevel));
        }
        yield l;
      }
    };
  }

  // ---- helpers on event maps ----

  static Map<String, Object> map(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> obj(Map<String, Object> e, String key) {
    Object o = e.get(key);
    if (!(o instanceof Map)) {
      o = new LinkedHashMap<String, Object>();
      e.put(key, o);
    }
    return (Map<String, Object>) o;
  }

  static Map<String, Object> traits(Map<String, Object> e) {
    return obj(obj(e, "userContext"), "userProperties");
  }

  /** An object nested so its innermost container is at {@code level} below a root at level 1. */
  static Object nest(int level, boolean arrays) {
    Object inner = arrays ? new ArrayList<>(List.of(1)) : map("leaf", 1);
    for (int l = level; l > 2; l--) {
      inner = arrays ? new ArrayList<>(List.of(inner)) : map("n", inner);
    }
    return inner;
  }

  static RawBytes badUtf8String(Random r) {
    byte[][] bad = {{(byte) 0x80}, {(byte) 0xC0, (byte) 0x80}, {(byte) 0xE0, (byte) 0x80, (byte) 0x80},
        {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80, (byte) 0xED, (byte) 0xB0,
        (byte) 0x80}, {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, {(byte) 0xF5, (byte) 0x80, (byte) 0x80,
        (byte) 0x80}, {(byte) 0xFF}, {(byte) 0xE2, (byte) 0x82}, {(byte) 0xC1, (byte) 0xBF}};
    byte[] b = bad[r.nextInt(bad.length)];
    byte[] out = new byte[b.length + 4];
    out[0] = '"';
    out[1] = 'a';
    System.arraycopy(b, 0, out, 2, b.length);
    out[out.length - 2] = 'b';
    out[out.length - 1] = '"';
    return new RawBytes(out);
  }

  // ---- breakers: each breaks exactly one field ----

  static List<Breaker> breakers() {
    List<Breaker> out = new ArrayList<>();
    for (String f : List.of("id", "sessionId", "userId", "anonymousId")) {
      out.add(event(f + " of 129 characters", f, (e, r) -> e.put(f, fill(r, 129))));
      out.add(event(f + " of 129 digits", f, (e, r) -> e.put(f, new Raw(digits(r, 129)))));
      out.add(event(f + " a fraction", f, (e, r) -> e.put(f, new Raw("1.5"))));
      out.add(event(f + " poisoned", f, (e, r) -> e.put(f, poison(r, text(r, 1, 100)))));
    }
    for (String f : List.of("userId", "sessionId", "anonymousId")) {
      out.add(event("userContext." + f + " of 129 characters", "userContext." + f,
          (e, r) -> obj(e, "userContext").put(f, fill(r, 129))));
      out.add(event("userContext." + f + " an object", "userContext." + f,
          (e, r) -> obj(e, "userContext").put(f, map("a", 1))));
    }
    out.add(event("type of 129", "type", (e, r) -> e.put("type", fill(r, 129))));
    out.add(event("type poisoned", "type", (e, r) -> e.put("type", poison(r, name(r, 100)))));
    out.add(event("type a number", "type", (e, r) -> e.put("type", 5)));
    out.add(event("type blank", "type", (e, r) -> e.put("type", "   ")));
    out.add(event("type.name of 129", "type.name", (e, r) -> e.put("type", map("name", fill(r, 129)))));
    out.add(event("type.category of 129", "type.category",
        (e, r) -> e.put("type", map("name", "x", "category", fill(r, 129)))));
    out.add(event("type.category.id of 129", "type.category.id",
        (e, r) -> e.put("type", map("name", "x", "category", map("id", fill(r, 129))))));
    out.add(event("category of 129", "category", (e, r) -> e.put("category", fill(r, 129))));
    out.add(event("category.id of 129", "category.id", (e, r) -> e.put("category", map("id", fill(r, 129)))));
    for (String f : List.of("action", "label")) {
      out.add(event(f + " of 1025", f, (e, r) -> e.put(f, fill(r, 1025))));
      out.add(event(f + " poisoned", f, (e, r) -> e.put(f, poison(r, text(r, 0, 1000)))));
    }
    for (String f : List.of("provider", "model", "feature", "previousId")) {
      out.add(event("properties." + f + " of 129", "properties." + f,
          (e, r) -> obj(e, "properties").put(f, fill(r, 129))));
    }
    for (String f : List.of("url", "referrer", "search")) {
      out.add(event("page." + f + " of 4097", "page." + f, (e, r) -> obj(e, "page").put(f, fill(r, 4097))));
    }
    out.add(event("page.path of 2049", "page.path", (e, r) -> obj(e, "page").put("path", fill(r, 2049))));
    for (String f : List.of("title", "hash")) {
      out.add(event("page." + f + " of 1025", "page." + f, (e, r) -> obj(e, "page").put(f, fill(r, 1025))));
    }
    for (String f : List.of("url", "path", "search", "referrer", "title", "hash")) {
      out.add(event("page." + f + " not a string", "page." + f, (e, r) -> obj(e, "page").put(f,
          List.of(5, true, map("a", "b"), List.of("/x")).get(r.nextInt(4)))));
    }
    out.add(event("page.path poisoned", "page.path", (e, r) -> obj(e, "page").put("path", poison(r, "/a"))));
    out.add(event("a property of 8193", "properties.note",
        (e, r) -> obj(e, "properties").put("note", fill(r, 8193))));
    out.add(event("a nested property of 8193", "properties.a.b",
        (e, r) -> obj(e, "properties").put("a", map("b", fill(r, 8193)))));
    out.add(event("an array item of 8193", "properties.list[2]",
        (e, r) -> obj(e, "properties").put("list", List.of("x", 1, fill(r, 8193)))));
    out.add(event("a page field of 8193", "page.extra", (e, r) -> obj(e, "page").put("extra", fill(r, 8193))));
    out.add(event("a trait of 8193", "userContext.userProperties.plan",
        (e, r) -> traits(e).put("plan", fill(r, 8193))));
    out.add(event("a session property of 8193", "userContext.sessionProperties.s",
        (e, r) -> obj(obj(e, "userContext"), "sessionProperties").put("s", fill(r, 8193))));
    out.add(event("a property poisoned", "properties.note",
        (e, r) -> obj(e, "properties").put("note", poison(r, text(r, 0, 100)))));
    out.add(event("a nested array item poisoned", "properties.a[0].b",
        (e, r) -> obj(e, "properties").put("a", List.of(map("b", poison(r, "x"))))));
    out.add(event("a trait poisoned", "userContext.userProperties.plan",
        (e, r) -> traits(e).put("plan", poison(r, text(r, 0, 50)))));
    out.add(event("a property key of 129", "properties", (e, r) -> obj(e, "properties").put(fill(r, 129), 1)));
    out.add(event("a nested key of 129", "properties.a",
        (e, r) -> obj(e, "properties").put("a", map(fill(r, 129), "v"))));
    out.add(event("a trait key of 129", "userContext.userProperties", (e, r) -> traits(e).put(fill(r, 129), 1)));
    out.add(event("a page key of 129", "page", (e, r) -> obj(e, "page").put(fill(r, 129), 1)));
    out.add(event("a property key poisoned", "properties",
        (e, r) -> obj(e, "properties").put(poison(r, "key"), 1)));
    out.add(event("a trait key poisoned", "userContext.userProperties",
        (e, r) -> traits(e).put(poison(r, "key"), 1)));
    out.add(event("properties 17 deep", "properties", (e, r) -> obj(e, "properties").put("n", nest(17, false))));
    out.add(event("properties 17 deep in arrays", "properties",
        (e, r) -> obj(e, "properties").put("n", nest(17, true))));
    out.add(event("page 17 deep", "page", (e, r) -> obj(e, "page").put("n", nest(17, r.nextBoolean()))));
    out.add(event("userContext 17 deep", "userContext",
        (e, r) -> obj(e, "userContext").put("userProperties", map("n", nest(16, r.nextBoolean())))));
    for (String bad : BAD_NUMBERS) {
      out.add(event("value " + bad, "value", (e, r) -> e.put("value", new Raw(bad))));
      out.add(event("a property " + bad, "properties.n", (e, r) -> obj(e, "properties").put("n", new Raw(bad))));
    }
    out.add(event("value a string", "value", (e, r) -> e.put("value", "1")));
    out.add(event("a nested number out of range", "properties.a[1]",
        (e, r) -> obj(e, "properties").put("a", List.of(1, new Raw(BAD_NUMBERS[r.nextInt(BAD_NUMBERS.length)])))));
    out.add(event("a page number out of range", "page.n", (e, r) -> obj(e, "page").put("n", new Raw("1e400"))));
    out.add(event("a trait number out of range", "userContext.userProperties.n",
        (e, r) -> traits(e).put("n", new Raw("-1e-300"))));
    measure(out, "tokens", "-1", "10000001", "1e309", "-1e309", "1e-19", "1e8");
    measure(out, "cost", "-0.01", "1000000.01", "1e309", "1e-300");
    measure(out, "amount", "-1000000001", "1000000001", "-1e309", "1e-19");
    measure(out, "responseTimeMs", "-1", "86400001", "1e309");
    measure(out, "durationMs", "-1", "86400001", "-1e-400");
    for (String f : List.of("timestamp", "sentAt")) {
      for (Object bad : List.of("1969-12-31T23:59:59.999Z", "+10000-01-01T00:00:00Z", "10000-01-01T00:00:00Z",
          "-0001-01-01T00:00:00Z", "2026-11-24T10:00:00", "yesterday", "", -1L, 253402300800000L,
          new Raw("1.7e12"), new Raw("99999999999999999999"), true, map("at", 1), "x".repeat(100))) {
        out.add(event(f + " " + bad, f, (e, r) -> {
          if (f.equals("sentAt") && !e.containsKey("timestamp")) {
            e.put("timestamp", NOW.toString());
          }
          e.put(f, bad);
        }));
      }
    }
    out.add(event("timestamp 1999-12-31T23:59:59.999Z", "timestamp", (e, r) -> {
      e.remove("sentAt");
      e.put("timestamp", timeValue(r, Instant.parse("1999-12-31T23:59:59.999Z")));
    }));
    out.add(event("timestamp 1970 corrected by sentAt 9999", "timestamp", (e, r) -> {
      e.put("timestamp", "1970-01-01T00:00:00Z");
      e.put("sentAt", "9999-12-31T23:59:59Z");
    }));
    out.add(event("timestamp corrected by sentAt to 1999", "timestamp", (e, r) -> {
      Instant ts = Instant.parse("2001-01-01T00:00:00Z").plusSeconds(r.nextInt(1_000_000_000));
      e.put("timestamp", timeValue(r, ts));
      // NOW - (sentAt - ts) = MIN_TS - 1 ms
      e.put("sentAt", timeValue(r, ts.plusMillis(NOW.toEpochMilli() - MIN_TS.toEpochMilli() + 1)));
    }));
    out.add(event("timestamp missing", "timestamp", (e, r) -> e.remove("timestamp")));
    out.add(event("context.ip of 65", "context.ip", (e, r) -> obj(e, "context").put("ip", fill(r, 65))));
    out.add(event("context.userAgent of 1025", "context.userAgent",
        (e, r) -> obj(e, "context").put("userAgent", fill(r, 1025))));
    out.add(event("device.model of 1025", "device.model", (e, r) -> obj(e, "device").put("model", fill(r, 1025))));
    out.add(event("browser.name poisoned", "browser.name",
        (e, r) -> obj(e, "browser").put("name", poison(r, "Firefox"))));
    // the whole body
    out.add(body("a 300-digit number", (e, r) -> obj(e, "properties").put("n", new Raw(digits(r, 300)))));
    out.add(body("a 100,000-digit number", (e, r) -> e.put("userId", new Raw(digits(r, 100_000)))));
    out.add(body("properties 10,000 deep", (e, r) -> obj(e, "properties").put("n", new Raw("[".repeat(10_000)
        + "]".repeat(10_000)))));
    out.add(new Breaker("a string longer than any event", Outcome.OVERSIZED, "body",
        (e, r) -> obj(e, "properties").put("s", "s".repeat(40_000))));
    out.add(new Breaker("a label longer than any event", Outcome.OVERSIZED, "body",
        (e, r) -> e.put("label", "l".repeat(40_000))));
    out.add(body("a key longer than any event", (e, r) -> obj(e, "properties").put("k".repeat(40_000), 1)));
    out.add(body("bytes that are not UTF-8 in a property", (e, r) -> obj(e, "properties").put("s",
        badUtf8String(r))));
    out.add(body("bytes that are not UTF-8 in a label", (e, r) -> e.put("label", badUtf8String(r))));
    out.add(body("bytes that are not UTF-8 in a trait", (e, r) -> traits(e).put("t", badUtf8String(r))));
    return out;
  }

  private static void measure(List<Breaker> out, String name, String... bad) {
    for (String b : bad) {
      out.add(event("properties." + name + " " + b, "properties." + name,
          (e, r) -> obj(e, "properties").put(name, new Raw(b))));
    }
  }

  private static Breaker event(String name, String field, BiConsumer<Map<String, Object>, Random> apply) {
    return new Breaker(name, Outcome.EVENT, field, apply);
  }

  private static Breaker body(String name, BiConsumer<Map<String, Object>, Random> apply) {
    return new Breaker(name, Outcome.BODY, "body", apply);
  }

  // ---- edges: exactly at a bound, accepted ----

  static List<Edge> edges() {
    List<Edge> out = new ArrayList<>();
    for (String f : List.of("id", "sessionId", "userId", "anonymousId")) {
      out.add(new Edge(f + " of 128", (e, r) -> e.put(f, fill(r, 128))));
      out.add(new Edge(f + " of 128 digits", (e, r) -> e.put(f, new Raw((r.nextBoolean() ? "-" : "")
          + digits(r, 128)))));
    }
    out.add(new Edge("userContext.userId of 128", (e, r) -> obj(e, "userContext").put("userId", fill(r, 128))));
    out.add(new Edge("type of 128", (e, r) -> e.put("type", "t" + fill(r, 127))));
    out.add(new Edge("type.name and type.category of 128", (e, r) -> e.put("type", map("name", "t" + fill(r, 127),
        "category", fill(r, 128)))));
    out.add(new Edge("category.id of 128", (e, r) -> e.put("category", map("id", fill(r, 128)))));
    out.add(new Edge("action and label of 1024", (e, r) -> {
      e.put("action", fill(r, 1024));
      e.put("label", fill(r, 1024));
    }));
    for (String f : List.of("provider", "model", "feature", "previousId")) {
      out.add(new Edge("properties." + f + " of 128", (e, r) -> obj(e, "properties").put(f, fill(r, 128))));
    }
    for (String f : List.of("url", "referrer", "search")) {
      out.add(new Edge("page." + f + " of 4096", (e, r) -> obj(e, "page").put(f, fill(r, 4096))));
    }
    out.add(new Edge("page.path of 2048", (e, r) -> obj(e, "page").put("path", fill(r, 2048))));
    out.add(new Edge("page.title and hash of 1024", (e, r) -> {
      obj(e, "page").put("title", fill(r, 1024));
      obj(e, "page").put("hash", fill(r, 1024));
    }));
    out.add(new Edge("page fields null", (e, r) -> obj(e, "page").put("path", null)));
    out.add(new Edge("a property of 8192", (e, r) -> obj(e, "properties").put("note", fill(r, 8192))));
    out.add(new Edge("a trait of 8192", (e, r) -> traits(e).put("bio", fill(r, 8192))));
    out.add(new Edge("a key of 128", (e, r) -> obj(e, "properties").put(fill(r, 128), fill(r, 128))));
    out.add(new Edge("properties 16 deep", (e, r) -> obj(e, "properties").put("n", nest(16, r.nextBoolean()))));
    out.add(new Edge("page 16 deep", (e, r) -> obj(e, "page").put("n", nest(16, r.nextBoolean()))));
    out.add(new Edge("userContext 16 deep",
        (e, r) -> obj(e, "userContext").put("userProperties", map("n", nest(15, r.nextBoolean())))));
    for (String good : VALID_NUMBERS) {
      out.add(new Edge("value " + good, (e, r) -> e.put("value", new Raw(good))));
      out.add(new Edge("a property " + good, (e, r) -> obj(e, "properties").put("n", new Raw(good))));
    }
    for (String[] m : new String[][] {{"tokens", "0"}, {"tokens", "10000000"}, {"tokens", "-0"}, {"cost", "0"},
        {"cost", "1000000"}, {"cost", "1e-18"}, {"amount", "-1000000000"}, {"amount", "1000000000"},
        {"responseTimeMs", "86400000"}, {"durationMs", "0"}, {"durationMs", "86400000.0"}}) {
      out.add(new Edge("properties." + m[0] + " " + m[1], (e, r) -> obj(e, "properties").put(m[0], new Raw(m[1]))));
    }
    out.add(new Edge("timestamp 2000-01-01", (e, r) -> {
      e.remove("sentAt");
      e.put("timestamp", timeValue(r, MIN_TS));
    }));
    out.add(new Edge("timestamp 9999-12-31T23:59:59.999Z, clamped", (e, r) -> {
      e.remove("sentAt");
      e.put("timestamp", r.nextBoolean() ? "9999-12-31T23:59:59.999Z" : (Object) 253402300799999L);
    }));
    out.add(new Edge("timestamp and sentAt 1970-01-01", (e, r) -> {
      e.put("timestamp", r.nextBoolean() ? "1970-01-01T00:00:00Z" : (Object) 0L);
      e.put("sentAt", r.nextBoolean() ? "1970-01-01T00:00:00Z" : (Object) 0L);
    }));
    out.add(new Edge("timestamp and sentAt 9999-12-31", (e, r) -> {
      e.put("timestamp", "9999-12-31T23:59:59.999Z");
      e.put("sentAt", "9999-12-31T23:59:59.999Z");
    }));
    out.add(new Edge("timestamp corrected by sentAt to exactly 2000-01-01", (e, r) -> {
      Instant ts = Instant.parse("2001-01-01T00:00:00Z").plusSeconds(r.nextInt(1_000_000_000));
      e.put("timestamp", timeValue(r, ts));
      e.put("sentAt", timeValue(r, ts.plusMillis(NOW.toEpochMilli() - MIN_TS.toEpochMilli())));
    }));
    out.add(new Edge("timestamp with an offset", (e, r) -> e.put("timestamp", "2026-11-24T10:00:00+05:30")));
    out.add(new Edge("context.ip of 64", (e, r) -> obj(e, "context").put("ip", fill(r, 64))));
    out.add(new Edge("context.userAgent of 1024", (e, r) -> obj(e, "context").put("userAgent", fill(r, 1024))));
    return out;
  }

  /** A small valid event (a few hundred bytes), so one value at its bound keeps it under the event limit. */
  static Map<String, Object> smallEvent(Random r) {
    Map<String, Object> e = map("id", UUID.randomUUID().toString(), "type", "page_view",
        "timestamp", timeValue(r, NOW.minusSeconds(r.nextInt(100_000))),
        "userContext", map("userId", "u-" + r.nextInt(1000)));
    if (r.nextBoolean()) {
      e.put("properties", map("provider", "openai", "model", "gpt-4o", "tokens", new Raw("512")));
    }
    return e;
  }
}
