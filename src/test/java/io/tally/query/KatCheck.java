package io.tally.query;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Soft assertions over JSON answers: every leaf of an expected tree is one check, grouped; all mismatches are
 * collected (field path, expected, actual) and reported together at the end, with a pass/fail count per group.
 */
final class KatCheck {
  /** The field must exist (its value is not specified by the README). */
  static final Object PRESENT = new Object() {
    @Override
    public String toString() {
      return "<present>";
    }
  };

  /** A number with an explicit tolerance. */
  record Approx(double value, double tol) {
    @Override
    public String toString() {
      return value + " (±" + tol + ")";
    }
  }

  /** An instant; the answer may be an ISO-8601 string (any offset) or epoch milliseconds. */
  record At(Instant instant) {
    @Override
    public String toString() {
      return instant.toString();
    }
  }

  /** The start of a day/week bucket: a date string ("2026-10-05") or the instant of its start in the project zone. */
  record DayStart(LocalDate date, Instant instant) {
    @Override
    public String toString() {
      return date + " / " + instant;
    }
  }

  /** An object that must have exactly these keys. */
  record ExactKeys(Map<String, Object> map) {
    @Override
    public String toString() {
      return map.toString();
    }
  }

  /** Funnel drop-off reasons: event type names, as strings or as objects naming the type. */
  record Reasons(List<Object> names) {
    @Override
    public String toString() {
      return names.toString();
    }
  }

  private static final Object MISSING = new Object() {
    @Override
    public String toString() {
      return "<missing>";
    }
  };

  final String name;
  final Map<String, int[]> groups = new LinkedHashMap<>();
  final List<String> failures = new ArrayList<>();
  final List<String> notes = new ArrayList<>();
  /** Informational comparisons (another reading of an ambiguous rule): counted and shown, never failing. */
  final Map<String, int[]> infos = new LinkedHashMap<>();
  final List<String> infoMismatches = new ArrayList<>();

  KatCheck(String name) {
    this.name = name;
  }

  void pass(String group) {
    groups.computeIfAbsent(group, g -> new int[2])[0]++;
  }

  void fail(String group, String path, Object expected, Object actual) {
    groups.computeIfAbsent(group, g -> new int[2])[1]++;
    failures.add("[" + group + "] " + path + ": expected " + show(expected) + ", actual " + show(actual));
  }

  void failMessage(String group, String message) {
    groups.computeIfAbsent(group, g -> new int[2])[1]++;
    failures.add("[" + group + "] " + message);
  }

  void note(String s) {
    if (!notes.contains(s)) {
      notes.add(s);
    }
  }

  void info(String name, boolean ok, String detail) {
    infos.computeIfAbsent(name, g -> new int[2])[ok ? 0 : 1]++;
    if (!ok) {
      infoMismatches.add("[" + name + "] " + detail);
    }
  }

  void truth(String group, String path, boolean ok, String message) {
    if (ok) {
      pass(group);
    } else {
      failMessage(group, path + ": " + message);
    }
  }

  private static String show(Object o) {
    if (o == null) {
      return "null";
    }
    if (o instanceof String s) {
      return "\"" + s + "\"";
    }
    String s = o.toString();
    return s.length() > 600 ? s.substring(0, 600) + "…" : s;
  }

  /** Compares an expected tree to a JSON object's fields. */
  void object(String group, String path, Map<String, Object> expected, JsonObject actual) {
    compare(group, path, expected, actual, true);
  }

