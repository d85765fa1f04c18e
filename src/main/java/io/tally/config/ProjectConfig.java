package io.tally.config;

import java.time.ZoneId;
import java.util.List;

/**
 * One project: its keys, its reporting time zone and its data settings.
 *
 * @param strictEventTypes whether event types outside the catalogue are refused (default: accepted as custom)
 * @param ipMode           what is kept of the client IP: ANONYMIZE (default: last octet / 80 bits zeroed), FULL, or
 *                         NONE (no IP stored and no geo lookup)
 */
public record ProjectConfig(String id, List<String> writeKeys, List<String> readKeys, ZoneId timezone,
                            boolean strictEventTypes, IpMode ipMode) {
  public enum IpMode { ANONYMIZE, FULL, NONE }

  public ProjectConfig {
    writeKeys = List.copyOf(writeKeys);
    readKeys = List.copyOf(readKeys);
  }

  public ProjectConfig(String id, List<String> writeKeys, List<String> readKeys, ZoneId timezone) {
    this(id, writeKeys, readKeys, timezone, false, IpMode.ANONYMIZE);
  }
}
