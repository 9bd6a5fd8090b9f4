package pekkopubsub.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.pekko.http.javadsl.model.Uri;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import pekkopubsub.connection.PerMessageDeflate;

class WebSocketHandshakeTest {
  private static final String KEY = "dGhlIHNhbXBsZSBub25jZQ==";
  private static final ApiKeys NO_KEYS = new ApiKeys(List.of());
  private static final ApiKeys KEYS = new ApiKeys(List.of("s3cret"));

  private static String upgrade(String target, String extraHeaders) {
    return "GET " + target + " HTTP/1.1\r\nHost: localhost:8000\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
        + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + KEY + "\r\n" + extraHeaders + "\r\n";
  }

  private static WebSocketHandshake.Verdict examine(String head, ApiKeys keys) {
    return WebSocketHandshake.examine(ByteString.fromString(head, StandardCharsets.ISO_8859_1), keys, false);
  }

  private static WebSocketHandshake.Upgrade examineWithDeflate(String extensionHeaders) {
    return assertInstanceOf(WebSocketHandshake.Upgrade.class, WebSocketHandshake.examine(
        ByteString.fromString(upgrade("/ws", extensionHeaders), StandardCharsets.ISO_8859_1), NO_KEYS, true));
  }

  @Test
  void leadingEmptyLinesAreDroppedAndNothingElse() {
    assertEquals("GET / HTTP/1.1\r\n", WebSocketHandshake.withoutLeadingLineBreaks(
        ByteString.fromString("\r\n\n\rGET / HTTP/1.1\r\n")).utf8String());
    assertEquals("", WebSocketHandshake.withoutLeadingLineBreaks(ByteString.fromString("\r\n\r\n")).utf8String());
    ByteString request = ByteString.fromString("GET / HTTP/1.1\r\n\r\n");
    assertSame(request, WebSocketHandshake.withoutLeadingLineBreaks(request));
  }

  @Test
  void aFirstLineWithoutASpaceIsNoRequestLine() {
    assertTrue(WebSocketHandshake.startsWithRequestLine(ByteString.fromString("GET /health HTTP/1.1\r\n\r\n")));
    assertTrue(WebSocketHandshake.startsWithRequestLine(ByteString.fromString("BREW x\r\n\r\n")), "Pekko answers that one");
    assertFalse(WebSocketHandshake.startsWithRequestLine(ByteString.fromString("garbage\r\n\r\n")));
    assertFalse(WebSocketHandshake.startsWithRequestLine(ByteString.fromString("garbage\nHost: a b\r\n\r\n")));
    assertFalse(WebSocketHandshake.startsWithRequestLine(ByteString.fromString("x".repeat(WebSocketHandshake.MAX_HEAD_BYTES + 10))));
    String badRequest = WebSocketHandshake.badRequestLine().bytes().utf8String();
    assertTrue(badRequest.startsWith("HTTP/1.1 400 Bad Request\r\n"), badRequest);
    assertTrue(badRequest.matches("(?s).*\r\nDate: \\w{3}, \\d{1,2} \\w{3} \\d{4} \\d\\d:\\d\\d:\\d\\d GMT\r\n.*"), badRequest);
    String body = badRequest.substring(badRequest.indexOf("\r\n\r\n") + 4);
    assertTrue(badRequest.contains("Content-Length: " + body.length() + "\r\n"), badRequest);
    assertTrue(body.startsWith("{\"error\":{\"code\":\"BAD_REQUEST\""), body);
  }

