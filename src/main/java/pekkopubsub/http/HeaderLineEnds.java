package pekkopubsub.http;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.HexFormat;
import org.apache.pekko.util.ByteString;

/**
 * Follows the requests a client sends Pekko HTTP on one connection, head, body and trailer, and
 * makes readable each header line that Pekko HTTP's parser would misread because it ends in a UTF-8
 * lead byte ({@link WebSocketHandshake#unreadableLineEnd} tells why), marking the request with a
 * {@link #MARK} header for the front door's answer 400.
 *
 * <p>The parser takes the one to three bytes after a lead byte (0xC0-0xF7) as that character's
 * continuation bytes without looking at them. Where a CR or LF is among them, the lead byte and what
 * stands before that line end become a line end and a {@code MARK: why} line, so the parser sees
 * where the line ends; everywhere else the bytes pass unchanged. Bodies are passed over by their
 * length, never read (a body may hold any bytes).
 *
 * <p>A request whose length a proxy in front of the server could read otherwise than Pekko HTTP
 * does is marked too, so that it is refused and its connection closed (RFC 9112 6.3, 5.2): a
 * Content-Length that is not one decimal number (Pekko HTTP read {@code 1 4} as 14, an empty one as
 * 0, and 2^64 + 5 as 5), a Transfer-Encoding other than chunked alone (Pekko HTTP ignored one it
 * could not parse, {@code chunked,} say, and read no body), one in an HTTP/1.0 request (renamed:
 * Pekko HTTP failed such a request with a 500), a folded line, a header line without a name. A
 * possible WebSocket upgrade, after which the bytes are frames, and a request that Pekko HTTP
 * refuses and closes the connection after (two lengths, a malformed chunk) end the watch: the bytes
 * after its head pass unchanged, as they all did before this class. Empty lines before a request
 * line are left out (RFC 9112 2.2: Pekko HTTP read them as the start of a method, answered 501 and
 * closed).
 *
 * <p>A request line with a bare CR or parts not one space apart, or the target {@code *} asked by
 * another method than OPTIONS, is refused with a mark (Pekko HTTP answered 505 and 404). A trailer
 * line Pekko HTTP would read as a header though a head's would be refused (a lead byte before its
 * end, a fold, no name) and a chunk extension with a bare CR come after the routes took the head:
 * Pekko HTTP is given a byte it refuses there, which fails the body (400, and the connection closed).
 * Request lines and chunk size lines are held back until their end, so that they can be rewritten.
 */
final class HeaderLineEnds {
  /**
   * The header a misread line is replaced with, whose value is the answer's message. Its name is
   * drawn at start, so that no client can send it and only this class asks for that answer.
   */
  static final String MARK = "X-Pubsub-Unreadable-" + HexFormat.of().toHexDigits(new SecureRandom().nextLong());

  /** Longer header names are refused by Pekko HTTP (max-header-name-length, 64). */
  private static final int NAME_BYTES = 64;
  /** A Content-Length or Transfer-Encoding value longer than this is not one this class reads. */
  private static final int VALUE_BYTES = 32;
  private static final byte[] CONTENT_LENGTH = ascii("content-length");
  private static final byte[] TRANSFER_ENCODING = ascii("transfer-encoding");
  private static final byte[] UPGRADE = ascii("upgrade");
  private static final byte[] WEBSOCKET = ascii("websocket");
  /** The last 8 bytes of an HTTP/1.0 request line, as {@link #requestLineTail} holds them. */
  private static final long HTTP_1_0 = tail(ascii("HTTP/1.0"));
  private static final byte[] GET = ascii("GET ");
  /** Content-Length digits past leading zeros read at most: more is no length Pekko HTTP reads right (it wraps at 2^64). */
  private static final int LENGTH_DIGITS = 18;
  /**
   * A request line is held back until its end up to this length, so that a faulty one can be
   * rewritten whole; a longer one Pekko HTTP refuses itself (its URI limit is 2 KiB).
   */
  private static final int REQUEST_LINE_BYTES = 4096;
  /** A chunk's size line is held back until its end; a longer one is refused (Pekko HTTP refuses extensions over 256). */
  private static final int CHUNK_LINE_BYTES = 1024;
  private static final byte[] HEAD = ascii("HEAD ");
  private static final byte[] OPTIONS = ascii("OPTIONS ");

