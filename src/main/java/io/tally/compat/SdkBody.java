package io.tally.compat;

import io.tally.error.ApiError;
import io.tally.ingest.BodyDecoder;
import io.tally.ingest.RawBody;
import io.vertx.ext.web.RoutingContext;

import java.util.Arrays;

/**
 * Reads an SDK's body as bytes up to the batch limit, whatever its Content-Type (RudderStack labels gzipped JSON as a
 * form), and undoes gzip with the same limit on the inflated size: a gzip bomb is refused after inflating at most the
 * limit, never its whole size. The reading and the bounded inflation are ingestion's ({@link RawBody},
 * {@link BodyDecoder}); what is the SDKs' own is the limit they are refused with and PostHog's unlabelled gzip.
 */
final class SdkBody {
  private SdkBody() {
  }

  /** Reads the body up to {@code maxBytes} (the shared ingestion reader, refusing with the SDK request's limit). */
  static RawBody reader(int maxBytes) {
    return new RawBody(maxBytes, () -> tooLarge(maxBytes, "body"));
  }

  static byte[] of(RoutingContext ctx) {
    return RawBody.of(ctx).getBytes();
  }

  /**
   * The JSON bytes of a body: inflated when {@code Content-Encoding: gzip} says so, or, with {@code sniff} (PostHog,
   * whose browser library may gzip without saying it), when the body starts with gzip's magic bytes.
   */
  static byte[] decode(String contentEncoding, byte[] raw, int maxBytes, boolean sniff) {
    boolean gzip = false;
    if (contentEncoding != null && !contentEncoding.isBlank() && !contentEncoding.trim().equalsIgnoreCase("identity")) {
      if (!contentEncoding.trim().equalsIgnoreCase("gzip")) {
        throw new ApiError(415, "unsupported_encoding", "Content-Encoding must be gzip or none",
            "Content-Encoding", null, null);
      }
      gzip = true;
    } else if (sniff && raw.length >= 2 && raw[0] == (byte) 0x1f && raw[1] == (byte) 0x8b) {
      gzip = true;
    }
    if (!gzip) {
      return raw;
    }
    int[] length = new int[1];
    byte[] out = BodyDecoder.inflate(raw, maxBytes, () -> tooLarge(maxBytes, "body (decompressed)"), length);
    return Arrays.copyOf(out, length[0]);
  }

  static ApiError tooLarge(int maxBytes, String what) {
    return ApiError.tooLarge("body", maxBytes, what + " exceeds " + maxBytes
        + " bytes, the limit of one SDK request");
  }
}
