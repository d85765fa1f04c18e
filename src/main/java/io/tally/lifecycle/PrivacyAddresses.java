package io.tally.lifecycle;

/** Event-bus addresses of the privacy requests, answered by the lifecycle verticle. */
public final class PrivacyAddresses {
  /** Admin: delete everything about one person {projectId, userId, suppress} → receipt. */
  public static final String PRIVACY_DELETE = "privacy.delete";
  /** Admin: everything about one person {projectId, userId} → export. */
  public static final String PRIVACY_EXPORT = "privacy.export";

  private PrivacyAddresses() {
  }
}
