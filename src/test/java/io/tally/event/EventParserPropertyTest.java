package io.tally.event;

import io.tally.error.ApiError;
import io.tally.event.EventCases.Breaker;
import io.tally.event.EventCases.Edge;
import io.tally.event.EventCases.Outcome;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static io.tally.event.EventCases.MAX_EVENT_BYTES;
import static io.tally.event.EventCases.NOW;
import static io.tally.event.EventCases.SKEW_MS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Property-based tests of {@link EventParser} alone (no server): random, adversarial and at-the-bound events. The
 * parser never throws anything but a 4xx {@link ApiError}; what it accepts keeps every bound (checked by
 * {@link BoundsOracle}, independently of the parser); what it rejects names the field that was broken; in a batch,
 * exactly the broken events are rejected, by index.
 */
class EventParserPropertyTest {
  private static final List<Breaker> BREAKERS = EventCases.breakers();
  private static final List<Breaker> EVENT_BREAKERS = BREAKERS.stream().filter(b -> b.outcome() == Outcome.EVENT)
      .toList();
  private static final List<Edge> EDGES = EventCases.edges();
  private final EventParser parser = new EventParser(MAX_EVENT_BYTES, 1000, SKEW_MS);

  /** One event to send: its fields, and the breaks applied to it (none for a valid event). */
  record Case(Map<String, Object> event, List<Breaker> breaks, String label) {
    byte[] bytes() {
      return EventJson.bytes(event);
    }

    boolean breaksBody() {
      return breaks.stream().anyMatch(b -> b.outcome() == Outcome.BODY);
    }

    boolean oversized() {
      return breaks.stream().anyMatch(b -> b.outcome() == Outcome.OVERSIZED);
    }

    @Override
    public String toString() {
      String json = new String(bytes(), StandardCharsets.UTF_8);
      return label + " " + breaks + ": " + (json.length() > 400 ? json.substring(0, 400) + "…" : json);
    }
  }

  @Property(tries = 3000)
  void verifiesThatParsingAnyBodyThrowsNothingButA4xxApiErrorAndAcceptsOnlyEventsInBounds(
      @ForAll("anyBody") byte[] body) {
    // GIVEN any body: valid, broken, at a bound, mutated byte by byte, in another encoding, or garbage
    ParsedBody parsed;
    try {
      // WHEN it is parsed
      parsed = parse(body);
    } catch (ApiError e) {
      // THEN a refusal is a client error naming what it refused
      assertTrue(e.status() >= 400 && e.status() < 500, e.status() + " " + e.getMessage());
      assertNotNull(e.field(), e.getMessage());
      return;
    }
    // THEN (or) every event it accepted keeps every bound, and every other one is rejected naming a field
    parsed.events().forEach(e -> BoundsOracle.assertWithinBounds(e, NOW, SKEW_MS));
    parsed.rejected().forEach(r -> assertNotNull(r.field(), r.error()));
    assertEquals(parsed.total(), parsed.events().size() + parsed.rejected().size());
  }

  @Property(tries = 2000)
  void verifiesThatAValidEventOrOneAtABoundIsAcceptedWithinEveryBound(@ForAll("validOrEdge") Case c) {
    // GIVEN a valid event, or a small one with one value exactly at its bound
    byte[] body = c.bytes();
    // WHEN parsed alone
    ParsedBody parsed = parse(body);
    // THEN it is accepted, and keeps every bound
    assertTrue(parsed.rejected().isEmpty(), () -> parsed.rejected() + " for " + c);
    assertEquals(1, parsed.events().size(), c::toString);
    BoundsOracle.assertWithinBounds(parsed.events().get(0), NOW, SKEW_MS);
  }

  @Property(tries = 3000)
  void verifiesThatABrokenEventIsRefusedNamingTheFieldThatWasBroken(@ForAll("broken") Case c) {
    assertSingle(c);
  }

