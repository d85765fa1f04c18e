package io.tally.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * A plain TCP client for slow and hostile HTTP tests: it writes exactly the bytes it is given, when it is told to, and
 * tells what the server answered and whether (and when) the server closed the connection.
 */
public final class RawSocket implements AutoCloseable {
  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;
  private final ByteArrayOutputStream received = new ByteArrayOutputStream();
  private boolean closedByServer;

  public RawSocket(int port) {
    try {
      socket = new Socket();
      socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
      socket.setTcpNoDelay(true);
      in = socket.getInputStream();
      out = socket.getOutputStream();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Writes and flushes; false when the server has closed (or reset) the connection. */
  public boolean write(String text) {
    return write(text.getBytes(StandardCharsets.ISO_8859_1));
  }

  public boolean write(byte[] bytes) {
    try {
      out.write(bytes);
      out.flush();
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** Everything received so far, as ISO-8859-1 text. */
  public String received() {
    return received.toString(StandardCharsets.ISO_8859_1);
  }

  /**
   * Reads until the received text contains {@code marker}, the server closes, or {@code timeoutMs} pass; returns
   * whether the marker arrived.
   */
  public boolean awaitText(String marker, long timeoutMs) {
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (!received().contains(marker)) {
      if (closedByServer || !readSome(deadline)) {
        return received().contains(marker);
      }
    }
    return true;
  }

  /** Reads until {@code marker} occurs {@code n} times in the received text (false if not within the time). */
  public boolean awaitCount(String marker, int n, long timeoutMs) {
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (occurrences(marker) < n) {
      if (closedByServer || !readSome(deadline)) {
        return occurrences(marker) >= n;
      }
    }
    return true;
  }

  /** How many times {@code marker} occurs in the received text. */
  public int occurrences(String marker) {
    String r = received();
    int n = 0;
    for (int i = r.indexOf(marker); i >= 0; i = r.indexOf(marker, i + 1)) {
      n++;
    }
    return n;
  }

  /** Reads (and keeps) whatever comes until the server closes the connection; false if it did not within the time. */
  public boolean awaitClose(long timeoutMs) {
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (!closedByServer) {
      if (!readSome(deadline)) {
        return closedByServer;
      }
    }
    return true;
  }

  public boolean closedByServer() {
    return closedByServer;
  }

  /** One read before the deadline; false when the deadline passed with nothing read. */
  private boolean readSome(long deadline) {
    long left = deadline - System.currentTimeMillis();
    if (left <= 0) {
      return false;
    }
    try {
      socket.setSoTimeout((int) Math.max(1, left));
      byte[] buf = new byte[8192];
      int n = in.read(buf);
      if (n < 0) {
        closedByServer = true;
      } else {
        received.write(buf, 0, n);
      }
      return true;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      // a reset is the server closing too
      closedByServer = true;
      return true;
    }
  }

  /** The JSON body of the first response received (after the blank line), or null. */
  public String firstBody() {
    String r = received();
    int start = r.indexOf("\r\n\r\n");
    if (start < 0) {
      return null;
    }
    int end = r.indexOf("HTTP/1.1 ", start);
    return (end < 0 ? r.substring(start + 4) : r.substring(start + 4, end)).trim();
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException ignored) {
      // closing a test socket
    }
  }
}
