package io.tally.dashboard;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns a query answer into one CSV table (RFC 4180, CRLF line ends). An answer holding a list of rows (points,
 * rows, cohorts, steps, sessions, ...) gives one line per row; a single object (usage, a person's analytics) gives
 * {@code field,value} lines. Nested objects become dotted columns, lists of plain values indexed columns
 * ({@code retention.0}, {@code retention.1}, ...), lists of objects a JSON cell.
 */
final class CsvTable {
  private CsvTable() {
  }

  static String of(JsonObject answer, String rowsField) {
    Object rows = rowsField == null ? null : answer.getValue(rowsField);
    List<Map<String, Object>> lines = new ArrayList<>();
    Set<String> columns = new LinkedHashSet<>();
    if (rows instanceof JsonArray arr) {
      for (Object row : arr) {
        Map<String, Object> flat = new LinkedHashMap<>();
        if (row instanceof JsonObject o) {
          flatten("", o, flat);
        } else {
          flat.put("value", row);
        }
        columns.addAll(flat.keySet());
        lines.add(flat);
      }
    } else {
      Map<String, Object> flat = new LinkedHashMap<>();
      flatten("", answer, flat);
      columns.add("field");
      columns.add("value");
      flat.forEach((k, v) -> {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("field", k);
        line.put("value", v);
        lines.add(line);
      });
    }
    StringBuilder sb = new StringBuilder();
    appendLine(sb, new ArrayList<>(columns));
    for (Map<String, Object> line : lines) {
      List<Object> cells = new ArrayList<>(columns.size());
      for (String c : columns) {
        cells.add(line.get(c));
      }
      appendLine(sb, cells);
    }
    return sb.toString();
  }

  private static void flatten(String prefix, JsonObject o, Map<String, Object> out) {
    for (Map.Entry<String, Object> e : o) {
      String key = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
      Object v = e.getValue();
      if (v instanceof JsonObject child) {
        if (child.isEmpty()) {
          out.put(key, "");
        } else {
          flatten(key, child, out);
        }
      } else if (v instanceof JsonArray arr) {
        boolean plain = arr.stream().noneMatch(x -> x instanceof JsonObject || x instanceof JsonArray);
        if (plain && !arr.isEmpty()) {
          for (int i = 0; i < arr.size(); i++) {
            out.put(key + "." + i, arr.getValue(i));
          }
        } else {
          out.put(key, arr.isEmpty() ? "" : arr.encode());
        }
      } else {
        out.put(key, v);
      }
    }
  }

  private static void appendLine(StringBuilder sb, List<?> cells) {
    for (int i = 0; i < cells.size(); i++) {
      if (i > 0) {
        sb.append(',');
      }
      sb.append(cell(cells.get(i)));
    }
    sb.append("\r\n");
  }

  static String cell(Object v) {
    if (v == null) {
      return "";
    }
    String s;
    if (v instanceof Number || v instanceof Boolean) {
      s = v.toString();
    } else {
      s = v.toString();
      // a text cell a spreadsheet would run as a formula is kept as text
      if (!s.isEmpty() && "=+-@\t\r".indexOf(s.charAt(0)) >= 0) {
        s = "'" + s;
      }
    }
    if (s.indexOf(',') >= 0 || s.indexOf('"') >= 0 || s.indexOf('\n') >= 0 || s.indexOf('\r') >= 0) {
      return '"' + s.replace("\"", "\"\"") + '"';
    }
    return s;
  }
}
