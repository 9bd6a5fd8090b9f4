package pekkopubsub.topic;

/**
 * The most events, and bytes of them, a topic tells its subscribers in one message: no more than a
 * subscriber's outbound queue holds, which takes a batch whole before it writes any of it. A batch
 * larger than the queue overflowed it however fast its client read: with 16-event queues, a
 * subscriber idling on a socket with room to spare lost 60 % of a 200-publish burst.
 */
public record FanOutBatch(int maxEvents, long maxBytes) {
  /** What a batch holds when the queues allow it: enough to share a write, few enough to be dropped one by one. */
  public static final int MOST_EVENTS = 64;

  /** For queues that bound nothing below the batch's own bound. */
  public static final FanOutBatch UNBOUNDED_QUEUES = new FanOutBatch(MOST_EVENTS, Long.MAX_VALUE);

  public FanOutBatch {
    if (maxEvents < 1 || maxBytes < 1) throw new IllegalArgumentException("a batch holds at least one event");
  }

  /** Batches that fit in outbound queues of {@code queueEvents} events and {@code queueBytes} bytes (0: no byte bound). */
  public static FanOutBatch fitting(int queueEvents, long queueBytes) {
    return new FanOutBatch(Math.min(MOST_EVENTS, queueEvents), queueBytes == 0 ? Long.MAX_VALUE : queueBytes);
  }
}
