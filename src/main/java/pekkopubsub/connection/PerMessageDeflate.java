package pekkopubsub.connection;

import java.util.Arrays;
import java.util.Locale;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;
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

  /** An accepted offer: whether the client also starts each message with an empty window. */
  public record Agreement(boolean clientNoContextTakeover) {
    /** The Sec-WebSocket-Extensions value of the 101 answer. */
    public String responseHeader() {
      return "permessage-deflate; server_no_context_takeover" + (clientNoContextTakeover ? "; client_no_context_takeover" : "");
    }
  }

  private PerMessageDeflate() {}

  /**
   * The first permessage-deflate offer in a request's Sec-WebSocket-Extensions value(s) that this
   * server can honour, or null. An offer is declined if it limits the server's window
   * ({@code server_max_window_bits} below 15: the JDK's deflater always uses 15) or has a parameter
   * this server does not know or a malformed one.
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
    for (int i = 1; i < parts.length; i++) {
      String parameter = parts[i].trim();
      int eq = parameter.indexOf('=');
      String name = (eq < 0 ? parameter : parameter.substring(0, eq)).trim().toLowerCase(Locale.ROOT);
      String value = eq < 0 ? null : parameter.substring(eq + 1).trim().replace("\"", "");
      switch (name) {
        case "server_no_context_takeover" -> { if (value != null) return null; }
        case "client_no_context_takeover" -> {
          if (value != null) return null;
          clientNoContextTakeover = true;
        }
        case "server_max_window_bits" -> { if (!"15".equals(value)) return null; }
        // The client may use any window up to 15 bits; the inflater takes any.
        case "client_max_window_bits" -> { if (value != null && !isWindowBits(value)) return null; }
        default -> { return null; }
      }
    }
    return new Agreement(clientNoContextTakeover);
  }

  private static boolean isWindowBits(String value) {
    try {
      int bits = Integer.parseInt(value);
      return bits >= 8 && bits <= 15;
    } catch (NumberFormatException e) {
      return false;
    }
  }

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

  /** A connection's inflater for the compressed messages its client sends; {@link #close()} frees it. */
  public static final class Inflating implements AutoCloseable {
    private final boolean resetEachMessage;
    private Inflater inflater;

    public Inflating(Agreement agreement) {
      this.resetEachMessage = agreement.clientNoContextTakeover();
    }

    /**
     * The message {@code compressed[0, length)} inflated, or null when it inflates to more than
     * {@code maxBytes}; a {@link DataFormatException} when it is not a deflate stream.
     */
    public byte[] inflate(byte[] compressed, int length, int maxBytes) throws DataFormatException {
      if (inflater == null) inflater = new Inflater(true);
      inflater.setInput(compressed, 0, length);
      byte[] out = new byte[(int) Math.min(maxBytes + 1L, Math.max(64, 4L * length))];
      int produced = 0;
      boolean tailGiven = false;
      while (true) {
        if (produced == out.length) {
          // Room for one byte past the limit tells an oversized message from one that fits exactly.
          if (out.length > maxBytes) return discard();
          out = Arrays.copyOf(out, (int) Math.min(maxBytes + 1L, 2L * out.length));
        }
        int n = inflater.inflate(out, produced, out.length - produced);
        produced += n;
        if (n > 0) continue;
        if (inflater.needsInput() && !tailGiven) {
          inflater.setInput(EMPTY_BLOCK_TAIL);
          tailGiven = true;
        } else {
          break;
        }
      }
      if (produced > maxBytes) return discard();
      // A final block (which context takeover forbids, but a client may send) ends the stream.
      if (resetEachMessage || inflater.finished()) inflater.reset();
      return Arrays.copyOf(out, produced);
    }

    /** An oversized message leaves the window undefined for what follows: start over. */
    private byte[] discard() {
      inflater.reset();
      return null;
    }

    @Override
    public void close() {
      if (inflater != null) inflater.end();
      inflater = null;
    }
  }
}
