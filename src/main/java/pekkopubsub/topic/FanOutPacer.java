package pekkopubsub.topic;

import java.time.Duration;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.function.LongSupplier;
import pekkopubsub.config.Settings;

/**
 * When a topic under load holds published events back, so that each subscriber gets several
 * events in one message and one socket write. A fan-out to N subscribers schedules N connection
 * actors; while the dispatcher still has at least {@code busyQueuedTasks} actors waiting to run,
 * the previous fan-out has not been absorbed, and a topic waits {@code spacingPerSubscriber x N}
 * (at most {@code maxSpacing}) after its previous fan-out before the next. Otherwise, and for
 * publishes further apart than that, events go out at once: an idle or lightly loaded server, and
 * a topic with few subscribers, adds no latency. {@code busyQueuedTasks} 0 paces whatever the load.
 */
public record FanOutPacer(Settings.FanOutPacing pacing) {

  /**
   * Shorter spacings are not paced: the timer's hand-off to another thread and back costs tens of
   * microseconds of CPU and about 0.1 ms of wake-up, more than so few events per write would save.
   */
  static final long MIN_PACED_SPACING_NANOS = 250_000;

  /** No pacing: every batch of publishes goes out as soon as the topic has handled it. */
  public static final FanOutPacer OFF =
      new FanOutPacer(new Settings.FanOutPacing(Duration.ZERO, Duration.ZERO, Integer.MAX_VALUE));

  /** The least time between two fan-outs of a topic with {@code subscribers} subscribers under load. */
  public long spacingNanos(int subscribers) {
    return Math.min(pacing.maxSpacing().toNanos(), pacing.spacingPerSubscriber().toNanos() * subscribers);
  }

  /**
   * How long from {@code nowNanos} the next fan-out waits, given the dispatcher's backlog (read
   * only when the spacing is long enough to pace); 0 or less: go now.
   */
  public long waitNanos(int subscribers, long lastFanOutNanos, long nowNanos, LongSupplier queuedTasks) {
    long spacing = spacingNanos(subscribers);
    if (spacing < MIN_PACED_SPACING_NANOS || queuedTasks.getAsLong() < pacing.busyQueuedTasks()) return 0;
    return lastFanOutNanos + spacing - nowNanos;
  }

  /** Tasks waiting in the calling thread's fork-join pool (the actors' dispatcher); 0 off such a pool. */
  public static long queuedTasksOfCurrentPool() {
    if (!(Thread.currentThread() instanceof ForkJoinWorkerThread worker)) return 0;
    ForkJoinPool pool = worker.getPool();
    return pool.getQueuedTaskCount() + pool.getQueuedSubmissionCount();
  }
}
