package pekkopubsub.protocol;

/** One decoded client frame: a valid {@link Request} or a {@link Rejected} one. */
public sealed interface Inbound permits Request, Inbound.Rejected {

  /** A frame that broke the contract; {@code requestId} is echoed when the frame carried a usable one. */
  record Rejected(String requestId, ErrorCode code, String message) implements Inbound {}
}
