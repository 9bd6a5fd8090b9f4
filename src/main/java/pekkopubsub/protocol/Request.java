package pekkopubsub.protocol;

import java.util.UUID;

/** The four client requests of the wire contract, validated. */
public sealed interface Request extends Inbound {
  String requestId();

  /** {@code sinceOffset} is null when absent; {@code lastN} is 0 when absent. */
  record Subscribe(String requestId, String topic, String clientId, int lastN, Long sinceOffset, String epoch)
      implements Request {}

  record Unsubscribe(String requestId, String topic, String clientId) implements Request {}

  /** {@code messageId} is null when the client left it to the server. */
  record Publish(String requestId, String topic, UUID messageId, RawJson payload) implements Request {}

  record Ping(String requestId) implements Request {}
}
