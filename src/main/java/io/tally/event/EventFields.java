package io.tally.event;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.UUID;

/**
 * Collects the fields of one event as the parser meets them, checking each against {@link EventBounds}. The first
 * problem found is remembered (with the field it concerns and the limit it broke) and the rest of the event is still
 * consumed, so one bad event never derails a batch.
 */
final class EventFields {
  private static final int MAX_ECHO = 40;

  private final byte[] buf;
  private final SubObjectWalk walk;
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
  private Long errorLimit;
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

  EventFields(byte[] buf, SubObjectWalk walk) {
    this.buf = buf;
    this.walk = walk;
  }

  String error() {
    return error;
  }

  String errorField() {
    return errorField;
  }

  /** The limit the event broke, when one applies. */
  Long errorLimit() {
    return errorLimit;
  }

  boolean failed() {
    return error != null;
  }

  void fail(String field, String message, Long limit) {
    if (error == null) {
      errorField = field;
      error = message;
      errorLimit = limit;
    }
  }

  void fail(String field, String message) {
    fail(field, message, null);
  }

  /** Client text quoted in a message: shortened, and without the characters that cannot be stored or shown. */
  static String echo(String s) {
    String cut = s.length() > MAX_ECHO ? s.substring(0, MAX_ECHO) + "…" : s;
    StringBuilder b = null;
    for (int i = 0; i < cut.length(); i++) {
      char c = cut.charAt(i);
      if (c < 0x20 || Character.isSurrogate(c)) {
        if (b == null) {
          b = new StringBuilder(cut);
        }
        b.setCharAt(i, '?');
      }
    }
    return b == null ? cut : b.toString();
  }

  /** Consumes the value the parser is positioned on. */
  void field(String name, JsonParser p) throws IOException {
    switch (name) {
      case "id" -> id = idString(p, "id");
      case "sessionId" -> sessionId = idString(p, "sessionId");
      case "userId" -> userId = idString(p, "userId");
      case "anonymousId" -> anonymousId = idString(p, "anonymousId");
      case "timestamp" -> timestamp = SentTime.read(p, "timestamp", this);
      case "sentAt" -> sentAt = SentTime.read(p, "sentAt", this);
      case "type" -> type(p);
      case "category" -> category(p);
      case "action" -> action = text(p, "action", EventBounds.MAX_TEXT);
      case "label" -> label = text(p, "label", EventBounds.MAX_TEXT);
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

  /** An id: a string, or an integer whose digits are bounded the same way (a number once bypassed the bound). */
  private String idString(JsonParser p, String field) throws IOException {
    JsonToken t = p.currentToken();
    if (t == JsonToken.VALUE_NULL) {
      return null;
    }
    if (t == JsonToken.VALUE_NUMBER_INT) {
      int digits = JsonNumbers.digits(p);
      if (digits > EventBounds.MAX_ID) {
        fail(field, field + " must be at most " + EventBounds.MAX_ID + " digits long, got " + digits,
            (long) EventBounds.MAX_ID);
        return null;
      }
      return p.getText();
    }
    if (t != JsonToken.VALUE_STRING) {
      p.skipChildren();
      fail(field, field + " must be a string or an integer");
      return null;
    }
    int len = p.getTextLength();
    if (len == 0) {
      return null;
    }
    if (len > EventBounds.MAX_ID) {
      fail(field, field + " must be at most " + EventBounds.MAX_ID + " characters long, got " + len,
          (long) EventBounds.MAX_ID);
      return null;
    }
    return clean(p.getText(), field);
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
    int len = p.getTextLength();
    if (len > max) {
      fail(field, field + " must be at most " + max + " characters long, got " + len, (long) max);
      return null;
    }
    return clean(p.getText(), field);
  }

  private String clean(String s, String field) {
    int problem = StorableText.problem(s);
    if (problem != StorableText.OK) {
      fail(field, StorableText.describe(problem, field));
      return null;
    }
    return s;
  }

  private void type(JsonParser p) throws IOException {
    JsonToken t = p.currentToken();
    if (t == JsonToken.VALUE_STRING) {
      type = text(p, "type", EventBounds.MAX_NAME);
    } else if (t == JsonToken.START_OBJECT) {
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken v = p.nextToken();
        if (name.equals("name")) {
          type = text(p, "type.name", EventBounds.MAX_NAME);
        } else if (name.equals("category")) {
          if (v == JsonToken.START_OBJECT) {
            typeCategory = idOf(p, "type.category");
          } else {
            typeCategory = text(p, "type.category", EventBounds.MAX_NAME);
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
      category = text(p, "category", EventBounds.MAX_NAME);
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
        out = text(p, field + ".id", EventBounds.MAX_NAME);
      } else {
        p.skipChildren();
      }
    }
    return out;
  }

  private void value(JsonParser p) throws IOException {
    JsonToken t = p.currentToken();
    if (t == JsonToken.VALUE_NUMBER_INT || t == JsonToken.VALUE_NUMBER_FLOAT) {
      int problem = JsonNumbers.problem(p);
      if (problem == JsonNumbers.OK) {
        value = p.getDoubleValue();
      } else {
        fail("value", JsonNumbers.describe(problem, "value", p),
            problem == JsonNumbers.TOO_BIG ? (long) EventBounds.MAX_MAGNITUDE : null);
      }
    } else if (t != JsonToken.VALUE_NULL) {
      p.skipChildren();
      fail("value", "value must be a number");
    }
  }

  /**
   * Slices properties, checking it whole; notes the JSON type of each top-level value (for the catalogue's schema
   * check) and reads the measures the rollups sum, each within its domain.
   */
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
    walk.begin("properties", this);
    JsonToken v;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      v = p.nextToken();
      if (failed() || !walk.key(name, 1)) {
        p.skipChildren();
        continue;
      }
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
        propertyString(p, name);
      } else if (v == JsonToken.VALUE_NUMBER_INT || v == JsonToken.VALUE_NUMBER_FLOAT) {
        propertyNumber(p, name);
      } else {
        walk.value(p, 1);
      }
    }
    if (!failed()) {
      properties = slice(start, (int) p.currentLocation().getByteOffset());
    }
  }

