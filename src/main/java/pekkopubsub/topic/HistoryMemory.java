package pekkopubsub.topic;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The bytes all topics' replay buffers hold together, against the budget the server gives them.
 *
 * <p>Without a budget, {@code max-history} events of up to {@code max-frame-size} each on every
 * topic can hold more than the heap (100 topics x 100 events x 60 KB is 600 MB), and one
 * client publishing within every limit ran the server out of memory. With one, a topic gives up its
 * oldest events while the topics together hold more than the budget and it holds more than an
 * equal share of it: topics that publish large events trim their own history, the others keep theirs.
 * A topic trims when it appends, and every topic when the {@link TopicManager} finds the budget
 * exceeded (at most {@link TopicManager#HISTORY_CHECK_INTERVAL} later): topics filled one after
 * another and then left alone would otherwise each keep the share of a smaller server.
 *
 * <p>Like the metrics registry, it is an accumulator the Topics of one JVM share: each adds and
 * subtracts only its own bytes and reads the total; no Topic reads another's state. Memory is a
 * per-JVM resource, so on a cluster each node has its own.
 */
public final class HistoryMemory {
  private final long budgetBytes;
  private final AtomicLong retainedBytes = new AtomicLong();
  private final AtomicInteger topics = new AtomicInteger();
  private final LongAdder evictedEvents = new LongAdder();
  private final AtomicLong lastWarningNanos = new AtomicLong(System.nanoTime() - WARNING_INTERVAL_NANOS);

  /** One warning a minute for the whole server while topics trim their history, not one per topic. */
  static final long WARNING_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);

  /** {@code budgetBytes} 0 means no budget: topics keep {@code max-history} events whatever they weigh. */
  public HistoryMemory(long budgetBytes) {
    if (budgetBytes < 0) throw new IllegalArgumentException("budgetBytes must be >= 0 (0: no budget)");
    this.budgetBytes = budgetBytes;
  }

  public static HistoryMemory unlimited() {
    return new HistoryMemory(0);
  }

  public long budgetBytes() {
    return budgetBytes;
  }

  public long retainedBytes() {
    return retainedBytes.get();
  }

  public int topics() {
    return topics.get();
  }

  /** Events topics gave up before {@code max-history} pushed them out, to stay within the budget. */
  public long evictedEvents() {
    return evictedEvents.sum();
  }

  void topicStarted() {
    topics.incrementAndGet();
  }

  /** A stopping topic hands back what its buffer held. */
  void topicStopped(long heldBytes) {
    topics.decrementAndGet();
    changed(-heldBytes);
  }

  void changed(long bytes) {
    if (bytes != 0) retainedBytes.addAndGet(bytes);
  }

  /** True while the topics together hold more than the budget: then each must give up what is over its share. */
  public boolean overBudget() {
    return budgetBytes > 0 && retainedBytes.get() > budgetBytes;
  }

  /** True when a topic holding {@code heldBytes} should give up its oldest event now. */
  boolean overShare(long heldBytes) {
    if (budgetBytes == 0 || heldBytes == 0 || retainedBytes.get() <= budgetBytes) return false;
    return heldBytes > budgetBytes / Math.max(1, topics.get());
  }

  /** A topic gave up its oldest event, of {@code bytes}, to stay within its share. */
  void gaveUp(long bytes) {
    changed(-bytes);
    evictedEvents.increment();
  }

  /** True for the first caller after a quiet minute: that topic logs the warning for all. */
  boolean warningDue(long nowNanos) {
    long last = lastWarningNanos.get();
    return nowNanos - last >= WARNING_INTERVAL_NANOS && lastWarningNanos.compareAndSet(last, nowNanos);
  }
}
