package pekkopubsub.connection;

import static pekkopubsub.connection.WebSocketFrames.MAX_CONTROL_PAYLOAD;
import static pekkopubsub.connection.WebSocketFrames.OP_BINARY;
import static pekkopubsub.connection.WebSocketFrames.OP_CLOSE;
import static pekkopubsub.connection.WebSocketFrames.OP_CONTINUATION;
import static pekkopubsub.connection.WebSocketFrames.OP_PING;
import static pekkopubsub.connection.WebSocketFrames.OP_PONG;
import static pekkopubsub.connection.WebSocketFrames.OP_TEXT;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.util.ByteString;
import pekkopubsub.protocol.RequestIdSalvage;

/** Decodes the raw client-to-server TCP byte stream of a WebSocket into messages and control frames (RFC 6455). */
public final class WebSocketFrameDecoder extends GraphStage<FlowShape<ByteString, WebSocketFrameDecoder.Event>> {

  /** What the decoder emits: one per complete message, control frame or fatal violation. */
  public sealed interface Event {
    /** A complete, valid UTF-8 text message within the size limit. */
    record Text(String text) implements Event {}

    /**
     * A text or binary message whose total payload exceeded the limit; its payload was skipped, not
     * buffered, except for its first and last {@link RequestIdSalvage#END_BYTES}, where
     * {@code requestId} (null if none) was looked for.
     */
    record TooLarge(long bytes, String requestId) implements Event {}

    /** A complete binary message within the limit; {@code requestId} is its request_id if it holds JSON with one. */
    record Binary(long bytes, String requestId) implements Event {}

    /** A complete text message within the limit that is not valid UTF-8; {@code requestId} as for binary. */
    record InvalidUtf8(String requestId) implements Event {}

    record Ping(ByteString payload) implements Event {}

    record Pong(ByteString payload) implements Event {}

    /** The client's close frame; the stage completes after emitting it. */
    record Close(int code, String reason) implements Event {}

    /** A violation after which the connection must be closed with {@code closeCode}; the stage completes after it. */
    record ProtocolError(int closeCode, String reason) implements Event {}
  }

  private static final int NO_MESSAGE = -1;
  private static final byte[] NO_BYTES = new byte[0];

  private final int maxMessageBytes;
  private final NegotiatedExtensions extensions;
  private final Inlet<ByteString> in = Inlet.create("WebSocketFrameDecoder.in");
  private final Outlet<Event> out = Outlet.create("WebSocketFrameDecoder.out");
  private final FlowShape<ByteString, Event> shape = FlowShape.of(in, out);

  public WebSocketFrameDecoder(int maxMessageBytes) {
    this(maxMessageBytes, new NegotiatedExtensions());
  }

  /** {@code extensions}: what the handshake agreed (compressed messages are accepted once it holds permessage-deflate). */
  public WebSocketFrameDecoder(int maxMessageBytes, NegotiatedExtensions extensions) {
    if (maxMessageBytes < 0) {
      throw new IllegalArgumentException("maxMessageBytes must be >= 0: " + maxMessageBytes);
    }
    this.maxMessageBytes = maxMessageBytes;
    this.extensions = extensions;
  }

  @Override
  public FlowShape<ByteString, Event> shape() {
    return shape;
  }

  @Override
  public Attributes initialAttributes() {
    return Attributes.name("webSocketFrameDecoder");
  }

  @Override
  public GraphStageLogic createLogic(Attributes inheritedAttributes) {
    return new Logic();
  }

  private final class Logic extends GraphStageLogic {
    // Received but not yet parsed bytes: at most a partial header or control frame plus one upstream chunk.
    private ByteString buffer = ByteString.emptyByteString();

    // The frame whose header has been parsed and whose payload is being consumed.
    private boolean inFrame;
    private int frameOpcode;
    private boolean frameFin;
    private long frameRemaining;
    private final byte[] mask = new byte[4];
    private int maskIndex;