  private void propertyString(JsonParser p, String name) throws IOException {
    int max = switch (name) {
      case "provider", "model", "feature" -> EventBounds.MAX_MEASURE_KEY;
      case "previousId" -> EventBounds.MAX_ID;
      default -> EventBounds.MAX_STRING;
    };
    if (walk.string(p, 1, max)) {
      switch (name) {
        case "previousId" -> previousId = p.getText();
        case "provider" -> mProvider = p.getText();
        case "model" -> mModel = p.getText();
        default -> { }
      }
    }
  }

  private void propertyNumber(JsonParser p, String name) throws IOException {
    switch (name) {
      case "tokens" -> mTokens = measure(p, name, 0, EventBounds.MAX_TOKENS, Event.Measures.TOKENS);
      case "cost" -> mCost = measure(p, name, 0, EventBounds.MAX_COST, Event.Measures.COST);
      case "amount" -> mAmount = measure(p, name, -EventBounds.MAX_AMOUNT, EventBounds.MAX_AMOUNT,
          Event.Measures.AMOUNT);
      case "responseTimeMs" -> mResponseTime = measure(p, name, 0, EventBounds.MAX_DURATION_MS,
          Event.Measures.RESPONSE_TIME);
      case "durationMs" -> mDuration = measure(p, name, 0, EventBounds.MAX_DURATION_MS, Event.Measures.DURATION);
      default -> walk.number(p, 1);
    }
  }

  /** A measure the rollups sum: within its domain, and storable like any number. */
  private double measure(JsonParser p, String name, long min, long max, int bit) throws IOException {
    double d = p.getDoubleValue();
    if (!(d >= min && d <= max)) {
      fail("properties." + name, "properties." + name + " must be between " + min + " and " + max + ", got "
          + JsonNumbers.echo(p), max);
      return 0;
    }
    if (!walk.number(p, 1)) {
      return 0;
    }
    mPresent |= bit;
    return d;
  }