  private enum State {
    REQUEST_LINE, LINE_START, LINE_START_CR, NAME, VALUE, BODY, CHUNK_SIZE, CHUNK_DATA, CHUNK_END, CHUNK_END_LF, PASS
  }

  /** What a header line is to the request's length. */
  private enum Kind { OTHER, CONTENT_LENGTH, TRANSFER_ENCODING, UPGRADE }

  private State state = State.REQUEST_LINE;
  /**
   * Bytes held back: a lead byte and what followed it, too few to tell whether a line end is among
   * them, or the start of a request line or chunk size line whose end has not come.
   */
  private ByteString held = ByteString.emptyByteString();
  /** How many of the held bytes were read already (a line's); a lead byte is read again. */
  private int heldRead;
  /** Where the request line or chunk size line being read starts in the input; -1 once it is too long to hold. */
  private int lineStart;

  // the request line being read
  private int requestLineBytes;
  private boolean get;
  private long requestLineTail;
  private boolean http10;
  private boolean lastWasCr;
  /** A CR not followed by LF (RFC 9112 2.2): Pekko HTTP answered 505 to it, as to an unknown version. */
  private boolean bareCr;
  private int spaces;
  private int firstSpaceAt;
  private int lastSpaceAt;
  /** Two spaces in a row, or one before the method. */
  private boolean spaceBesideSpace;

  // the head or trailer being read
  private boolean inTrailer;
  private final byte[] name = new byte[NAME_BYTES];
  private int nameLength;
  private Kind kind;
  private final byte[] value = new byte[VALUE_BYTES];
  private int valueLength;
  private long contentLength;
  private boolean chunked;
  /** Its length is not told as Pekko HTTP tells it, or it asks for an upgrade: the watch ends with this head. */
  private boolean lengthUnknown;
  /** A line of it was marked: the connection closes after its answer, and the watch ends with it. */
  private boolean marked;
  /** Why the request is refused, marked before the next line; null: not refused. */
  private String refusal;
  /** It may be a WebSocket upgrade: a GET with an Upgrade header naming websocket. */
  private boolean webSocketUpgrade;

  // the Content-Length or Upgrade value being read
  private boolean lengthDigitsSeen;
  private boolean lengthDigitsEnded;
  private boolean lengthInvalid;
  private boolean lengthCr;
  private int lengthDigits;
  private long length;
  private int webSocketMatched;

  // the body being passed over
  private long remaining;
  private long chunkSize;
  private int chunkSizeChars;
  private boolean chunkExtension;
  private boolean chunkCr;

  // the input of one call; read through a buffer, a view of it, or a copy when it has many parts
  // (a head read byte by byte), whose apply would walk them for every byte
  private ByteString input;
  private ByteBuffer view;
  private ByteString out;
  private int copiedUpTo;

  HeaderLineEnds() {
    startRequest();
  }

  /** Whether every byte from here on passes unchanged. */
  boolean passing() {
    return state == State.PASS;
  }

  /**
   * The bytes to give Pekko HTTP for {@code bytes}, the next ones read: the same bytes, unless a
   * line was made readable; without the last one to three of them when they are a lead byte and
   * what followed it so far (they come with the next call, or from {@link #rest}).
   */
  ByteString next(ByteString bytes) {
    if (state == State.PASS) return bytes;
    int i = heldRead;
    if (i > 0) lineStart = 0;
    input = held.isEmpty() ? bytes : held.concat(bytes);
    held = ByteString.emptyByteString();
    heldRead = 0;
    view = input.asByteBuffer();
    out = null;
    copiedUpTo = 0;
    int end = input.length();
    while (i < end && state != State.PASS) {
      i = step(i, end);
      if (i < 0) {
        // a lead byte, or the start of a line, at -i - 1 waits for the bytes after it
        int heldFrom = -i - 1;
        held = input.drop(heldFrom);
        return taken(heldFrom);
      }
    }
    return taken(end);
  }

  /** What was held back, given when the input ends. */
  ByteString rest() {
    ByteString rest = held;
    held = ByteString.emptyByteString();
    heldRead = 0;
    return rest;
  }

  private ByteString taken(int upTo) {
    ByteString taken;
    if (out == null) taken = upTo == input.length() ? input : input.take(upTo);
    else taken = out.concat(input.slice(copiedUpTo, upTo));
    input = null;
    view = null;
    out = null;
    return taken;
  }

