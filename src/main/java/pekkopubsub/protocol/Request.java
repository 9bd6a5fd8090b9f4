package pekkopubsub.protocol;

/** The four client requests of the wire contract, validated. */
public sealed interface Request extends Inbound {
  String requestId();

  /** {@code sinceOffset} is null when absent; {@code lastN} is 0 when absent. */
  record Subscribe(String requestId, String topic, String clientId, int lastN, Long sinceOffset, String epoch)
      implements Request {}

  record Unsubscribe(String requestId, String topic, String clientId) implements Request {}

  /** {@code messageId} is a UUID as the client spelled it, or null when it left it to the server. */
  record Publish(String requestId, String topic, String messageId, RawJson payload) implements Request {}

  record Ping(String requestId) implements Request {}
}
