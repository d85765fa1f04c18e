package io.tally.event;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.UUID;

/**
 * Collects the fields of one event as the parser meets them. The first problem found is remembered (with the
 * field it concerns) and the rest of the event is still consumed, so one bad event never derails a batch.
 */
final class EventFields {
  static final int MAX_ID = 128;
  static final int MAX_NAME = 128;
  static final int MAX_TEXT = 1024;
  /** PostgreSQL timestamptz covers far more, but anything outside this range is a client bug. */
  private static final Instant MIN_TS = Instant.parse("1970-01-01T00:00:00Z");
  private static final Instant MAX_TS = Instant.parse("9999-12-31T23:59:59Z");

  private final byte[] buf;
  private String id;
  private String sessionId;
  private String userId;
  private String anonymousId;
  private Instant timestamp;
  private Instant sentAt;
  private String type;
  private String typeCategory;
  private String category;
  private String action;
  private String label;
  private Double value;
  private String properties;
  private String page;
  private String userContext;
  private String ctxUserId;
  private String ctxSessionId;
  private String ctxAnonymousId;
  private String errorField;
  private String error;
  private final java.util.Map<String, String> propertyTypes = new java.util.HashMap<>(8);
  private String previousId;
  private String mProvider;
  private String mModel;
  private double mTokens;
  private double mCost;
  private double mAmount;
  private double mResponseTime;
  private double mDuration;
  private int mPresent;
  private String userAgent;
  private String ip;
  private String screenResolution;
  private String viewport;
  private String language;
  private String timezone;
  private Boolean cookiesEnabled;
  private Boolean doNotTrack;
  private Boolean javascriptEnabled;
  private String pageUrl;
  private String pagePath;
  private String pageSearch;
  private String referrer;
  private String userProperties;

  EventFields(byte[] buf) {
    this.buf = buf;
  }

  String error() {
    return error;
  }

  String errorField() {
    return errorField;
  }

  private void fail(String field, String message) {
    if (error == null) {
      errorField = field;
      error = message;
    }
  }

  /** Consumes the value the parser is positioned on. */
  void field(String name, JsonParser p) throws IOException {
    switch (name) {
      case "id" -> id = idString(p, "id");
      case "sessionId" -> sessionId = idString(p, "sessionId");
      case "userId" -> userId = idString(p, "userId");
      case "anonymousId" -> anonymousId = idString(p, "anonymousId");
      case "timestamp" -> timestamp = time(p, "timestamp");
      case "sentAt" -> sentAt = time(p, "sentAt");
      case "type" -> type(p);
      case "category" -> category(p);
      case "action" -> action = text(p, "action", MAX_TEXT);
      case "label" -> label = text(p, "label", MAX_TEXT);
      case "value" -> value(p);
      case "properties" -> properties(p);
      case "page" -> page(p);
      case "userContext" -> userContext(p);
      case "context", "device", "browser" -> clientObject(p, name);
      case "doNotTrack" -> {
        // top-level doNotTrack (beside context.doNotTrack): true asks not to be tracked
        JsonToken t = p.currentToken();
        if (t == JsonToken.VALUE_TRUE || t == JsonToken.VALUE_FALSE) {
          doNotTrack = t == JsonToken.VALUE_TRUE;
        } else {
          p.skipChildren();
        }
      }
      default -> p.skipChildren();
    }
  }

  private String idString(JsonParser p, String field) throws IOException {
    JsonToken t = p.currentToken();
    if (t == JsonToken.VALUE_NULL) {
      return null;
    }
    if (t == JsonToken.VALUE_NUMBER_INT) {
      return p.getText();
    }
    if (t != JsonToken.VALUE_STRING) {
      p.skipChildren();
      fail(field, field + " must be a string");
      return null;
    }
    String s = p.getText();
    if (s.isEmpty()) {
      return null;
    }
    if (s.length() > MAX_ID) {
      fail(field, field + " is longer than " + MAX_ID + " characters");
      return null;
    }
    return clean(s, field);
  }

  private String text(JsonParser p, String field, int max) throws IOException {
    JsonToken t = p.currentToken();
    if (t == JsonToken.VALUE_NULL) {
      return null;
    }
    if (t != JsonToken.VALUE_STRING) {
      p.skipChildren();
      fail(field, field + " must be a string");
      return null;
    }
    String s = p.getText();
    if (s.length() > max) {
      fail(field, field + " is longer than " + max + " characters");
      return null;
    }
    return clean(s, field);
  }