  void compare(String group, String path, Object exp, Object act, boolean present) {
    if (!present) {
      fail(group, path, exp, MISSING);
      return;
    }
    if (exp == PRESENT) {
      pass(group);
    } else if (exp instanceof ExactKeys ek) {
      if (!(act instanceof JsonObject o)) {
        fail(group, path, exp, act);
        return;
      }
      TreeSet<String> want = new TreeSet<>(ek.map().keySet());
      TreeSet<String> got = new TreeSet<>(o.fieldNames());
      if (!want.equals(got)) {
        fail(group, path + " (keys)", want, got);
      }
      for (Map.Entry<String, Object> e : ek.map().entrySet()) {
        if (o.containsKey(e.getKey())) {
          compare(group, path + "." + e.getKey(), e.getValue(), o.getValue(e.getKey()), true);
        }
      }
    } else if (exp instanceof Map<?, ?> m) {
      if (!(act instanceof JsonObject o)) {
        fail(group, path, exp, act);
        return;
      }
      for (Map.Entry<?, ?> e : m.entrySet()) {
        String k = (String) e.getKey();
        compare(group, path + "." + k, e.getValue(), o.getValue(k), o.containsKey(k));
      }
    } else if (exp instanceof List<?> l) {
      if (!(act instanceof JsonArray a)) {
        fail(group, path, exp, act);
        return;
      }
      if (a.size() != l.size()) {
        fail(group, path + " (size " + l.size() + " vs " + a.size() + ")", l, a);
        return;
      }
      for (int i = 0; i < l.size(); i++) {
        compare(group, path + "[" + i + "]", l.get(i), a.getValue(i), true);
      }
    } else if (exp instanceof Reasons r) {
      if (!(act instanceof JsonArray a)) {
        fail(group, path, exp, act);
        return;
      }
      List<Object> names = new ArrayList<>();
      for (Object x : a) {
        if (x instanceof JsonObject o) {
          note("funnel dropOffPoints[].reasons are objects, e.g. " + o.encode() + " (the type name is read from "
              + "event/type/name/reason)");
          Object n = o.getValue("event");
          for (String k : List.of("type", "name", "reason")) {
            if (n == null) {
              n = o.getValue(k);
            }
          }
          names.add(n);
        } else {
          names.add(x);
        }
      }
      if (names.equals(r.names())) {
        pass(group);
      } else {
        fail(group, path, r.names(), a);
      }
    } else if (exp instanceof Approx ap) {
      number(group, path, ap.value(), ap.tol(), act, exp);
    } else if (exp instanceof Double d) {
      number(group, path, d, 1e-6 + Math.abs(d) * 1e-9, act, exp);
    } else if (exp instanceof Long || exp instanceof Integer) {
      number(group, path, ((Number) exp).doubleValue(), 1e-9, act, exp);
    } else if (exp instanceof At at) {
      Instant got = instant(act);
      if (at.instant().equals(got)) {
        pass(group);
      } else {
        fail(group, path, exp, act);
      }
    } else if (exp instanceof DayStart ds) {
      boolean ok = act instanceof String s && s.matches("\\d{4}-\\d{2}-\\d{2}") ? LocalDate.parse(s).equals(ds.date())
          : ds.instant().equals(instant(act));
      if (ok) {
        pass(group);
      } else {
        fail(group, path, exp, act);
      }
    } else if (exp == null) {
      if (act == null) {
        pass(group);
      } else {
        fail(group, path, null, act);
      }
    } else if (exp instanceof String || exp instanceof Boolean) {
      if (exp.equals(act)) {
        pass(group);
      } else {
        fail(group, path, exp, act);
      }
    } else {
      throw new IllegalArgumentException("unsupported expectation " + exp.getClass() + " at " + path);
    }
  }

  private void number(String group, String path, double want, double tol, Object act, Object exp) {
    if (act instanceof Number n && Math.abs(n.doubleValue() - want) <= tol) {
      pass(group);
    } else {
      fail(group, path, exp, act);
    }
  }

  static Instant instant(Object act) {
    if (act instanceof Number n) {
      return Instant.ofEpochMilli(n.longValue());
    }
    if (act instanceof String s) {
      try {
        return Instant.parse(s);
      } catch (DateTimeParseException e) {
        try {
          return OffsetDateTime.parse(s).toInstant();
        } catch (DateTimeParseException e2) {
          return null;
        }
      }
    }
    return null;
  }

  String summary() {
    StringBuilder b = new StringBuilder("=== KAT " + name + " ===\n");
    groups.forEach((g, c) -> b.append(String.format("  %-60s pass %5d  fail %4d%n", g, c[0], c[1])));
    infos.forEach((g, c) -> b.append(String.format("  info: %-54s match %5d  differ %4d%n", g, c[0], c[1])));
    for (String m : infoMismatches) {
      b.append("  info-differ ").append(m).append('\n');
    }
    for (String n : notes) {
      b.append("  note: ").append(n).append('\n');
    }
    for (String f : failures) {
      b.append("  FAIL ").append(f).append('\n');
    }
    return b.toString();
  }

  /** Prints the summary and fails the test if any check failed. */
  void done() {
    String s = summary();
    System.out.println(s);
    if (!failures.isEmpty()) {
      org.junit.jupiter.api.Assertions.fail(failures.size() + " known-answer mismatches\n" + s);
    }
  }
}
