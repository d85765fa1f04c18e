package io.tally.compat;

/**
 * The SDK routes' own limits: Segment's documented ones (32 KB an event, 500 KB a request, both decompressed), which
 * RudderStack and PostHog stay under too (the wire reference in docs/sdk-compat.md). Fixed rather than settings: a
 * larger limit would accept what Segment itself refuses, a smaller one would drop what the SDKs send. Tally's own
 * {@code ingest.*} limits still apply on top when they are smaller.
 */
final class SdkLimits {
  /** One event, as its compact JSON. */
  static final int MAX_EVENT_BYTES = 32 * 1024;
  /** One request, after gzip is undone (and before: a compressed body is never larger than this either). */
  static final int MAX_BATCH_BYTES = 500 * 1024;
  /** Longest error text kept from an LLM call ({@code $ai_error}). */
  static final int MAX_ERROR_TEXT = 1024;

  private SdkLimits() {
  }
}
