package io.tally.query;

import io.tally.index.EventTimeline;
import io.tally.index.PersonIndex;
import io.tally.index.TimelineProject;
import io.tally.index.TimelineScans;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The timeline's per-project structures without servers, at sizes past their initial capacities (persons, sessions,
 * the session table's slots): events out of order, person-less events, identity merges; and filtered usage over them
 * against a brute-force count over the same generated events.
 */
class EventTimelineProjectTest {
  record Ev(String person, String session, long ms, String type, String provider, String device) {}

  static final String[] TYPES = {"message_sent", "error", "page_view", "signup"};
  static final String[] PROVIDERS = {"openai", "anthropic", null};
  static final String[] DEVICES = {"desktop", "mobile"};

  @Test
  void holdsEveryEventSortedWithItsSessionAndFilteredUsageEqualsABruteForceCount() {
    Random rnd = new Random(11);
    long t0 = 1_790_000_000_000L;
    long day = 86_400_000L;
    List<Ev> events = new ArrayList<>();
    for (int i = 0; i < 3_000; i++) {
      String person = i % 50 == 49 ? null : "p" + i;
      String device = DEVICES[i % 2];
      long ms = t0 + (long) (rnd.nextDouble() * 20 * day);
      int sessions = 1 + rnd.nextInt(3);
      for (int s = 0; s < sessions; s++) {
        String session = "s" + i + "-" + s;
        int n = 1 + rnd.nextInt(8);
        for (int k = 0; k < n; k++) {
          ms += rnd.nextInt(k == 0 ? 3 * 3_600_000 : 40_000);
          String type = TYPES[rnd.nextInt(TYPES.length)];
          String provider = type.equals("message_sent") || type.equals("error")
              ? PROVIDERS[rnd.nextInt(PROVIDERS.length)] : null;
          events.add(new Ev(person, session, ms, type, provider, device));
        }
      }
    }
    // out of order: shuffled in blocks, as late batches arrive
    List<Ev> order = new ArrayList<>(events);
    java.util.Collections.shuffle(order, rnd);
    TimelineProject p = new TimelineProject();
    PersonIndex.Project people = new PersonIndex.Project();
    Map<String, Long> firstSeen = new HashMap<>();
    for (Ev e : order) {
      String[] dims = new String[EventTimeline.DIMS];
      dims[EventTimeline.PROVIDER] = e.provider();
      dims[EventTimeline.DEVICE] = e.device();
      p.add(e.person(), e.ms(), e.type(), dims, e.session());
      if (e.person() != null) {
        people.seen(e.person(), e.ms());
        firstSeen.merge(e.person(), e.ms(), Math::min);
      }
    }
    assertEquals(events.size(), p.size);
    assertTrue(p.persons() > 1024 && p.sessions.count > 1024, "past the initial capacities");
    // a merge: p1's history moves to p2 (as an identify would), in the oracle too
    p.merge("p1", "p2");
    people.merge("p1", "p2");
    List<Ev> resolved = new ArrayList<>();
    for (Ev e : events) {
      resolved.add("p1".equals(e.person()) ? new Ev("p2", e.session(), e.ms(), e.type(), e.provider(), e.device()) : e);
    }
    firstSeen.merge("p2", firstSeen.remove("p1"), Math::min);

    // every track sorted, every event where it belongs
    long held = p.orphans.len;
    for (int i = 0; i < p.persons(); i++) {
      TimelineProject.Track t = p.tracks[i];
      for (int j = 1; j < t.len; j++) {
        assertTrue(t.ev[j - 1] <= t.ev[j], "sorted");
      }
      held += t.len;
    }
    assertEquals(events.size(), held);
    assertEquals(0, p.tracks[p.ids.get("p1")].len);

    // every session's first and last event
    Map<String, long[]> span = new HashMap<>();
    for (Ev e : events) {
      span.merge(e.session(), new long[] {e.ms(), e.ms()}, (a, b) -> new long[] {Math.min(a[0], b[0]),
          Math.max(a[1], b[1])});
    }
    assertEquals(span.size(), p.sessions.count);
    Set<Integer> ids = new HashSet<>();
    for (Map.Entry<String, long[]> s : span.entrySet()) {
      int id = p.sessions.id(s.getKey(), s.getValue()[0]);
      ids.add(id);
      assertArrayEquals(s.getValue(), new long[] {p.sessions.start[id], p.sessions.end[id]}, s.getKey());
    }
    assertEquals(span.size(), ids.size(), "one number per session");
    assertNotEquals(TimelineProject.Sessions.hashA("ab"), TimelineProject.Sessions.hashA("ba"));

    for (String[] f : new String[][] {{"openai", null}, {null, "mobile"}, {"anthropic", "desktop"}, {"none", null}}) {
      for (long[] period : new long[][] {{t0 + 7 * day, t0 + 14 * day}, {t0 + 3 * day + 12_345, t0 + 9 * day},
          {t0 - day, t0 + 30 * day}}) {
        long from = period[0];
        long to = period[1];
        long prevFrom = from - (to - from);
        UsageQuery.Filtered got = UsageQuery.filtered(p, people,
            TimelineScans.passing(p, f[0], null, null, f[1]), prevFrom, from, to);
        // brute force
        Set<String> total = new HashSet<>();
        Set<String> cur = new HashSet<>();
        Set<String> prev = new HashSet<>();
        Set<String> sessions = new HashSet<>();
        Map<Long, int[]> minutes = new HashMap<>();
        for (Ev e : resolved) {
          boolean pass = (f[0] == null || f[0].equals(e.provider())) && (f[1] == null || f[1].equals(e.device()));
          if (!pass || e.ms() >= to) {
            continue;
          }
          if (e.person() != null) {
            total.add(e.person());
            if (e.ms() >= from) {
              cur.add(e.person());
            } else if (e.ms() >= prevFrom) {
              prev.add(e.person());
            }
          }
          if (e.ms() >= from) {
            sessions.add(e.session());
            if (e.type().equals("message_sent") || e.type().equals("error")) {
              minutes.computeIfAbsent(Math.floorDiv(e.ms(), 60_000L), k -> new int[2])[e.type().equals("error")
                  ? 1 : 0]++;
            }
          }
        }
        long fresh = cur.stream().filter(k -> firstSeen.get(k) >= from).count();
        long retained = cur.stream().filter(prev::contains).count();
        long n = 0;
        double duration = 0;
        long bounces = 0;
        for (String s : sessions) {
          long[] sp = span.get(s);
          if (sp[0] >= from && sp[0] < to) {
            n++;
            duration += sp[1] - sp[0];
            bounces += sp[1] - sp[0] < 30_000 ? 1 : 0;
          }
        }
        long withRequests = minutes.values().stream().filter(c -> c[0] > 0).count();
        long up = minutes.values().stream().filter(c -> c[0] > 0 && c[1] < c[0]).count();
        String what = String.join(",", String.valueOf(f[0]), String.valueOf(f[1])) + " " + from + ".." + to;
        assertArrayEquals(new long[] {total.size(), cur.size(), fresh, prev.size() - retained, retained},
            got.users(), what);
        assertArrayEquals(new double[] {n, duration, bounces}, got.sessions(), what);
        assertArrayEquals(new double[] {withRequests, up}, got.uptime(), what);
        if (!"none".equals(f[0])) {
          assertTrue(n > 0 && cur.size() > 0 && up > 0, what);
        }
      }
    }
  }
}
