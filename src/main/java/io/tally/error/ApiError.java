package io.tally.error;

import io.vertx.core.json.JsonObject;

/**
 * An error answered to a client: HTTP status, a stable code, a human message and, when it applies, the field or
 * configuration limit at fault. Carries no stack trace: it is an answer, not a bug.
 */
public final class ApiError extends RuntimeException {
  private final int status;
  private final String code;
  private final String field;
  private final Long limit;
  private final Long retryAfterMs;

  public ApiError(int status, String code, String message, String field, Long limit, Long retryAfterMs) {
    super(message, null, false, false);
    this.status = status;
    this.code = code;
    this.field = field;
    this.limit = limit;
    this.retryAfterMs = retryAfterMs;
  }

  public static ApiError badRequest(String field, String message) {
    return new ApiError(400, "invalid_request", message, field, null, null);
  }

  /** 400 for a value out of bounds: {@code limit} is the bound it broke, or null when none applies. */
  public static ApiError badRequest(String field, String message, Long limit) {
    return new ApiError(400, "invalid_request", message, field, limit, null);
  }

  /** 500 for a bug: says nothing of it (the stack is logged where it is caught). */
  public static ApiError internal() {
    return new ApiError(500, "internal", "internal error (logged)", null, null, null);
  }

  public static ApiError malformedJson(String message) {
    return new ApiError(400, "malformed_json", message, "body", null, null);
  }

  /** 413: {@code limitName} is the configuration key of the limit, e.g. {@code ingest.maxBodyBytes}. */
  public static ApiError tooLarge(String limitName, long limit, String message) {
    return new ApiError(413, "too_large", message, limitName, limit, null);
  }

  public static ApiError unauthorized(String message) {
    return new ApiError(401, "unauthorized", message, "Authorization", null, null);
  }

  public static ApiError forbidden(String message) {
    return new ApiError(403, "forbidden", message, "Authorization", null, null);
  }

  public static ApiError notFound(String message) {
    return new ApiError(404, "not_found", message, null, null, null);
  }

  /** 429: a per-key or per-client limit ({@code field} names its setting, {@code limit} its value); retry later. */
  public static ApiError tooManyRequests(String code, String message, String field, long limit, long retryAfterMs) {
    return new ApiError(429, code, message, field, limit, retryAfterMs);
  }

  public static ApiError unavailable(String code, String message, long retryAfterMs) {
    return new ApiError(503, code, message, null, null, retryAfterMs);
  }

  public int status() {
    return status;
  }

  public String code() {
    return code;
  }

  public String field() {
    return field;
  }

  public Long limit() {
    return limit;
  }

  public Long retryAfterMs() {
    return retryAfterMs;
  }

  public JsonObject toJson() {
    JsonObject o = new JsonObject().put("error", code).put("message", getMessage());
    if (field != null) {
      o.put("field", field);
    }
    if (limit != null) {
      o.put("limit", limit);
    }
    if (retryAfterMs != null) {
      o.put("retryAfterMs", retryAfterMs);
    }
    return o;
  }
}
