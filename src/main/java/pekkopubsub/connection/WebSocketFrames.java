package pekkopubsub.connection;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;

import org.apache.pekko.util.ByteString;

/** Encoders for server-to-client RFC 6455 frames (never masked) and the handshake accept key. */
public final class WebSocketFrames {

  public static final int NORMAL = 1000;
  public static final int GOING_AWAY = 1001;
  public static final int PROTOCOL_ERROR = 1002;
  public static final int UNSUPPORTED_DATA = 1003;
  public static final int NO_STATUS = 1005;
  public static final int INVALID_PAYLOAD = 1007;
  public static final int POLICY_VIOLATION = 1008;
  public static final int MESSAGE_TOO_BIG = 1009;
  public static final int INTERNAL_ERROR = 1011;

  /** FIN and RSV1 (the permessage-deflate bit) of a frame's first byte. */
  private static final int FIN_RSV1 = 0x80 | 0x40;

  static final int OP_CONTINUATION = 0x0;
  static final int OP_TEXT = 0x1;
  static final int OP_BINARY = 0x2;
  static final int OP_CLOSE = 0x8;
  static final int OP_PING = 0x9;
  static final int OP_PONG = 0xA;

  /** RFC 6455 5.5: control frame payloads are limited to 125 bytes. */
  static final int MAX_CONTROL_PAYLOAD = 125;

  private static final String ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

  private WebSocketFrames() {}

  /** One final text frame; the payload is referenced, not copied. */
  public static ByteString text(ByteString utf8Payload) {
    return frame(OP_TEXT, utf8Payload);
  }

  /** One final text frame whose payload is compressed (RSV1 set: RFC 7692 6); the payload is referenced. */
  static ByteString compressedText(ByteString deflated) {
    return frameStartingWith(FIN_RSV1 | OP_TEXT, deflated);
  }

  public static ByteString text(String s) {
    return text(ByteString.fromString(s, StandardCharsets.UTF_8));
  }

  /** Close frame with a status code; the reason is cut on a character boundary to fit 125 bytes. */
  public static ByteString close(int code, String reason) {
    if (code < 0 || code > 0xFFFF) {
      throw new IllegalArgumentException("close code out of range: " + code);
    }
    byte[] reasonBytes = reason == null ? new byte[0] : reason.getBytes(StandardCharsets.UTF_8);
    int reasonLen = utf8PrefixLength(reasonBytes, MAX_CONTROL_PAYLOAD - 2);
    byte[] payload = new byte[2 + reasonLen];
    payload[0] = (byte) (code >>> 8);
    payload[1] = (byte) code;
    System.arraycopy(reasonBytes, 0, payload, 2, reasonLen);
    return frame(OP_CLOSE, ByteString.fromArrayUnsafe(payload));
  }

  public static ByteString closeWithoutCode() {
    return frame(OP_CLOSE, ByteString.emptyByteString());
  }

  public static ByteString pong(ByteString payload) {
    return controlFrame(OP_PONG, payload);
  }

  public static ByteString ping(ByteString payload) {
    return controlFrame(OP_PING, payload);
  }

  /** The Sec-WebSocket-Accept value for a client's Sec-WebSocket-Key (RFC 6455 4.2.2). */
  public static String acceptKey(String secWebSocketKey) {
    try {
      MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
      byte[] digest = sha1.digest((secWebSocketKey + ACCEPT_GUID).getBytes(StandardCharsets.US_ASCII));
      return Base64.getEncoder().encodeToString(digest);
    } catch (NoSuchAlgorithmException e) {
      // Every Java platform is required to provide SHA-1.
      throw new IllegalStateException(e);
    }
  }

  private static ByteString controlFrame(int opcode, ByteString payload) {
    if (payload.size() > MAX_CONTROL_PAYLOAD) {
      throw new IllegalArgumentException("control frame payload exceeds 125 bytes: " + payload.size());
    }
    return frame(opcode, payload);
  }

  /** The payload of a frame this server made (unmasked), without copying: for compressing a frame already made. */
  public static ByteString payloadOf(ByteString frame) {
    int length = frame.apply(1) & 0x7F;
    return frame.drop(length <= 125 ? 2 : length == 126 ? 4 : 10);
  }

  private static ByteString frame(int opcode, ByteString payload) {
    return frameStartingWith(0x80 | opcode, payload);
  }

  /** {@code firstByte}: FIN, the RSV bits and the opcode. */
  private static ByteString frameStartingWith(int firstByte, ByteString payload) {
    int len = payload.size();
    byte[] header;
    if (len <= 125) {
      header = new byte[] {(byte) firstByte, (byte) len};
    } else if (len <= 0xFFFF) {
      header = new byte[] {(byte) firstByte, 126, (byte) (len >>> 8), (byte) len};
    } else {
      header = new byte[10];
      header[0] = (byte) firstByte;
      header[1] = 127;
      long l = len;
      for (int i = 0; i < 8; i++) {
        header[9 - i] = (byte) (l >>> (8 * i));
      }
    }
    return ByteString.fromArrayUnsafe(header).concat(payload);
  }

  /** Longest prefix of {@code utf8} of at most {@code max} bytes that does not split a character. */
  private static int utf8PrefixLength(byte[] utf8, int max) {
    if (utf8.length <= max) {
      return utf8.length;
    }
    int end = max;
    // A continuation byte (10xxxxxx) at the cut means the cut falls inside a character.
    while (end > 0 && (utf8[end] & 0xC0) == 0x80) {
      end--;
    }
    return end;
  }
}
