package pekkopubsub.connection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RateLimiterTest {
  private static final long MS = 1_000_000L;
  private final AtomicLong now = new AtomicLong(1_000 * MS);

  @Test
  void aFullBucketAllowsTheBurstThenRefusesWithTheTimeUntilTheNextToken() {
    RateLimiter limiter = new RateLimiter(1000, 500, now::get);
    for (int i = 0; i < 500; i++) assertEquals(0, limiter.tryAcquire(), "token " + i);

    assertEquals(1, limiter.tryAcquire(), "one token per ms at 1000/s");
  }

  @Test
  void tokensComeBackAtTheRate() {
    RateLimiter limiter = new RateLimiter(10, 1, now::get);
    assertEquals(0, limiter.tryAcquire());
    assertEquals(100, limiter.tryAcquire());

    now.addAndGet(40 * MS);
    assertEquals(60, limiter.tryAcquire(), "the wait shrinks as time passes");
    now.addAndGet(60 * MS);
    assertEquals(0, limiter.tryAcquire());
  }

  @Test
  void aRefusedAttemptTakesNothing() {
    RateLimiter limiter = new RateLimiter(1, 1, now::get);
    assertEquals(0, limiter.tryAcquire());
    for (int i = 0; i < 100; i++) assertTrue(limiter.tryAcquire() > 0);

    now.addAndGet(1000 * MS);
    assertEquals(0, limiter.tryAcquire(), "refusals did not dig a hole");
  }

  @Test
  void savedTokensNeverExceedTheBurst() {
    RateLimiter limiter = new RateLimiter(1000, 5, now::get);
    now.addAndGet(3_600_000 * MS);
    for (int i = 0; i < 5; i++) assertEquals(0, limiter.tryAcquire());
    assertTrue(limiter.tryAcquire() > 0);
  }

  @Test
  void sustainedRateIsHeldOverTime() {
    RateLimiter limiter = new RateLimiter(1000, 500, now::get);
    int allowed = 0;
    // 10 s of attempts every 0.1 ms: the burst plus 1000 a second.
    for (int step = 0; step < 100_000; step++) {
      if (limiter.tryAcquire() == 0) allowed++;
      now.addAndGet(MS / 10);
    }
    assertTrue(allowed >= 10_000 + 500 - 2 && allowed <= 10_000 + 500 + 2, "allowed " + allowed);
  }

  @Test
  void aBackwardClockRefillsNothing() {
    RateLimiter limiter = new RateLimiter(1, 1, now::get);
    assertEquals(0, limiter.tryAcquire());
    now.addAndGet(-10_000 * MS);
    assertTrue(limiter.tryAcquire() > 0);
  }

  @Test
  void rateZeroIsUnlimitedWhateverTheBurst() {
    for (int burst : new int[] {0, 1}) {
      RateLimiter limiter = new RateLimiter(0, burst, now::get);
      for (int i = 0; i < 10_000; i++) assertEquals(0, limiter.tryAcquire(), "burst " + burst);
    }
  }

  @Test
  void rejectsNonsense() {
    assertThrows(IllegalArgumentException.class, () -> new RateLimiter(-1, 1, now::get));
    assertThrows(IllegalArgumentException.class, () -> new RateLimiter(1, 0, now::get));
    assertThrows(IllegalArgumentException.class, () -> new RateLimiter(0, -1, now::get));
  }
}
