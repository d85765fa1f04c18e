package io.tally.config;

import java.time.ZoneId;
import java.util.List;

/** One project: its keys and its reporting time zone. */
public record ProjectConfig(String id, List<String> writeKeys, List<String> readKeys, ZoneId timezone) {
  public ProjectConfig {
    writeKeys = List.copyOf(writeKeys);
    readKeys = List.copyOf(readKeys);
  }
}
