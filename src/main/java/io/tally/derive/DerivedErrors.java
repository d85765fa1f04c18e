package io.tally.derive;

import io.vertx.pgclient.PgException;

import java.util.Set;

/**
 * Which failures of a derived-tables statement a retry can fix (the connection, the server's resources or state) and
 * which the rows themselves cause. A failure of the second kind is never retried as is: retried forever, one row would
 * stop the derived tables of every project while the events of the batches behind it pile up in memory.
 */
final class DerivedErrors {
  /** SQLSTATE classes of failures a retry can fix. */
  private static final Set<String> TRANSIENT = Set.of(
      "08", // connection exception
      "40", // transaction rollback (serialization failure, deadlock)
      "53", // insufficient resources (disk full, out of memory, too many connections)
      "55", // object not in prerequisite state (lock not available)
      "57", // operator intervention (shutdown, cancel)
      "58", // system error (I/O)
      "XX"); // internal error

  private DerivedErrors() {
  }

  /** Whether the statement failed because of what it wrote: isolate the row rather than retry. */
  static boolean causedByRows(Throwable t) {
    return t instanceof PgException pg && pg.getSqlState() != null && pg.getSqlState().length() == 5
        && !TRANSIENT.contains(pg.getSqlState().substring(0, 2));
  }
}
