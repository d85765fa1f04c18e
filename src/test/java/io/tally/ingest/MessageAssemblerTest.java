package io.tally.ingest;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocketFrame;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** WebSocket frames into numbered messages: every message its own ordinal, a refused one included. */
class MessageAssemblerTest {
  private final List<String> out = new ArrayList<>();
  private final MessageAssembler assembler = new MessageAssembler(10, new MessageAssembler.Sink() {
    @Override
    public void text(long ordinal, byte[] utf8) {
      out.add(ordinal + ":" + new String(utf8, StandardCharsets.UTF_8));
    }

    @Override
    public void binary(long ordinal) {
      out.add(ordinal + ":binary");
    }

    @Override
    public void oversize(long ordinal) {
      out.add(ordinal + ":oversize");
    }
  });

  @Test
  void verifiesThatWholeFragmentedEmptyStartedAndBinaryMessagesKeepTheirOrdinalsAndControlFramesTakeNone() {
    // GIVEN a whole message, a ping, one in three fragments, one whose first frame is empty, a binary one, an empty one
    assembler.frame(WebSocketFrame.textFrame("abc", true));
    assembler.frame(WebSocketFrame.pingFrame(Buffer.buffer("p")));
    assembler.frame(WebSocketFrame.textFrame("de", false));
    assembler.frame(WebSocketFrame.continuationFrame(Buffer.buffer("fg"), false));
    assembler.frame(WebSocketFrame.continuationFrame(Buffer.buffer("h"), true));
    assembler.frame(WebSocketFrame.textFrame("", false));
    assembler.frame(WebSocketFrame.continuationFrame(Buffer.buffer("ij"), true));
    assembler.frame(WebSocketFrame.binaryFrame(Buffer.buffer("bin"), false));
    assembler.frame(WebSocketFrame.continuationFrame(Buffer.buffer("ary"), true));
    assembler.frame(WebSocketFrame.textFrame("", true));
    // THEN each is one message with the next ordinal
    assertEquals(List.of("1:abc", "2:defgh", "3:ij", "4:binary", "5:"), out);
    assertEquals(5, assembler.ordinals());
  }

  @Test
  void verifiesThatAMessageOverTheLimitIsRefusedWithItsOwnOrdinalAndNothingAfterItIsAssembled() {
    // GIVEN a message, then one whose fragments are each under the limit of 10 bytes but not together
    assembler.frame(WebSocketFrame.textFrame("ok", true));
    assembler.frame(WebSocketFrame.textFrame("123456", false));
    assembler.frame(WebSocketFrame.continuationFrame(Buffer.buffer("78901"), false));
    assembler.frame(WebSocketFrame.continuationFrame(Buffer.buffer("2"), true));
    assembler.frame(WebSocketFrame.textFrame("after", true));
    // THEN the big one is refused as message 2 and the one after it is not taken
    assertEquals(List.of("1:ok", "2:oversize"), out);
  }

  @Test
  void verifiesThatAMessageOfExactlyTheLimitPassesAndOneByteMoreDoesNot() {
    assembler.frame(WebSocketFrame.textFrame("12345", false));
    assembler.frame(WebSocketFrame.continuationFrame(Buffer.buffer("67890"), true));
    assembler.frame(WebSocketFrame.textFrame("12345678901", true));
    assertEquals(List.of("1:1234567890", "2:oversize"), out);
  }
}
