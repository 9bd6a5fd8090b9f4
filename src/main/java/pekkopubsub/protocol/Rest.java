package pekkopubsub.protocol;

import java.util.List;
import java.util.Map;

/** Bodies of the REST API, as serialized by {@link JsonCodec}. */
public final class Rest {
  private Rest() {}

  public record CreateTopic(String name) {}

  public record TopicStatus(String status, String topic) {}

  /**
   * GET /topics/{name}/messages without its events, which follow as the retained bytes:
   * {@code newestOffset} as a subscribe ack's, {@code recovered} too (with since_offset only).
   */
  public record HistoryHead(String topic, String epoch, long newestOffset, Boolean recovered, boolean more) {}

  /** POST /topics/{name}/messages: the offset the message was given, as a publish ack's. */
  public record Published(String status, String topic, long offset) {}

  public record TopicList(List<TopicEntry> topics) {}

  public record TopicEntry(String name, int subscribers) {}

  public record Health(String status, long uptimeSec, int topics, int subscribers) {}

  public record Stats(Map<String, TopicStats> topics) {}

  public record TopicStats(long messages, int subscribers, long dropped) {}

  /** GET /topics/{name}: the /stats figures, the replay window, and subscriptions per client_id given. */
  public record TopicDetails(String name, String epoch, long messages, int subscribers, long dropped, int retained,
      Long oldestRetainedOffset, Map<String, Integer> clientIds) {}

  public record ErrorResponse(Outbound.ErrorBody error) {}
}