  @Test
  void permessageDeflateIsAgreedAsBrowsersOfferItAndAnsweredInThe101() {
    // Chrome's and Node ws's offer, then Firefox's.
    var chrome = examineWithDeflate("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n");
    assertEquals(new PerMessageDeflate.Agreement(false), chrome.deflate());
    assertTrue(chrome.response().utf8String().contains(
        "\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n"), chrome.response().utf8String());
    assertEquals(new PerMessageDeflate.Agreement(false), examineWithDeflate("Sec-WebSocket-Extensions: permessage-deflate\r\n").deflate());

    var noTakeover = examineWithDeflate("Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover\r\n");
    assertTrue(noTakeover.response().utf8String().contains(
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n"), noTakeover.response().utf8String());
  }

  @Test
  void offersTheServerCannotHonourAreDeclinedAndTheNextOneTaken() {
    assertNull(examineWithDeflate("Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10\r\n").deflate());
    assertNull(examineWithDeflate("Sec-WebSocket-Extensions: permessage-deflate; unknown_parameter\r\n").deflate());
    assertNull(examineWithDeflate("Sec-WebSocket-Extensions: x-webkit-deflate-frame\r\n").deflate());
    assertNull(examineWithDeflate("").deflate());
    assertFalse(examineWithDeflate("").response().utf8String().contains("Extensions"));
    var second = examineWithDeflate("Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10, "
        + "permessage-deflate; client_no_context_takeover\r\n");
    assertEquals(new PerMessageDeflate.Agreement(true), second.deflate());
    var acrossHeaders = examineWithDeflate("Sec-WebSocket-Extensions: foo\r\nSec-WebSocket-Extensions: permessage-deflate\r\n");
    assertEquals(new PerMessageDeflate.Agreement(false), acrossHeaders.deflate());
  }

  /** RFC 7692 7: a parameter twice, or a value that is not 8-15 in plain decimal, declines the offer. */
  @ParameterizedTest
  @ValueSource(strings = {"server_no_context_takeover; server_no_context_takeover",
      "client_max_window_bits=10; client_max_window_bits=12", "client_max_window_bits=08", "client_max_window_bits=+9",
      "client_max_window_bits=16", "server_max_window_bits=015"})
  void malformedOffersAreDeclined(String parameters) {
    assertNull(examineWithDeflate("Sec-WebSocket-Extensions: permessage-deflate; " + parameters + "\r\n").deflate());
  }

  /** RFC 7692 7.1.2.1: a server accepts server_max_window_bits by answering with it. */
  @Test
  void anAcceptedServerMaxWindowBitsIsEchoed() {
    var offer = examineWithDeflate("Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=15\r\n");
    assertEquals(new PerMessageDeflate.Agreement(false, true), offer.deflate());
    assertTrue(offer.response().utf8String().contains(
        "permessage-deflate; server_no_context_takeover; server_max_window_bits=15\r\n"), offer.response().utf8String());
  }

  @Test
  void withCompressionOffNothingIsAgreed() {
    var verdict = assertInstanceOf(WebSocketHandshake.Upgrade.class,
        examine(upgrade("/ws", "Sec-WebSocket-Extensions: permessage-deflate\r\n"), NO_KEYS));
    assertNull(verdict.deflate());
    assertFalse(verdict.response().utf8String().contains("Extensions"), verdict.response().utf8String());
  }

  @Test
  void aValidUpgradeIsTakenWithTheRfc6455AcceptKeyAndItsHeadLength() {
    String head = upgrade("/ws", "");
    var verdict = assertInstanceOf(WebSocketHandshake.Upgrade.class, examine(head + "\u0081\u0080", NO_KEYS));
    assertEquals(head.length(), verdict.headLength());
    String response = verdict.response().utf8String();
    assertTrue(response.startsWith("HTTP/1.1 101 Switching Protocols\r\n"), response);
    // the example of RFC 6455 section 1.3
    assertTrue(response.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), response);
    assertTrue(response.endsWith("\r\n\r\n"));
  }

  @Test
  void aHeadNotYetCompleteIsWaitedForButOnlyWhileItCanStillBeAnUpgradeToWs() {
    String head = upgrade("/ws", "");
    for (int cut : new int[] {1, 4, 7, 30, head.length() - 1}) {
      assertSame(WebSocketHandshake.Incomplete.INSTANCE, examine(head.substring(0, cut), NO_KEYS), "cut at " + cut);
    }
    assertSame(WebSocketHandshake.Other.INSTANCE, examine("POST", NO_KEYS));
    assertSame(WebSocketHandshake.Other.INSTANCE, examine("GET /h", NO_KEYS));
    assertSame(WebSocketHandshake.Other.INSTANCE, examine("GET /wsx HTTP/1.1\r\n", NO_KEYS));
  }

  @Test
  void aHeadThatNeverEndsGoesToPekkoHttpAtTheLimit() {
    String endless = "GET /ws HTTP/1.1\r\nX-Filler: " + "a".repeat(WebSocketHandshake.MAX_HEAD_BYTES);
    assertSame(WebSocketHandshake.Other.INSTANCE, examine(endless, NO_KEYS));
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "GET /ws HTTP/1.0\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + KEY + "\r\n\r\n",
      "GET /ws/ HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + KEY + "\r\n\r\n",
      "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + KEY + "\r\n\r\n",
      "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + KEY + "\r\n\r\n",
      "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: keep-alive\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + KEY + "\r\n\r\n",
      "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 8\r\nSec-WebSocket-Key: " + KEY + "\r\n\r\n",
      "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: c2hvcnQ=\r\n\r\n",
      "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n",
      "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + KEY + "\r\nSec-WebSocket-Key: " + KEY + "\r\n\r\n",
      "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + KEY + "\r\nContent-Length: 5\r\n\r\n",
      "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + KEY + "\r\nTransfer-Encoding: chunked\r\n\r\n",
      "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + KEY + "\r\nX-Folded: a\r\n b\r\n\r\n",
      "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + KEY + "\r\nBad Name: x\r\n\r\n",
      "GET  /ws HTTP/1.1\r\nHost: h\r\n\r\n",
  })
  void anythingButAPlainValidUpgradeIsLeftToPekkoHttp(String head) {
    assertSame(WebSocketHandshake.Other.INSTANCE, examine(head, NO_KEYS), head);
  }

