package io.tally.derive;

import io.tally.schema.EventColumn;
import io.tally.schema.EventColumns;
import io.tally.schema.RollupDimension;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * The parts of {@link DerivedSql#FLUSH} generated from the event's column description: the sessions' context
 * columns and the hourly rollup's arrays. They take the statement's last parameters (after the {@link #FIXED} ones),
 * so that a new column renumbers nothing; {@link DerivedBatch#tuple} appends them last, in this order.
 */
final class FlushColumns {
  /** The flush's parameters that do not depend on the description ($1…$90). */
  static final int FIXED = 90;
  /** The measure columns of the usage rollups and their array types, in table order. */
  private static final String[][] MEASURES = {{"events", "int8"}, {"tokens", "float8"}, {"cost", "float8"},
      {"amount", "float8"}, {"rt_sum", "float8"}, {"rt_n", "int8"}, {"dur_sum", "float8"}, {"dur_n", "int8"}};

  private FlushColumns() {
  }

  /** The sessions' context columns' parameters, from $91. */
  static String contextParams() {
    return EventColumns.params(EventColumns.SESSION_CONTEXT, FIXED + 1);
  }

  /** The sessions' context columns, comma-separated. */
  static String context() {
    return EventColumns.names(EventColumns.SESSION_CONTEXT, "");
  }

  /** Each context column goes with the session's earliest context (the hand-written rule of {@code context}). */
  static String contextMerge() {
    List<String> l = new ArrayList<>();
    for (EventColumn c : EventColumns.SESSION_CONTEXT) {
      l.add("%1$s = CASE WHEN tally_first(excluded.context_at, excluded.context_event, s.context_at, s.context_event)"
          .formatted(c.column) + "\n                 THEN excluded.%1$s ELSE s.%1$s END,".formatted(c.column));
    }
    return String.join("\n          ", l);
  }

  /** The hourly rollup rows' parameters (project, hour, dimensions, measures), after the context columns'. */
  static String hourlyParams() {
    int n = FIXED + EventColumns.SESSION_CONTEXT.size() + 1;
    List<String> l = new ArrayList<>();
    l.add("$" + n++ + "::text[]");
    l.add("$" + n++ + "::timestamptz[]");
    for (int k = 0; k < RollupDimension.ALL.size(); k++) {
      l.add("$" + n++ + "::text[]");
    }
    for (String[] m : MEASURES) {
      l.add("$" + n++ + "::" + m[1] + "[]");
    }
    return String.join(", ", l);
  }

  /** A usage rollup's columns, its time column named {@code time}. */
  static String rollup(String time) {
    return "project_id, " + time + ", " + RollupDimension.COLUMNS + ", "
        + java.util.Arrays.stream(MEASURES).map(m -> m[0]).collect(Collectors.joining(", "));
  }

  /** The ordinals of a usage rollup's key (project, time, dimensions): its primary key's order. */
  static String keyOrder() {
    return IntStream.rangeClosed(1, 2 + RollupDimension.ALL.size()).mapToObj(Integer::toString)
        .collect(Collectors.joining(", "));
  }
}
