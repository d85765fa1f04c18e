package io.tally.event;

import java.time.Instant;

/**
 * Every bound an ingested event must keep, in one place. Lengths are in UTF-16 code units ({@code String.length()},
 * JavaScript's {@code .length}); a numeric id counts its digits. An event out of bounds is rejected naming its field
 * and the limit; docs/ingestion.md's "Limits and errors" table lists the same figures.
 */
public final class EventBounds {
  /** Ids ({@code id}, {@code sessionId}, {@code userId}, {@code anonymousId}, {@code previousId}) are keys of the
   * derived tables' btree indexes, whose rows must stay under PostgreSQL's 2,704 bytes; 128 is ample for any UUID,
   * ULID or e-mail-like id. */
  public static final int MAX_ID = 128;
  /** {@code type}, {@code type.category}, {@code category}: rollup keys too, and names a person reads. */
  public static final int MAX_NAME = 128;
  /** {@code action}, {@code label}: free text shown in lists, not indexed. */
  public static final int MAX_TEXT = 1024;
  /** {@code properties.provider}, {@code .model}, {@code .feature} (when strings): keys of the rollup tables. */
  public static final int MAX_MEASURE_KEY = 128;
  /** {@code page.url}, {@code page.referrer}, {@code page.search}: browsers handle URLs far longer, but analytics
   * needs no more than 4 KiB of one. */
  public static final int MAX_URL = 4096;
  /** {@code page.path}: a key of the per-page rollup. */
  public static final int MAX_PATH = 2048;
  /** {@code page.title}, {@code page.hash}: shown, never indexed. */
  public static final int MAX_PAGE_TEXT = 1024;
  /** Any other string inside {@code properties}, {@code page} or {@code userContext}: room for a prompt excerpt or
   * an error message, while one event stays well inside {@code ingest.maxEventBytes}. */
  public static final int MAX_STRING = 8192;
  /** Any key (property name) inside those objects: property names become filters and group-by keys. */
  public static final int MAX_KEY = 128;
  /** Levels of objects and arrays in {@code properties}, {@code page}, {@code userContext} (the object itself is
   * level 1): real payloads nest a few levels; jsonb operators and the dashboard walk them recursively. */
  public static final int MAX_DEPTH = 16;
  /** Strings of the client environment ({@code context}, {@code device}, {@code browser}): user agents and the like. */
  public static final int MAX_CLIENT_TEXT = 1024;
  /** {@code context.ip}: the longest textual IPv6 address with a zone is well under 64. */
  public static final int MAX_IP = 64;

  /** Nesting of the whole body, enforced inside Jackson: a batch (2 levels) of events (1) holding 16 levels. */
  public static final int MAX_BODY_DEPTH = 64;
  /** Characters of one JSON number, enforced inside Jackson (big numbers parse in quadratic time): above a 128-digit
   * numeric id, far above any number in range. */
  public static final int MAX_NUMBER_CHARS = 256;

  /** Largest magnitude of any number ({@code value}, anything in the sliced objects): PostgreSQL sums them as double
   * precision, and a thousand events of 1e18 per second still sum far from overflow. */
  public static final double MAX_MAGNITUDE = 1e18;
  /** Smallest magnitude of a non-zero number: {@code ::double precision} refuses what underflows to zero, and
   * nothing measured needs more than 18 decimals. */
  public static final double MIN_MAGNITUDE = 1e-18;
  /** {@code properties.tokens}: ten million tokens is beyond any single model call. */
  public static final long MAX_TOKENS = 10_000_000;
  /** {@code properties.cost}: one call or purchase costing more than a million is a unit error. */
  public static final long MAX_COST = 1_000_000;
  /** {@code properties.amount}: payments and refunds (negative) up to a billion. */
  public static final long MAX_AMOUNT = 1_000_000_000;
  /** {@code properties.responseTimeMs}, {@code .durationMs}: a day; anything longer is a clock error. */
  public static final long MAX_DURATION_MS = 86_400_000;

  /** {@code timestamp} and {@code sentAt} as sent: keeps the skew arithmetic far from overflow. */
  public static final Instant MIN_SENT_TIME = Instant.parse("1970-01-01T00:00:00Z");
  /** Exclusive: the first instant after 9999-12-31 (ISO-8601 without a sign stops there). */
  public static final Instant END_SENT_TIME = Instant.parse("+10000-01-01T00:00:00Z");
  /** The event time after {@code sentAt} correction: anything older is a broken client clock (epoch 0, a zeroed
   * date), never an event of a product analysed today. */
  public static final Instant MIN_EVENT_TIME = Instant.parse("2000-01-01T00:00:00Z");

  private EventBounds() {
  }
}
