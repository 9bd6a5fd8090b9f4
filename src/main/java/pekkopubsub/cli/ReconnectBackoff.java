package pekkopubsub.cli;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;

/** How long {@code pubsub sub --reconnect} waits before each attempt: doubling up to a cap, with jitter, until a subscription succeeds. */
final class ReconnectBackoff {
  static final Duration FIRST = Duration.ofMillis(500);
  static final Duration CAP = Duration.ofSeconds(10);
  // Subscribers that lost one server together should not all come back in the same millisecond.
  private static final double JITTER = 0.2;

  private final DoubleSupplier random;
  private Duration next = FIRST;

  ReconnectBackoff() {
    this(() -> ThreadLocalRandom.current().nextDouble());
  }

  /** {@code random} gives numbers in [0, 1). */
  ReconnectBackoff(DoubleSupplier random) {
    this.random = random;
  }

  /** The wait before the next attempt; each call doubles the one after, up to {@link #CAP}. */
  Duration next() {
    Duration base = next;
    next = base.multipliedBy(2).compareTo(CAP) > 0 ? CAP : base.multipliedBy(2);
    double factor = 1 - JITTER + 2 * JITTER * random.getAsDouble();
    return Duration.ofMillis(Math.round(base.toMillis() * factor));
  }

  /** After a subscription succeeded: the next loss starts again from {@link #FIRST}. */
  void reset() {
    next = FIRST;
  }
}
