package io.tally.loadtest;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

/** Whether a step of {@code Bench max} counts as sustained. */
class BenchStepTest {

  private static JsonObject step(long errors, long achieved, String lag) {
    JsonObject r = new JsonObject().put("errors", errors).put("achievedEventsPerSec", achieved);
    return lag == null ? r : r.put("derivedLagSecondsAtEnd", lag);
  }

  @Test
  void aStepIsSustainedOnlyWithoutErrorsAt97PercentAndWithTheDerivedTablesKeepingUp() {
    assertEquals("", Bench.notSustained(step(0, 9_700, "1"), 10_000, 10));
    assertEquals("", Bench.notSustained(step(0, 10_000, "10"), 10_000, 10));
    assertEquals(" (errors)", Bench.notSustained(step(3, 10_000, "0"), 10_000, 10));
    assertEquals(" (under 97 % acknowledged)", Bench.notSustained(step(0, 9_699, "0"), 10_000, 10));
    assertEquals(" (derived tables 11 s behind, limit 10 s)", Bench.notSustained(step(0, 10_000, "11"), 10_000, 10));
    // a server that does not report the lag (an older build) is judged on errors and acks alone
    assertEquals("", Bench.notSustained(step(0, 10_000, "?"), 10_000, 10));
    assertEquals("", Bench.notSustained(step(0, 10_000, null), 10_000, 10));
  }
}