  private String clean(String s, String field) {
    if (s.indexOf('\0') >= 0) {
      fail(field, field + " contains a NUL character, which cannot be stored");
      return null;
    }
    return s;
  }

  private Instant time(JsonParser p, String field) throws IOException {
    JsonToken t = p.currentToken();
    Instant at = null;
    if (t == JsonToken.VALUE_NULL) {
      return null;
    } else if (t == JsonToken.VALUE_NUMBER_INT) {
      at = Instant.ofEpochMilli(p.getLongValue());
    } else if (t == JsonToken.VALUE_STRING) {
      String s = p.getText();
      try {
        at = Instant.parse(s);
      } catch (DateTimeParseException e) {
        try {
          at = OffsetDateTime.parse(s).toInstant();
        } catch (DateTimeParseException e2) {
          fail(field, field + " must be an ISO-8601 date-time with a zone (e.g. 2026-11-24T10:00:00.000Z), got '"
              + (s.length() > 40 ? s.substring(0, 40) + "…" : s) + "'");
          return null;
        }
      }
    } else {
      p.skipChildren();
      fail(field, field + " must be an ISO-8601 string or epoch milliseconds");
      return null;
    }
    if (at.isBefore(MIN_TS) || at.isAfter(MAX_TS)) {
      fail(field, field + " is outside 1970-01-01..9999-12-31");
      return null;
    }
    return at;
  }

