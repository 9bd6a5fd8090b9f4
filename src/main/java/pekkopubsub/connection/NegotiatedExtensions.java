package pekkopubsub.connection;

/**
 * The WebSocket extensions one connection's handshake agreed to, and the ticket of the place it
 * was admitted to under the connection limit, for the stages behind it (the frame decoder and the
 * {@link Connection}, which registers with that ticket).
 *
 * <p>Why a mutable object and not a message: the connection's stages are materialized with the
 * handshake gate, before the handshake, and all of them run fused in one stream actor. The gate
 * writes it once, before it passes the first byte of the WebSocket on; the others read it after.
 */
public final class NegotiatedExtensions {
  private PerMessageDeflate.Agreement deflate;
  private long admissionTicket;

  /** Records the compression agreed in the 101 answer (null: none). */
  public void agreed(PerMessageDeflate.Agreement deflate) {
    this.deflate = deflate;
  }

  /** Records the ticket of the place reserved for the connection. */
  public void admitted(long ticket) {
    this.admissionTicket = ticket;
  }

  /** The ticket of the place reserved for the connection; 0 when none was. */
  public long admissionTicket() {
    return admissionTicket;
  }

  /** The compression agreed, or null: messages go uncompressed both ways. */
  public PerMessageDeflate.Agreement deflate() {
    return deflate;
  }
}