    // The data message in progress; it survives control frames interleaved between its fragments.
    private int messageOpcode = NO_MESSAGE;
    private long messageBytes;
    private boolean messageTooLarge;
    private byte[] text = NO_BYTES;
    private int textLength;
    // The first and last bytes of a message too large to keep, unmasked: where its request_id may be found.
    private byte[] skippedStart = NO_BYTES;
    private int skippedStartLength;
    private byte[] skippedEnd = NO_BYTES;
    private int skippedEndLength;
    private int textBitsOr; // OR of all text bytes: bit 7 clear means pure ASCII, which needs no validation
    // RSV1 on the message's first frame: its payload is a deflate stream (RFC 7692), buffered whole, text or binary.
    private boolean messageCompressed;
    private PerMessageDeflate.Inflating inflating;

    private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT);

    Logic() {
      super(shape);

      setHandler(in, new AbstractInHandler() {
        @Override
        public void onPush() {
          buffer = buffer.concat(grab(in));
          if (isAvailable(out)) {
            emitNext();
          }
        }

        @Override
        public void onUpstreamFinish() {
          // Complete only once the buffered complete frames have been emitted on demand.
          if (isAvailable(out)) {
            emitNext();
          }
        }
      });

      setHandler(out, new AbstractOutHandler() {
        @Override
        public void onPull() {
          emitNext();
        }
      });
    }

    @Override
    public void postStop() {
      if (inflating != null) inflating.close();
    }

    /** Called only when downstream has demand: emits one event, or asks upstream for more bytes. */
    private void emitNext() {
      Event event = parseNext();
      if (event != null) {
        push(out, event);
        if (event instanceof Event.Close || event instanceof Event.ProtocolError) {
          // RFC 6455 5.5.1 / 7.1.7: nothing is processed after a close or a failed connection.
          completeStage();
        }
      } else if (isClosed(in)) {
        // Whatever is left is a truncated frame that can never complete.
        completeStage();
      } else if (!hasBeenPulled(in)) {
        pull(in);
      }
    }

    /** Consumes buffered bytes until one event is complete; null when more input is needed. */
    private Event parseNext() {
      while (true) {
        if (!inFrame) {
          Event error = parseHeader();
          if (error != null) {
            return error;
          }
          if (!inFrame) {
            return null;
          }
        }
        if (isControl(frameOpcode)) {
          // Control payloads are at most 125 bytes, so waiting for the whole frame is cheap.
          if (buffer.size() < frameRemaining) {
            return null;
          }
          return controlFrame(takePayload((int) frameRemaining));
        }
        consumeDataPayload();
        if (frameRemaining > 0) {
          return null;
        }
        inFrame = false;
        if (frameFin) {
          return finishMessage();
        }
      }
    }

    /** Parses a frame header if enough bytes are buffered; returns a ProtocolError on a violation. */
    private Event parseHeader() {
      if (buffer.size() < 2) {
        return null;
      }
      int b0 = buffer.apply(0) & 0xFF;
      int b1 = buffer.apply(1) & 0xFF;
      // Checked before the rest of the header arrives so a broken client is rejected as early as possible.
      Event error = checkFirstTwoBytes(b0, b1);
      if (error != null) {
        return error;
      }
      int len7 = b1 & 0x7F;
      int lengthBytes = len7 == 127 ? 8 : len7 == 126 ? 2 : 0;
      int headerLength = 2 + lengthBytes + 4;
      if (buffer.size() < headerLength) {
        return null;
      }
      long length = len7;
      if (lengthBytes > 0) {
        length = 0;
        for (int i = 0; i < lengthBytes; i++) {
          length = (length << 8) | (buffer.apply(2 + i) & 0xFF);
        }
        if (length < 0) {
          return protocolError("64-bit payload length with the most significant bit set");
        }
      }
      for (int i = 0; i < 4; i++) {
        mask[i] = buffer.apply(2 + lengthBytes + i);
      }
      buffer = buffer.drop(headerLength);

      inFrame = true;
      frameOpcode = b0 & 0x0F;
      if (frameOpcode == OP_TEXT || frameOpcode == OP_BINARY) messageCompressed = (b0 & 0x40) != 0;
      frameFin = (b0 & 0x80) != 0;
      frameRemaining = length;
      maskIndex = 0;
      if (!isControl(frameOpcode)) {
        startDataFrame(length);
      }
      return null;
    }

