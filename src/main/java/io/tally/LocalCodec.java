package io.tally;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;

/**
 * Carries an immutable record over the event bus within the process, by reference: the typed notices (commits,
 * derived flushes and rewrites) are never copied or encoded. They are published local-only; a codec asked to encode
 * for the wire fails loudly rather than sending something a remote node could not read.
 */
final class LocalCodec<T> implements MessageCodec<T, T> {
  private final Class<T> type;

  LocalCodec(Class<T> type) {
    this.type = type;
  }

  @Override
  public void encodeToWire(Buffer buffer, T t) {
    throw new UnsupportedOperationException(type.getSimpleName() + " is a local message and has no wire form");
  }

  @Override
  public T decodeFromWire(int pos, Buffer buffer) {
    throw new UnsupportedOperationException(type.getSimpleName() + " is a local message and has no wire form");
  }

  @Override
  public T transform(T t) {
    return t;
  }

  @Override
  public String name() {
    return "local-" + type.getName();
  }

  @Override
  public byte systemCodecID() {
    return -1;
  }
}