  /** Slices page, checking it whole, and keeps the fields sessions and attribution need. */
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
    walk.begin("page", this);
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken v = p.nextToken();
      if (failed() || !walk.key(name, 1)) {
        p.skipChildren();
        continue;
      }
      int max = switch (name) {
        case "url", "referrer", "search" -> EventBounds.MAX_URL;
        case "path" -> EventBounds.MAX_PATH;
        case "title", "hash" -> EventBounds.MAX_PAGE_TEXT;
        default -> 0;
      };
      if (max == 0) {
        walk.value(p, 1);
      } else if (v == JsonToken.VALUE_STRING) {
        if (walk.string(p, 1, max)) {
          switch (name) {
            case "url" -> pageUrl = p.getText();
            case "path" -> pagePath = p.getText();
            case "search" -> pageSearch = p.getText();
            case "referrer" -> referrer = p.getText();
            default -> { }
          }
        }
      } else if (v != JsonToken.VALUE_NULL) {
        p.skipChildren();
        fail("page." + name, "page." + name + " must be a string");
      }
    }
    if (!failed()) {
      page = slice(start, (int) p.currentLocation().getByteOffset());
    }
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
        int max = name.equals("ip") ? EventBounds.MAX_IP : EventBounds.MAX_CLIENT_TEXT;
        int len = p.getTextLength();
        if (len > max) {
          fail(field + "." + name, field + "." + name + " must be at most " + max + " characters long, got " + len,
              (long) max);
          continue;
        }
        int problem = StorableText.problem(p.getTextCharacters(), p.getTextOffset(), len);
        if (problem != StorableText.OK) {
          fail(field + "." + name, StorableText.describe(problem, field + "." + name));
          continue;
        }
        switch (name) {
          case "userAgent" -> userAgent = p.getText();
          case "ip" -> ip = p.getText();
          case "screenResolution" -> screenResolution = p.getText();
          case "viewport" -> viewport = p.getText();
          case "language" -> language = p.getText();
          case "timezone" -> timezone = p.getText();
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

  /** Slices userContext, checking it whole; reads the identity and slices the traits ({@code userProperties}). */
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
    walk.begin("userContext", this);
    String traits = null;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken v = p.nextToken();
      if (failed() || !walk.key(name, 1)) {
        p.skipChildren();
        continue;
      }
      switch (name) {
        case "userId" -> ctxUserId = idString(p, "userContext.userId");
        case "sessionId" -> ctxSessionId = idString(p, "userContext.sessionId");
        case "anonymousId" -> ctxAnonymousId = idString(p, "userContext.anonymousId");
        case "userProperties" -> {
          int from = (int) p.currentTokenLocation().getByteOffset();
          walk.value(p, 1);
          if (v == JsonToken.START_OBJECT && !failed()) {
            traits = slice(from, (int) p.currentLocation().getByteOffset());
          }
        }
        default -> walk.value(p, 1);
      }
    }
    if (!failed()) {
      userContext = slice(start, (int) p.currentLocation().getByteOffset());
      userProperties = traits;
    }
  }

  /** The object's exact source text (the whole body was checked to be well-formed UTF-8). */
  private String slice(int start, int end) {
    return new String(buf, start, end - start, StandardCharsets.UTF_8);
  }

  /** The validated event, or null when invalid (see {@link #error()}). */
  Event build(String projectId, Instant receivedAt, long maxFutureSkewMs, EventCatalog catalog, boolean strict) {
    if (error != null || !required(catalog, strict)) {
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
    if (ts.isBefore(EventBounds.MIN_EVENT_TIME)) {
      fail("timestamp", sentAt != null
          ? "timestamp corrected by sentAt (receivedAt - (sentAt - timestamp)) is " + ts
              + ", before 2000-01-01T00:00:00Z"
          : "timestamp must be at or after 2000-01-01T00:00:00Z, got " + ts);
      return null;
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
    return new Event(projectId, uuid, ts, receivedAt, type, cat, action, label, value, session, user, anon,
        properties, page, userContext, flags, client(), null, measures());
  }

  /** Whether the type and timestamp are present and the properties fit the catalogue (else failed, naming why). */
  private boolean required(EventCatalog catalog, boolean strict) {
    if (type == null || type.isBlank()) {
      fail("type", "type is required (a string or {\"name\": ...})");
      return false;
    }
    if (timestamp == null) {
      fail("timestamp", "timestamp is required");
      return false;
    }
    String[] schemaError = catalog.check(type, propertyTypes, strict);
    if (schemaError != null) {
      fail(schemaError[0], schemaError[1]);
      return false;
    }
    return true;
  }

  /** The client fields, the shared empty one when there are none. */
  private Event.ClientInfo client() {
    return userAgent == null && ip == null && screenResolution == null && viewport == null
        && language == null && timezone == null && cookiesEnabled == null && doNotTrack == null
        && javascriptEnabled == null && pageUrl == null && pagePath == null && pageSearch == null && referrer == null
        && previousId == null && userProperties == null
        ? Event.ClientInfo.EMPTY
        : new Event.ClientInfo(userAgent, ip, screenResolution, viewport, language, timezone, cookiesEnabled,
            doNotTrack, javascriptEnabled, pageUrl, pagePath, pageSearch, referrer, previousId, userProperties);
  }

  /** The measures, the shared empty one when there are none. */
  private Event.Measures measures() {
    return mProvider == null && mModel == null && mPresent == 0 ? Event.Measures.NONE
        : new Event.Measures(mProvider, mModel, mTokens, mCost, mAmount, mResponseTime, mDuration, mPresent);
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