    private Event checkFirstTwoBytes(int b0, int b1) {
      if ((b0 & 0x30) != 0) {
        return protocolError("reserved bits set but no extension was negotiated");
      }
      if ((b0 & 0x40) != 0) {
        int opcode = b0 & 0x0F;
        if (extensions.deflate() == null) return protocolError("reserved bits set but no extension was negotiated");
        if (opcode != OP_TEXT && opcode != OP_BINARY) return protocolError("RSV1 set on a frame that does not start a message");
      }
      if ((b1 & 0x80) == 0) {
        return protocolError("client frame is not masked");
      }
      int opcode = b0 & 0x0F;
      switch (opcode) {
        case OP_CONTINUATION:
          return messageOpcode == NO_MESSAGE ? protocolError("continuation frame without a message in progress") : null;
        case OP_TEXT:
        case OP_BINARY:
          return messageOpcode != NO_MESSAGE ? protocolError("new data frame while a fragmented message is in progress") : null;
        case OP_CLOSE:
        case OP_PING:
        case OP_PONG:
          if ((b0 & 0x80) == 0) {
            return protocolError("fragmented control frame");
          }
          return (b1 & 0x7F) > MAX_CONTROL_PAYLOAD ? protocolError("control frame payload longer than 125 bytes") : null;
        default:
          return protocolError("unknown opcode " + opcode);
      }
    }

    /** Applies the size limit as soon as a header is known, so an oversized message is never buffered. */
    private void startDataFrame(long length) {
      if (frameOpcode != OP_CONTINUATION) {
        messageOpcode = frameOpcode;
        messageBytes = length;
        messageTooLarge = length > maxMessageBytes;
      } else {
        messageBytes = saturatedAdd(messageBytes, length);
        if (!messageTooLarge && messageBytes > maxMessageBytes) {
          messageTooLarge = true;
          keepEnds(text, 0, textLength);
          releaseText();
        }
      }
      if (buffersPayload()) {
        ensureTextCapacity((int) messageBytes);
      }
    }

    /**
     * Text is kept for decoding; binary, for the request_id of the error that answers it; a
     * compressed message of either kind, for inflating (which keeps the window in step).
     */
    private boolean buffersPayload() {
      return !messageTooLarge;
    }

    private void ensureTextCapacity(int needed) {
      if (text.length >= needed) {
        return;
      }
      // A final frame's size is the message size; for open-ended fragments, doubling keeps copying linear.
      int capacity = frameFin ? needed : (int) Math.max(needed, Math.min(maxMessageBytes, 2L * text.length));
      text = Arrays.copyOf(text, capacity);
    }

    /** Consumes as much of the current data frame's payload as is buffered. */
    private void consumeDataPayload() {
      int n = (int) Math.min(frameRemaining, buffer.size());
      if (n == 0) {
        return;
      }
      if (buffersPayload()) {
        buffer.copyToArray(text, textLength, n);
        textBitsOr |= unmask(text, textLength, n);
        textLength += n;
      } else {
        keepSkippedEnds(n);
      }
      buffer = buffer.drop(n);
      frameRemaining -= n;
    }

    /** Keeps what an oversized message's next {@code n} buffered bytes add to its first and last bytes. */
    private void keepSkippedEnds(int n) {
      int toStart = Math.min(n, RequestIdSalvage.END_BYTES - skippedStartLength);
      int toEnd = Math.min(n, RequestIdSalvage.END_BYTES);
      byte[] ends = new byte[toStart + toEnd];
      buffer.copyToArray(ends, 0, toStart);
      buffer.drop(n - toEnd).copyToArray(ends, toStart, toEnd);
      int first = maskIndex;
      unmask(ends, 0, toStart);
      maskIndex = (first + n - toEnd) & 3;
      unmask(ends, toStart, toEnd);
      keepEnds(ends, 0, toStart, ends, toStart, toEnd);
    }