  /** Reads from {@code i} in the current state; returns where it stopped, or -(index + 1) of a lead byte to hold back. */
  private int step(int i, int end) {
    switch (state) {
      case REQUEST_LINE -> {
        while (i < end) {
          byte b = view.get(i);
          if (requestLineBytes == 0) {
            if (b == '\r' || b == '\n') {
              // RFC 9112 2.2: an empty line before a request line is ignored; Pekko HTTP read it as a method
              drop(i++);
              continue;
            }
            lineStart = i;
          }
          i++;
          if (b == '\n') {
            requestLineEnded(i);
            state = State.LINE_START;
            return i;
          }
          if (lastWasCr) bareCr = true;
          lastWasCr = b == '\r';
          if (b == ' ') {
            if (lastSpaceAt == requestLineBytes - 1) spaceBesideSpace = true;
            if (spaces++ == 0) firstSpaceAt = requestLineBytes;
            lastSpaceAt = requestLineBytes;
          }
          if (requestLineBytes < GET.length && b != GET[requestLineBytes]) get = false;
          requestLineBytes++;
          if (b != '\r') requestLineTail = requestLineTail << 8 | (b & 0xFF);
        }
        if (lineStart < 0 || requestLineBytes > REQUEST_LINE_BYTES) {
          lineStart = -1;
          return i;
        }
        heldRead = i - lineStart;
        return -lineStart - 1;
      }
      case LINE_START -> {
        byte b = view.get(i);
        if (inTrailer && (b == ' ' || b == '\t')) {
          // Pekko HTTP joins a folded trailer line to the one above; a head's is refused, so is this
          refuseEntity(i);
          return i;
        }
        // a refusal is marked here, after its line, once it is known that the line is not folded
        if (refusal != null && b != ' ' && b != '\t') {
          insert(i, MARK + ": " + refusal + "\r\n");
          refusal = null;
          marked = true;
        }
        if (b == '\n') {
          headEnded();
        } else if (b == '\r') {
          state = State.LINE_START_CR;
        } else if (b == ' ' || b == '\t') {
          // obs-fold (RFC 9112 5.2): Pekko HTTP adds it to the value above, which may be a length, or
          // not (a folded Transfer-Encoding was no chunked one); a proxy may read it otherwise. In a
          // head it is refused, its continuation the value of a second mark; a trailer tells no length.
          if (!inTrailer) {
            String folded = (isTokenName() ? "header " + nameString() : "a header line") + " is folded onto a second line (obs-fold)";
            insert(i, (marked ? "" : MARK + ": " + folded + "\r\n") + MARK + ":");
            refusal = null;
            marked = true;
          }
          lengthUnknown = true;
          kind = Kind.OTHER;
          state = State.VALUE;
        } else {
          nameLength = 0;
          state = State.NAME;
          return i;
        }
        return i + 1;
      }
      case LINE_START_CR -> {
        // a CR that starts a line and ends no head is a header name Pekko HTTP refuses
        if (view.get(i) == '\n') headEnded();
        else state = State.PASS;
        return i + 1;
      }
      case NAME -> {
        while (i < end) {
          byte b = view.get(i++);
          if (b == ':') {
            kind = kindOfName();
            if (kind == Kind.TRANSFER_ENCODING && http10) {
              // RFC 9112 6.1: its framing is faulty. Pekko HTTP failed such a request with a 500 and
              // two ERROR lines; renamed, it is read without it, and refused.
              insert(i - 1, "-Refused");
              refuse("Transfer-Encoding in an HTTP/1.0 request");
              kind = Kind.OTHER;
            } else if (nameLength == 0) {
              if (inTrailer) {
                // Pekko HTTP read a trailer line without a name as a header named by nothing
                refuseEntity(i - 1);
                return i - 1;
              }
              refuse("a header line has no name");
            }
            valueLength = 0;
            startValue();
            state = State.VALUE;
            return i;
          }
          // a line without a colon is refused by Pekko HTTP
          if (b == '\n') {
            state = State.PASS;
            return i;
          }
          if (nameLength < NAME_BYTES) name[nameLength] = b;
          nameLength++;
        }
        return i;
      }
      case VALUE -> {
        return value(i, end);
      }
      case BODY, CHUNK_DATA -> {
        int skipped = (int) Math.min(remaining, end - i);
        remaining -= skipped;
        i += skipped;
        if (remaining == 0) {
          if (state == State.BODY) startRequest();
          else state = State.CHUNK_END;
        }
        return i;
      }
      case CHUNK_SIZE -> {
        return chunkSize(i, end);
      }
      case CHUNK_END -> {
        byte b = view.get(i);
        state = b == '\r' ? State.CHUNK_END_LF : b == '\n' ? chunkStarted() : State.PASS;
        return i + 1;
      }
      case CHUNK_END_LF -> {
        state = view.get(i) == '\n' ? chunkStarted() : State.PASS;
        return i + 1;
      }
      default -> {
        return end;
      }
    }
  }

