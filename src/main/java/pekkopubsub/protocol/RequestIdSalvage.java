package pekkopubsub.protocol;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;

/**
 * Finds the {@code request_id} of a message the server rejects unread (not JSON, binary, not
 * UTF-8, or over the size limit and kept only by its first and last bytes), so that the error
 * answering it still echoes the id, as the contract asks of every direct answer.
 */
public final class RequestIdSalvage {
  /** Bytes kept from each end of a message too large to keep whole; room for any id of 128 characters. */
  public static final int END_BYTES = 1024;

  private static final JsonFactory FACTORY = JsonCodec.mapper().getFactory();
  private static final byte[] KEY = "\"request_id\"".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  private RequestIdSalvage() {}

  /**
   * Appends {@code bytes[offset, offset + length)} to the {@code endLength} bytes kept in
   * {@code end}, keeping only the last {@code end.length} of them; returns how many it now holds.
   * For a message that arrives (or inflates) piece by piece and is kept by its end only.
   */
  public static int keepEnd(byte[] end, int endLength, byte[] bytes, int offset, int length) {
    int take = Math.min(length, end.length);
    int keep = Math.min(endLength, end.length - take);
    System.arraycopy(end, endLength - keep, end, 0, keep);
    System.arraycopy(bytes, offset + length - take, end, keep, take);
    return keep + take;
  }

  /** The string value of a top-level {@code request_id} met before the text stops being a JSON object; null if none. */
  public static String fromStart(String text) {
    try (JsonParser parser = FACTORY.createParser(text)) {
      return scan(parser);
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /**
   * As {@link #fromStart(String)}, over UTF-8 bytes; null also when the id's own bytes are not
   * UTF-8 (the rest of the bytes may be anything).
   */
  public static String fromStart(byte[] bytes, int offset, int length) {
    try (JsonParser parser = FACTORY.createParser(bytes, offset, length)) {
      if (!findId(parser)) return null;
      long quote = parser.currentTokenLocation().getByteOffset();
      String id = parser.getText();
      long end = parser.currentLocation().getByteOffset();
      return quote >= 0 && end > quote && isUtf8(bytes, offset + (int) quote + 1, (int) (end - quote) - 2) ? id : null;
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  private static String scan(JsonParser parser) throws IOException {
    return findId(parser) ? parser.getText() : null;
  }

  /** Moves {@code parser} to the string value of a top-level request_id; false if there is none. */
  private static boolean findId(JsonParser parser) throws IOException {
    if (parser.nextToken() != JsonToken.START_OBJECT) return false;
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String field = parser.currentName();
      JsonToken value = parser.nextToken();
      if (field.equals("request_id")) return value == JsonToken.VALUE_STRING;
      parser.skipChildren();
    }
    return false;
  }

  /**
   * Whether {@code bytes[offset, offset + length)} are strictly UTF-8. Jackson's byte parser reads
   * overlong forms, encoded surrogates and code points past U+10FFFF without complaint (C0 AF as
   * "/"), so an id made of such bytes would be echoed as an id the client never sent.
   */
  private static boolean isUtf8(byte[] bytes, int offset, int length) {
    if (length < 0) return false;
    try {
      StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes, offset, length));
      return true;
    } catch (CharacterCodingException e) {
      return false;
    }
  }

  /**
   * The id of a message whose last field is {@code "request_id":"..."}, from the message's last
   * {@code length} bytes: what a client that adds the id to an object it then serializes sends.
   * Read backwards, the value, its key and the object's closing brace must follow one another
   * with nothing but whitespace between them; a nested field ends in more than one brace. Null also
   * when the id's own bytes are not UTF-8.
   */
  public static String fromEnd(byte[] bytes, int offset, int length) {
    int i = skipWhitespaceBackwards(bytes, offset, offset + length - 1);
    if (i < offset || bytes[i] != '}') return null;
    i = skipWhitespaceBackwards(bytes, offset, i - 1);
    if (i < offset || bytes[i] != '"') return null;
    int close = i;
    int open = close - 1;
    while (open >= offset && !(bytes[open] == '"' && !escaped(bytes, offset, open))) open--;
    if (open < offset) return null;
    i = skipWhitespaceBackwards(bytes, offset, open - 1);
    if (i < offset || bytes[i] != ':') return null;
    i = skipWhitespaceBackwards(bytes, offset, i - 1);
    int keyStart = i - KEY.length + 1;
    if (keyStart < offset || !java.util.Arrays.equals(bytes, keyStart, i + 1, KEY, 0, KEY.length)) return null;
    i = skipWhitespaceBackwards(bytes, offset, keyStart - 1);
    if (i < offset || (bytes[i] != ',' && bytes[i] != '{')) return null;
    if (!isUtf8(bytes, open + 1, close - open - 1)) return null;
    try (JsonParser parser = FACTORY.createParser(bytes, open, close - open + 1)) {
      return parser.nextToken() == JsonToken.VALUE_STRING ? parser.getText() : null;
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /** Whether the quote at {@code at} is escaped: preceded by an odd number of backslashes. */
  private static boolean escaped(byte[] bytes, int offset, int at) {
    int backslashes = 0;
    for (int i = at - 1; i >= offset && bytes[i] == '\\'; i--) backslashes++;
    return (backslashes & 1) == 1;
  }

  private static int skipWhitespaceBackwards(byte[] bytes, int offset, int i) {
    while (i >= offset && (bytes[i] == ' ' || bytes[i] == '\t' || bytes[i] == '\n' || bytes[i] == '\r')) i--;
    return i;
  }
}
