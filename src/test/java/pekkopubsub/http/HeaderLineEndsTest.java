package pekkopubsub.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class HeaderLineEndsTest {
  private static final String GOOD = "GET /health HTTP/1.1\r\nHost: h\r\n\r\n";
  private static final String MARK = HeaderLineEnds.MARK + ": ";

  private static ByteString latin1(String text) {
    return ByteString.fromString(text, StandardCharsets.ISO_8859_1);
  }

  /** What Pekko HTTP is given for {@code text} read in one piece, what was held back included. */
  private static String readable(String text) {
    return readable(new HeaderLineEnds(), text);
  }

  private static String readable(HeaderLineEnds lineEnds, String text) {
    return lineEnds.next(latin1(text)).concat(lineEnds.rest()).decodeString(StandardCharsets.ISO_8859_1);
  }

  /** The same, for {@code text} read in pieces cut at {@code cuts}. */
  private static String readableInPieces(String text, int... cuts) {
    HeaderLineEnds lineEnds = new HeaderLineEnds();
    ByteString all = latin1(text);
    ByteString given = ByteString.emptyByteString();
    int from = 0;
    for (int cut : cuts) {
      given = given.concat(lineEnds.next(all.slice(from, cut)));
      from = cut;
    }
    given = given.concat(lineEnds.next(all.drop(from))).concat(lineEnds.rest());
    return given.decodeString(StandardCharsets.ISO_8859_1);
  }

  /** {@code text} cut in two at every place, and in pieces of one byte, is given as it is given in one piece. */
  private static void assertSameInEveryCut(String text) {
    String whole = readable(text);
    for (int cut = 0; cut <= text.length(); cut++) {
      assertEquals(whole, readableInPieces(text, cut), "cut at " + cut);
    }
    int[] everyByte = new int[text.length()];
    for (int i = 0; i < everyByte.length; i++) everyByte[i] = i;
    assertEquals(whole, readableInPieces(text, everyByte), "byte by byte");
  }

  /**
   * Each read right by Pekko HTTP: UTF-8 in values, bodies and chunks holding any bytes, the line
   * ends after a lead byte among them; the head after them is still watched.
   */
  @ParameterizedTest
  @ValueSource(strings = {
      GOOD + "GET /health HTTP/1.1\r\nHost: h\r\nUser-Agent: caf\u00c3\u00a9\r\nX-Emoji: \u00f0\u009f\u0098\u0080\r\n\r\n",
      GOOD + "GET /health HTTP/1.1\nHost: h\nUser-Agent: \u00e2\u0082\u00ac au lait\n\n" + GOOD,
      "POST /topics HTTP/1.1\r\nHost: h\r\nContent-Length: 13\r\n\r\n{\"n\":\"\u00e9\r\n\u00f0\n\"}" + GOOD,
      "POST /topics HTTP/1.1\r\nHost: h\r\ncontent-length:  12 \r\nContent-Length:\t0000000000000000000000012\r\n\r\n\u00e9\r\n\u00e9\r\n\u00f0\r\n\r\n\u00c3" + GOOD,
      "POST /topics HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\nContent-Length: 2\r\n\r\n\u00e9\n" + GOOD,
      "GET /health HTTP/1.1\r\nHost: h\r\nUpgrade: h2c, TLS/1.2\r\nConnection: Upgrade\r\n\r\n" + GOOD,
      "POST /topics HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n3\r\n\u00e9\r\n\r\nA ; x=\u00e9\r\n\u00f0\r\n\r\n\r\n\u00c3\r\n\r\n0\r\nX-Sum: \u00c3\u00a9\r\n\r\n" + GOOD,
      "POST /topics HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\n\u00e9\n0\n\n" + GOOD,
      "GET /health HTTP/1.1\r\nHost: h\r\nUser-Agent: caf\u00c3\u00e9\r\n\r\n" + GOOD})
  void validRequestsAreGivenUnchangedHoweverTheyAreRead(String requests) {
    HeaderLineEnds lineEnds = new HeaderLineEnds();
    assertEquals(requests, readable(lineEnds, requests));
    assertTrue(readable(lineEnds, "GET /health HTTP/1.1\r\nHost: h\r\nUser-Agent: \u00e9\r\n\r\n").contains(MARK),
        "the next head is still watched");
    assertSameInEveryCut(requests);
  }

  @Test
  void aReadWithNothingToChangeIsGivenAsItIs() {
    HeaderLineEnds lineEnds = new HeaderLineEnds();
    ByteString requests = latin1(GOOD + GOOD);
    assertTrue(requests == lineEnds.next(requests), "the same ByteString, not a copy");
  }

  @ParameterizedTest
  @ValueSource(strings = {"User-Agent: caf\u00e9\r\n", "User-Agent: caf\u00c3\r\n", "User-Agent: caf\u00f0a\r\n", "User-Agent: caf\u00f0\r\n"})
  void aLineEndingInALeadByteIsEndedBeforeItAndMarked(String header) {
    String bad = "GET /health HTTP/1.1\r\nHost: h\r\n" + header + "\r\n";
    String lead = String.format("%02X", (int) header.charAt(header.indexOf("caf") + 3));
    String marked = "GET /health HTTP/1.1\r\nHost: h\r\nUser-Agent: caf\r\n"
        + MARK + "header User-Agent ends in a byte that is not UTF-8 (0x" + lead + ")\r\n\r\n";
    assertEquals(GOOD + marked, readable(GOOD + bad));
    assertSameInEveryCut(GOOD + bad);
  }

  /** Pekko HTTP's parser took the blank line as the rest of the character too, and waited for a head end it had. */
  @Test
  void aLeadByteBeforeTheEndOfTheHeadIsMarkedWithoutWaitingForMore() {
    HeaderLineEnds lineEnds = new HeaderLineEnds();
    String given = lineEnds.next(latin1(GOOD + "GET /health HTTP/1.1\nHost: h\nUser-Agent: caf\u00f0\n\n"))
        .decodeString(StandardCharsets.ISO_8859_1);
    assertEquals(GOOD + "GET /health HTTP/1.1\nHost: h\nUser-Agent: caf\r\n" + MARK
        + "header User-Agent ends in a byte that is not UTF-8 (0xF0)\n\n", given);
  }

  @Test
  void aLeadByteAtTheEndOfAReadWaitsForWhatFollowsIt() {
    HeaderLineEnds lineEnds = new HeaderLineEnds();
    String start = GOOD + "GET /health HTTP/1.1\r\nHost: h\r\nUser-Agent: caf";
    assertEquals(start, lineEnds.next(latin1(start + "\u00e2\u0082")).decodeString(StandardCharsets.ISO_8859_1));
    assertEquals("\u00e2\u0082\u00ac\r\n\r\n", lineEnds.next(latin1("\u00ac\r\n\r\n")).decodeString(StandardCharsets.ISO_8859_1));
    assertEquals("", lineEnds.rest().utf8String());

    HeaderLineEnds cutShort = new HeaderLineEnds();
    assertEquals(start, cutShort.next(latin1(start + "\u00e2")).decodeString(StandardCharsets.ISO_8859_1));
    assertEquals("\u00e2", cutShort.rest().decodeString(StandardCharsets.ISO_8859_1), "the input ended: given as it is");
  }

  /** Pekko HTTP read the Content-Length as part of X-Trace's value, and "hi" as the start of the next request. */
  @Test
  void aLineAfterAMarkedOneIsReadAsALine() {
    String bad = "POST /topics HTTP/1.1\r\nHost: h\r\nX-Trace: \u00e9\r\nContent-Length: 2\r\n\r\nhi";
    assertEquals(GOOD + "POST /topics HTTP/1.1\r\nHost: h\r\nX-Trace: \r\n" + MARK
        + "header X-Trace ends in a byte that is not UTF-8 (0xE9)\r\nContent-Length: 2\r\n\r\nhi", readable(GOOD + bad));
  }

  @Test
  void everyMisreadLineOfAHeadIsMarked() {
    String bad = "GET /health HTTP/1.1\r\nA: \u00e9\r\nHost: h\r\nB: x\u00e0\r\n\r\n";
    assertEquals(GOOD + "GET /health HTTP/1.1\r\nA: \r\n" + MARK + "header A ends in a byte that is not UTF-8 (0xE9)\r\nHost: h\r\n"
        + "B: x\r\n" + MARK + "header B ends in a byte that is not UTF-8 (0xE0)\r\n\r\n", readable(GOOD + bad));
  }

  /** The marked request's answer closes the connection: what follows it is not read, so not watched. */
  @Test
  void nothingAfterAMarkedHeadIsChanged() {
    HeaderLineEnds lineEnds = new HeaderLineEnds();
    String bad = "GET /health HTTP/1.1\r\nHost: h\r\nUser-Agent: \u00e9\r\n\r\n";
    readable(lineEnds, bad);
    assertTrue(lineEnds.passing());
    String after = "GET /health HTTP/1.1\r\nHost: h\r\nUser-Agent: \u00e9\r\n\r\n";
    assertEquals(after, readable(lineEnds, after));
  }

  private static final String CHUNKED = "POST /topics HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n";

  /**
   * A trailer comes after its head was taken by the routes, so no mark can refuse it. Pekko HTTP
   * read such a line as a header (a line after a lead byte made readable, a folded line joined to
   * the one above, a line without a name as a header named by nothing) and the next request after
   * it; it is given a NUL there, which it refuses in any header line, failing the body: 400 and the
   * connection closed. Nothing after it is changed.
   */
  @ParameterizedTest
  @ValueSource(strings = {"X-Sum: caf|\u00e9\r\n\r\n", "X-Sum: a\r\n| b\r\n\r\n", "X-Sum: a\r\n|: b\r\n\r\n", "|: b\n\n",
      "X-Sum: \u00c3\u00a9 caf|\u00f0\nX: \u00e9\n\n"})
  void aFaultyTrailerLineIsGivenANulThatFailsTheBody(String trailerWithNulAt) {
    HeaderLineEnds lineEnds = new HeaderLineEnds();
    String[] parts = trailerWithNulAt.split("\\|");
    String before = CHUNKED + "0\r\n" + parts[0];
    String after = parts[1] + "GET /health HTTP/1.1\r\nHost: h\r\nUser-Agent: \u00e9\r\n\r\n";
    assertEquals(before + "\0" + after, readable(lineEnds, before + after));
    assertTrue(lineEnds.passing());
    assertSameInEveryCut(before + after);
  }

  @Test
  void aValidTrailerIsGivenUnchangedAndTheNextRequestIsWatched() {
    String chunked = CHUNKED + "0\r\nX-Sum: \u00c3\u00a9\r\nX-Other: a\r\n\r\n";
    HeaderLineEnds lineEnds = new HeaderLineEnds();
    assertEquals(chunked, readable(lineEnds, chunked));
    assertTrue(readable(lineEnds, "GET /health HTTP/1.1\r\nHost: h\r\nUser-Agent: \u00e9\r\n\r\n").contains(MARK));
  }

  /**
   * RFC 9112 2.2: a bare CR must be refused or read as a space. Pekko HTTP took it as part of the
   * extension, where a proxy that ends the line at it reads the chunk's data elsewhere. The size
   * line is held back until its end, so that it can be given a CR first, which Pekko HTTP refuses
   * ("Illegal character '\r' in chunk start"), however the line is cut.
   */
  @ParameterizedTest
  @ValueSource(strings = {"2;a=\rb\r\n{}\r\n0\r\n\r\n", "2;a\r\r\n{}\r\n0\r\n\r\n", "0;x=\r\r\n\r\n"})
  void aBareCrInAChunkExtensionIsGivenACrThatFailsTheBody(String chunks) {
    HeaderLineEnds lineEnds = new HeaderLineEnds();
    String after = GOOD;
    String given = readable(lineEnds, CHUNKED + chunks + after);
    assertEquals(CHUNKED + "\r" + chunks + after, given);
    assertTrue(lineEnds.passing());
    assertSameInEveryCut(CHUNKED + chunks + after);
  }

  /** Pekko HTTP refuses extensions over 256 characters: a size line longer than 1 KiB is refused, not held without end. */
  @Test
  void aChunkSizeLineTooLongToHoldIsRefused() {
    HeaderLineEnds lineEnds = new HeaderLineEnds();
    String zeros = "0".repeat(2000);
    assertEquals(CHUNKED + "\r" + zeros, lineEnds.next(latin1(CHUNKED + zeros)).decodeString(StandardCharsets.ISO_8859_1));
    assertTrue(lineEnds.passing());
  }

  @Test
  void aChunkSizeLineCutShortIsHeldUntilItsEnd() {
    HeaderLineEnds lineEnds = new HeaderLineEnds();
    assertEquals(CHUNKED, lineEnds.next(latin1(CHUNKED + "1A;nam")).decodeString(StandardCharsets.ISO_8859_1));
    assertEquals("1A;name=v\r\n", lineEnds.next(latin1("e=v\r\n")).decodeString(StandardCharsets.ISO_8859_1));
    assertFalse(lineEnds.passing());
  }

  /**
   * Pekko HTTP answered these 505, as to a version it does not speak, and the target * asked by GET
   * 404. The faulty line is given as a plain one, so that Pekko HTTP reads the head and the mark
   * after it, and keeps HEAD, whose answer has no body.
   */
  @ParameterizedTest
  @ValueSource(strings = {
      "GET /health\rX HTTP/1.1\r\n|GET / HTTP/1.0\r\n|the request line holds a CR that ends no line",
      "HEAD /health HTTP/1.1\rX: y\r\n|HEAD / HTTP/1.0\r\n|the request line holds a CR that ends no line",
      "GET  /health HTTP/1.1\r\n|GET / HTTP/1.0\r\n|the request line is not a method, a target and a version, one space apart",
      "GET /health HTTP/1.1 \r\n|GET / HTTP/1.0\r\n|the request line is not a method, a target and a version, one space apart",
      "GET /a b HTTP/1.1\n|GET / HTTP/1.0\r\n|the request line is not a method, a target and a version, one space apart",
      "GET /health\r\n|GET / HTTP/1.0\r\n|the request line is not a method, a target and a version, one space apart",
      "GET * HTTP/1.1\r\n|GET * HTTP/1.1\r\n|the target * is asked only with OPTIONS",
      "DELETE * HTTP/1.1\r\n|DELETE * HTTP/1.1\r\n|the target * is asked only with OPTIONS"})
  void aRequestLinePekkoWouldMisanswerIsRefused(String lineGivenWhy) {
    String[] parts = lineGivenWhy.split("\\|");
    HeaderLineEnds lineEnds = new HeaderLineEnds();
    String request = parts[0] + "Host: h\r\nTransfer-Encoding: chunked\r\n\r\n";
    String expected = parts[1] + MARK + parts[2] + "\r\nHost: h\r\n"
        + (parts[1].contains("HTTP/1.0") ? "Transfer-Encoding-Refused" : "Transfer-Encoding") + ": chunked\r\n\r\n";
    assertEquals(GOOD + expected + GOOD, readable(lineEnds, GOOD + request + GOOD));
    assertTrue(lineEnds.passing());
    assertSameInEveryCut(GOOD + request);
  }

  @ParameterizedTest
  @ValueSource(strings = {"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", "GET /* HTTP/1.1\r\nHost: h\r\n\r\n",
      "GET http://h/health HTTP/1.1\r\nHost: h\r\n\r\n", "GET /health?q=a%20b HTTP/1.0\n\n"})
  void aValidRequestLineIsGivenUnchanged(String request) {
    assertEquals(GOOD + request + GOOD, readable(GOOD + request + GOOD));
    assertSameInEveryCut(GOOD + request + GOOD);
  }

  /** Pekko HTTP refuses a URI over 2 KiB as soon as it has read that much (414): a longer line is not held. */
  @Test
  void aRequestLineTooLongToHoldIsGivenAsItComes() {
    HeaderLineEnds lineEnds = new HeaderLineEnds();
    String start = "GET /" + "a".repeat(5000);
    assertEquals(start, lineEnds.next(latin1(start)).decodeString(StandardCharsets.ISO_8859_1));
    assertEquals("\rb HTTP/1.1\r\n", lineEnds.next(latin1("\rb HTTP/1.1\r\n")).decodeString(StandardCharsets.ISO_8859_1));
  }

  /**
   * After an upgrade the bytes are WebSocket frames, any bytes; after a length this does not read
   * as Pekko HTTP does, Pekko HTTP refuses the request and closes. Both heads are still made readable.
   */
  @ParameterizedTest
  @ValueSource(strings = {"Upgrade: websocket\r\nConnection: Upgrade\r\n", "Upgrade: h2c,WebSocket\r\nConnection: Upgrade\r\n",
      "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", "Content-Length: 3\r\nContent-Length: 4\r\n"})
  void afterAHeadWhoseLengthIsNotReadNothingIsChanged(String headers) {
    HeaderLineEnds lineEnds = new HeaderLineEnds();
    String head = "GET /ws HTTP/1.1\r\nHost: h\r\n" + headers + "User-Agent: \u00e9\r\n\r\n";
    String given = readable(lineEnds, GOOD + head);
    assertTrue(given.endsWith("User-Agent: \r\n" + MARK + "header User-Agent ends in a byte that is not UTF-8 (0xE9)\r\n\r\n"), given);
    assertTrue(lineEnds.passing());

    HeaderLineEnds unmarked = new HeaderLineEnds();
    String frames = "\u0081\u0085\u00e9\r\n\u00f0\n\u00c3\r\n\r\n";
    String plain = GOOD + "GET /ws HTTP/1.1\r\nHost: h\r\n" + headers + "\r\n" + frames;
    assertEquals(plain, readable(unmarked, plain));
    assertTrue(unmarked.passing());
  }

  /**
   * Lengths a proxy in front may read otherwise than Pekko HTTP did: it read "1 4" as 14, an empty
   * length as 0, 2^64 + 5 as 5, a Transfer-Encoding it could not parse as none, and a folded
   * Transfer-Encoding as none; each is marked once, after its line, and the watch ends with it.
   */
  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "Content-Length: 1 4\\r\\n|header Content-Length is not a number",
      "Content-Length:\\r\\n|header Content-Length is not a number",
      "Content-Length: +14\\r\\n|header Content-Length is not a number",
      "Content-Length: 14, 14\\r\\n|header Content-Length is not a number",
      "Content-Length: 18446744073709551621\\r\\n|header Content-Length is larger than any length this server reads",
      "Transfer-Encoding: chunked,\\r\\n|header Transfer-Encoding is not chunked, the one coding this server reads",
      "Content-Length: 14\\r\\nTransfer-Encoding:\\r\\n|header Transfer-Encoding is not chunked, the one coding this server reads",
      "Transfer-Encoding: gzip, chunked\\r\\n|header Transfer-Encoding is not chunked, the one coding this server reads",
      "Transfer-Encoding: chunked\\r\\nTransfer-Encoding: chunked\\r\\n|header Transfer-Encoding is not chunked, the one coding this server reads",
      ": x\\r\\n|a header line has no name"})
  void aLengthAProxyMayReadOtherwiseIsRefused(String headers, String why) {
    HeaderLineEnds lineEnds = new HeaderLineEnds();
    String head = "POST /topics HTTP/1.1\r\nHost: h\r\n" + unescape(headers);
    String given = readable(lineEnds, GOOD + head + "\r\n0\r\n\r\n");
    assertEquals(GOOD + head + MARK + why + "\r\n\r\n0\r\n\r\n", given);
    assertTrue(lineEnds.passing());
    assertSameInEveryCut(GOOD + head + "\r\n");
  }

  private static String unescape(String csv) {
    return csv.replace("\\r", "\r").replace("\\n", "\n");
  }

  /** Pekko HTTP read a folded Transfer-Encoding as none, where a proxy that unfolds it reads chunked. */
  @ParameterizedTest
  @ValueSource(strings = {"Transfer-Encoding:\r\n chunked\r\n", "Content-Length: 1\r\n\t4\r\n"})
  void aFoldedLineIsRefusedItsRestTheValueOfASecondMark(String headers) {
    HeaderLineEnds lineEnds = new HeaderLineEnds();
    String head = "POST /topics HTTP/1.1\r\nHost: h\r\n" + headers + "\r\n";
    String name = headers.substring(0, headers.indexOf(':'));
    int fold = head.indexOf("\n ") >= 0 ? head.indexOf("\n ") + 1 : head.indexOf("\n\t") + 1;
    String expected = head.substring(0, fold) + MARK + "header " + name + " is folded onto a second line (obs-fold)\r\n"
        + HeaderLineEnds.MARK + ":" + head.substring(fold);
    assertEquals(GOOD + expected, readable(lineEnds, GOOD + head));
    assertTrue(lineEnds.passing());
    assertSameInEveryCut(GOOD + head);
  }

  /** Pekko HTTP failed an HTTP/1.0 request with a chunked body in its own stage: 500, and two ERROR lines. */
  @Test
  void aTransferEncodingInAnHttp10RequestIsRenamedAndRefused() {
    String head = "POST /topics HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
    assertEquals("POST /topics HTTP/1.0\r\nTransfer-Encoding-Refused: chunked\r\n"
        + MARK + "Transfer-Encoding in an HTTP/1.0 request\r\n\r\n0\r\n\r\n", readable(head));
    assertSameInEveryCut(head);
    String http11 = "POST /topics HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
    assertEquals(http11, readable(http11));
  }

  /** RFC 9112 2.2; Pekko HTTP read them as the start of a method ("\r\nGET"), answered 501 and closed. */
  @Test
  void emptyLinesBeforeALaterRequestLineAreLeftOut() {
    String body = "POST /topics HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n{}";
    assertEquals(body + GOOD + GOOD, readable(body + "\r\n" + GOOD + "\r\n\n\r\n" + GOOD));
    assertSameInEveryCut(body + "\r\n" + GOOD + "\r\n\n\r\n" + GOOD);
  }

  @Test
  void aRequestWithoutABodyIsFollowedByTheNextHead() {
    HeaderLineEnds lineEnds = new HeaderLineEnds();
    readable(lineEnds, "GET /health HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n");
    assertFalse(lineEnds.passing());
    assertTrue(readable(lineEnds, "GET /health HTTP/1.1\r\nUser-Agent: \u00e9\r\n\r\n").contains(MARK));
  }

  /** Pekko HTTP refuses a header name that is no token: such a name is not repeated in the answer. */
  @Test
  void aNameThatIsNoTokenIsNotQuoted() {
    assertTrue(readable(GOOD + "GET / HTTP/1.1\r\nBad Name: \u00e9\r\n\r\n").contains(MARK + "a header line ends in a byte"));
  }

  /** A later request is answered as the gate answers a first head with the same line. */
  @ParameterizedTest
  @ValueSource(strings = {"User-Agent: caf\u00e9\r\n", "X-Trace: \u00f0\nContent-Length: 2\n", "A: \u00c3\r\nB: \u00e0\r\n"})
  void theMarkSaysWhatTheGateSaysOfAFirstHead(String headers) {
    String head = "GET /health HTTP/1.1\r\nHost: h\r\n" + headers + "\r\n";
    String given = readable(GOOD + head);
    int mark = given.indexOf(MARK) + MARK.length();
    assertEquals(WebSocketHandshake.unreadableLineEnd(latin1(head)), given.substring(mark).split("[\r\n]", 2)[0]);
  }

  @Test
  void theMarkIsAHeaderNameNoClientKnows() {
    assertTrue(HeaderLineEnds.MARK.matches("X-Pubsub-Unreadable-[0-9a-f]{16}"), HeaderLineEnds.MARK);
    assertTrue(HeaderLineEnds.MARK.length() <= 64, "Pekko HTTP's longest header name");
  }
}