  private void type(JsonParser p) throws IOException {
    JsonToken t = p.currentToken();
    if (t == JsonToken.VALUE_STRING) {
      type = text(p, "type", MAX_NAME);
    } else if (t == JsonToken.START_OBJECT) {
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken v = p.nextToken();
        if (name.equals("name")) {
          type = text(p, "type.name", MAX_NAME);
        } else if (name.equals("category")) {
          if (v == JsonToken.START_OBJECT) {
            typeCategory = idOf(p, "type.category");
          } else {
            typeCategory = text(p, "type.category", MAX_NAME);
          }
        } else {
          p.skipChildren();
        }
      }
    } else if (t != JsonToken.VALUE_NULL) {
      p.skipChildren();
      fail("type", "type must be a string or an object with a name");
    }
  }

  private void category(JsonParser p) throws IOException {
    JsonToken t = p.currentToken();
    if (t == JsonToken.VALUE_STRING) {
      category = text(p, "category", MAX_NAME);
    } else if (t == JsonToken.START_OBJECT) {
      category = idOf(p, "category");
    } else if (t != JsonToken.VALUE_NULL) {
      p.skipChildren();
      fail("category", "category must be a string or an object with an id");
    }
  }

  /** Reads {"id": ...} out of an object, ignoring its other fields. */
  private String idOf(JsonParser p, String field) throws IOException {
    String out = null;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      p.nextToken();
      if (name.equals("id")) {
        out = text(p, field + ".id", MAX_NAME);
      } else {
        p.skipChildren();
      }
    }
    return out;
  }

  private void value(JsonParser p) throws IOException {
    JsonToken t = p.currentToken();
    if (t == JsonToken.VALUE_NUMBER_INT || t == JsonToken.VALUE_NUMBER_FLOAT) {
      double d = p.getDoubleValue();
      if (Double.isFinite(d)) {
        value = d;
      } else {
        fail("value", "value must be a finite number");
      }
    } else if (t != JsonToken.VALUE_NULL) {
      p.skipChildren();
      fail("value", "value must be a number");
    }
  }

  /** Slices properties and notes the JSON type of each top-level value, for the catalogue's schema check. */
  private void properties(JsonParser p) throws IOException {
    JsonToken t = p.currentToken();
    if (t == JsonToken.VALUE_NULL) {
      return;
    }
    if (t != JsonToken.START_OBJECT) {
      p.skipChildren();
      fail("properties", "properties must be an object");
      return;
    }
    int start = (int) p.currentTokenLocation().getByteOffset();
    JsonToken v;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      v = p.nextToken();
      String jsonType = switch (v) {
        case VALUE_STRING -> "string";
        case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "number";
        case VALUE_TRUE, VALUE_FALSE -> "boolean";
        case START_OBJECT -> "object";
        case START_ARRAY -> "array";
        default -> null;
      };
      if (jsonType != null) {
        propertyTypes.put(name, jsonType);
      }
      if (v == JsonToken.VALUE_STRING) {
        switch (name) {
          case "previousId" -> previousId = p.getText();
          case "provider" -> mProvider = p.getText();
          case "model" -> mModel = p.getText();
          default -> { }
        }
      } else if (v == JsonToken.VALUE_NUMBER_INT || v == JsonToken.VALUE_NUMBER_FLOAT) {
        switch (name) {
          case "tokens" -> { mTokens = p.getDoubleValue(); mPresent |= Event.Measures.TOKENS; }
          case "cost" -> { mCost = p.getDoubleValue(); mPresent |= Event.Measures.COST; }
          case "amount" -> { mAmount = p.getDoubleValue(); mPresent |= Event.Measures.AMOUNT; }
          case "responseTimeMs" -> { mResponseTime = p.getDoubleValue(); mPresent |= Event.Measures.RESPONSE_TIME; }
          case "durationMs" -> { mDuration = p.getDoubleValue(); mPresent |= Event.Measures.DURATION; }
          default -> { }
        }
      }
      p.skipChildren();
    }
    properties = slice(start, (int) p.currentLocation().getByteOffset(), "properties");
  }

  /** Slices page and keeps the fields sessions and attribution need. */
  private void page(JsonParser p) throws IOException {
    JsonToken t = p.currentToken();
    if (t == JsonToken.VALUE_NULL) {
      return;
    }
    if (t != JsonToken.START_OBJECT) {
      p.skipChildren();
      fail("page", "page must be an object");
      return;
    }
    int start = (int) p.currentTokenLocation().getByteOffset();
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken v = p.nextToken();
      if (v == JsonToken.VALUE_STRING) {
        switch (name) {
          case "url" -> pageUrl = p.getText();
          case "path" -> pagePath = p.getText();
          case "search" -> pageSearch = p.getText();
          case "referrer" -> referrer = p.getText();
          default -> { }
        }
      } else {
        p.skipChildren();
      }
    }
    page = slice(start, (int) p.currentLocation().getByteOffset(), "page");
  }

  /** Client-sent environment: {@code context}, or the seed's {@code device} / {@code browser} objects. */
  private void clientObject(JsonParser p, String field) throws IOException {
    if (p.currentToken() != JsonToken.START_OBJECT) {
      p.skipChildren();
      return;
    }
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken v = p.nextToken();
      if (v == JsonToken.VALUE_STRING) {
        String s = p.getText();
        if (s.length() > MAX_TEXT || s.indexOf('\0') >= 0) {
          fail(field + "." + name, field + "." + name + " must be at most " + MAX_TEXT + " characters without NUL");
          continue;
        }
        switch (name) {
          case "userAgent" -> userAgent = s;
          case "ip" -> ip = s;
          case "screenResolution" -> screenResolution = s;
          case "viewport" -> viewport = s;
          case "language" -> language = s;
          case "timezone" -> timezone = s;
          default -> { }
        }
      } else if (v == JsonToken.VALUE_TRUE || v == JsonToken.VALUE_FALSE) {
        boolean b = v == JsonToken.VALUE_TRUE;
        switch (name) {
          case "cookiesEnabled" -> cookiesEnabled = b;
          case "doNotTrack" -> doNotTrack = b;
          case "javascriptEnabled" -> javascriptEnabled = b;
          default -> { }
        }
      } else {
        p.skipChildren();
      }
    }
  }

  /** Returns the object's exact source text; the parser is left on its END_OBJECT. */
  private String objectSlice(JsonParser p, String field) throws IOException {
    JsonToken t = p.currentToken();
    if (t == JsonToken.VALUE_NULL) {
      return null;
    }
    if (t != JsonToken.START_OBJECT) {
      p.skipChildren();
      fail(field, field + " must be an object");
      return null;
    }
    int start = (int) p.currentTokenLocation().getByteOffset();
    p.skipChildren();
    return slice(start, (int) p.currentLocation().getByteOffset(), field);
  }

  private void userContext(JsonParser p) throws IOException {
    JsonToken t = p.currentToken();
    if (t == JsonToken.VALUE_NULL) {
      return;
    }
    if (t != JsonToken.START_OBJECT) {
      p.skipChildren();
      fail("userContext", "userContext must be an object");
      return;
    }
    int start = (int) p.currentTokenLocation().getByteOffset();
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      p.nextToken();
      switch (name) {
        case "userId" -> ctxUserId = idString(p, "userContext.userId");
        case "sessionId" -> ctxSessionId = idString(p, "userContext.sessionId");
        case "anonymousId" -> ctxAnonymousId = idString(p, "userContext.anonymousId");
        case "userProperties" -> {
          if (p.currentToken() == JsonToken.START_OBJECT) {
            int from = (int) p.currentTokenLocation().getByteOffset();
            p.skipChildren();
            userProperties = slice(from, (int) p.currentLocation().getByteOffset(), "userContext.userProperties");
          } else {
            p.skipChildren();
          }
        }
        default -> p.skipChildren();
      }
    }
    userContext = slice(start, (int) p.currentLocation().getByteOffset(), "userContext");
  }

  private String slice(int start, int end, String field) {
    if (containsNulEscape(start, end)) {
      fail(field, field + " contains \\u0000, which PostgreSQL cannot store");
      return null;
    }
    return new String(buf, start, end - start, StandardCharsets.UTF_8);
  }

  /** True when the JSON text holds an unescaped {@code \u0000} escape (jsonb rejects it). */
  private boolean containsNulEscape(int start, int end) {
    for (int i = start; i + 5 < end; i++) {
      if (buf[i] == '\\') {
        if (buf[i + 1] == 'u' && buf[i + 2] == '0' && buf[i + 3] == '0' && buf[i + 4] == '0' && buf[i + 5] == '0') {
          return true;
        }
        i++; // skip the escaped character, so "\\u0000" (an escaped backslash) is not mistaken for one
      }
    }
    return false;
  }

  /** The validated event, or null when invalid (see {@link #error()}). */
  Event build(String projectId, Instant receivedAt, long maxFutureSkewMs, EventCatalog catalog, boolean strict) {
    if (error != null) {
      return null;
    }
    if (type == null || type.isBlank()) {
      fail("type", "type is required (a string or {\"name\": ...})");
      return null;
    }
    if (timestamp == null) {
      fail("timestamp", "timestamp is required");
      return null;
    }
    String[] schemaError = catalog.check(type, propertyTypes, strict);
    if (schemaError != null) {
      fail(schemaError[0], schemaError[1]);
      return null;
    }
    String user = userId != null ? userId : ctxUserId;
    String anon = anonymousId != null ? anonymousId : ctxAnonymousId;
    String session = sessionId != null ? sessionId : ctxSessionId;
    if (user == null && anon == null && session == null) {
      fail("userContext", "an identity is required: userContext.userId, userContext.anonymousId or sessionId");
      return null;
    }
    int flags = 0;
    UUID uuid;
    if (id == null) {
      uuid = UUID.randomUUID();
      flags |= Event.FLAG_ID_ASSIGNED;
    } else {
      uuid = toUuid(id);
    }
    Instant ts = timestamp;
    if (sentAt != null) {
      // the client clock may be off: keep the event's offset from its send time, anchored on our clock
      ts = receivedAt.minusMillis(sentAt.toEpochMilli() - timestamp.toEpochMilli());
      flags |= Event.FLAG_SKEW_CORRECTED;
    }
    if (ts.toEpochMilli() - receivedAt.toEpochMilli() > maxFutureSkewMs) {
      ts = receivedAt;
      flags |= Event.FLAG_FUTURE_CLAMPED;
    }
    EventCatalog.EventType known = catalog.get(type);
    String cat = typeCategory != null ? typeCategory : category != null ? category
        : known != null ? known.category() : null;
    if (known == null) {
      flags |= Event.FLAG_CUSTOM_TYPE;
    }
    Event.ClientInfo client = userAgent == null && ip == null && screenResolution == null && viewport == null
        && language == null && timezone == null && cookiesEnabled == null && doNotTrack == null
        && javascriptEnabled == null && pageUrl == null && pagePath == null && pageSearch == null && referrer == null
        && previousId == null && userProperties == null
        ? Event.ClientInfo.EMPTY
        : new Event.ClientInfo(userAgent, ip, screenResolution, viewport, language, timezone, cookiesEnabled,
            doNotTrack, javascriptEnabled, pageUrl, pagePath, pageSearch, referrer, previousId, userProperties);
    return new Event(projectId, uuid, ts, receivedAt, type, cat, action, label, value, session, user, anon,
        properties, page, userContext, flags, client, null,
        mProvider == null && mModel == null && mPresent == 0 ? Event.Measures.NONE
            : new Event.Measures(mProvider, mModel, mTokens, mCost, mAmount, mResponseTime, mDuration, mPresent));
  }

  /** UUIDs are stored as such; any other client id maps to a stable name-based UUID, so retries still dedupe. */
  static UUID toUuid(String id) {
    if (id.length() == 36) {
      try {
        return UUID.fromString(id);
      } catch (IllegalArgumentException ignored) {
        // not a UUID: fall through to the name-based form
      }
    }
    return UUID.nameUUIDFromBytes(id.getBytes(StandardCharsets.UTF_8));
  }
}