  @Test
  void withApiKeysOnlyAnUpgradeCarryingAValidKeyIsTaken() {
    assertInstanceOf(WebSocketHandshake.Upgrade.class, examine(upgrade("/ws", "X-API-Key: s3cret\r\n"), KEYS));
    assertInstanceOf(WebSocketHandshake.Upgrade.class, examine(upgrade("/ws?api_key=s3cret", ""), KEYS));
    assertInstanceOf(WebSocketHandshake.Upgrade.class, examine(upgrade("/ws?x=1&api_key=s3cret", ""), KEYS));
    assertSame(WebSocketHandshake.Other.INSTANCE, examine(upgrade("/ws", ""), KEYS));
    assertSame(WebSocketHandshake.Other.INSTANCE, examine(upgrade("/ws", "X-API-Key: wrong\r\n"), KEYS));
    assertSame(WebSocketHandshake.Other.INSTANCE, examine(upgrade("/ws?api_key=wrong", ""), KEYS));
    assertInstanceOf(WebSocketHandshake.Upgrade.class, examine(upgrade("/ws?api_key=s3cre%74", ""), KEYS));
    assertSame(WebSocketHandshake.Other.INSTANCE, examine(upgrade("/ws?api_key=s3cre%7", ""), KEYS));
  }

  /** A browser must percent-encode a key with + / = in it; such an upgrade still takes the fast path. */
  @Test
  void aPercentEncodedKeyIsDecodedAsTheRoutesDecodeIt() {
    ApiKeys base64Key = new ApiKeys(List.of("s3cr+t/="));
    assertInstanceOf(WebSocketHandshake.Upgrade.class, examine(upgrade("/ws?api_key=s3cr%2Bt%2F%3D", ""), base64Key));
    assertSame(WebSocketHandshake.Other.INSTANCE, examine(upgrade("/ws?api_key=s3cr+t/=", ""), base64Key));
  }

  @ParameterizedTest
  @ValueSource(strings = {"api_key=plain", "api_key=s3cr%2Bt%2F%3D", "api_key=a+b", "x=1&api_key=%C3%A9t%C3%A9",
      "api_key=%41%42&api_key=second", "api_key=", "other=1", "api_key=100%25"})
  void queryValuesAgreeWithPekkoHttpsQueryParser(String query) {
    assertEquals(Uri.create("/ws?" + query).query().get("api_key").orElse(null), WebSocketHandshake.queryValue(query, "api_key"), query);
  }

  @Test
  void headerNamesAreCaseInsensitiveAndTokensAreFoundInLists() {
    String head = "GET /ws?room=1 HTTP/1.1\r\nhost: h\r\nUPGRADE: WebSocket\r\nconnection: keep-alive,upgrade\r\n"
        + "sec-websocket-version: 13\r\nsec-websocket-key:  " + KEY + " \r\n\r\n";
    assertInstanceOf(WebSocketHandshake.Upgrade.class, examine(head, NO_KEYS));
  }

  @Test
  void aHealthProbeIsMadeToCloseItsConnectionAfterTheAnswerAndIsAlone() {
    ByteString probe = WebSocketHandshake.asHealthProbe(ascii("GET /health HTTP/1.1\r\nHost: h\r\n\r\nGET /next"));
    assertEquals("GET /health HTTP/1.1\r\nConnection: close\r\nHost: h\r\n\r\n", probe.utf8String());
    assertEquals("HEAD /health?verbose HTTP/1.1\r\nConnection: close\r\n\r\n",
        WebSocketHandshake.asHealthProbe(ascii("HEAD /health?verbose HTTP/1.1\r\n\r\n")).utf8String());
  }

  @ParameterizedTest
  @ValueSource(strings = {"GET /healthz HTTP/1.1\r\n\r\n", "GET /health/x HTTP/1.1\r\n\r\n", "POST /health HTTP/1.1\r\n\r\n",
      "GET /stats HTTP/1.1\r\n\r\n", "GET /health HTTP/1.1\r\nHost: h\r\n"})
  void otherRequestsAndIncompleteHeadsAreNoHealthProbes(String head) {
    assertNull(WebSocketHandshake.asHealthProbe(ascii(head)));
  }