  /** A header value up to its line end, made readable where it would be misread. */
  private int value(int i, int end) {
    while (i < end) {
      int b = view.get(i) & 0xFF;
      if (b == '\n') {
        lineEnded();
        state = State.LINE_START;
        return i + 1;
      }
      // Pekko HTTP's parser takes the bytes after a lead byte as its continuation bytes unread
      int length = WebSocketHandshake.bytesPekkoReads(b);
      if (length == 1) {
        keep(b);
        i++;
        continue;
      }
      int lineEnd = -1;
      for (int next = i + 1; next < Math.min(i + length, end) && lineEnd < 0; next++) {
        byte c = view.get(next);
        if (c == '\r' || c == '\n') lineEnd = next;
      }
      // a line end already read is marked at once: it may end the head the client waits on
      if (lineEnd < 0 && i + length > end) return -i - 1;
      if (lineEnd < 0) {
        for (int next = i; next < i + length; next++) keep(view.get(next) & 0xFF);
        i += length;
        continue;
      }
      markLine(i, lineEnd, b);
      if (state == State.PASS) return lineEnd;
      i = lineEnd;
    }
    return i;
  }

  /** Replaces the bytes from the lead byte at {@code leadAt} to the line end at {@code lineEnd} with a line end and a {@link #MARK} line. */
  private void markLine(int leadAt, int lineEnd, int leadByte) {
    if (inTrailer) {
      refuseEntity(leadAt);
      return;
    }
    String line = isTokenName() ? "header " + nameString() : "a header line";
    insert(leadAt, "\r\n" + MARK + ": " + WebSocketHandshake.notUtf8(line, leadByte));
    copiedUpTo = lineEnd;
    marked = true;
    kind = Kind.OTHER;
  }

  /** Gives Pekko HTTP {@code text} before the byte at {@code at}. */
  private void insert(int at, String text) {
    ByteString before = input.slice(copiedUpTo, at);
    ByteString inserted = ByteString.fromString(text, StandardCharsets.US_ASCII);
    out = out == null ? before.concat(inserted) : out.concat(before).concat(inserted);
    copiedUpTo = at;
  }

  /** Leaves the byte at {@code at} out of what Pekko HTTP is given. */
  private void drop(int at) {
    insert(at, "");
    copiedUpTo = at + 1;
  }

  /**
   * What the request line says, read whole: a line Pekko HTTP would answer 505 as if its version
   * were unknown (a bare CR, parts not one space apart), and the target {@code *} asked by another
   * method than OPTIONS (which the routes answered 404), are refused. A faulty line is given to
   * Pekko HTTP as {@code GET / HTTP/1.0} (HEAD, if it starts so, to be answered without a body):
   * Pekko HTTP reads the head after it, with the mark, where it refused the line itself.
   */
  private void requestLineEnded(int afterLf) {
    http10 = requestLineTail == HTTP_1_0;
    if (lineStart < 0) return;
    String fault = bareCr ? "the request line holds a CR that ends no line"
        : spaces != 2 || spaceBesideSpace || lastWasCr && lastSpaceAt == requestLineBytes - 2 || lastSpaceAt == requestLineBytes - 1
        ? "the request line is not a method, a target and a version, one space apart" : null;
    if (fault != null) {
      insert(lineStart, (startsWith(lineStart, HEAD) ? "HEAD" : "GET") + " / HTTP/1.0\r\n");
      copiedUpTo = afterLf;
      http10 = true;
      refuse(fault);
    } else if (lastSpaceAt == firstSpaceAt + 2 && view.get(lineStart + firstSpaceAt + 1) == '*' && !startsWith(lineStart, OPTIONS)) {
      refuse("the target * is asked only with OPTIONS");
    }
  }

  private boolean startsWith(int at, byte[] prefix) {
    if (at + prefix.length > input.length()) return false;
    for (int k = 0; k < prefix.length; k++) if (view.get(at + k) != prefix[k]) return false;
    return true;
  }