  @Property(tries = 500)
  void verifiesThatABatchStoresItsValidEventsAndRejectsOnlyTheBrokenOnesByIndex(@ForAll("batches") List<Case> cases) {
    // GIVEN a batch mixing valid events and events each broken in one field
    List<Object> events = new ArrayList<>();
    cases.forEach(c -> events.add(c.event()));
    // WHEN parsed
    ParsedBody parsed = parse(EventJson.batch(events));
    // THEN the valid ones are accepted and each broken one is rejected at its index, naming its field
    assertTrue(parsed.batch());
    assertEquals(cases.size(), parsed.total());
    List<Integer> accepted = new ArrayList<>();
    for (int i : parsed.indexes()) {
      accepted.add(i);
    }
    int rejectedAt = 0;
    for (int i = 0; i < cases.size(); i++) {
      Case c = cases.get(i);
      boolean tooBig = c.bytes().length > MAX_EVENT_BYTES;
      if (c.breaks().isEmpty() && !tooBig) {
        assertTrue(accepted.contains(i), "valid event " + i + " not accepted: " + c + " " + parsed.rejected());
      } else {
        assertTrue(!accepted.contains(i), "broken event " + i + " accepted: " + c);
        Rejection r = parsed.rejected().get(rejectedAt++);
        assertEquals(i, r.index(), r.toString());
        assertEquals(tooBig ? "ingest.maxEventBytes" : c.breaks().get(0).field(), r.field(), r + " for " + c);
      }
    }
    assertEquals(rejectedAt, parsed.rejected().size(), parsed.rejected().toString());
    parsed.events().forEach(e -> BoundsOracle.assertWithinBounds(e, NOW, SKEW_MS));
  }

  @Example
  void verifiesThatEveryBreakerIsRefusedNamingItsFieldOnManyBaseEvents() {
    Random r = new Random(20261124);
    for (Breaker b : BREAKERS) {
      for (int i = 0; i < 20; i++) {
        Map<String, Object> e = i % 2 == 0 ? EventCases.smallEvent(r) : EventCases.validEvent(r);
        b.apply().accept(e, r);
        assertSingle(new Case(e, List.of(b), "example " + i));
      }
    }
  }

  @Example
  void verifiesThatEveryEdgeIsAcceptedOnManyBaseEvents() {
    Random r = new Random(1124);
    for (Edge edge : EDGES) {
      for (int i = 0; i < 20; i++) {
        Map<String, Object> e = EventCases.smallEvent(r);
        edge.apply().accept(e, r);
        verifiesThatAValidEventOrOneAtABoundIsAcceptedWithinEveryBound(new Case(e, List.of(), edge.name()));
      }
    }
  }

  /** A single broken event: refused whole (BODY), too large (413), or rejected naming the field it broke. */
  private void assertSingle(Case c) {
    byte[] body = c.bytes();
    ParsedBody parsed;
    try {
      parsed = parse(body);
    } catch (ApiError e) {
      if (c.breaksBody() || (c.oversized() && e.status() != 413)) {
        assertTrue(e.status() == 400 || e.status() == 415, e.status() + " " + e.getMessage() + " for " + c);
        assertEquals("body", e.field(), e.getMessage());
      } else {
        assertTrue(body.length > MAX_EVENT_BYTES, "unexpected refusal " + e.getMessage() + " for " + c);
        assertEquals(413, e.status());
        assertEquals("ingest.maxEventBytes", e.field());
      }
      return;
    }
    assertTrue(!c.breaksBody(), "expected the body to be refused: " + c);
    assertTrue(body.length <= MAX_EVENT_BYTES, "expected 413 for " + body.length + " bytes: " + c);
    assertEquals(0, parsed.events().size(), () -> "accepted " + c);
    assertEquals(1, parsed.rejected().size(), c::toString);
    Rejection r = parsed.rejected().get(0);
    assertNotNull(r.field(), r.error());
    if (c.breaks().size() == 1) {
      assertEquals(c.breaks().get(0).field(), r.field(), () -> r + " for " + c);
    } else {
      assertTrue(c.breaks().stream().anyMatch(b -> b.field().equals(r.field())), () -> r + " for " + c);
    }
  }

  private ParsedBody parse(byte[] body) {
    return parser.parse(body, body.length, "p", NOW);
  }

  // ---- generators ----

  @Provide
  Arbitrary<Case> validOrEdge() {
    return Arbitraries.randomValue(EventParserPropertyTest::validOrEdge);
  }

  private static Case validOrEdge(Random r) {
    if (r.nextBoolean()) {
      return new Case(EventCases.validEvent(r), List.of(), "valid");
    }
    Edge edge = EDGES.get(r.nextInt(EDGES.size()));
    Map<String, Object> e = EventCases.smallEvent(r);
    edge.apply().accept(e, r);
    return new Case(e, List.of(), edge.name());
  }

  @Provide
  Arbitrary<Case> broken() {
    return Arbitraries.randomValue(r -> broken(r, BREAKERS, r.nextInt(5) == 0 ? 2 : 1));
  }

