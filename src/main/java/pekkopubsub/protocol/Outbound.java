package pekkopubsub.protocol;

/** The frames the server sends, as serialized by {@link JsonCodec} (snake_case, nulls omitted). */
public final class Outbound {
  private Outbound() {}

  public record Ack(
      String type,
      String requestId,
      String topic,
      String status,
      Long offset,
      String epoch,
      Long newestOffset,
      Integer replayed,
      Boolean recovered,
      String ts) {

    public static Ack unsubscribed(String requestId, String topic, String ts) {
      return new Ack("ack", requestId, topic, "ok", null, null, null, null, null, ts);
    }

    public static Ack published(String requestId, String topic, long offset, String ts) {
      return new Ack("ack", requestId, topic, "ok", offset, null, null, null, null, ts);
    }

    /**
     * {@code newestOffset}: the topic's newest offset as it took the subscribe, where live events
     * begin. Not {@code offset}: a client that sends no request_id tells a publish ack by it.
     */
    public static Ack subscribed(
        String requestId, String topic, long newestOffset, String epoch, int replayed, Boolean recovered, String ts) {
      return new Ack("ack", requestId, topic, "ok", null, epoch, newestOffset, replayed, recovered, ts);
    }
  }

  public record Event(String type, String topic, Message message, long offset, String ts) {
    public Event(String topic, Message message, long offset, String ts) {
      this("event", topic, message, offset, ts);
    }
  }

  public record Message(String id, RawJson payload) {}

  public record Error(String type, String requestId, ErrorBody error, String ts) {
    public Error(String requestId, ErrorBody error, String ts) {
      this("error", requestId, error, ts);
    }
  }

  /** {@code retryAfterMs} is only set with {@link ErrorCode#RATE_LIMITED}. */
  public record ErrorBody(String code, String message, Long retryAfterMs) {
    public ErrorBody(ErrorCode code, String message) {
      this(code.name(), message, null);
    }
  }

  public record Pong(String type, String requestId, String ts) {
    public Pong(String requestId, String ts) {
      this("pong", requestId, ts);
    }
  }

  public record Info(String type, String topic, String msg, String ts) {
    public Info(String topic, String msg, String ts) {
      this("info", topic, msg, ts);
    }
  }
}
