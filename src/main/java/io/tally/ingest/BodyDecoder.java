package io.tally.ingest;

import io.tally.error.ApiError;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Undoes {@code Content-Encoding: gzip} with a hard output limit: inflation stops as soon as the limit is passed,
 * so a gzip bomb costs at most {@code maxBytes} of memory, never its inflated size.
 */
public final class BodyDecoder {
  private BodyDecoder() {
  }

  /** Returns the body bytes; the array may be longer than the body: use {@code length[0]}. */
  static byte[] decode(String contentEncoding, byte[] raw, int maxBytes, int[] length) {
    if (contentEncoding == null || contentEncoding.isBlank() || contentEncoding.equalsIgnoreCase("identity")) {
      length[0] = raw.length;
      return raw;
    }
    if (!contentEncoding.trim().equalsIgnoreCase("gzip")) {
      throw new ApiError(415, "unsupported_encoding", "Content-Encoding '" + contentEncoding
          + "' is not supported; use gzip or none", "Content-Encoding", null, null);
    }
    return inflate(raw, maxBytes, () -> ApiError.tooLarge("ingest.maxBodyBytes", maxBytes,
        "decompressed body exceeds " + maxBytes + " bytes (ingest.maxBodyBytes)"), length);
  }

  /**
   * Inflates gzip {@code raw}, stopping as soon as the output passes {@code maxBytes} (then {@code tooLarge}, which
   * names the route's limit); the array may be longer than the body: use {@code length[0]}.
   */
  public static byte[] inflate(byte[] raw, int maxBytes, java.util.function.Supplier<ApiError> tooLarge,
                               int[] length) {
    byte[] out = new byte[Math.min(maxBytes + 1, Math.max(8192, raw.length * 4))];
    int n = 0;
    try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(raw), 8192)) {
      while (true) {
        if (n == out.length) {
          if (out.length > maxBytes) {
            throw tooLarge.get();
          }
          out = Arrays.copyOf(out, Math.min(maxBytes + 1, out.length * 2));
        }
        int r = in.read(out, n, out.length - n);
        if (r < 0) {
          break;
        }
        n += r;
      }
    } catch (ZipException e) {
      // the inflater's own words (header magic, CRC) stay here: they describe zlib, not the request
      throw ApiError.badRequest("Content-Encoding", "body is not valid gzip");
    } catch (IOException e) {
      throw ApiError.badRequest("Content-Encoding", "body could not be decompressed (truncated or corrupt gzip)");
    }
    if (n > maxBytes) {
      throw tooLarge.get();
    }
    length[0] = n;
    return out;
  }
}