  /**
   * Refuses the request whose body is being read, its head long taken by the routes: Pekko HTTP is
   * given a NUL at {@code at} (in a trailer line) or a CR starting the chunk size line, which it
   * refuses as it does any such byte, failing the body: the answer is 400 and the connection closes.
   */
  private void refuseEntity(int at) {
    insert(at, state == State.CHUNK_SIZE ? "\r" : "\0");
    state = State.PASS;
  }

  /** The request is refused with {@code why} (the first reason), marked before the next line unless that line folds this one. */
  private void refuse(String why) {
    if (!marked && refusal == null) refusal = why;
  }

  private void startValue() {
    lengthDigitsSeen = false;
    lengthDigitsEnded = false;
    lengthInvalid = false;
    lengthCr = false;
    lengthDigits = 0;
    length = 0;
    webSocketMatched = 0;
  }

  private void keep(int b) {
    switch (kind) {
      case OTHER -> { }
      case CONTENT_LENGTH -> lengthByte(b);
      case UPGRADE -> {
        // letters only in "websocket": b | 0x20 matches one in either case, and no other byte
        int c = b | 0x20;
        if (c == WEBSOCKET[webSocketMatched]) {
          if (++webSocketMatched == WEBSOCKET.length) {
            webSocketUpgrade = get;
            webSocketMatched = 0;
          }
        } else {
          webSocketMatched = c == WEBSOCKET[0] ? 1 : 0;
        }
      }
      case TRANSFER_ENCODING -> {
        if (valueLength < VALUE_BYTES) value[valueLength] = (byte) b;
        valueLength++;
      }
    }
  }

  /** RFC 9110 8.6: Content-Length = 1*DIGIT, with spaces and tabs around it (RFC 9112 5.1); leading zeros are no digits of the length. */
  private void lengthByte(int b) {
    if (lengthCr) {
      lengthInvalid = true;
    } else if (b == '\r') {
      lengthCr = true;
    } else if (b == ' ' || b == '\t') {
      lengthDigitsEnded = lengthDigitsSeen;
    } else if (b >= '0' && b <= '9' && !lengthDigitsEnded) {
      lengthDigitsSeen = true;
      if ((lengthDigits > 0 || b != '0') && ++lengthDigits <= LENGTH_DIGITS) length = length * 10 + b - '0';
    } else {
      lengthInvalid = true;
    }
  }

  private String nameString() {
    return new String(name, 0, Math.min(nameLength, NAME_BYTES), StandardCharsets.US_ASCII);
  }

  private Kind kindOfName() {
    if (inTrailer) return Kind.OTHER;
    if (nameIs(CONTENT_LENGTH)) return Kind.CONTENT_LENGTH;
    if (nameIs(TRANSFER_ENCODING)) return Kind.TRANSFER_ENCODING;
    if (nameIs(UPGRADE)) return Kind.UPGRADE;
    return Kind.OTHER;
  }

  private boolean nameIs(byte[] lowerCase) {
    if (nameLength != lowerCase.length) return false;
    for (int i = 0; i < nameLength; i++) {
      int c = name[i];
      if (c >= 'A' && c <= 'Z') c += 'a' - 'A';
      if (c != lowerCase[i]) return false;
    }
    return true;
  }

  /** Whether the name is one Pekko HTTP reads (RFC 9110 token characters, at most 64): only such a name is quoted in the answer. */
  private boolean isTokenName() {
    if (nameLength == 0 || nameLength > NAME_BYTES) return false;
    for (int i = 0; i < nameLength; i++) {
      int c = name[i];
      boolean token = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
      if (!token) return false;
    }
    return true;
  }

