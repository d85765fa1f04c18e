package io.tally.realtime;

import java.time.LocalDate;

/** Redis key layout, shared by the writer side and the query side. */
public final class RedisKeys {
  private RedisKeys() {
  }

  /** Hash type → count of events received in one minute (epoch minute). */
  public static String minute(String project, long epochMinute) {
    return "tally:" + project + ":m:" + epochMinute;
  }

  /** Hash type → count of all events of one user (plus the field {@code _all}). */
  public static String user(String project, String actor) {
    return "tally:" + project + ":u:" + actor;
  }

  /** HyperLogLog of users active on one UTC day. */
  public static String uniqueUsers(String project, LocalDate day) {
    return "tally:" + project + ":uu:" + day;
  }
}
