package pekkopubsub.connection;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;
import pekkopubsub.protocol.RequestIdSalvage;
import org.apache.pekko.util.ByteString;

/**
 * WebSocket compression, RFC 7692 ("permessage-deflate"): which offer of a client's to accept, how
 * an event is compressed (once, for every subscriber that agreed to it), and how a client's
 * compressed message is inflated, never past the message size limit.
 *
 * <p>The server compresses every message on its own ({@code server_no_context_takeover}), so one
 * compressed frame serves every subscriber; a client may keep its window across messages unless it
 * offered not to, so a connection that receives compressed messages keeps an {@link Inflater}.
 */
public final class PerMessageDeflate {

  /** Events smaller than this are sent uncompressed (per message, RFC 7692 6): too little to gain. */
  public static final int MIN_COMPRESSED_BYTES = 256;

  /** RFC 7692 7.2.1: a compressed message ends without the empty block's last four bytes, 00 00 FF FF. */
  private static final byte[] EMPTY_BLOCK_TAIL = {0, 0, (byte) 0xFF, (byte) 0xFF};

  private static final ThreadLocal<Deflater> DEFLATERS = ThreadLocal.withInitial(() -> new Deflater(Deflater.BEST_SPEED, true));
  private static final ThreadLocal<byte[]> DEFLATE_BUFFER = ThreadLocal.withInitial(() -> new byte[16 * 1024]);

  /**
   * An accepted offer: whether the client also starts each message with an empty window, and
   * whether it asked for the server's window to be 15 bits (which it is).
   */
  public record Agreement(boolean clientNoContextTakeover, boolean serverMaxWindowBitsAsked) {
    public Agreement(boolean clientNoContextTakeover) {
      this(clientNoContextTakeover, false);
    }

    /** The Sec-WebSocket-Extensions value of the 101 answer; an accepted server_max_window_bits is echoed (RFC 7692 7.1.2.1). */
    public String responseHeader() {
      return "permessage-deflate; server_no_context_takeover" + (clientNoContextTakeover ? "; client_no_context_takeover" : "")
          + (serverMaxWindowBitsAsked ? "; server_max_window_bits=15" : "");
    }
  }

  private PerMessageDeflate() {}

  /**
   * The first permessage-deflate offer in a request's Sec-WebSocket-Extensions value(s) that this
   * server can honour, or null. An offer is declined if it limits the server's window
   * ({@code server_max_window_bits} below 15: the JDK's deflater always uses 15) or has a parameter
   * this server does not know, a malformed one, or one twice (RFC 7692 7).
   */
  public static Agreement negotiate(String extensionsHeader) {
    if (extensionsHeader == null) return null;
    for (String offer : extensionsHeader.split(",")) {
      String[] parts = offer.split(";");
      if (!parts[0].trim().equalsIgnoreCase("permessage-deflate")) continue;
      Agreement agreement = accept(parts);
      if (agreement != null) return agreement;
    }
    return null;
  }

  private static Agreement accept(String[] parts) {
    boolean clientNoContextTakeover = false;
    boolean serverMaxWindowBits = false;
    Set<String> seen = new HashSet<>();
    for (int i = 1; i < parts.length; i++) {
      String parameter = parts[i].trim();
      int eq = parameter.indexOf('=');
      String name = (eq < 0 ? parameter : parameter.substring(0, eq)).trim().toLowerCase(Locale.ROOT);
      String value = eq < 0 ? null : parameter.substring(eq + 1).trim().replace("\"", "");
      if (!seen.add(name)) return null;
      switch (name) {
        case "server_no_context_takeover" -> { if (value != null) return null; }
        case "client_no_context_takeover" -> {
          if (value != null) return null;
          clientNoContextTakeover = true;
        }
        case "server_max_window_bits" -> {
          if (!"15".equals(value)) return null;
          serverMaxWindowBits = true;
        }
        // The client may use any window up to 15 bits; the inflater takes any.
        case "client_max_window_bits" -> { if (value != null && !WINDOW_BITS.matcher(value).matches()) return null; }
        default -> { return null; }
      }
    }
    return new Agreement(clientNoContextTakeover, serverMaxWindowBits);
  }

  /** 8 to 15, in decimal without leading zeros or a sign (RFC 7692 7.1.2.1). */
  private static final Pattern WINDOW_BITS = Pattern.compile("8|9|1[0-5]");

  /**
   * What a client that agreed to permessage-deflate gets for the text frame {@code frame} of
   * {@code utf8}: the compressed frame, or {@code frame} itself when the message is too small to
   * gain or would not shrink.
   */
  public static ByteString forAgreedClient(ByteString utf8, ByteString frame) {
    if (utf8.size() < MIN_COMPRESSED_BYTES) return frame;
    ByteString compressed = compressedText(utf8);
    return compressed != null ? compressed : frame;
  }

