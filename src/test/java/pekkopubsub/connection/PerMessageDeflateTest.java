package pekkopubsub.connection;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
        assertEquals(text, utf8(inflating.inflate(compressed, compressed.length, 1024)));
      }
    }
  }

  /** A message over the limit is inflated to its end, so that the next one, which may refer back into it, still makes sense. */
  @Test
  void aMessageOverTheLimitIsMeasuredAndKeepsTheWindowInStepWithTheClients() throws DataFormatException {
    try (PerMessageDeflate.Inflating inflating = new PerMessageDeflate.Inflating(new PerMessageDeflate.Agreement(false))) {
      Deflater client = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
      String big = "{\"request_id\":\"r1\",\"pad\":\"" + "z".repeat(4950) + "\",\"end\":\"r9\"}";
      byte[] first = DeflateClient.compress(client, big);
      PerMessageDeflate.Inflated over = inflating.inflate(first, first.length, 999);
      assertTrue(over.tooLarge());
      assertEquals(big.length(), over.length());
      assertTrue(new String(over.bytes(), 0, 20, StandardCharsets.UTF_8).startsWith("{\"request_id\":\"r1\""));
      assertTrue(new String(over.end(), 0, over.endLength(), StandardCharsets.UTF_8).endsWith("\"end\":\"r9\"}"));

      String next = "{\"pad\":\"" + "z".repeat(900) + "\"}";
      byte[] second = DeflateClient.compress(client, next);
      assertTrue(second.length < 30, "it refers back into the message before: " + second.length);
      assertEquals(next, utf8(inflating.inflate(second, second.length, 999)));
    }
  }

  @Test
  void aMessageInflatingToManyTimesTheLimitLosesTheWindowUnlessEachMessageStartsAfresh() throws DataFormatException {
    int limit = 1000;
    String bomb = "a".repeat(PerMessageDeflate.Inflating.MOST_LIMITS_INFLATED * limit + 1);
    try (PerMessageDeflate.Inflating inflating = new PerMessageDeflate.Inflating(new PerMessageDeflate.Agreement(false))) {
      byte[] compressed = DeflateClient.compress(new Deflater(Deflater.BEST_COMPRESSION, true), bomb);
      assertNull(inflating.inflate(compressed, compressed.length, limit));
    }
    try (PerMessageDeflate.Inflating inflating = new PerMessageDeflate.Inflating(new PerMessageDeflate.Agreement(true))) {
      byte[] compressed = DeflateClient.compress(new Deflater(Deflater.BEST_COMPRESSION, true), bomb);
      assertTrue(inflating.inflate(compressed, compressed.length, limit).tooLarge());
      byte[] exact = DeflateClient.compress(new Deflater(Deflater.DEFAULT_COMPRESSION, true), "z".repeat(limit));
      assertEquals(limit, inflating.inflate(exact, exact.length, limit).length(), "the next message starts afresh");
      assertThrows(DataFormatException.class, () -> inflating.inflate(new byte[] {(byte) 0xFF, (byte) 0xFF, 7}, 3, 100));
    }
  }

  private static String utf8(PerMessageDeflate.Inflated inflated) {
    assertFalse(inflated.tooLarge());
    return new String(inflated.bytes(), 0, (int) inflated.length(), StandardCharsets.UTF_8);
  }
}
