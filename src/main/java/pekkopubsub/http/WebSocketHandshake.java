package pekkopubsub.http;

import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.Locale;
import org.apache.pekko.util.ByteString;
import pekkopubsub.connection.PerMessageDeflate;
import pekkopubsub.connection.WebSocketFrames;
import pekkopubsub.protocol.ErrorCode;

/**
 * Recognizes, in the first bytes of a TCP connection, a complete and valid WebSocket upgrade to
 * {@code /ws} that the {@link FrontDoor} can answer without Pekko HTTP. Recognition is deliberately
 * narrow: anything unusual (another path or method, a body, folded or duplicate headers, a failed
 * check, an API key it cannot read plainly) is {@link Other} and goes to Pekko HTTP and the routes,
 * which answer it exactly as they always have, errors included.
 */
final class WebSocketHandshake {

  /** Heads longer than this go to Pekko HTTP, which applies its own parsing limits. */
  static final int MAX_HEAD_BYTES = 16 * 1024;
  private static final int MAX_HEADERS = 64;
  private static final byte[] PREFIX = "GET /ws".getBytes(StandardCharsets.US_ASCII);

  /** What the bytes read so far are. */
  sealed interface Verdict {}

  /** A prefix of a head that may still turn out to be an upgrade to {@code /ws}. */
  enum Incomplete implements Verdict { INSTANCE }

  /** Not for the fast path: Pekko HTTP answers it. */
  enum Other implements Verdict { INSTANCE }

