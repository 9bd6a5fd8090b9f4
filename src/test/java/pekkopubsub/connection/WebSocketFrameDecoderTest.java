package pekkopubsub.connection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.zip.Deflater;

import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import pekkopubsub.connection.WebSocketFrameDecoder.Event;
import pekkopubsub.connection.WebSocketFrameDecoder.Event.Binary;
import pekkopubsub.connection.WebSocketFrameDecoder.Event.Close;
import pekkopubsub.connection.WebSocketFrameDecoder.Event.InvalidUtf8;
import pekkopubsub.connection.WebSocketFrameDecoder.Event.Ping;
import pekkopubsub.connection.WebSocketFrameDecoder.Event.Pong;
import pekkopubsub.connection.WebSocketFrameDecoder.Event.ProtocolError;
import pekkopubsub.connection.WebSocketFrameDecoder.Event.Text;
import pekkopubsub.connection.WebSocketFrameDecoder.Event.TooLarge;

class WebSocketFrameDecoderTest {

  private static final int FIN = 0x80;
  private static final int CONT = 0x0;
  private static final int TEXT = 0x1;
  private static final int BINARY = 0x2;
  private static final int CLOSE = 0x8;
  private static final int PING = 0x9;
  private static final int PONG = 0xA;

  private static final int LIMIT = 1024;

  private static ActorSystem<Void> system;
  private final Random random = new Random(42);

  @BeforeAll
  static void startSystem() {
    system = ActorSystem.create(Behaviors.empty(), "WebSocketFrameDecoderTest");
  }

  @AfterAll
  static void stopSystem() throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  // ---- lengths and chunking ----

