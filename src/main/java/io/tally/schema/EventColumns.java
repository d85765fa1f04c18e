package io.tally.schema;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The SQL texts generated from {@link EventColumn}: built once, when the class loads, never per batch or event.
 * How to add a column: see {@link EventColumn}.
 */
public final class EventColumns {
  private EventColumns() {
  }

  /** The columns the batch insert sends, in parameter order ($1 is the first). */
  public static final List<EventColumn> SENT = Arrays.stream(EventColumn.values())
      .filter(c -> c.kind != EventColumn.Kind.COMPUTED).toList();

  /** The {@link EventColumn.Kind#ENRICHMENT} columns, in their order among {@link #SENT}. */
  public static final EventColumn[] ENRICHED = Arrays.stream(EventColumn.values())
      .filter(c -> c.kind == EventColumn.Kind.ENRICHMENT).toArray(EventColumn[]::new);

  /** The columns a session keeps from its earliest event with a client context, beside the context itself. */
  public static final List<EventColumn> SESSION_CONTEXT = Arrays.stream(EventColumn.values())
      .filter(c -> c.sessionContext).toList();

  /**
   * The one statement that writes a batch: columns travel as arrays and are unnested server side (the Vert.x client
   * has no COPY, and this is its fastest bulk form). In the same statement, hence the same transaction, dedupe: only
   * ids newly registered in {@code event_ids} are stored; and identity: an anonymous-only event of a linked anonymous
   * id is stored under its user. It returns the ordinals of the duplicate rows, and one more row, negative: minus the
   * id of the storing transaction.
   */
  public static final String INSERT = """
      WITH input AS (
        SELECT * FROM unnest({params})
          WITH ORDINALITY AS t({names}, ord)
      ), fresh AS (
        INSERT INTO event_ids (project_id, id, first_seen)
        SELECT project_id, id, received_at FROM input
        ON CONFLICT DO NOTHING
        RETURNING project_id, id
      ), stored AS (
        INSERT INTO events ({columns})
        SELECT {values}
        FROM input i JOIN fresh f ON f.project_id = i.project_id AND f.id = i.id
      )
      SELECT i.ord FROM input i
      WHERE NOT EXISTS (SELECT 1 FROM fresh f WHERE f.project_id = i.project_id AND f.id = i.id)
      UNION ALL
      SELECT -(pg_current_xact_id()::text::int8)
      """.replace("{params}", params(SENT, 1))
      .replace("{names}", names(SENT, ""))
      .replace("{columns}", names(Arrays.asList(EventColumn.values()), ""))
      .replace("{values}", Arrays.stream(EventColumn.values()).map(EventColumns::inserted)
          .collect(Collectors.joining(", ")));

  /** What the insert stores in a column, from the unnested input row {@code i}. */
  private static String inserted(EventColumn c) {
    return switch (c) {
      case USER_ID -> """
          coalesce((SELECT x.user_id FROM identities x
                    WHERE x.project_id = i.project_id AND x.anonymous_id = coalesce(i.user_id, i.anonymous_id)),
                   i.user_id)""";
      case IS_BOT -> "(i.flags & 8) <> 0";
      default -> c.sqlType.equals(c.paramType()) ? "i." + c.column : "i." + c.column + "::" + c.sqlType;
    };
  }

  /** {@code $first::type[], …} for the columns, numbered from {@code first}. */
  public static String params(List<EventColumn> columns, int first) {
    List<String> l = new ArrayList<>(columns.size());
    for (int k = 0; k < columns.size(); k++) {
      l.add("$" + (first + k) + "::" + columns.get(k).paramType() + "[]");
    }
    return String.join(", ", l);
  }

  /** The columns' names, each after {@code prefix}, comma-separated. */
  public static String names(List<EventColumn> columns, String prefix) {
    return columns.stream().map(c -> prefix + c.column).collect(Collectors.joining(", "));
  }
}