  private static Case broken(Random r, List<Breaker> from, int breaks) {
    Map<String, Object> e = r.nextBoolean() ? EventCases.validEvent(r) : EventCases.smallEvent(r);
    List<Breaker> applied = new ArrayList<>();
    for (int i = 0; i < breaks; i++) {
      Breaker b = from.get(r.nextInt(from.size()));
      if (applied.stream().noneMatch(a -> a.field().equals(b.field()))) {
        applied.add(b);
      }
    }
    // a later break may overwrite an earlier one's value: whole-body breaks go last, so they always stay
    applied.sort(java.util.Comparator.comparing(Breaker::outcome));
    applied.forEach(b -> b.apply().accept(e, r));
    return new Case(e, applied, "broken");
  }

  @Provide
  Arbitrary<List<Case>> batches() {
    return Arbitraries.randomValue(r -> {
      List<Case> cases = new ArrayList<>();
      for (int i = 1 + r.nextInt(25); i > 0; i--) {
        cases.add(r.nextBoolean() ? validOrEdge(r) : broken(r, EVENT_BREAKERS, 1));
      }
      return cases;
    });
  }

  @Provide
  Arbitrary<byte[]> anyBody() {
    return Arbitraries.randomValue(r -> switch (r.nextInt(7)) {
      case 0 -> validOrEdge(r).bytes();
      case 1 -> broken(r, BREAKERS, 1 + r.nextInt(2)).bytes();
      case 2 -> {
        List<Object> events = new ArrayList<>();
        for (int i = 1 + r.nextInt(8); i > 0; i--) {
          events.add((r.nextBoolean() ? validOrEdge(r) : broken(r, BREAKERS, 1)).event());
        }
        yield r.nextBoolean() ? EventJson.batch(events) : EventJson.bytes(events);
      }
      case 3, 4 -> mutate(r, (r.nextBoolean() ? validOrEdge(r) : broken(r, BREAKERS, 1)).bytes());
      case 5 -> {
        Charset cs = List.of(StandardCharsets.UTF_16, StandardCharsets.UTF_16LE, StandardCharsets.UTF_16BE,
            Charset.forName("UTF-32"), Charset.forName("UTF-32LE")).get(r.nextInt(5));
        yield new String(validOrEdge(r).bytes(), StandardCharsets.UTF_8).getBytes(cs);
      }
      default -> garbage(r);
    });
  }

  private static final String[] TOKENS = {"{", "}", "[", "]", "\"", "\\", "\\u", "\\ud800", "\\u0000", ",", ":",
      "1e999", "-", "0", "null", "true", "\"batch\"", "\"seq\"", "\"type\"", "\"timestamp\"", "\"properties\"", " "};

  private static byte[] mutate(Random r, byte[] b) {
    byte[] out = b;
    for (int n = 1 + r.nextInt(3); n > 0; n--) {
      int at = out.length == 0 ? 0 : r.nextInt(out.length);
      out = switch (r.nextInt(5)) {
        case 0 -> {
          byte[] c = out.clone();
          if (c.length > 0) {
            c[at] = (byte) r.nextInt(256);
          }
          yield c;
        }
        case 1 -> java.util.Arrays.copyOf(out, at);
        case 2 -> splice(out, at, at, TOKENS[r.nextInt(TOKENS.length)].getBytes(StandardCharsets.UTF_8));
        case 3 -> splice(out, at, Math.min(out.length, at + r.nextInt(20)), new byte[0]);
        default -> splice(out, at, at, java.util.Arrays.copyOfRange(out, at, Math.min(out.length,
            at + r.nextInt(40))));
      };
    }
    return out;
  }

  private static byte[] splice(byte[] b, int from, int to, byte[] insert) {
    byte[] out = new byte[b.length - (to - from) + insert.length];
    System.arraycopy(b, 0, out, 0, from);
    System.arraycopy(insert, 0, out, from, insert.length);
    System.arraycopy(b, to, out, from + insert.length, b.length - to);
    return out;
  }

  private static byte[] garbage(Random r) {
    StringBuilder s = new StringBuilder();
    for (int i = r.nextInt(40); i > 0; i--) {
      s.append(TOKENS[r.nextInt(TOKENS.length)]);
    }
    byte[] b = s.toString().getBytes(StandardCharsets.UTF_8);
    return r.nextInt(4) == 0 ? mutate(r, b) : b;
  }
}
