package pekkopubsub.connection;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;

class PerMessageDeflateTest {

  @Test
  void aCompressedTextFrameInflatesToTheEventAndTextThatDoesNotShrinkIsLeftPlain() throws DataFormatException {
    String event = "{\"type\":\"event\",\"message\":{\"payload\":\"" + "tick ".repeat(200) + "\"}}";
    ByteString frame = PerMessageDeflate.compressedText(ByteString.fromString(event));
    assertEquals(0xC1, frame.apply(0) & 0xFF, "FIN, RSV1, text");
    int length = frame.apply(1) & 0x7F;
    assertEquals(frame.size() - 2, length, "a 7-bit length: " + frame.size());
    assertEquals(event, DeflateClient.inflate(frame.drop(2).toArray()));

    assertNull(PerMessageDeflate.compressedText(ByteString.fromString("{}")), "no smaller compressed: sent plain");
  }

  @Test
  void aClientThatAgreedGetsLargeMessagesCompressedAndSmallOnesAsTheyAre() throws DataFormatException {
    ByteString large = ByteString.fromString("{\"type\":\"event\",\"replay\":true,\"pad\":\"" + "x".repeat(300) + "\"}");
    ByteString largeFrame = WebSocketFrames.text(large);
    ByteString sent = PerMessageDeflate.forAgreedClient(large, largeFrame);
    assertEquals(0xC1, sent.apply(0) & 0xFF, "FIN, RSV1, text");
    assertEquals(large.utf8String(), DeflateClient.inflate(WebSocketFrames.payloadOf(sent).toArray()));

    ByteString small = ByteString.fromString("{\"pad\":\"" + "x".repeat(PerMessageDeflate.MIN_COMPRESSED_BYTES - 20) + "\"}");
    ByteString smallFrame = WebSocketFrames.text(small);
    assertSame(smallFrame, PerMessageDeflate.forAgreedClient(small, smallFrame), "under the threshold: the frame as it is");
  }

  @Test
  void withoutContextTakeoverEachMessageStartsAFreshWindow() throws DataFormatException {
    try (PerMessageDeflate.Inflating inflating = new PerMessageDeflate.Inflating(new PerMessageDeflate.Agreement(true))) {
      for (int i = 0; i < 3; i++) {
        String text = "{\"type\":\"publish\",\"n\":" + i + ",\"pad\":\"" + "p".repeat(100) + "\"}";
        byte[] compressed = DeflateClient.compress(new Deflater(Deflater.DEFAULT_COMPRESSION, true), text);
        assertArrayEquals(text.getBytes(StandardCharsets.UTF_8), inflating.inflate(compressed, compressed.length, 1024));
      }
    }
  }

  @Test
  void aMessageOverTheLimitIsRefusedAndGarbageIsNotDeflate() throws DataFormatException {
    try (PerMessageDeflate.Inflating inflating = new PerMessageDeflate.Inflating(new PerMessageDeflate.Agreement(false))) {
      byte[] big = DeflateClient.compress(new Deflater(Deflater.DEFAULT_COMPRESSION, true), "z".repeat(5000));
      assertNull(inflating.inflate(big, big.length, 4999));
      byte[] exact = DeflateClient.compress(new Deflater(Deflater.DEFAULT_COMPRESSION, true), "z".repeat(5000));
      assertEquals(5000, inflating.inflate(exact, exact.length, 5000).length, "after a refusal the next message starts afresh");
      assertThrows(DataFormatException.class, () -> inflating.inflate(new byte[] {(byte) 0xFF, (byte) 0xFF, 7}, 3, 100));
    }
  }
}
