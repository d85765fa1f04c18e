package io.tally.store;

import io.tally.buffer.PendingEvent;
import io.tally.event.Event;
import io.tally.schema.EventColumn;
import io.tally.schema.EventColumns;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Verifies that the batch writer's explicit per-event filling puts each value in the parameter the generated insert
 * reads as that column: the description and the filling cannot drift apart unnoticed.
 */
class EventBatchSqlTest {

  /** Verifies that every sent column's parameter holds that column's value, of the described type. */
  @Test
  void verifiesThatEveryParameterHoldsItsDescribedColumn() {
    // GIVEN an event whose every field holds a value of its own
    UUID id = UUID.randomUUID();
    Instant ts = Instant.parse("2024-05-01T10:00:00Z");
    Instant received = Instant.parse("2024-05-01T10:00:01Z");
    Event e = new Event("p-cols", id, ts, received, "t-type", "t-category", "t-action", "t-label", 4.5, "t-session",
        "t-user", "t-anon", "{\"p\":1}", "{\"path\":\"/x\"}", "{\"u\":1}", 9, Event.ClientInfo.EMPTY,
        new Event.Enrichment("{\"c\":1}", "{\"a\":1}", "t-country", "t-device", "t-browser", "t-ip"),
        Event.Measures.NONE);
    Map<EventColumn, Object> expected = new LinkedHashMap<>();
    expected.put(EventColumn.PROJECT_ID, "p-cols");
    expected.put(EventColumn.ID, id);
    expected.put(EventColumn.TS, OffsetDateTime.ofInstant(ts, ZoneOffset.UTC));
    expected.put(EventColumn.RECEIVED_AT, OffsetDateTime.ofInstant(received, ZoneOffset.UTC));
    expected.put(EventColumn.TYPE, "t-type");
    expected.put(EventColumn.CATEGORY, "t-category");
    expected.put(EventColumn.ACTION, "t-action");
    expected.put(EventColumn.LABEL, "t-label");
    expected.put(EventColumn.VALUE, 4.5);
    expected.put(EventColumn.SESSION_ID, "t-session");
    expected.put(EventColumn.USER_ID, "t-user");
    expected.put(EventColumn.ANONYMOUS_ID, "t-anon");
    expected.put(EventColumn.PROPERTIES, "{\"p\":1}");
    expected.put(EventColumn.PAGE, "{\"path\":\"/x\"}");
    expected.put(EventColumn.USER_CONTEXT, "{\"u\":1}");
    expected.put(EventColumn.FLAGS, 9);
    expected.put(EventColumn.CONTEXT, "{\"c\":1}");
    expected.put(EventColumn.ATTRIBUTION, "{\"a\":1}");
    expected.put(EventColumn.COUNTRY, "t-country");
    expected.put(EventColumn.DEVICE_TYPE, "t-device");
    expected.put(EventColumn.BROWSER, "t-browser");
    expected.put(EventColumn.IP, "t-ip");
    expected.put(EventColumn.CONTEXT_FROM, null);
    // WHEN its batch is prepared
    Tuple t = EventBatchSql.prepare(List.of(new PendingEvent(e, null, 0)), Map.of()).tuple();
    // THEN there is one parameter per sent column, each holding that column's value in an array of its type
    assertEquals(EventColumns.SENT.size(), t.size());
    for (int k = 0; k < EventColumns.SENT.size(); k++) {
      EventColumn c = EventColumns.SENT.get(k);
      Object[] array = (Object[]) t.getValue(k);
      assertEquals(expected.get(c), array[0], c.column + " ($" + (k + 1) + ")");
      assertEquals(javaType(c.paramType()), array.getClass().getComponentType(), c.column + "'s array type");
    }
    assertEquals(expected.keySet().stream().toList(), EventColumns.SENT, "every sent column is checked here");
  }

  private static Class<?> javaType(String sqlType) {
    return switch (sqlType) {
      case "text" -> String.class;
      case "uuid" -> UUID.class;
      case "timestamptz" -> OffsetDateTime.class;
      case "float8" -> Double.class;
      case "int4" -> Integer.class;
      default -> throw new AssertionError("no Java type for " + sqlType);
    };
  }
}
