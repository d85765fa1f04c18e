package io.tally.ingest;

/**
 * The persons whose events are dropped on arrival (deleted with {@code suppress}). Ingestion asks; privacy, which
 * keeps the list, answers — so ingestion knows nothing of privacy's storage.
 */
@FunctionalInterface
public interface SuppressionList {
  /** Nobody is suppressed. */
  SuppressionList NONE = (project, userId, anonymousId) -> false;

  /** Whether an event of this project by this user id or anonymous id is to be dropped; called once per event. */
  boolean suppressed(String project, String userId, String anonymousId);
}