  @Test
  void decodesRfc6455MaskedHelloExample() {
    ByteString frame = bytes(0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58);
    assertEquals(List.of(new Text("Hello")), decode(LIMIT, frame));
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 125, 126, 127, 65535, 65536, 100_000})
  void decodesSevenSixteenAndSixtyFourBitLengths(int size) {
    String text = ascii(size);
    assertEquals(List.of(new Text(text)), decode(200_000, textFrame(text)));
  }

  @Test
  void usesSixteenAndSixtyFourBitLengthEncodings() {
    // Guard that the helper really exercises each encoding.
    assertEquals(126, textFrame(ascii(126)).apply(1) & 0x7F);
    assertEquals(126, textFrame(ascii(65535)).apply(1) & 0x7F);
    assertEquals(127, textFrame(ascii(65536)).apply(1) & 0x7F);
  }

  @Test
  void decodesTextSplitAtEveryByteBoundary() {
    String text = "héllo wörld, ünïcödé € 𝄞 " + ascii(140); // 16-bit length with multi-byte characters
    ByteString frame = textFrame(text).concat(textFrame("next"));
    for (int split = 0; split <= frame.size(); split++) {
      List<ByteString> chunks = List.of(frame.take(split), frame.drop(split));
      assertEquals(List.of(new Text(text), new Text("next")), decode(LIMIT, chunks), "split at " + split);
    }
  }

  @Test
  void decodesTextSplitIntoThreeChunksAtEveryPairOfBoundaries() {
    ByteString frame = textFrame("ab€").concat(pingFrame("p")).concat(textFrame("z"));
    for (int a = 0; a <= frame.size(); a++) {
      for (int b = a; b <= frame.size(); b++) {
        List<ByteString> chunks = List.of(frame.take(a), frame.slice(a, b), frame.drop(b));
        assertEquals(List.of(new Text("ab€"), new Ping(utf8("p")), new Text("z")), decode(LIMIT, chunks),
            "split at " + a + "," + b);
      }
    }
  }

  @Test
  void decodesFramesDeliveredOneByteAtATime() {
    ByteString frames = textFrame(ascii(300)).concat(pingFrame("x")).concat(textFrame("é"));
    assertEquals(List.of(new Text(ascii(300)), new Ping(utf8("x")), new Text("é")),
        decode(LIMIT, chunked(frames, 1)));
  }

  @Test
  void decodesSeveralFramesInOneChunk() {
    ByteString chunk = textFrame("one")
        .concat(textFrame("two"))
        .concat(pingFrame("p"))
        .concat(binaryFrame(10))
        .concat(pongFrame("q"))
        .concat(textFrame("three"));
    assertEquals(List.of(new Text("one"), new Text("two"), new Ping(utf8("p")), new Binary(10, null),
        new Pong(utf8("q")), new Text("three")), decode(LIMIT, chunk));
  }

  @Test
  void emitsEventsWithoutWaitingForUpstreamCompletion() throws Exception {
    // Upstream never completes, so events must be produced one by one on demand.
    ByteString chunk = textFrame("a").concat(textFrame("b")).concat(textFrame("c"));
    List<Event> events = Source.single(chunk)
        .concat(Source.never())
        .via(Flow.fromGraph(new WebSocketFrameDecoder(LIMIT)))
        .take(3)
        .runWith(Sink.seq(), system)
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
    assertEquals(List.of(new Text("a"), new Text("b"), new Text("c")), events);
  }

  @Test
  void emptyTextMessage() {
    assertEquals(List.of(new Text("")), decode(LIMIT, textFrame("")));
  }

  @Test
  void emptyInput() {
    assertEquals(List.of(), decode(LIMIT, List.of()));
  }

  @Test
  void truncatedFrameAtEndOfStreamIsDiscarded() {
    ByteString input = textFrame("complete").concat(textFrame("truncated").dropRight(3));
    assertEquals(List.of(new Text("complete")), decode(LIMIT, input));
  }

  @Test
  void truncatedHeaderAtEndOfStreamIsDiscarded() {
    ByteString input = textFrame("complete").concat(textFrame(ascii(300)).take(3));
    assertEquals(List.of(new Text("complete")), decode(LIMIT, input));
  }

  // ---- fragmentation ----

  @Test
  void reassemblesFragmentedTextWithInterleavedPing() {
    ByteString input = frame(TEXT, utf8("Hel"))
        .concat(pingFrame("ping!"))
        .concat(frame(CONT, utf8("lo, ")))
        .concat(pongFrame(""))
        .concat(frame(CONT, utf8("")))
        .concat(frame(FIN | CONT, utf8("world")))
        .concat(textFrame("after"));
    assertEquals(List.of(new Ping(utf8("ping!")), new Pong(ByteString.emptyByteString()),
        new Text("Hello, world"), new Text("after")), decode(LIMIT, input));
  }

  @Test
  void reassemblesMultiByteCharactersSplitAcrossFragments() {
    byte[] euro = "€".getBytes(StandardCharsets.UTF_8); // E2 82 AC
    byte[] clef = "𝄞".getBytes(StandardCharsets.UTF_8); // F0 9D 84 9E
    ByteString input = frame(TEXT, ByteString.fromArray(new byte[] {'a', euro[0]}))
        .concat(frame(CONT, ByteString.fromArray(new byte[] {euro[1]})))
        .concat(frame(CONT, ByteString.fromArray(new byte[] {euro[2], clef[0], clef[1]})))
        .concat(frame(FIN | CONT, ByteString.fromArray(new byte[] {clef[2], clef[3], 'z'})));
    assertEquals(List.of(new Text("a€𝄞z")), decode(LIMIT, input));
  }

  @Test
  void reassemblesManySmallFragments() {
    StringBuilder expected = new StringBuilder();
    ByteString input = frame(TEXT, utf8("start-"));
    expected.append("start-");
    for (int i = 0; i < 200; i++) {
      String part = "ü" + (i % 10);
      input = input.concat(frame(CONT, utf8(part)));
      expected.append(part);
    }
    input = input.concat(frame(FIN | CONT, utf8("-end")));
    expected.append("-end");
    assertEquals(List.of(new Text(expected.toString())), decode(LIMIT, chunked(input, 7)));
  }

  @Test
  void fragmentedBinaryIsCounted() {
    ByteString input = frame(BINARY, ByteString.fromArray(new byte[100]))
        .concat(frame(FIN | CONT, ByteString.fromArray(new byte[50])))
        .concat(textFrame("ok"));
    assertEquals(List.of(new Binary(150, null), new Text("ok")), decode(LIMIT, input));
  }

  // ---- size limit ----

  @Test
  void messageExactlyAtLimitIsAccepted() {
    assertEquals(List.of(new Text(ascii(LIMIT))), decode(LIMIT, textFrame(ascii(LIMIT))));
  }

  @Test
  void tooLargeSingleFrameIsSkippedAndNextMessageDecoded() {
    ByteString input = textFrame(ascii(LIMIT + 1)).concat(textFrame("next"));
    assertEquals(List.of(new TooLarge(LIMIT + 1, null), new Text("next")), decode(LIMIT, input));
  }

  @Test
  void tooLargeFragmentedMessageIsSkippedAndNextMessageDecoded() {
    // Each fragment fits, the accumulation does not: 600 + 600 > 1024.
    ByteString input = frame(TEXT, utf8(ascii(600)))
        .concat(pingFrame("mid"))
        .concat(frame(CONT, utf8(ascii(600))))
        .concat(frame(FIN | CONT, utf8(ascii(300))))
        .concat(textFrame("next"));
    assertEquals(List.of(new Ping(utf8("mid")), new TooLarge(1500, null), new Text("next")), decode(LIMIT, input));
    assertEquals(List.of(new Ping(utf8("mid")), new TooLarge(1500, null), new Text("next")),
        decode(LIMIT, chunked(input, 13)));
  }

  @Test
  void tooLargeFrameStreamedInManySmallChunksYieldsTooLargeThenText() {
    int size = 200_000;
    ByteString input = textFrame(ascii(size)).concat(textFrame("after"));
    assertEquals(List.of(new TooLarge(size, null), new Text("after")), decode(LIMIT, chunked(input, 97)));
  }

  @Test
  void tooLargeFrameIsSkippedWithoutBuffering() throws Exception {
    // The frame is larger than both the biggest Java array and this JVM's heap, and every chunk is a fresh
    // array: decoding it at all proves its bytes are streamed past and released, not retained.
    int chunkSize = 64 * 1024;
    long size = Math.max(3L << 30, Runtime.getRuntime().maxMemory() + (256L << 20)) / chunkSize * chunkSize;
    long chunks = size / chunkSize;
    Iterator<ByteString> input = new Iterator<>() {
      long sent = -1;

      @Override
      public boolean hasNext() {
        return sent < chunks;
      }

      @Override
      public ByteString next() {
        sent++;
        if (sent == 0) {
          // An all-zero masking key leaves the (irrelevant) payload bytes as they are.
          return header(FIN | TEXT, size, true).concat(ByteString.fromArray(new byte[4]));
        }
        ByteString chunk = ByteString.fromArrayUnsafe(new byte[chunkSize]);
        // The frame's last bytes share a chunk with the next message.
        return sent == chunks ? chunk.concat(textFrame("after")) : chunk;
      }
    };
    List<Event> events = Source.fromIterator(() -> input)
        .concat(Source.never())
        .via(Flow.fromGraph(new WebSocketFrameDecoder(LIMIT)))
        .take(2)
        .runWith(Sink.seq(), system)
        .toCompletableFuture()
        .get(120, TimeUnit.SECONDS);
    assertEquals(List.of(new TooLarge(size, null), new Text("after")), events);
  }

  @Test
  void tooLargeBinaryIsReported() {
    ByteString input = binaryFrame(LIMIT + 10).concat(textFrame("next"));
    assertEquals(List.of(new TooLarge(LIMIT + 10, null), new Text("next")), decode(LIMIT, chunked(input, 100)));
  }

  @Test
  void binaryWithinLimit() {
    assertEquals(List.of(new Binary(LIMIT, null), new Binary(0, null)), decode(LIMIT, binaryFrame(LIMIT).concat(binaryFrame(0))));
  }

  @Test
  void zeroLimitAcceptsOnlyEmptyMessages() {
    ByteString input = textFrame("").concat(textFrame("x")).concat(textFrame(""));
    assertEquals(List.of(new Text(""), new TooLarge(1, null), new Text("")), decode(0, input));
  }

  // ---- the request_id of messages that are not read ----

  @Test
  void aTooLargeMessageKeepsTheRequestIdItStartsWith() {
    String message = "{\"type\":\"publish\",\"request_id\":\"first\",\"topic\":\"t\",\"message\":{\"payload\":\"" + ascii(5_000) + "\"}}";
    for (int chunk : new int[] {1, 3, 97, 100_000}) {
      assertEquals(List.of(new TooLarge(message.length(), "first"), new Text("next")),
          decode(LIMIT, chunked(textFrame(message).concat(textFrame("next")), chunk)), "chunks of " + chunk);
    }
  }

  @Test
  void aTooLargeMessageKeepsTheRequestIdItEndsWith() {
    String message = "{\"type\":\"publish\",\"topic\":\"t\",\"message\":{\"payload\":\"" + ascii(5_000) + "\"},\"request_id\":\"l\\\"ast\"}";
    for (int chunk : new int[] {1, 5, 97, 100_000}) {
      assertEquals(List.of(new TooLarge(message.length(), "l\"ast")),
          decode(LIMIT, chunked(textFrame(message), chunk)), "chunks of " + chunk);
    }
  }

  /** The first fragments were kept as text until the third made the message too large. */
  @Test
  void aFragmentedMessageThatBecomesTooLargeKeepsItsRequestIdFromBothEnds() {
    String start = "{\"request_id\":\"kept\",\"type\":\"ping\",\"pad\":\"";
    ByteString atStart = frame(TEXT, utf8(start + ascii(600)))
        .concat(frame(CONT, utf8(ascii(600))))
        .concat(frame(FIN | CONT, utf8(ascii(300) + "\"}")));
    assertEquals(List.of(new TooLarge(start.length() + 1502, "kept")), decode(LIMIT, chunked(atStart, 7)));

    String end = "\",\"request_id\":\"at-end\"}";
    ByteString atEnd = frame(TEXT, utf8("{\"type\":\"ping\",\"pad\":\"" + ascii(600)))
        .concat(frame(CONT, utf8(ascii(600))))
        .concat(frame(FIN | CONT, utf8(ascii(300) + end)));
    assertEquals("at-end", ((TooLarge) decode(LIMIT, chunked(atEnd, 11)).get(0)).requestId());
  }

  @Test
  void aTooLargeMessageWithTheIdOnlyInItsMiddleOrNestedHasNone() {
    String middle = "{\"pad\":\"" + ascii(3_000) + "\",\"request_id\":\"mid\",\"more\":\"" + ascii(3_000) + "\"}";
    assertEquals(List.of(new TooLarge(middle.length(), null)), decode(LIMIT, textFrame(middle)));
    String nested = "{\"pad\":\"" + ascii(3_000) + "\",\"message\":{\"request_id\":\"inner\"}}";
    assertEquals(List.of(new TooLarge(nested.length(), null)), decode(LIMIT, textFrame(nested)));
  }

  @Test
  void binaryAndInvalidUtf8MessagesKeepTheirRequestId() {
    ByteString binaryJson = frame(FIN | BINARY, utf8("{\"type\":\"ping\",\"request_id\":\"bin\"}"));
    assertEquals(List.of(new Binary(34, "bin")), decode(LIMIT, binaryJson));
    ByteString badUtf8 = frame(FIN | TEXT, utf8("{\"request_id\":\"u\",\"x\":\"").concat(bytes(0xC3, 0x28)).concat(utf8("\"}")));
    assertEquals(List.of(new InvalidUtf8("u")), decode(LIMIT, badUtf8));
  }

  /** C0 AF is an overlong "/": an id made of it was echoed as "u/", an id the client never sent. */
  @Test
  void anIdWhoseBytesAreNotUtf8IsNotKept() {
    ByteString id = utf8("{\"type\":\"ping\",\"request_id\":\"u").concat(bytes(0xC0, 0xAF)).concat(utf8("\""));
    assertEquals(List.of(new InvalidUtf8(null)), decode(LIMIT, frame(FIN | TEXT, id.concat(utf8("}")))));
    assertEquals(List.of(new Binary(id.size() + 1, null)), decode(LIMIT, frame(FIN | BINARY, id.concat(utf8("}")))));
    ByteString tooLarge = id.concat(utf8(",\"pad\":\"" + ascii(LIMIT) + "\"}"));
    assertEquals(List.of(new TooLarge(tooLarge.size(), null)), decode(LIMIT, frame(FIN | TEXT, tooLarge)));
  }

  // ---- UTF-8 ----

  @Test
  void invalidUtf8IsReportedAndConnectionStaysUsable() {
    ByteString input = frame(FIN | TEXT, bytes(0xC3, 0x28)).concat(textFrame("valid"));
    assertEquals(List.of(new InvalidUtf8(null), new Text("valid")), decode(LIMIT, input));
  }

  @Test
  void invalidUtf8AcrossFragmentsIsReported() {
    // Truncated 3-byte sequence at the end of the message.
    ByteString input = frame(TEXT, utf8("ok"))
        .concat(frame(FIN | CONT, bytes(0xE2, 0x82)))
        .concat(textFrame("valid"));
    assertEquals(List.of(new InvalidUtf8(null), new Text("valid")), decode(LIMIT, input));
  }

  @Test
  void surrogateCodePointsAndOverlongEncodingsAreInvalid() {
    assertEquals(List.of(new InvalidUtf8(null)), decode(LIMIT, frame(FIN | TEXT, bytes(0xED, 0xA0, 0x80))));
    assertEquals(List.of(new InvalidUtf8(null)), decode(LIMIT, frame(FIN | TEXT, bytes(0xC0, 0xAF))));
  }

  // ---- protocol errors ----

  @Test
  void unmaskedFrameIsProtocolError() {
    ByteString input = frame(FIN | TEXT, utf8("hi"), false).concat(textFrame("ignored"));
    assertProtocolError(1002, decode(LIMIT, input));
  }

  @ParameterizedTest
  @ValueSource(ints = {0x40, 0x20, 0x10})
  void reservedBitIsProtocolError(int rsv) {
    ByteString input = frame(FIN | rsv | TEXT, utf8("hi")).concat(textFrame("ignored"));
    assertProtocolError(1002, decode(LIMIT, input));
  }

  @ParameterizedTest
  @ValueSource(ints = {0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF})
  void unknownOpcodeIsProtocolError(int opcode) {
    ByteString input = textFrame("first").concat(frame(FIN | opcode, utf8("x"))).concat(textFrame("ignored"));
    List<Event> events = decode(LIMIT, input);
    assertEquals(new Text("first"), events.get(0));
    assertProtocolError(1002, events.subList(1, events.size()));
  }

  @Test
  void oversizedControlFrameIsProtocolError() {
    assertProtocolError(1002, decode(LIMIT, frame(FIN | PING, ByteString.fromArray(new byte[126]))));
  }

  @Test
  void controlFrameWith125BytesIsAccepted() {
    ByteString payload = utf8(ascii(125));
    assertEquals(List.of(new Ping(payload)), decode(LIMIT, frame(FIN | PING, payload)));
  }

  @Test
  void fragmentedControlFrameIsProtocolError() {
    assertProtocolError(1002, decode(LIMIT, frame(PING, utf8("x"))));
  }

  @Test
  void strayContinuationIsProtocolError() {
    assertProtocolError(1002, decode(LIMIT, frame(FIN | CONT, utf8("x"))));
  }

  @Test
  void newDataFrameDuringFragmentedMessageIsProtocolError() {
    ByteString input = frame(TEXT, utf8("part")).concat(textFrame("interrupting"));
    assertProtocolError(1002, decode(LIMIT, input));
  }

  @Test
  void newDataFrameDuringSkippedTooLargeMessageIsProtocolError() {
    ByteString input = frame(TEXT, utf8(ascii(LIMIT + 1))).concat(textFrame("interrupting"));
    assertProtocolError(1002, decode(LIMIT, input));
  }

  @Test
  void sixtyFourBitLengthWithMostSignificantBitIsProtocolError() {
    ByteString header = bytes(FIN | TEXT, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4);
    assertProtocolError(1002, decode(LIMIT, header.concat(utf8("x"))));
  }

  @Test
  void protocolErrorIsDetectedFromPartialHeader() throws Exception {
    // Only two bytes of an unmasked frame arrive and upstream stays open: the error must not wait for more.
    List<Event> events = Source.single(bytes(FIN | TEXT, 126))
        .concat(Source.never())
        .via(Flow.fromGraph(new WebSocketFrameDecoder(LIMIT)))
        .runWith(Sink.seq(), system)
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
    assertProtocolError(1002, events);
  }

  // ---- close ----

  @Test
  void closeWithCodeAndReason() {
    ByteString input = closeFrame(1000, "bye ✓").concat(textFrame("after close"));
    assertEquals(List.of(new Close(1000, "bye ✓")), decode(LIMIT, input));
  }

  @Test
  void closeWithoutPayloadIsNoStatus() {
    ByteString input = frame(FIN | CLOSE, ByteString.emptyByteString()).concat(textFrame("after close"));
    assertEquals(List.of(new Close(1005, "")), decode(LIMIT, input));
  }

  @Test
  void closeBetweenFragmentsEndsTheStream() {
    ByteString input = frame(TEXT, utf8("part")).concat(closeFrame(1001, ""));
    assertEquals(List.of(new Close(1001, "")), decode(LIMIT, input));
  }

  @Test
  void closeWithOneBytePayloadIsProtocolError() {
    assertProtocolError(1002, decode(LIMIT, frame(FIN | CLOSE, bytes(0x03))));
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535})
  void invalidCloseCodeIsProtocolError(int code) {
    assertProtocolError(1002, decode(LIMIT, closeFrame(code, "")));
  }

  @ParameterizedTest
  @ValueSource(ints = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999})
  void validCloseCodeIsAccepted(int code) {
    assertEquals(List.of(new Close(code, "r")), decode(LIMIT, closeFrame(code, "r")));
  }

  @Test
  void closeReasonWithInvalidUtf8IsProtocolError() {
    ByteString payload = bytes(0x03, 0xE8, 0xC3, 0x28);
    assertProtocolError(1007, decode(LIMIT, frame(FIN | CLOSE, payload)));
  }

  // ---- encoder round trip ----

  @ParameterizedTest
  @ValueSource(ints = {0, 125, 126, 65535, 65536})
  void encoderOutputDecodesOnceMasked(int size) {
    String text = ascii(size);
    ByteString serverFrame = WebSocketFrames.text(text);
    assertEquals(List.of(new Text(text)), decode(100_000, maskServerFrame(serverFrame)));
  }

  @Test
  void encodedControlFramesDecodeOnceMasked() {
    ByteString input = maskServerFrame(WebSocketFrames.ping(utf8("a")))
        .concat(maskServerFrame(WebSocketFrames.pong(utf8("b"))))
        .concat(maskServerFrame(WebSocketFrames.close(WebSocketFrames.GOING_AWAY, "going")));
    assertEquals(List.of(new Ping(utf8("a")), new Pong(utf8("b")), new Close(1001, "going")),
        decode(LIMIT, input));
    assertEquals(List.of(new Close(1005, "")),
        decode(LIMIT, maskServerFrame(WebSocketFrames.closeWithoutCode())));
  }

  // ---- permessage-deflate (RFC 7692) ----

  private static final int RSV1 = 0x40;

  @Test
  void compressedMessagesAreInflatedWithTheWindowKeptAcrossMessages() {
    Deflater client = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
    String first = "{\"type\":\"publish\",\"topic\":\"prices\",\"message\":{\"payload\":\"" + "abc".repeat(50) + "\"}}";
    String second = first.replace("prices", "quotes");
    ByteString input = frame(FIN | RSV1 | TEXT, compress(client, first))
        // The second refers back into the first: the decoder's window must have kept it.
        .concat(frame(FIN | RSV1 | TEXT, compress(client, second)))
        .concat(textFrame("plain as well"));
    assertEquals(List.of(new Text(first), new Text(second), new Text("plain as well")), decodeDeflating(LIMIT, List.of(input)));
  }

  @Test
  void aFragmentedCompressedMessageAndACompressedBinaryOneKeepTheWindowInStep() {
    Deflater client = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
    ByteString binary = compress(client, "x".repeat(300));
    ByteString text = compress(client, "{\"type\":\"ping\",\"request_id\":\"" + "x".repeat(100) + "\"}");
    int half = text.size() / 2;
    ByteString input = frame(FIN | RSV1 | BINARY, binary)
        .concat(frame(RSV1 | TEXT, text.take(half)))
        .concat(pingFrame("between"))
        .concat(frame(FIN | CONT, text.drop(half)));
    List<Event> events = decodeDeflating(LIMIT, chunked(input, 7));
    assertEquals(List.of(new Binary(300, null), new Ping(utf8("between")),
        new Text("{\"type\":\"ping\",\"request_id\":\"" + "x".repeat(100) + "\"}")), events);
  }

  @Test
  void aCompressedMessageInflatingPastTheLimitIsAnsweredAsTooLargeAndTheNextOneStillInflates() {
    Deflater client = new Deflater(Deflater.BEST_COMPRESSION, true);
    String over = "{\"request_id\":\"r7\",\"pad\":\"" + "a".repeat(LIMIT) + "\"}";
    ByteString first = compress(client, over);
    assertTrue(first.size() < LIMIT / 10, "small on the wire: " + first.size());
    String next = "{\"pad\":\"" + "a".repeat(LIMIT / 2) + "\"}";
    assertEquals(List.of(new TooLarge(over.length(), "r7"), new Text(next)),
        decodeDeflating(LIMIT, false, List.of(frame(FIN | RSV1 | TEXT, first), frame(FIN | RSV1 | TEXT, compress(client, next)))));
    assertEquals(List.of(new Text("a".repeat(LIMIT))),
        decodeDeflating(LIMIT, false, List.of(frame(FIN | RSV1 | TEXT, compress(new Deflater(Deflater.DEFAULT_COMPRESSION, true), "a".repeat(LIMIT))))),
        "exactly at the limit");
  }

  /** With the window kept across messages it can no longer follow the client's: the connection ends. */
  @Test
  void aCompressedMessageOverTheLimitOnTheWireOrInflatingToManyLimitsEndsAConnectionThatKeepsItsWindow() {
    ByteString bomb = compress(new Deflater(Deflater.BEST_COMPRESSION, true),
        "a".repeat(PerMessageDeflate.Inflating.MOST_LIMITS_INFLATED * LIMIT + 1));
    assertProtocolError(1009, decodeDeflating(LIMIT, false, List.of(frame(FIN | RSV1 | TEXT, bomb).concat(textFrame("ignored")))));
    ByteString incompressible = compress(new Deflater(Deflater.DEFAULT_COMPRESSION, true), randomLetters(4 * LIMIT));
    assertTrue(incompressible.size() > LIMIT, "over the limit on the wire: " + incompressible.size());
    assertProtocolError(1009, decodeDeflating(LIMIT, false, List.of(frame(FIN | RSV1 | TEXT, incompressible).concat(textFrame("ignored")))));
    assertProtocolError(1002, decodeDeflating(LIMIT, false, List.of(frame(FIN | RSV1 | TEXT, bytes(0xFF, 0xFF, 0xFF, 0xFF)))));
  }

  @Test
  void aCompressedMessageWithoutDeflateDataIsAProtocolErrorAndAnEmptyOneIsOneByte() {
    assertProtocolError(1002, decodeDeflating(LIMIT, false, List.of(frame(FIN | RSV1 | TEXT, ByteString.emptyByteString()))));
    Deflater client = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
    ByteString empty = compress(client, "");
    assertEquals(1, empty.size(), "RFC 7692 7.2.3.6");
    assertEquals(List.of(new Text(""), new Text("{\"n\":1}")), decodeDeflating(LIMIT, false,
        List.of(frame(FIN | RSV1 | TEXT, empty), frame(FIN | RSV1 | TEXT, compress(client, "{\"n\":1}")))));
  }

  @Test
  void withoutContextTakeoverAnyCompressedMessageOverTheLimitIsAnsweredAsTooLarge() {
    ByteString bomb = compress(new Deflater(Deflater.BEST_COMPRESSION, true),
        "a".repeat(PerMessageDeflate.Inflating.MOST_LIMITS_INFLATED * LIMIT + 1));
    ByteString incompressible = compress(new Deflater(Deflater.DEFAULT_COMPRESSION, true), randomLetters(4 * LIMIT));
    List<Event> events = decodeDeflating(LIMIT, true, List.of(frame(FIN | RSV1 | TEXT, bomb), frame(FIN | RSV1 | TEXT, incompressible),
        frame(FIN | RSV1 | TEXT, compress(new Deflater(Deflater.DEFAULT_COMPRESSION, true), "{\"n\":1}"))));
    assertEquals(3, events.size(), events::toString);
    assertInstanceOf(TooLarge.class, events.get(0));
    assertEquals(new TooLarge(incompressible.size(), null), events.get(1));
    assertEquals(new Text("{\"n\":1}"), events.get(2));
  }

  private static String randomLetters(int n) {
    Random random = new Random(7);
    StringBuilder text = new StringBuilder(n);
    for (int i = 0; i < n; i++) text.append((char) ('!' + random.nextInt(90)));
    return text.toString();
  }

  @Test
  void rsv1OnAContinuationOrControlFrameIsAProtocolErrorEvenWithCompression() {
    ByteString continuation = frame(TEXT, utf8("a")).concat(frame(FIN | RSV1 | CONT, utf8("b")));
    assertProtocolError(1002, decodeDeflating(LIMIT, List.of(continuation)));
    assertProtocolError(1002, decodeDeflating(LIMIT, List.of(frame(FIN | RSV1 | PING, utf8("p")))));
  }

  private List<Event> decodeDeflating(int limit, List<ByteString> chunks) {
    return decodeDeflating(limit, false, chunks);
  }

  private List<Event> decodeDeflating(int limit, boolean clientNoContextTakeover, List<ByteString> chunks) {
    NegotiatedExtensions extensions = new NegotiatedExtensions();
    extensions.agreed(new PerMessageDeflate.Agreement(clientNoContextTakeover));
    try {
      return Source.from(chunks)
          .via(Flow.fromGraph(new WebSocketFrameDecoder(limit, extensions)))
          .runWith(Sink.seq(), system)
          .toCompletableFuture()
          .get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static ByteString compress(Deflater deflater, String text) {
    return ByteString.fromArray(DeflateClient.compress(deflater, text));
  }

  // ---- helpers ----

  private List<Event> decode(int limit, ByteString input) {
    return decode(limit, List.of(input));
  }

  private List<Event> decode(int limit, List<ByteString> chunks) {
    try {
      return Source.from(chunks)
          .via(Flow.fromGraph(new WebSocketFrameDecoder(limit)))
          .runWith(Sink.seq(), system)
          .toCompletableFuture()
          .get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static void assertProtocolError(int expectedCode, List<Event> events) {
    assertEquals(1, events.size(), () -> "expected exactly one ProtocolError, got " + events);
    ProtocolError error = assertInstanceOf(ProtocolError.class, events.get(0));
    assertEquals(expectedCode, error.closeCode(), error.reason());
  }

  private ByteString textFrame(String text) {
    return frame(FIN | TEXT, utf8(text));
  }

  private ByteString binaryFrame(int size) {
    byte[] payload = new byte[size];
    random.nextBytes(payload);
    return frame(FIN | BINARY, ByteString.fromArray(payload));
  }

  private ByteString pingFrame(String payload) {
    return frame(FIN | PING, utf8(payload));
  }

  private ByteString pongFrame(String payload) {
    return frame(FIN | PONG, utf8(payload));
  }

  private ByteString closeFrame(int code, String reason) {
    byte[] reasonBytes = reason.getBytes(StandardCharsets.UTF_8);
    byte[] payload = new byte[2 + reasonBytes.length];
    payload[0] = (byte) (code >>> 8);
    payload[1] = (byte) code;
    System.arraycopy(reasonBytes, 0, payload, 2, reasonBytes.length);
    return frame(FIN | CLOSE, ByteString.fromArray(payload));
  }

  private ByteString frame(int firstByte, ByteString payload) {
    return frame(firstByte, payload, true);
  }

  /** A client frame with minimal length encoding and, when masked, a fresh random masking key. */
  private ByteString frame(int firstByte, ByteString payload, boolean masked) {
    byte[] data = payload.toArray();
    if (masked) {
      byte[] key = new byte[4];
      random.nextBytes(key);
      for (int i = 0; i < data.length; i++) {
        data[i] ^= key[i & 3];
      }
      return header(firstByte, data.length, true).concat(ByteString.fromArray(key)).concat(ByteString.fromArray(data));
    }
    return header(firstByte, data.length, false).concat(ByteString.fromArray(data));
  }

  /** Frame header up to (not including) the masking key. */
  private static ByteString header(int firstByte, long length, boolean masked) {
    int maskBit = masked ? 0x80 : 0;
    byte[] header;
    if (length <= 125) {
      header = new byte[] {(byte) firstByte, (byte) (maskBit | length)};
    } else if (length <= 0xFFFF) {
      header = new byte[] {(byte) firstByte, (byte) (maskBit | 126), (byte) (length >>> 8), (byte) length};
    } else {
      header = new byte[10];
      header[0] = (byte) firstByte;
      header[1] = (byte) (maskBit | 127);
      for (int i = 0; i < 8; i++) {
        header[9 - i] = (byte) (length >>> (8 * i));
      }
    }
    return ByteString.fromArray(header);
  }

  /** Turns an unmasked server frame into the equivalent masked client frame. */
  private ByteString maskServerFrame(ByteString serverFrame) {
    int len7 = serverFrame.apply(1) & 0x7F;
    int headerLength = len7 == 127 ? 10 : len7 == 126 ? 4 : 2;
    byte[] header = serverFrame.take(headerLength).toArray();
    header[1] |= (byte) 0x80;
    byte[] key = new byte[4];
    random.nextBytes(key);
    byte[] data = serverFrame.drop(headerLength).toArray();
    for (int i = 0; i < data.length; i++) {
      data[i] ^= key[i & 3];
    }
    return ByteString.fromArray(header).concat(ByteString.fromArray(key)).concat(ByteString.fromArray(data));
  }

  private static List<ByteString> chunked(ByteString input, int size) {
    List<ByteString> chunks = new ArrayList<>();
    for (int i = 0; i < input.size(); i += size) {
      chunks.add(input.slice(i, Math.min(input.size(), i + size)));
    }
    return chunks;
  }

  private static String ascii(int size) {
    char[] chars = new char[size];
    for (int i = 0; i < size; i++) {
      chars[i] = (char) ('a' + i % 26);
    }
    return new String(chars);
  }

  private static ByteString utf8(String s) {
    return ByteString.fromString(s, StandardCharsets.UTF_8);
  }

  private static ByteString bytes(int... values) {
    byte[] result = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      result[i] = (byte) values[i];
    }
    return ByteString.fromArray(result);
  }
}
