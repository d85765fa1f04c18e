package io.tally.schema;

import io.tally.event.Event;

/**
 * The columns of the {@code events} table, described once: name, SQL type (as {@code information_schema} spells its
 * {@code udt_name}), the type it travels as in the batch insert, how its value is read from an {@link Event}, and
 * which derived tables carry it. The batch insert ({@link EventColumns#INSERT}), the session upsert's context columns,
 * the rollups' dimension columns and keys, their rebuild, the query filters and breakdowns are generated from it.
 *
 * <h2>Adding an enrichment field (say {@code os})</h2>
 * <ol>
 *   <li>Compute it: a component of {@link Event.Enrichment} set by the enricher ({@code enrich/}).</li>
 *   <li>Describe it: one constant here, {@code OS("os", "text", Kind.ENRICHMENT, dimension, sessionContext)}, placed
 *       before {@link #IS_BOT}, and its arm in {@link #read}.</li>
 *   <li>Store it: a migration adding {@code events.os text}; if it is a rollup dimension, {@code os text NOT NULL
 *       DEFAULT ''} to {@code rollup_hourly}, {@code rollup_daily}, {@code rollup_hourly_t} and
 *       {@code rollup_daily_t} and the column into their primary keys (the upserts' ON CONFLICT names it); if it is a
 *       session context column, {@code sessions.os text}.</li>
 *   <li>If it is filterable: its query parameter in {@code query/Filters} and its arm in {@code Agg.filterValue}.</li>
 * </ol>
 * {@code EventColumnsSchemaTest} fails until the migration matches the description: it checks every described column
 * against the live schema and prepares every generated statement against the real PostgreSQL.
 */
public enum EventColumn {
  PROJECT_ID("project_id", "text", Kind.CORE),
  ID("id", "uuid", Kind.CORE),
  TS("ts", "timestamptz", Kind.CORE),
  RECEIVED_AT("received_at", "timestamptz", Kind.CORE),
  TYPE("type", "text", Kind.CORE),
  CATEGORY("category", "text", Kind.CORE),
  ACTION("action", "text", Kind.CORE),
  LABEL("label", "text", Kind.CORE),
  VALUE("value", "float8", Kind.CORE),
  SESSION_ID("session_id", "text", Kind.CORE),
  /** Stored under the user an anonymous id is already linked to, in the same statement. */
  USER_ID("user_id", "text", Kind.CORE),
  ANONYMOUS_ID("anonymous_id", "text", Kind.CORE),
  PROPERTIES("properties", "jsonb", Kind.CORE),
  PAGE("page", "jsonb", Kind.CORE),
  USER_CONTEXT("user_context", "jsonb", Kind.CORE),
  FLAGS("flags", "int4", Kind.CORE),
  CONTEXT("context", "jsonb", Kind.CORE),
  ATTRIBUTION("attribution", "jsonb", Kind.CORE),
  COUNTRY("country", "text", Kind.ENRICHMENT, true, true),
  DEVICE_TYPE("device_type", "text", Kind.ENRICHMENT, true, true),
  BROWSER("browser", "text", Kind.ENRICHMENT, true, true),
  IP("ip", "text", Kind.ENRICHMENT),
  /** Computed in the insert from {@link #FLAGS}; not sent. */
  IS_BOT("is_bot", "bool", Kind.COMPUTED),
  CONTEXT_FROM("context_from", "uuid", Kind.CORE);

  /** How a column's value reaches the insert. */
  public enum Kind {
    /** Filled by the batch writer from the event's own fields (one explicit assignment per column). */
    CORE,
    /** A text of {@link Event.Enrichment}, read by {@link #read}: the batch writer fills these in a loop. */
    ENRICHMENT,
    /** Computed by the insert from the other columns. */
    COMPUTED
  }

  /** The column's name in {@code events} (and in every derived table that carries it). */
  public final String column;
  /** Its type, as {@code information_schema.columns.udt_name} spells it. */
  public final String sqlType;
  public final Kind kind;
  /** Whether the usage rollups carry it as a dimension (empty text for none, part of their key). */
  public final boolean rollupDimension;
  /** Whether a session carries it, as its earliest event with a client context had it. */
  public final boolean sessionContext;

  EventColumn(String column, String sqlType, Kind kind) {
    this(column, sqlType, kind, false, false);
  }

  EventColumn(String column, String sqlType, Kind kind, boolean rollupDimension, boolean sessionContext) {
    this.column = column;
    this.sqlType = sqlType;
    this.kind = kind;
    this.rollupDimension = rollupDimension;
    this.sessionContext = sessionContext;
  }

  /** The type the column travels as in the insert's arrays: JSON as text (it is cast where stored). */
  public String paramType() {
    return sqlType.equals("jsonb") ? "text" : sqlType;
  }

  /**
   * The value of an {@link Kind#ENRICHMENT} column (null: none). A switch, not a stored function: it runs per event
   * and column on the write path.
   */
  public String read(Event.Enrichment en) {
    return switch (this) {
      case COUNTRY -> en.country();
      case DEVICE_TYPE -> en.deviceType();
      case BROWSER -> en.browser();
      case IP -> en.ip();
      default -> throw new IllegalStateException(column + " is not an enrichment column");
    };
  }
}
