package io.tally.query;

import io.tally.derive.DerivedFlush;
import io.tally.derive.DerivedRewrite;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/** An answer whose computation overlapped a flush notice that would have dropped it is not cached; others are. */
class QueryCacheTest {
  static JsonObject q(String project, String to) {
    return new JsonObject().put("projectId", project).put("from", "2026-11-01T00:00:00Z").put("to", to);
  }

  static DerivedFlush flushed(String project, String earliest) {
    return new DerivedFlush(Map.of(project, java.time.Instant.parse(earliest).toEpochMilli()), List.of(), List.of(),
        null);
  }

  @Test
  void answersComputedAcrossANoticeThatCoversThemAreNotKept() {
    QueryCache c = new QueryCache(1 << 20, Duration.ofMinutes(10));
    JsonObject r = new JsonObject().put("v", 1);
    JsonObject late = q("a", "2026-11-30T00:00:00Z");
    JsonObject early = q("a", "2026-11-10T00:00:00Z");
    JsonObject other = q("b", "2026-11-30T00:00:00Z");

    long mark = c.mark();
    // a flush of project a with events from 20 Nov lands while the three answers are computed
    c.invalidate(flushed("a", "2026-11-20T00:00:00Z"));
    c.put("late", late, r, mark);
    c.put("early", early, r, mark);
    c.put("other", other, r, mark);
    assertNull(c.get("late"), "covered by the flush: may have read the tables from before it");
    assertNotNull(c.get("early"), "ends before the flush's earliest event");
    assertNotNull(c.get("other"), "another project");

    // computed after the notice: kept
    long after = c.mark();
    c.put("late", late, r, after);
    assertNotNull(c.get("late"));

    // an identity merge drops everything of the project, also answers in flight
    long beforeMerge = c.mark();
    c.invalidate(DerivedRewrite.merge("a", "a-anon", "a-user"));
    assertNull(c.get("early"));
    c.put("early", early, r, beforeMerge);
    assertNull(c.get("early"));

    // a mark older than the notices remembered per project: refused, to be safe
    long old = c.mark();
    for (int i = 0; i < 300; i++) {
      c.invalidate(flushed("a", "2026-12-31T00:00:00Z"));
    }
    c.put("early", early, r, old);
    assertNull(c.get("early"));
    c.put("early", early, r, c.mark());
    assertNotNull(c.get("early"));
  }

  @Test
  void verifiesThatTheCacheIsBoundedByTheSizeOfItsAnswersNotTheirCount() {
    // GIVEN a cache of 100 KB
    QueryCache c = new QueryCache(100_000, Duration.ofMinutes(10));
    JsonObject big = new JsonObject().put("rows", "x".repeat(30_000));
    // WHEN ten answers of ~30 KB each are kept, then a few small ones
    for (int i = 0; i < 10; i++) {
      c.put("big" + i, q("a", "2026-11-30T00:00:00Z"), big, c.mark());
    }
    for (int i = 0; i < 5; i++) {
      c.put("small" + i, q("a", "2026-11-30T00:00:00Z"), new JsonObject().put("v", i), c.mark());
    }
    // THEN what it holds stays within 100 KB (at most three of the big ones), whatever the number of entries
    long held = c.bytes();
    org.junit.jupiter.api.Assertions.assertTrue(held <= 100_000, "holds " + held + " bytes");
    org.junit.jupiter.api.Assertions.assertTrue(held >= 30_000, "holds " + held + " bytes");
    // AND an answer larger than the whole cache is not kept at all
    c.put("huge", q("a", "2026-11-30T00:00:00Z"), new JsonObject().put("rows", "y".repeat(200_000)), c.mark());
    assertNull(c.get("huge"));
  }
}
