package pekkopubsub.connection;

/**
 * The WebSocket extensions one connection's handshake agreed to, for the stages behind it (the
 * frame decoder and the {@link Connection}).
 *
 * <p>Why a mutable object and not a message: the connection's stages are materialized with the
 * handshake gate, before the handshake, and all of them run fused in one stream actor. The gate
 * writes it once, before it passes the first byte of the WebSocket on; the others read it after.
 */
public final class NegotiatedExtensions {
  private PerMessageDeflate.Agreement deflate;

  /** Records the compression agreed in the 101 answer (null: none). */
  public void agreed(PerMessageDeflate.Agreement deflate) {
    this.deflate = deflate;
  }

  /** The compression agreed, or null: messages go uncompressed both ways. */
  public PerMessageDeflate.Agreement deflate() {
    return deflate;
  }
}
