package pekkopubsub.topic;

import java.time.Duration;
import pekkopubsub.config.Settings;

/**
 * When one topic holds its published events back, so that each subscriber gets several events in
 * one message and one socket write. A topic is hot while its recent publish rate times its N
 * subscribers reaches {@code hotDeliveriesPerSecond}; it then fans out at most once per
 * {@code spacingPerSubscriber x N}, at most {@code maxSpacing} (or, for a hot topic too slow to gather
 * several events in that, long enough for {@link #EVENTS_PER_STRETCHED_FAN_OUT}, at most
 * {@link #STRETCH_LIMIT} x {@code maxSpacing}): fewer, larger writes are what keep both the server
 * and its clients (who pay per read as well) ahead of a fast topic. A cold topic,
 * and a publish further from the previous fan-out than the spacing, goes out at once, so a
 * lightly loaded topic adds no latency. Not thread-safe: one per topic, used by its actor only.
 */
public final class FanOutPacer {

  /**
   * Shorter spacings are not paced: the timer's hand-off to another thread and back costs tens of
   * microseconds of CPU and about 0.1 ms of wake-up, more than so few events per write would save.
   */
  static final long MIN_PACED_SPACING_NANOS = 250_000;

  /**
   * A publish this long after the previous one is unlikely to have others queued behind it in the
   * topic's mailbox, so waiting for them only delays it.
   */
  static final long QUIET_GAP_NANOS = 500_000;

  /**
   * How far back the topic's rate looks: each publish counts with weight e^(-age / this). Long
   * against a load client's send ticks (1 ms in the peer harness: a burst of publishes, then a gap),
   * so that a steady rate sent in bursts reads as steady; short enough that a topic is hot within
   * about 50 ms of a flood starting.
   */
  static final long RATE_TIME_CONSTANT_NANOS = Duration.ofMillis(20).toNanos();

  /**
   * Publishes a hot topic with many subscribers waits to gather when {@code maxSpacing} holds fewer.
   * Such a topic (1,000 subscribers at 125-250 msg/s) otherwise costs one socket write per event per
   * subscriber, a core's worth of loopback writes, which leaves its clients too little CPU to read;
   * three events per write cut that to a third. In the peer harness's 1,000-subscriber sweep three
   * raised the knee from 94 msg/s to 125-188 in four sweeps of four; two, in one of two; four, in
   * none (docs/benchmarks/stretched-spacing-2026-11-24.md).
   */
  static final int EVENTS_PER_STRETCHED_FAN_OUT = 3;

  /**
   * The most a fan-out waits to gather those events, in units of {@code maxSpacing} (20 ms at the
   * default 5 ms), so that turning the spacing down, or off, turns this down with it.
   */
  static final int STRETCH_LIMIT = 4;

  /**
   * Where a new topic's "previous" publish and fan-out lie: far enough back that the phantom
   * publish weighs nothing in the rate and the first fan-out waits for no spacing.
   */
  private static final long LONG_AGO_NANOS = Duration.ofDays(1).toNanos();

  private final Settings.FanOutPacing pacing;
  /**
   * Publishes per second before the last one, each weighted by its age: the publish being measured
   * is left out, since counting it would overstate a slow topic's rate (a lone publish would read
   * as 50/s).
   */
  private double rateBeforeLast;
  private long lastPublishNanos;
  private long lastFanOutNanos;

  public FanOutPacer(Settings.FanOutPacing pacing, long nowNanos) {
    this.pacing = pacing;
    this.lastPublishNanos = nowNanos - LONG_AGO_NANOS;
    this.lastFanOutNanos = nowNanos - LONG_AGO_NANOS;
  }

  /** Whether the previous publish came at least {@link #QUIET_GAP_NANOS} before {@code nowNanos}. */
  public boolean quietBefore(long nowNanos) {
    return nowNanos - lastPublishNanos >= QUIET_GAP_NANOS;
  }

  /** Counts a publish into the topic's rate. */
  public void published(long nowNanos) {
    double sinceLast = nowNanos - lastPublishNanos;
    // The previous publish joins the rate now; before the first, that is the phantom one
    // LONG_AGO_NANOS back.
    double includingPrevious = rateBeforeLast + 1e9 / RATE_TIME_CONSTANT_NANOS;
    rateBeforeLast = includingPrevious * Math.exp(-sinceLast / RATE_TIME_CONSTANT_NANOS);
    lastPublishNanos = nowNanos;
  }

  public void fannedOut(long nowNanos) {
    lastFanOutNanos = nowNanos;
  }

  /** Events per second the topic delivers at its recent publish rate. */
  public double deliveriesPerSecond(int subscribers) {
    return subscribers * rateBeforeLast;
  }

  /** The least time between two fan-outs of a hot topic with {@code subscribers} subscribers, at its recent rate. */
  public long spacingNanos(int subscribers) {
    long maxSpacing = pacing.maxSpacing().toNanos();
    long bySubscribers = pacing.spacingPerSubscriber().toNanos() * subscribers;
    if (bySubscribers <= maxSpacing) return bySubscribers;
    double forEvents = EVENTS_PER_STRETCHED_FAN_OUT * 1e9 / rateBeforeLast;
    long stretched = (long) Math.min(STRETCH_LIMIT * maxSpacing, Math.max(maxSpacing, forEvents));
    return Math.min(bySubscribers, stretched);
  }

  /** How long from {@code nowNanos} the next fan-out waits; 0 or less: go now. */
  public long waitNanos(int subscribers, long nowNanos) {
    long spacing = spacingNanos(subscribers);
    if (spacing < MIN_PACED_SPACING_NANOS || deliveriesPerSecond(subscribers) < pacing.hotDeliveriesPerSecond()) return 0;
    return lastFanOutNanos + spacing - nowNanos;
  }
}