  /** A valid, authorized upgrade whose head is the first {@code headLength} bytes; {@code deflate} null: no compression. */
  record Upgrade(int headLength, String key, PerMessageDeflate.Agreement deflate) implements Verdict {
    /** The 101 answer (RFC 6455 section 4.2.2), with the compression agreed (RFC 7692). */
    ByteString response() {
      return ByteString.fromString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          + "Sec-WebSocket-Accept: " + WebSocketFrames.acceptKey(key) + "\r\n"
          + (deflate == null ? "" : "Sec-WebSocket-Extensions: " + deflate.responseHeader() + "\r\n")
          + "\r\n", StandardCharsets.US_ASCII);
    }
  }

  private WebSocketHandshake() {}

  /** An error answer the gate writes itself, after which it closes the connection; {@code code} is its JSON error's. */
  record ErrorAnswer(ErrorCode code, ByteString bytes) {}

  /** The answer to a head whose first line is no request line, after which the connection is closed. */
  static ErrorAnswer badRequestLine() {
    return badRequest("the first line of the request is not METHOD TARGET HTTP/1.1");
  }

  /** The answer to a connection past the limit of HTTP connections, after which it is closed. */
  static ErrorAnswer serviceUnavailable(String reason) {
    return closingResponse("503 Service Unavailable", "Retry-After: 1\r\n", ErrorCode.INTERNAL, reason);
  }

  private static ErrorAnswer badRequest(String message) {
    return closingResponse("400 Bad Request", "", ErrorCode.BAD_REQUEST, message);
  }

  private static ErrorAnswer closingResponse(String status, String headers, ErrorCode code, String message) {
    ByteString body = JsonErrors.body(code, message);
    // RFC 9110 6.6.1: an origin server with a clock dates its 4xx and 5xx answers.
    String date = DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now(ZoneOffset.UTC));
    return new ErrorAnswer(code, ByteString.fromString("HTTP/1.1 " + status + "\r\nDate: " + date + "\r\n" + headers
        + "Content-Type: application/json\r\nContent-Length: " + body.length() + "\r\nConnection: close\r\n\r\n",
        StandardCharsets.US_ASCII).concat(body));
  }

  private static final byte[][] HEALTH_REQUEST_LINES = {ascii("GET /health "), ascii("GET /health?"), ascii("HEAD /health "),
      ascii("HEAD /health?")};
  private static final ByteString CONNECTION_CLOSE = ByteString.fromString("Connection: close\r\n", StandardCharsets.US_ASCII);

  /**
   * A complete {@code head} asking for {@code /health}, alone (without what followed it), with a
   * {@code Connection: close} after its request line, so that its connection closes once answered;
   * null for any other head.
   */
  static ByteString asHealthProbe(ByteString head) {
    int end = headEnd(head, 0);
    if (end < 0 || !startsWithAnyOf(head, HEALTH_REQUEST_LINES)) return null;
    int afterRequestLine = 0;
    while (head.apply(afterRequestLine) != '\n') afterRequestLine++;
    afterRequestLine++;
    return head.take(afterRequestLine).concat(CONNECTION_CLOSE).concat(head.slice(afterRequestLine, end + 4));
  }

  private static boolean startsWithAnyOf(ByteString bytes, byte[][] prefixes) {
    for (byte[] prefix : prefixes) {
      if (startsWith(bytes, prefix)) return true;
    }
    return false;
  }

  private static boolean startsWith(ByteString bytes, byte[] prefix) {
    if (bytes.length() < prefix.length) return false;
    for (int i = 0; i < prefix.length; i++) {
      if (bytes.apply(i) != prefix[i]) return false;
    }
    return true;
  }

  private static byte[] ascii(String text) {
    return text.getBytes(StandardCharsets.US_ASCII);
  }

  /** {@code bytes} without the CR and LF bytes they start with. */
  static ByteString withoutLeadingLineBreaks(ByteString bytes) {
    int start = 0;
    while (start < bytes.length() && (bytes.apply(start) == '\r' || bytes.apply(start) == '\n')) start++;
    return start == 0 ? bytes : bytes.drop(start);
  }

  /** Whether the first line of a complete head could be a request line: it holds a space before its end. */
  static boolean startsWithRequestLine(ByteString head) {
    int limit = Math.min(head.length(), MAX_HEAD_BYTES);
    for (int i = 0; i < limit; i++) {
      byte b = head.apply(i);
      if (b == ' ') return true;
      if (b == '\r' || b == '\n') return false;
    }
    return false;
  }

  /**
   * Why Pekko HTTP would misread a complete {@code head}, or null: a line that ends in a byte
   * starting a UTF-8 sequence (a Latin-1 {@code é} is one) whose continuation bytes would be its
   * line end. Pekko HTTP's header parser takes the bytes after such a lead byte without looking at
   * them, so the line end became part of the value: the request waited for a head end it had already
   * received until the idle timeout (a lead byte before a bare LF, or a 4-byte one, swallowed the
   * blank line itself), or the next header (a {@code Content-Length}, say) was hidden in the value.
   */
  static String unreadableLineEnd(ByteString head) {
    int end = anyHeadEnd(head, 0);
    int limit = end >= 0 ? end + 1 : Math.min(head.length(), MAX_HEAD_BYTES);
    for (int i = 0; i < limit; i++) {
      int b = head.apply(i) & 0xFF;
      int length = bytesPekkoReads(b);
      for (int next = i + 1; next < i + length && next < head.length(); next++) {
        byte c = head.apply(next);
        if (c == '\r' || c == '\n') {
          return notUtf8(lineNamed(head, i), b);
        }
      }
    }
    return null;
  }

  /**
   * How many bytes Pekko HTTP's header parser takes, unread after the first, for a header value byte
   * {@code b}: a UTF-8 lead byte's sequence length (2 to 4), else 1.
   */
  static int bytesPekkoReads(int b) {
    return b >= 0xF8 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
  }

  /** The message of the answer 400 to a head whose {@code line} ends in {@code leadByte}, here or past the gate ({@link HeaderLineEnds}). */
  static String notUtf8(String line, int leadByte) {
    return line + " ends in a byte that is not UTF-8 (0x" + Integer.toHexString(leadByte).toUpperCase(Locale.ROOT) + ")";
  }

  /** How an error names the line holding the byte at {@code index}: "header NAME", or the request line. */
  private static String lineNamed(ByteString head, int index) {
    int start = index;
    while (start > 0 && head.apply(start - 1) != '\n') start--;
    if (start == 0) return "the request line";
    int colon = start;
    while (colon < index && head.apply(colon) != ':') colon++;
    if (colon == index || colon == start) return "a header line";
    String name = head.slice(start, Math.min(colon, start + 64)).decodeString(StandardCharsets.ISO_8859_1);
    return "header " + name;
  }

  /** The answer to a head Pekko HTTP would misread ({@link #unreadableLineEnd}), after which the connection is closed. */
  static ErrorAnswer unreadableHead(String why) {
    return badRequest(why);
  }

  /** {@code deflate}: whether permessage-deflate may be agreed when the client offers it. */
  static Verdict examine(ByteString bytes, ApiKeys apiKeys, boolean deflate) {
    int prefix = Math.min(bytes.length(), PREFIX.length);
    for (int i = 0; i < prefix; i++) {
      if (bytes.apply(i) != PREFIX[i]) return Other.INSTANCE;
    }
    if (bytes.length() > PREFIX.length && bytes.apply(PREFIX.length) != ' ' && bytes.apply(PREFIX.length) != '?') {
      return Other.INSTANCE;
    }
    int end = anyHeadEnd(bytes, 0);
    if (end < 0) return bytes.length() >= MAX_HEAD_BYTES ? Other.INSTANCE : Incomplete.INSTANCE;
    // A head ended by bare LFs goes to Pekko HTTP, which reads them (RFC 9112 2.2).
    if (end == 0 || bytes.apply(end - 1) != '\r' || bytes.apply(end + 1) != '\r') return Other.INSTANCE;
    return examineHead(bytes.slice(0, end - 1).decodeString(StandardCharsets.ISO_8859_1), end + 3, apiKeys, deflate);
  }

  /**
   * Whether {@code bytes} hold a whole request head, or as much of one as the gate reads; only the
   * bytes after the first {@code scanned} are looked at anew (a trickled head is scanned once).
   */
  static boolean headComplete(ByteString bytes, int scanned) {
    return bytes.length() >= MAX_HEAD_BYTES || anyHeadEnd(bytes, scanned) >= 0;
  }

  /**
   * Index of the LF before the empty line that ends the head, whether its lines end in CRLF or in a
   * bare LF (which RFC 9112 2.2 lets a recipient accept), or -1; only one that ends after the first
   * {@code scanned} bytes is looked for.
   */
  private static int anyHeadEnd(ByteString bytes, int scanned) {
    int limit = Math.min(bytes.length(), MAX_HEAD_BYTES);
    for (int i = Math.max(1, scanned); i < limit; i++) {
      if (bytes.apply(i) != '\n') continue;
      if (bytes.apply(i - 1) == '\n') return i - 1;
      if (i >= 2 && bytes.apply(i - 1) == '\r' && bytes.apply(i - 2) == '\n') return i - 2;
    }
    return -1;
  }

  /** Index of the CRLFCRLF that ends the head, or -1; only one that ends after the first {@code scanned} bytes is looked for. */
  private static int headEnd(ByteString bytes, int scanned) {
    int limit = Math.min(bytes.length(), MAX_HEAD_BYTES);
    for (int i = Math.max(3, scanned); i < limit; i++) {
      if (bytes.apply(i) == '\n' && bytes.apply(i - 1) == '\r' && bytes.apply(i - 2) == '\n' && bytes.apply(i - 3) == '\r') {
        return i - 3;
      }
    }
    return -1;
  }

  private static Verdict examineHead(String head, int headLength, ApiKeys apiKeys, boolean deflate) {
    String[] lines = head.split("\r\n", -1);
    String[] requestLine = lines[0].split(" ", -1);
    if (requestLine.length != 3 || !requestLine[2].equals("HTTP/1.1")) return Other.INSTANCE;
    String target = requestLine[1];
    String query = target.startsWith("/ws?") ? target.substring(4) : null;
    if (!target.equals("/ws") && query == null) return Other.INSTANCE;
    if (lines.length - 1 > MAX_HEADERS) return Other.INSTANCE;

    int hosts = 0, keys = 0, versions = 0, apiKeyHeaders = 0;
    boolean upgrade = false, connectionUpgrade = false;
    String key = null, version = null, apiKey = null, extensions = null;
    for (int i = 1; i < lines.length; i++) {
      String line = lines[i];
      int colon = line.indexOf(':');
      if (colon <= 0 || !isToken(line, colon) || !isPlainValue(line, colon + 1)) return Other.INSTANCE;
      String name = line.substring(0, colon).toLowerCase(Locale.ROOT);
      String value = line.substring(colon + 1).trim();
      switch (name) {
        case "host" -> hosts++;
        case "upgrade" -> upgrade |= hasToken(value, "websocket");
        case "connection" -> connectionUpgrade |= hasToken(value, "upgrade");
        case "sec-websocket-version" -> { versions++; version = value; }
        case "sec-websocket-key" -> { keys++; key = value; }
        case "x-api-key" -> { apiKeyHeaders++; apiKey = value; }
        case "sec-websocket-extensions" -> extensions = extensions == null ? value : extensions + "," + value;
        case "content-length" -> { if (!value.equals("0")) return Other.INSTANCE; }
        case "transfer-encoding", "expect" -> { return Other.INSTANCE; }
        default -> { }
      }
    }
    if (hosts != 1 || !upgrade || !connectionUpgrade || versions != 1 || !"13".equals(version)
        || keys != 1 || !isValidKey(key) || apiKeyHeaders > 1) {
      return Other.INSTANCE;
    }
    if (apiKeys.enabled()) {
      String presented = apiKey != null ? apiKey : queryValue(query, "api_key");
      if (!apiKeys.accepts(presented)) return Other.INSTANCE;
    }
    return new Upgrade(headLength, key, deflate ? PerMessageDeflate.negotiate(extensions) : null);
  }

  /**
   * The decoded value of the first {@code name} parameter, or null (also when it is not valid
   * percent-encoding). Decoded as the routes' query is ({@code +} is a space): a browser must
   * encode a key with {@code + / =} in it, and such a WebSocket taken by Pekko HTTP's upgrade
   * instead would hold one of the HTTP connections' places for its whole life.
   */
  static String queryValue(String query, String name) {
    if (query == null) return null;
    for (String parameter : query.split("&", -1)) {
      int eq = parameter.indexOf('=');
      if (eq < 0 || !parameter.substring(0, eq).equals(name)) continue;
      String value = parameter.substring(eq + 1);
      if (value.indexOf('%') < 0 && value.indexOf('+') < 0) return value;
      try {
        return java.net.URLDecoder.decode(value, StandardCharsets.UTF_8);
      } catch (IllegalArgumentException malformed) {
        return null;
      }
    }
    return null;
  }

  /** RFC 9110 token characters only, so an odd name (or an obsolete folded line) goes to Pekko HTTP. */
  private static boolean isToken(String line, int end) {
    for (int i = 0; i < end; i++) {
      char c = line.charAt(i);
      boolean ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
      if (!ok) return false;
    }
    return true;
  }

  /** Visible ASCII, spaces and tabs only: anything else is for Pekko HTTP's parser to judge. */
  private static boolean isPlainValue(String line, int from) {
    for (int i = from; i < line.length(); i++) {
      char c = line.charAt(i);
      if ((c < 0x20 && c != '\t') || c >= 0x7f) return false;
    }
    return true;
  }

  /** Whether a comma-separated header value lists {@code token}, case-insensitively. */
  static boolean hasToken(String headerValue, String token) {
    for (String part : headerValue.split(",")) {
      if (part.trim().toLowerCase(Locale.ROOT).equals(token)) return true;
    }
    return false;
  }

  /** RFC 6455: the key is the base64 encoding of 16 bytes. */
  static boolean isValidKey(String key) {
    try {
      return key != null && Base64.getDecoder().decode(key).length == 16;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }
}
