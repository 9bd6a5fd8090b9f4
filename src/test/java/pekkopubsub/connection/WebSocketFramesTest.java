package pekkopubsub.connection;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class WebSocketFramesTest {

  @Test
  void acceptKeyMatchesRfc6455Example() {
    // RFC 6455 section 1.3 (also `printf %s KEY+GUID | openssl sha1 -binary | base64`).
    assertEquals("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", WebSocketFrames.acceptKey("dGhlIHNhbXBsZSBub25jZQ=="));
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 125, 126, 127, 65535, 65536, 70000})
  void textFrameHeaderUsesMinimalLengthEncoding(int size) {
    byte[] payload = new byte[size];
    Arrays.fill(payload, (byte) 'a');
    byte[] frame = WebSocketFrames.text(ByteString.fromArray(payload)).toArray();

    byte[] expectedHeader;
    if (size <= 125) {
      expectedHeader = new byte[] {(byte) 0x81, (byte) size};
    } else if (size <= 65535) {
      expectedHeader = new byte[] {(byte) 0x81, 126, (byte) (size >>> 8), (byte) size};
    } else {
      expectedHeader = new byte[] {(byte) 0x81, 127, 0, 0, 0, 0,
          (byte) (size >>> 24), (byte) (size >>> 16), (byte) (size >>> 8), (byte) size};
    }
    assertEquals(expectedHeader.length + size, frame.length);
    assertArrayEquals(expectedHeader, Arrays.copyOfRange(frame, 0, expectedHeader.length));
    assertArrayEquals(payload, Arrays.copyOfRange(frame, expectedHeader.length, frame.length));
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 125, 126, 65535, 65536})
  void payloadOfGivesBackWhatWasFramed(int size) {
    ByteString payload = bytes(size);
    assertEquals(payload, WebSocketFrames.payloadOf(WebSocketFrames.text(payload)));
  }

  @Test
  void textFrameHeadersAtLengthBoundaries() {
    assertArrayEquals(new byte[] {(byte) 0x81, 0}, header(WebSocketFrames.text(ByteString.emptyByteString()), 2));
    assertArrayEquals(new byte[] {(byte) 0x81, 125}, header(WebSocketFrames.text(bytes(125)), 2));
    assertArrayEquals(new byte[] {(byte) 0x81, 126, 0, 126}, header(WebSocketFrames.text(bytes(126)), 4));
    assertArrayEquals(new byte[] {(byte) 0x81, 126, (byte) 0xFF, (byte) 0xFF},
        header(WebSocketFrames.text(bytes(65535)), 4));
    assertArrayEquals(new byte[] {(byte) 0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0},
        header(WebSocketFrames.text(bytes(65536)), 10));
  }

  @Test
  void textFromStringIsUtf8() {
    ByteString frame = WebSocketFrames.text("h€");
    assertEquals(ByteString.fromArray(new byte[] {(byte) 0x81, 4, 'h', (byte) 0xE2, (byte) 0x82, (byte) 0xAC}), frame);
  }

  @Test
  void textFrameIsServerFrameWithoutMask() {
    ByteString frame = WebSocketFrames.text("Hello");
    // RFC 6455 5.7: a single-frame unmasked text message "Hello".
    assertEquals(ByteString.fromArray(new byte[] {(byte) 0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}), frame);
  }

  @Test
  void closeFrameCarriesCodeAndReason() {
    ByteString frame = WebSocketFrames.close(WebSocketFrames.GOING_AWAY, "bye");
    assertEquals(ByteString.fromArray(new byte[] {(byte) 0x88, 5, 0x03, (byte) 0xE9, 'b', 'y', 'e'}), frame);
  }

  @Test
  void closeFrameWithEmptyReason() {
    ByteString frame = WebSocketFrames.close(WebSocketFrames.POLICY_VIOLATION, "");
    assertEquals(ByteString.fromArray(new byte[] {(byte) 0x88, 2, 0x03, (byte) 0xF0}), frame);
  }

  @Test
  void closeReasonIsTruncatedToFitControlFrame() {
    ByteString frame = WebSocketFrames.close(WebSocketFrames.MESSAGE_TOO_BIG, "x".repeat(300));
    assertEquals(125, frame.apply(1) & 0xFF);
    assertEquals(2 + 125, frame.size());
    assertEquals("x".repeat(123), frame.drop(4).utf8String());
  }

  @Test
  void closeReasonTruncationDoesNotSplitACharacter() {
    // 'é' is 2 bytes: 123 bytes would cut the 62nd character in half, so only 61 characters fit.
    ByteString frame = WebSocketFrames.close(WebSocketFrames.NORMAL, "é".repeat(100));
    assertEquals(2 + 122, frame.apply(1) & 0xFF);
    assertEquals("é".repeat(61), frame.drop(4).decodeString(StandardCharsets.UTF_8));
  }

  @Test
  void closeCodeOutOfRangeIsRejected() {
    assertThrows(IllegalArgumentException.class, () -> WebSocketFrames.close(70000, ""));
    assertThrows(IllegalArgumentException.class, () -> WebSocketFrames.close(-1, ""));
  }

  @Test
  void closeWithoutCodeHasEmptyPayload() {
    assertEquals(ByteString.fromArray(new byte[] {(byte) 0x88, 0}), WebSocketFrames.closeWithoutCode());
  }

  @Test
  void pingAndPongEchoPayload() {
    ByteString payload = ByteString.fromString("abc");
    assertEquals(ByteString.fromArray(new byte[] {(byte) 0x89, 3, 'a', 'b', 'c'}), WebSocketFrames.ping(payload));
    assertEquals(ByteString.fromArray(new byte[] {(byte) 0x8A, 3, 'a', 'b', 'c'}), WebSocketFrames.pong(payload));
    assertEquals(ByteString.fromArray(new byte[] {(byte) 0x8A, 0}), WebSocketFrames.pong(ByteString.emptyByteString()));
  }

  @Test
  void controlFramePayloadOver125BytesIsRejected() {
    assertThrows(IllegalArgumentException.class, () -> WebSocketFrames.ping(bytes(126)));
    assertThrows(IllegalArgumentException.class, () -> WebSocketFrames.pong(bytes(126)));
  }

  @Test
  void closeCodeConstants() {
    assertEquals(1000, WebSocketFrames.NORMAL);
    assertEquals(1001, WebSocketFrames.GOING_AWAY);
    assertEquals(1002, WebSocketFrames.PROTOCOL_ERROR);
    assertEquals(1003, WebSocketFrames.UNSUPPORTED_DATA);
    assertEquals(1005, WebSocketFrames.NO_STATUS);
    assertEquals(1007, WebSocketFrames.INVALID_PAYLOAD);
    assertEquals(1008, WebSocketFrames.POLICY_VIOLATION);
    assertEquals(1009, WebSocketFrames.MESSAGE_TOO_BIG);
    assertEquals(1011, WebSocketFrames.INTERNAL_ERROR);
  }

  private static ByteString bytes(int n) {
    return ByteString.fromArray(new byte[n]);
  }

  private static byte[] header(ByteString frame, int length) {
    return frame.take(length).toArray();
  }
}