  /**
   * One final text frame with {@code utf8} compressed (RSV1 set), or null when compressing would
   * not make it smaller. Uses this thread's deflater, reset for each message.
   */
  public static ByteString compressedText(ByteString utf8) {
    Deflater deflater = DEFLATERS.get();
    deflater.reset();
    deflater.setInput(utf8.toArrayUnsafe());
    byte[] buffer = DEFLATE_BUFFER.get();
    ByteString compressed = ByteString.emptyByteString();
    while (true) {
      int n = deflater.deflate(buffer, 0, buffer.length, Deflater.SYNC_FLUSH);
      compressed = compressed.concat(ByteString.fromArray(buffer, 0, n));
      if (n < buffer.length && deflater.needsInput()) break;
    }
    // SYNC_FLUSH ends with the empty block the receiver adds back.
    ByteString payload = compressed.dropRight(EMPTY_BLOCK_TAIL.length);
    if (payload.size() >= utf8.size()) return null;
    return WebSocketFrames.compressedText(payload);
  }

  /**
   * A compressed message, inflated: its {@code length} bytes in {@code bytes}, or, when it inflated
   * to more than the limit ({@code tooLarge}), its whole inflated size in {@code length} and, for
   * finding its request_id, its first bytes in {@code bytes} and its last in {@code end}.
   */
  public record Inflated(byte[] bytes, long length, boolean tooLarge, byte[] end, int endLength) {
    static Inflated within(byte[] bytes, int length) {
      return new Inflated(bytes, length, false, null, 0);
    }
  }

  /** A connection's inflater for the compressed messages its client sends; {@link #close()} frees it. */
  public static final class Inflating implements AutoCloseable {
    /**
     * How much a message over the limit may inflate to, in limits, before the connection gives up
     * on it: with the window kept across messages, the rest must be inflated (and discarded) for
     * the next message to make sense, but a few KB of deflate can inflate to megabytes.
     */
    static final int MOST_LIMITS_INFLATED = 8;

    private final boolean resetEachMessage;
    private Inflater inflater;
    private byte[] scratch;
    /** Whether the message's empty-block tail has been given to the inflater. */
    private boolean tailGiven;

    public Inflating(Agreement agreement) {
      this.resetEachMessage = agreement.clientNoContextTakeover();
    }

    /**
     * The message {@code compressed[0, length)} inflated, or, over {@code maxBytes}, its size and
     * ends; null when it inflates to more than {@link #MOST_LIMITS_INFLATED} limits with the window
     * kept across messages, which then no longer follows the client's. A
     * {@link DataFormatException} when it is not a deflate stream.
     */
    public Inflated inflate(byte[] compressed, int length, int maxBytes) throws DataFormatException {
      if (inflater == null) inflater = new Inflater(true);
      inflater.setInput(compressed, 0, length);
      tailGiven = false;
      byte[] out = new byte[(int) Math.min(maxBytes + 1L, Math.max(64, 4L * length))];
      int produced = 0;
      while (true) {
        if (produced == out.length) {
          // Room for one byte past the limit tells an oversized message from one that fits exactly.
          if (out.length > maxBytes) return overLimit(out, maxBytes);
          out = Arrays.copyOf(out, (int) Math.min(maxBytes + 1L, 2L * out.length));
        }
        int n = inflateSome(out, produced, out.length - produced);
        if (n < 0) break;
        produced += n;
      }
      endMessage();
      return Inflated.within(out, produced);
    }

    /** Inflates into {@code out}; -1 once the message, its empty-block tail included, is all inflated. */
    private int inflateSome(byte[] out, int offset, int room) throws DataFormatException {
      while (true) {
        int n = inflater.inflate(out, offset, room);
        if (n > 0) return n;
        if (inflater.needsInput() && !tailGiven) {
          inflater.setInput(EMPTY_BLOCK_TAIL);
          tailGiven = true;
        } else {
          return -1;
        }
      }
    }

    /**
     * The rest of a message over the limit is inflated into scratch space and counted, keeping its
     * last bytes, so that the connection can answer it and the window stays the client's.
     */
    private Inflated overLimit(byte[] start, int maxBytes) throws DataFormatException {
      if (scratch == null) scratch = new byte[16 * 1024];
      byte[] end = new byte[RequestIdSalvage.END_BYTES];
      int endLength = RequestIdSalvage.keepEnd(end, 0, start, 0, start.length);
      long size = start.length;
      long most = (long) MOST_LIMITS_INFLATED * maxBytes;
      for (int n; (n = inflateSome(scratch, 0, scratch.length)) >= 0; ) {
        size += n;
        if (size > most) {
          inflater.reset();
          return resetEachMessage ? new Inflated(start, size, true, end, endLength) : null;
        }
        endLength = RequestIdSalvage.keepEnd(end, endLength, scratch, 0, n);
      }
      endMessage();
      return new Inflated(start, size, true, end, endLength);
    }

    /**
     * A message over the limit that was not kept whole: with the window kept across messages it
     * can no longer follow the client's (false); otherwise the next message starts afresh (true).
     */
    public boolean skipped() {
      if (inflater != null) inflater.reset();
      return resetEachMessage;
    }

    private void endMessage() {
      // A final block (which context takeover forbids, but a client may send) ends the stream.
      if (resetEachMessage || inflater.finished()) inflater.reset();
    }

    @Override
    public void close() {
      if (inflater != null) inflater.end();
      inflater = null;
    }
  }
}
