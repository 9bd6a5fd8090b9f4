package pekkopubsub.protocol;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.apache.pekko.util.ByteString;

/**
 * Writes the two JSON objects of the publish path, the event and the ack, straight into a byte
 * array: the same bytes as {@link JsonCodec}'s mapper (field order, nulls omitted, its escaping),
 * with the payload copied from the publisher's text.
 */
final class FrameWriter {
  private static final byte[] HEX = "0123456789ABCDEF".getBytes(StandardCharsets.US_ASCII);

  private byte[] bytes;
  private int length;

  private FrameWriter(int capacity) {
    bytes = new byte[capacity];
  }

  static ByteString event(Outbound.Event event) {
    Outbound.Message message = event.message();
    ByteString payload = message.payload().utf8();
    FrameWriter w = new FrameWriter(96 + payload.size() + event.topic().length() + message.id().length()
        + event.ts().length());
    w.ascii("{\"type\":").string(event.type());
    w.ascii(",\"topic\":").string(event.topic());
    w.ascii(",\"message\":{\"id\":").string(message.id());
    w.ascii(",\"payload\":").raw(payload);
    w.ascii("},\"offset\":").number(event.offset());
    w.ascii(",\"ts\":").string(event.ts());
    return w.ascii("}").result();
  }

  static ByteString ack(Outbound.Ack ack) {
    FrameWriter w = new FrameWriter(128 + length(ack.requestId()) + length(ack.topic()) + length(ack.epoch()));
    w.ascii("{");
    boolean first = true;
    first = w.field(first, "type", ack.type());
    first = w.field(first, "request_id", ack.requestId());
    first = w.field(first, "topic", ack.topic());
    first = w.field(first, "status", ack.status());
    first = w.field(first, "offset", ack.offset());
    first = w.field(first, "epoch", ack.epoch());
    first = w.field(first, "newest_offset", ack.newestOffset());
    first = w.field(first, "replayed", ack.replayed());
    first = w.field(first, "recovered", ack.recovered());
    w.field(first, "ts", ack.ts());
    return w.ascii("}").result();
  }

  private static int length(String s) {
    return s == null ? 0 : s.length();
  }

  /**
   * A field unless {@code value} is null: a string quoted and escaped, a number or boolean as its
   * literal. Returns whether the object still has no field.
   */
  private boolean field(boolean first, String name, Object value) {
    if (value == null) return first;
    ascii(first ? "\"" : ",\"").ascii(name).ascii("\":");
    if (value instanceof String text) {
      string(text);
    } else {
      ascii(value.toString());
    }
    return false;
  }

  private FrameWriter ascii(String s) {
    ensure(s.length());
    for (int i = 0; i < s.length(); i++) bytes[length++] = (byte) s.charAt(i);
    return this;
  }

  private FrameWriter raw(ByteString utf8) {
    ensure(utf8.size());
    utf8.copyToArray(bytes, length, utf8.size());
    length += utf8.size();
    return this;
  }

  private FrameWriter number(long n) {
    return ascii(Long.toString(n));
  }

  /**
   * A quoted JSON string as Jackson writes it by default: short escapes for quote, backslash and
   * \b \t \n \f \r, six-character escapes for other control characters and for every surrogate
   * (so a lone one is escaped, not an error), everything else in UTF-8.
   */
  private FrameWriter string(String s) {
    ensure(s.length() + 2);
    bytes[length++] = '"';
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
        ensure(1);
        bytes[length++] = (byte) c;
      } else {
        escapedOrEncoded(c);
      }
    }
    ensure(1);
    bytes[length++] = '"';
    return this;
  }

  private void escapedOrEncoded(char c) {
    ensure(6);
    switch (c) {
      case '"' -> shortEscape('"');
      case '\\' -> shortEscape('\\');
      case '\b' -> shortEscape('b');
      case '\t' -> shortEscape('t');
      case '\n' -> shortEscape('n');
      case '\f' -> shortEscape('f');
      case '\r' -> shortEscape('r');
      default -> {
        if (c < 0x20 || Character.isSurrogate(c)) {
          bytes[length++] = '\\';
          bytes[length++] = 'u';
          bytes[length++] = HEX[(c >> 12) & 0xF];
          bytes[length++] = HEX[(c >> 8) & 0xF];
          bytes[length++] = HEX[(c >> 4) & 0xF];
          bytes[length++] = HEX[c & 0xF];
        } else if (c < 0x800) {
          bytes[length++] = (byte) (0xC0 | (c >> 6));
          bytes[length++] = (byte) (0x80 | (c & 0x3F));
        } else {
          bytes[length++] = (byte) (0xE0 | (c >> 12));
          bytes[length++] = (byte) (0x80 | ((c >> 6) & 0x3F));
          bytes[length++] = (byte) (0x80 | (c & 0x3F));
        }
      }
    }
  }

  private void shortEscape(char escape) {
    bytes[length++] = '\\';
    bytes[length++] = (byte) escape;
  }

  private void ensure(int more) {
    if (length + more > bytes.length) bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + more));
  }

  private ByteString result() {
    return ByteString.fromArrayUnsafe(bytes, 0, length);
  }
}
