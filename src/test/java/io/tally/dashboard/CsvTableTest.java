package io.tally.dashboard;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Verifies the CSV form of query answers: rows, nested fields, plain lists, quoting and formula-looking text. */
class CsvTableTest {
  @Test
  void rowsBecomeLinesWithDottedAndIndexedColumns() {
    JsonObject answer = new JsonObject().put("cohorts", new JsonArray()
        .add(new JsonObject().put("start", "2026-11-01").put("size", 3).put("retention", new JsonArray().add(1.0).add(0.5)))
        .add(new JsonObject().put("start", "2026-11-02").put("size", 0).put("retention", new JsonArray().add(0.0)
            .addNull())));
    assertEquals("start,size,retention.0,retention.1\r\n2026-11-01,3,1.0,0.5\r\n2026-11-02,0,0.0,\r\n",
        CsvTable.of(answer, "cohorts"));
  }

  @Test
  void anObjectBecomesFieldValueLines() {
    JsonObject usage = new JsonObject().put("users", new JsonObject().put("active", 4).put("new", 1))
        .put("revenue", new JsonObject().put("growth", (Object) null));
    assertEquals("field,value\r\nusers.active,4\r\nusers.new,1\r\nrevenue.growth,\r\n", CsvTable.of(usage, null));
  }

  @Test
  void textIsQuotedAndFormulasDefused() {
    JsonObject answer = new JsonObject().put("rows", new JsonArray()
        .add(new JsonObject().put("key", "a,\"b\"").put("value", -3))
        .add(new JsonObject().put("key", "=HYPERLINK(\"x\")").put("value", 1)));
    assertEquals("key,value\r\n\"a,\"\"b\"\"\",-3\r\n\"'=HYPERLINK(\"\"x\"\")\",1\r\n", CsvTable.of(answer, "rows"));
  }
}
