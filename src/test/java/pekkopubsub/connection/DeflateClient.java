package pekkopubsub.connection;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/** The client side of permessage-deflate (RFC 7692), as browsers do it, for tests. */
public final class DeflateClient {
  private DeflateClient() {}

  /**
   * A message as a client compresses it: {@code deflater} (raw, as {@code new Deflater(level, true)})
   * keeps its window across calls as a browser's does, flushed, without the last four bytes.
   */
  public static byte[] compress(Deflater deflater, String text) {
    deflater.setInput(text.getBytes(StandardCharsets.UTF_8));
    byte[] buffer = new byte[64 * 1024];
    int n = deflater.deflate(buffer, 0, buffer.length, Deflater.SYNC_FLUSH);
    return Arrays.copyOf(buffer, n - 4);
  }

  /** A compressed message's payload, inflated on its own: the server takes no context over from one message to the next. */
  public static String inflate(byte[] payload) throws DataFormatException {
    Inflater inflater = new Inflater(true);
    byte[] input = Arrays.copyOf(payload, payload.length + 4);
    input[input.length - 2] = (byte) 0xFF;
    input[input.length - 1] = (byte) 0xFF;
    inflater.setInput(input);
    byte[] out = new byte[256 * 1024];
    int n = inflater.inflate(out);
    inflater.end();
    return new String(out, 0, n, StandardCharsets.UTF_8);
  }
}