    private void keepEnds(byte[] bytes, int offset, int length) {
      keepEnds(bytes, offset, Math.min(length, RequestIdSalvage.END_BYTES), bytes, offset, length);
    }

    /** Appends {@code startBytes} to the kept start (up to its size) and {@code endBytes} to the kept end (keeping its last bytes). */
    private void keepEnds(byte[] startBytes, int startOffset, int startLength, byte[] endBytes, int endOffset, int endLength) {
      int max = RequestIdSalvage.END_BYTES;
      if (skippedStart.length == 0) {
        skippedStart = new byte[max];
        skippedEnd = new byte[max];
      }
      int toStart = Math.min(startLength, max - skippedStartLength);
      System.arraycopy(startBytes, startOffset, skippedStart, skippedStartLength, toStart);
      skippedStartLength += toStart;
      skippedEndLength = RequestIdSalvage.keepEnd(skippedEnd, skippedEndLength, endBytes, endOffset, endLength);
    }

    private byte[] takePayload(int length) {
      byte[] payload = new byte[length];
      buffer.copyToArray(payload, 0, length);
      unmask(payload, 0, length);
      buffer = buffer.drop(length);
      inFrame = false;
      return payload;
    }

    /** XORs {@code data[from, from + n)} with the mask in place; returns the OR of the unmasked bytes. */
    private int unmask(byte[] data, int from, int n) {
      int m = maskIndex;
      int bits = 0;
      for (int i = from, end = from + n; i < end; i++) {
        byte b = (byte) (data[i] ^ mask[m]);
        data[i] = b;
        bits |= b;
        m = (m + 1) & 3;
      }
      maskIndex = m;
      return bits;
    }

    private Event finishMessage() {
      if (messageCompressed) {
        Event failed = inflate();
        if (failed != null) return failed;
      }
      Event event;
      if (messageTooLarge) {
        event = new Event.TooLarge(messageBytes, salvagedRequestId(skippedStart, skippedStartLength, skippedEnd, 0, skippedEndLength));
        skippedStart = NO_BYTES;
        skippedEnd = NO_BYTES;
        skippedStartLength = 0;
        skippedEndLength = 0;
      } else if (messageOpcode == OP_BINARY) {
        event = new Event.Binary(messageBytes, salvagedRequestId(text, textLength));
      } else {
        String decoded = (textBitsOr & 0x80) == 0
            ? new String(text, 0, textLength, StandardCharsets.US_ASCII)
            : decodeUtf8(text, 0, textLength);
        event = decoded == null ? new Event.InvalidUtf8(salvagedRequestId(text, textLength)) : new Event.Text(decoded);
      }
      messageOpcode = NO_MESSAGE;
      messageBytes = 0;
      messageTooLarge = false;
      messageCompressed = false;
      releaseText();
      return event;
    }