  /** What a header line says of the request's length, read as Pekko HTTP reads it. */
  private void lineEnded() {
    switch (kind) {
      case OTHER -> { }
      // Pekko HTTP may hand the connection over to a WebSocket after such a request; Upgrade: h2c
      // or an upgrade asked by a POST leaves it an HTTP connection
      case UPGRADE -> { if (webSocketUpgrade) lengthUnknown = true; }
      case CONTENT_LENGTH -> {
        if (lengthInvalid || !lengthDigitsSeen) {
          refuse("header Content-Length is not a number");
        } else if (lengthDigits > LENGTH_DIGITS) {
          refuse("header Content-Length is larger than any length this server reads");
        } else if (contentLength >= 0 && length != contentLength) {
          // a second Content-Length that differs is refused by Pekko HTTP; one that repeats the first is ignored
          lengthUnknown = true;
        } else {
          contentLength = length;
        }
      }
      case TRANSFER_ENCODING -> {
        int read = valueLength;
        if (read > 0 && read <= VALUE_BYTES && value[read - 1] == '\r') read--;
        // RFC 9112 6.3: a Transfer-Encoding whose last coding is not chunked is answered 400; Pekko
        // HTTP ignored one it could not parse (chunked, or an empty one) and read the request without a body
        if (read > VALUE_BYTES || chunked || !isChunked(read)) refuse("header Transfer-Encoding is not chunked, the one coding this server reads");
        else chunked = true;
      }
    }
  }

  private boolean isChunked(int length) {
    int from = 0;
    int to = length;
    while (from < to && (value[from] == ' ' || value[from] == '\t')) from++;
    while (to > from && (value[to - 1] == ' ' || value[to - 1] == '\t')) to--;
    return new String(value, from, to - from, StandardCharsets.US_ASCII).equalsIgnoreCase("chunked");
  }

  private void headEnded() {
    if (inTrailer) {
      startRequest();
    } else if (marked || lengthUnknown || (chunked && contentLength >= 0)) {
      // Pekko HTTP refuses a chunked request with a Content-Length, and closes
      state = State.PASS;
    } else if (chunked) {
      state = chunkStarted();
    } else if (contentLength > 0) {
      remaining = contentLength;
      state = State.BODY;
    } else {
      startRequest();
    }
  }

  private void startRequest() {
    state = State.REQUEST_LINE;
    requestLineBytes = 0;
    get = true;
    requestLineTail = 0;
    http10 = false;
    lineStart = -1;
    lastWasCr = false;
    bareCr = false;
    spaces = 0;
    firstSpaceAt = -1;
    lastSpaceAt = -1;
    spaceBesideSpace = false;
    refusal = null;
    webSocketUpgrade = false;
    inTrailer = false;
    contentLength = -1;
    chunked = false;
    lengthUnknown = false;
    marked = false;
  }

  private State chunkStarted() {
    chunkSize = 0;
    chunkSizeChars = 0;
    chunkExtension = false;
    chunkCr = false;
    lineStart = -1;
    return State.CHUNK_SIZE;
  }

  /** A chunk's size line, read as Pekko HTTP reads it: hex digits, spaces and tabs ignored, then an extension or the line end. */
  private int chunkSize(int i, int end) {
    if (lineStart < 0) lineStart = i;
    while (i < end) {
      byte b = view.get(i++);
      if (b == '\n') {
        if (chunkSizeChars == 0) {
          state = State.PASS;
        } else if (chunkSize == 0) {
          inTrailer = true;
          state = State.LINE_START;
        } else {
          remaining = chunkSize;
          state = State.CHUNK_DATA;
        }
        return i;
      }
      if (chunkExtension) {
        // RFC 9112 2.2: a bare CR; Pekko HTTP took it as part of the extension, where a proxy may end the line
        if (chunkCr) {
          refuseEntity(lineStart);
          return i;
        }
        chunkCr = b == '\r';
        continue;
      }
      int digit = Character.digit(b, 16);
      if (chunkCr || (chunkSizeChars == 0 && (b == ';' || b == '\r'))) {
        state = State.PASS;
        return i;
      }
      chunkSizeChars++;
      if (digit >= 0) {
        chunkSize = chunkSize * 16 + digit;
        if (chunkSize > Integer.MAX_VALUE) {
          state = State.PASS;
          return i;
        }
      } else if (b == ';') {
        chunkExtension = true;
      } else if (b == '\r') {
        chunkCr = true;
      } else if (b != ' ' && b != '\t') {
        state = State.PASS;
        return i;
      }
    }
    if (i - lineStart > CHUNK_LINE_BYTES) {
      refuseEntity(lineStart);
      return i;
    }
    heldRead = i - lineStart;
    return -lineStart - 1;
  }

  private static long tail(byte[] bytes) {
    long tail = 0;
    for (byte b : bytes) tail = tail << 8 | (b & 0xFF);
    return tail;
  }

  private static byte[] ascii(String text) {
    return text.getBytes(StandardCharsets.US_ASCII);
  }
}
