package io.tally.ingest;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocketFrame;

/**
 * Puts a WebSocket's frames back together into messages and numbers them. Vert.x's own aggregation is not used: it
 * drops a fragmented message over its limit without a word (the next message then looked like the dropped one to the
 * client), and a message whose first frame is empty loses its continuations. Here every message gets its ordinal when
 * its first frame arrives, so a refused message still consumes it, and a message is refused at the limit without
 * buffering past it.
 */
final class MessageAssembler {
  /** What becomes of each message. */
  interface Sink {
    void text(long ordinal, byte[] utf8);

    void binary(long ordinal);

    /** The message went over the limit; nothing more is assembled after it. */
    void oversize(long ordinal);
  }

  private final int maxBytes;
  private final Sink sink;
  private long ordinals;
  /** The ordinal of the message being assembled, 0 between messages. */
  private long current;
  private boolean binary;
  private Buffer parts;
  private int length;
  private boolean stopped;

  MessageAssembler(int maxBytes, Sink sink) {
    this.maxBytes = maxBytes;
    this.sink = sink;
  }

  void frame(WebSocketFrame f) {
    if (stopped) {
      return;
    }
    if (f.isText() || f.isBinary()) {
      current = ++ordinals;
      binary = f.isBinary();
      parts = null;
      length = 0;
    } else if (!f.isContinuation() || current == 0) {
      return; // control frames are answered by Vert.x; a stray continuation is refused by the frame decoder
    }
    Buffer data = f.binaryData();
    if (length + data.length() > maxBytes) {
      stopped = true;
      parts = null;
      sink.oversize(current);
      return;
    }
    length += data.length();
    if (!binary) {
      if (parts == null && f.isFinal()) {
        parts = data; // the common case: a whole message in one frame, not copied twice
      } else {
        if (parts == null) {
          parts = Buffer.buffer(Math.min(maxBytes, 4 * data.length() + 64));
        }
        parts.appendBuffer(data);
      }
    }
    if (f.isFinal()) {
      long ordinal = current;
      Buffer message = parts;
      current = 0;
      parts = null;
      if (binary) {
        sink.binary(ordinal);
      } else {
        sink.text(ordinal, message == null ? new byte[0] : message.getBytes());
      }
    }
  }

  /** Ordinals handed out so far. */
  long ordinals() {
    return ordinals;
  }
}
