package pekkopubsub.protocol;

/** The error codes of the wire contract; clients switch on their names. */
public enum ErrorCode {
  BAD_REQUEST,
  PAYLOAD_TOO_LARGE,
  TOPIC_NOT_FOUND,
  NOT_SUBSCRIBED,
  RATE_LIMITED,
  SLOW_CONSUMER,
  UNAUTHORIZED,
  INTERNAL
}
