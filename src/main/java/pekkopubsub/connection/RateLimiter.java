package pekkopubsub.connection;

import java.util.function.LongSupplier;

/** A token bucket: {@code ratePerSecond} tokens a second, at most {@code burst} saved up; not thread-safe (one per connection stage). */
public final class RateLimiter {
  private static final double NANOS_PER_SECOND = 1_000_000_000d;

  private final double tokensPerNano;
  private final double burst;
  private final LongSupplier nanoClock;
  private double tokens;
  private long lastRefill;

  /** {@code ratePerSecond} 0 means unlimited, whatever the burst (0 included). */
  public RateLimiter(double ratePerSecond, int burst, LongSupplier nanoClock) {
    if (ratePerSecond < 0 || burst < (ratePerSecond == 0 ? 0 : 1)) {
      throw new IllegalArgumentException("rate >= 0 and burst >= 1, or 0 with rate 0");
    }
    this.tokensPerNano = ratePerSecond / NANOS_PER_SECOND;
    this.burst = burst;
    this.nanoClock = nanoClock;
    this.tokens = burst;
    this.lastRefill = nanoClock.getAsLong();
  }

  /**
   * Takes one token: 0 when there was one, otherwise the milliseconds (at least 1) until there
   * will be, and nothing is taken.
   */
  public long tryAcquire() {
    if (tokensPerNano == 0) return 0;
    long now = nanoClock.getAsLong();
    // A clock that goes backwards (it should not: nanoTime) refills nothing rather than a negative amount.
    long elapsed = Math.max(0, now - lastRefill);
    tokens = Math.min(burst, tokens + elapsed * tokensPerNano);
    lastRefill = now;
    if (tokens >= 1) {
      tokens -= 1;
      return 0;
    }
    double missingNanos = (1 - tokens) / tokensPerNano;
    return Math.max(1, (long) Math.ceil(missingNanos / 1_000_000d));
  }
}