  private static ByteString ascii(String text) {
    return ByteString.fromString(text, StandardCharsets.US_ASCII);
  }

  @Test
  void aHeadIsCompleteAtItsBlankLineOrAtTheSizeTheGateReads() {
    ByteString head = ByteString.fromString("GET /health HTTP/1.1\r\nHost: h\r\n\r\n", StandardCharsets.US_ASCII);
    assertTrue(WebSocketHandshake.headComplete(head, 0));
    assertFalse(WebSocketHandshake.headComplete(head.dropRight(1), 0));
    // The blank line arriving one byte at a time, each time only the new bytes searched.
    for (int split = 1; split < head.length(); split++) {
      assertEquals(split == head.length(), WebSocketHandshake.headComplete(head.take(split), split - 1), "at " + split);
    }
    assertTrue(WebSocketHandshake.headComplete(head.take(head.length()), head.length() - 1));
    ByteString endless = ByteString.fromString("GET /health HTTP/1.1\r\nX: " + "x".repeat(WebSocketHandshake.MAX_HEAD_BYTES), StandardCharsets.US_ASCII);
    assertTrue(WebSocketHandshake.headComplete(endless, 0), "the gate reads no more than MAX_HEAD_BYTES");
  }

  @ParameterizedTest
  @ValueSource(strings = {"GET /health HTTP/1.1\nHost: h\n\n", "GET /health HTTP/1.1\r\nHost: h\n\r\n",
      "GET /ws HTTP/1.1\nHost: h\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Version: 13\n"
          + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\n\n"})
  void aHeadEndedByBareLfsIsCompleteAndLeftToPekkoHttp(String text) {
    ByteString head = ascii(text);
    assertTrue(WebSocketHandshake.headComplete(head, 0));
    assertFalse(WebSocketHandshake.headComplete(head.dropRight(1), 0));
    for (int split = 1; split < head.length(); split++) {
      assertEquals(split == head.length(), WebSocketHandshake.headComplete(head.take(split), split - 1), "at " + split);
    }
    assertSame(WebSocketHandshake.Other.INSTANCE, WebSocketHandshake.examine(head, NO_KEYS, false));
  }

  private static ByteString latin1(String text) {
    return ByteString.fromString(text, StandardCharsets.ISO_8859_1);
  }

  /** Each a byte Pekko HTTP's header parser took with the line end after it as one UTF-8 character. */
  @ParameterizedTest
  @ValueSource(strings = {"GET /health HTTP/1.1\r\nHost: h\r\nUser-Agent: caf\u00e9\r\n\r\n",
      "GET /health HTTP/1.1\r\nUser-Agent: caf\u00c3\r\nHost: h\r\n\r\n",
      "GET /health HTTP/1.1\r\nHost: h\r\nUser-Agent: caf\u00f0a\r\n\r\n",
      "GET /health HTTP/1.1\nHost: h\nUser-Agent: caf\u00e9\n\n",
      "GET /health HTTP/1.1\r\nHost: h\r\nUser-Agent: caf\u00e9\r\nContent-Length: 2\r\n\r\nhi"})
  void aLineEndingInAUtf8LeadByteIsUnreadable(String text) {
    String why = WebSocketHandshake.unreadableLineEnd(latin1(text));
    assertTrue(why != null && why.startsWith("header User-Agent ends in a byte that is not UTF-8 (0x"), why);
  }

  @ParameterizedTest
  @ValueSource(strings = {"GET /health HTTP/1.1\r\nHost: h\r\nUser-Agent: caf\u00c3\u00a9\r\n\r\n",
      "GET /health HTTP/1.1\r\nHost: h\r\nUser-Agent: caf\u00e9 au lait\r\n\r\n",
      "GET /health HTTP/1.1\r\nHost: h\r\nUser-Agent: caf\u00f0\u009f\u0098\u0080\r\n\r\n",
      "GET /health HTTP/1.1\r\nHost: h\r\n\r\n\u00e9\r\n"})
  void utf8AndLeadBytesFollowedByOtherBytesAreLeftToPekkoHttp(String text) {
    assertNull(WebSocketHandshake.unreadableLineEnd(latin1(text)), text);
  }

  @Test
  void anUnreadableRequestLineIsNamedAsSuch() {
    assertEquals("the request line ends in a byte that is not UTF-8 (0xE9)",
        WebSocketHandshake.unreadableLineEnd(latin1("GET /caf\u00e9\r\nHost: h\r\n\r\n")));
  }
}
