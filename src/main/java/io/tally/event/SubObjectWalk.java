package io.tally.event;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;

/**
 * Checks a sub-object the event stores as sent ({@code properties}, {@code page}, {@code userContext}) while the
 * parser reads it, in the same single pass: every key, string and number, and the nesting depth (the object itself
 * is level 1). Strings are checked in the parser's own buffer, so a valid event allocates nothing here; the path of
 * an offending value ({@code properties.items[2].name}) is built only when something fails. One instance serves every
 * event of a body.
 */
final class SubObjectWalk {
  private final String[] names = new String[EventBounds.MAX_DEPTH + 1];
  private final int[] indexes = new int[EventBounds.MAX_DEPTH + 1];
  private final boolean[] arrays = new boolean[EventBounds.MAX_DEPTH + 1];
  private String root;
  private EventFields event;

  /** Starts on a root object (level 1) of {@code event}; problems are reported to it. */
  void begin(String root, EventFields event) {
    this.root = root;
    this.event = event;
    arrays[1] = false;
  }

  /** Checks a key of the object at {@code level}; false (and the event failed) when it is out of bounds. */
  boolean key(String name, int level) {
    names[level] = name;
    if (name.length() > EventBounds.MAX_KEY) {
      String f = path(level - 1);
      event.fail(f, f + " has a key longer than " + EventBounds.MAX_KEY + " characters (" + name.length()
          + "): '" + EventFields.echo(name) + "'", (long) EventBounds.MAX_KEY);
      return false;
    }
    int problem = StorableText.problem(name);
    if (problem != StorableText.OK) {
      event.fail(path(level - 1), StorableText.describe(problem, "a key of " + path(level - 1)), null);
      return false;
    }
    return true;
  }

  /** Checks the value the parser is on, inside the container at {@code level}, walking it when it nests. */
  void value(JsonParser p, int level) throws IOException {
    switch (p.currentToken()) {
      case VALUE_STRING -> string(p, level, EventBounds.MAX_STRING);
      case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> number(p, level);
      case START_OBJECT, START_ARRAY -> nested(p, level + 1);
      default -> { }
    }
  }

  /** Checks the string the parser is on against {@code max} and what PostgreSQL can store. */
  boolean string(JsonParser p, int level, int max) throws IOException {
    int len = p.getTextLength();
    if (len > max) {
      String f = path(level);
      event.fail(f, f + " must be at most " + max + " characters long, got " + len, (long) max);
      return false;
    }
    int problem = StorableText.problem(p.getTextCharacters(), p.getTextOffset(), len);
    if (problem != StorableText.OK) {
      event.fail(path(level), StorableText.describe(problem, path(level)), null);
      return false;
    }
    return true;
  }

  boolean number(JsonParser p, int level) throws IOException {
    int problem = JsonNumbers.problem(p);
    if (problem != JsonNumbers.OK) {
      String f = path(level);
      event.fail(f, JsonNumbers.describe(problem, f, p),
          problem == JsonNumbers.TOO_BIG ? (long) EventBounds.MAX_MAGNITUDE : null);
      return false;
    }
    return true;
  }

  /**
   * Walks the object or array the parser is on, at {@code level}, leaving the parser on its end. Iterative, so a
   * hostile depth costs no stack; once the event failed, the rest is skipped unchecked.
   */
  void nested(JsonParser p, int level) throws IOException {
    if (level > EventBounds.MAX_DEPTH) {
      tooDeep(level);
      p.skipChildren();
      return;
    }
    open(level, p.currentToken());
    int d = level;
    while (true) {
      JsonToken t = p.nextToken();
      if (t == null) {
        return; // end of input: Jackson reports the unclosed object to the caller
      }
      if (t == JsonToken.END_OBJECT || t == JsonToken.END_ARRAY) {
        if (d == level) {
          return;
        }
        d--;
        continue;
      }
      if (t == JsonToken.FIELD_NAME) {
        if (!event.failed()) {
          key(p.currentName(), d);
        }
        continue;
      }
      if (arrays[d]) {
        indexes[d]++;
      }
      if (event.failed()) {
        p.skipChildren();
        continue;
      }
      switch (t) {
        case START_OBJECT, START_ARRAY -> {
          if (d == EventBounds.MAX_DEPTH) {
            tooDeep(d + 1);
            p.skipChildren();
          } else {
            open(++d, t);
          }
        }
        case VALUE_STRING -> string(p, d, EventBounds.MAX_STRING);
        case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> number(p, d);
        default -> { }
      }
    }
  }

  private void open(int level, JsonToken start) {
    arrays[level] = start == JsonToken.START_ARRAY;
    indexes[level] = -1;
  }

  private void tooDeep(int level) {
    event.fail(root, root + " nests deeper than " + EventBounds.MAX_DEPTH + " levels of objects and arrays (at "
        + path(level - 1) + ")", (long) EventBounds.MAX_DEPTH);
  }

  /** The path of the value being read inside the container at {@code level}; level 0 is the root itself. */
  String path(int level) {
    StringBuilder b = new StringBuilder(root);
    for (int l = 1; l <= level; l++) {
      if (arrays[l]) {
        b.append('[').append(indexes[l]).append(']');
      } else {
        b.append('.').append(names[l]);
      }
    }
    return b.toString();
  }
}