    /**
     * Replaces the buffered payload with its inflation. A message over the limit, compressed or
     * inflated, is answered like an uncompressed one (its request_id found in its inflated ends)
     * while the window can still follow the client's; the connection ends when it cannot: a
     * compressed message over the limit (not kept whole) or one inflating to many times the limit,
     * with the window kept across messages. Data that is not deflate ends it too.
     */
    private Event inflate() {
      if (inflating == null) inflating = new PerMessageDeflate.Inflating(extensions.deflate());
      if (messageTooLarge) {
        if (!inflating.skipped()) return windowLost();
        // Its kept ends are compressed bytes, which hold no readable request_id.
        skippedStartLength = 0;
        skippedEndLength = 0;
        return null;
      }
      // An empty message compresses to one byte (RFC 7692 7.2.3.6); none at all would leave the
      // inflater inside a block, and the next message would be read as its rest.
      if (textLength == 0) return protocolError("compressed message without deflate data");
      PerMessageDeflate.Inflated inflated;
      try {
        inflated = inflating.inflate(text, textLength, maxMessageBytes);
      } catch (java.util.zip.DataFormatException e) {
        return protocolError("compressed message is not a deflate stream: " + e.getMessage());
      }
      if (inflated == null) return windowLost();
      messageBytes = inflated.length();
      if (inflated.tooLarge()) {
        messageTooLarge = true;
        keepEnds(inflated.bytes(), 0, Math.min(inflated.bytes().length, RequestIdSalvage.END_BYTES),
            inflated.end(), 0, inflated.endLength());
        return null;
      }
      text = inflated.bytes();
      textLength = (int) inflated.length();
      int bits = 0;
      for (int i = 0; i < textLength; i++) bits |= text[i];
      textBitsOr = bits;
      return null;
    }

    private Event windowLost() {
      return new Event.ProtocolError(WebSocketFrames.MESSAGE_TOO_BIG, "compressed message larger than " + maxMessageBytes
          + " bytes compressed, or than " + PerMessageDeflate.Inflating.MOST_LIMITS_INFLATED + " times that inflated");
    }

    private static String salvagedRequestId(byte[] whole, int length) {
      int endLength = Math.min(length, RequestIdSalvage.END_BYTES);
      return salvagedRequestId(whole, length, whole, length - endLength, endLength);
    }

    private static String salvagedRequestId(byte[] start, int startLength, byte[] end, int endOffset, int endLength) {
      String id = RequestIdSalvage.fromStart(start, 0, startLength);
      return id != null ? id : RequestIdSalvage.fromEnd(end, endOffset, endLength);
    }

    private void releaseText() {
      // Idle connections should not keep their largest message's buffer alive.
      text = NO_BYTES;
      textLength = 0;
      textBitsOr = 0;
    }

    private Event controlFrame(byte[] payload) {
      switch (frameOpcode) {
        case OP_PING:
          return new Event.Ping(ByteString.fromArrayUnsafe(payload));
        case OP_PONG:
          return new Event.Pong(ByteString.fromArrayUnsafe(payload));
        default:
          return closeFrame(payload);
      }
    }

    private Event closeFrame(byte[] payload) {
      if (payload.length == 0) {
        return new Event.Close(WebSocketFrames.NO_STATUS, "");
      }
      if (payload.length == 1) {
        return protocolError("close frame payload of 1 byte");
      }
      int code = ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF);
      if (!isValidCloseCode(code)) {
        return protocolError("invalid close code " + code);
      }
      String reason = decodeUtf8(payload, 2, payload.length - 2);
      if (reason == null) {
        return new Event.ProtocolError(WebSocketFrames.INVALID_PAYLOAD, "close reason is not valid UTF-8");
      }
      return new Event.Close(code, reason);
    }

    /** Strict UTF-8 decoding; null when the bytes are malformed. */
    private String decodeUtf8(byte[] bytes, int offset, int length) {
      try {
        CharBuffer chars = utf8.decode(ByteBuffer.wrap(bytes, offset, length));
        return chars.toString();
      } catch (CharacterCodingException e) {
        return null;
      }
    }
  }

  private static boolean isControl(int opcode) {
    return (opcode & 0x8) != 0;
  }

  /** RFC 6455 7.4: codes a peer may send; 1004-1006 and 1015 are reserved, 1016-2999 are for future RFCs. */
  static boolean isValidCloseCode(int code) {
    return (code >= 1000 && code <= 1003)
        || (code >= 1007 && code <= 1014)
        || (code >= 3000 && code <= 4999);
  }

  private static Event protocolError(String reason) {
    return new Event.ProtocolError(WebSocketFrames.PROTOCOL_ERROR, reason);
  }

  private static long saturatedAdd(long a, long b) {
    long sum = a + b;
    return sum < 0 ? Long.MAX_VALUE : sum;
  }
}
