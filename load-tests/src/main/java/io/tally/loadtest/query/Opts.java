package io.tally.loadtest.query;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.Map;

/** {@code --key=value} options, and the dataset description kept next to the data ({@code dataset.json}). */
final class Opts {
  final Map<String, String> map = new LinkedHashMap<>();

  Opts(String[] args) {
    for (String arg : args) {
      if (!arg.startsWith("--")) {
        throw new IllegalArgumentException("options look like --key=value (got '" + arg + "')");
      }
      String a = arg.substring(2);
      int eq = a.indexOf('=');
      map.put(eq < 0 ? a : a.substring(0, eq), eq < 0 ? "true" : a.substring(eq + 1));
    }
  }

  boolean has(String k) {
    return map.containsKey(k);
  }

  String str(String k, String def) {
    return map.getOrDefault(k, def);
  }

  long num(String k, long def) {
    String v = map.get(k);
    if (v == null) {
      return def;
    }
    v = v.replace("_", "").replace(",", "");
    long mult = 1;
    if (v.endsWith("k") || v.endsWith("K")) {
      mult = 1_000;
      v = v.substring(0, v.length() - 1);
    } else if (v.endsWith("m") || v.endsWith("M")) {
      mult = 1_000_000;
      v = v.substring(0, v.length() - 1);
    }
    return Math.round(Double.parseDouble(v) * mult);
  }

  boolean bool(String k, boolean def) {
    String v = map.get(k);
    return v == null ? def : !v.equals("false");
  }

  Path dataDir() {
    return Path.of(str("data-dir", "load-tests/target/qbench-data")).toAbsolutePath().normalize();
  }

  /** The dataset description file ({@code --meta}, default {@code <data-dir>/dataset.json}). */
  Path metaFile() {
    return has("meta") ? Path.of(str("meta", "")) : dataDir().resolve("dataset.json");
  }

  static JsonObject readMeta(Path file) throws IOException {
    return Files.exists(file) ? new JsonObject(Files.readString(file)) : null;
  }

  static void writeMeta(Path file, JsonObject meta) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, meta.encodePrettily() + "\n");
    Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  /** The dataset described by {@code meta}, or by the options when there is none yet. */
  Dataset dataset(JsonObject meta) {
    if (meta != null) {
      return new Dataset(meta.getLong("seed"), meta.getInteger("users"), meta.getInteger("days"),
          LocalDate.parse(meta.getString("endDay")));
    }
    LocalDate end = has("end-day") ? LocalDate.parse(str("end-day", "")) : LocalDate.now(ZoneOffset.UTC);
    return new Dataset(num("seed", 42), (int) num("users", 100_000), (int) num("days", 30), end);
  }

  static JsonObject describe(Dataset d, long loaded) {
    return new JsonObject().put("seed", d.seed).put("users", d.users).put("days", d.days)
        .put("firstDay", d.firstDay().toString()).put("endDay", d.endDay.toString()).put("loaded", loaded);
  }

  static long dirBytes(Path dir) {
    if (!Files.exists(dir)) {
      return 0;
    }
    try (var s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile).mapToLong(p -> {
        try {
          return Files.size(p);
        } catch (IOException e) {
          return 0;
        }
      }).sum();
    } catch (IOException | java.io.UncheckedIOException e) {
      return -1;
    }
  }

  static String human(long bytes) {
    if (bytes < 0) {
      return "?";
    }
    return bytes >= 1L << 30 ? String.format("%.2f GiB", bytes / (double) (1L << 30))
        : String.format("%.0f MiB", bytes / (double) (1L << 20));
  }
}
