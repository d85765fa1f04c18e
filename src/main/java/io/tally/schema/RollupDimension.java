package io.tally.schema;

import io.tally.event.Event;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A dimension of the usage rollups ({@code rollup_hourly}, {@code rollup_daily} and their type-only {@code _t}
 * twins, which keep '' in it): a key column, never null ('' for none). The event type and the provider and model
 * properties always are; the {@link EventColumn}s marked {@link EventColumn#rollupDimension} follow, in their order.
 *
 * @param column  the rollups' column (the event column's name for an event column)
 * @param apiName how the query routes name it as a breakdown dimension or a filter
 * @param raw     the value over a raw {@code events} row, {@code %s} standing for the row's alias and a dot; null when
 *                the event has none
 * @param source  where the in-memory aggregation reads it from an event
 * @param event   the event column it comes from, for {@link Source#ENRICHMENT}
 */
public record RollupDimension(String column, String apiName, String raw, Source source, EventColumn event) {

  /** Where the value comes from. */
  public enum Source { TYPE, PROVIDER, MODEL, ENRICHMENT }

  /** Every dimension, in the rollups' key order. */
  public static final List<RollupDimension> ALL = all();

  /** The rollups' dimension columns, comma-separated ("type, provider, model, …"). */
  public static final String COLUMNS = ALL.stream().map(RollupDimension::column).collect(Collectors.joining(", "));

  private static List<RollupDimension> all() {
    List<RollupDimension> l = new ArrayList<>();
    l.add(new RollupDimension("type", "event", "%stype", Source.TYPE, EventColumn.TYPE));
    l.add(new RollupDimension("provider", "provider", "tally_str(%sproperties, 'provider')", Source.PROVIDER, null));
    l.add(new RollupDimension("model", "model", "tally_str(%sproperties, 'model')", Source.MODEL, null));
    for (EventColumn c : EventColumn.values()) {
      if (c.rollupDimension) {
        // the API's names are the columns' but for device_type, named "device" before the column existed
        l.add(new RollupDimension(c.column, c == EventColumn.DEVICE_TYPE ? "device" : c.column, "%s" + c.column,
            Source.ENRICHMENT, c));
      }
    }
    return List.copyOf(l);
  }

  /** The dimension the query routes call {@code apiName}, or null. */
  public static RollupDimension byApiName(String apiName) {
    for (RollupDimension d : ALL) {
      if (d.apiName.equals(apiName)) {
        return d;
      }
    }
    return null;
  }

  /** Its value over the raw events row aliased {@code alias} ("" for none), null when the event has none. */
  public String rawOf(String alias) {
    return raw.formatted(alias.isEmpty() ? "" : alias + ".");
  }

  /** Its rollup value over the raw events row aliased {@code alias}: '' for none (the type is never null). */
  public String keyOf(String alias) {
    return source == Source.TYPE ? rawOf(alias) : "coalesce(" + rawOf(alias) + ", '')";
  }

  /** Its value in the rollups: null for '' (what a breakdown shows for "none"), the type as it is. */
  public String rollupValue() {
    return source == Source.TYPE ? column : "nullif(" + column + ", '')";
  }

  /** Its key value of one event, '' for none (as {@link #keyOf} computes it in SQL). */
  public String of(Event e, Event.Enrichment en, Event.Measures m) {
    String v = switch (source) {
      case TYPE -> e.type();
      case PROVIDER -> m.provider();
      case MODEL -> m.model();
      case ENRICHMENT -> event.read(en);
    };
    return v == null ? "" : v;
  }

  /** {@code prefix} before each dimension column, comma-separated ("h.type, h.provider, …"). */
  public static String columns(String prefix) {
    return ALL.stream().map(d -> prefix + d.column).collect(Collectors.joining(", "));
  }

  /** The type, then '' for every other dimension, named (what a type-only rollup row holds). */
  public static String typeOnly(String typeExpr) {
    return ALL.stream().map(d -> d.source == Source.TYPE ? typeExpr : "'' AS " + d.column)
        .collect(Collectors.joining(", "));
  }
}
