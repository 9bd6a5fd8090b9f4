package pekkopubsub.topic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import pekkopubsub.config.Settings;

class FanOutPacerTest {
  private static final long MS = 1_000_000;
  private final FanOutPacer pacer = pacer(Duration.ofNanos(10_000), Duration.ofMillis(5), 32);

  private static FanOutPacer pacer(Duration spacingPerSubscriber, Duration maxSpacing, int busyQueuedTasks) {
    return new FanOutPacer(new Settings.FanOutPacing(spacingPerSubscriber, maxSpacing, busyQueuedTasks));
  }

  @Test
  void readsTheLoadOnlyWhenTheSpacingIsLongEnoughToPace() {
    long last = 1_000 * MS;
    assertEquals(0, pacer.waitNanos(24, last, last, () -> {
      throw new AssertionError("a topic too small to pace need not look at the dispatcher");
    }));
  }

  @Test
  void spacingGrowsWithTheSubscribersUpToTheMaximum() {
    assertEquals(500_000, pacer.spacingNanos(50));
    assertEquals(1 * MS, pacer.spacingNanos(100));
    assertEquals(5 * MS, pacer.spacingNanos(1000));
    assertEquals(0, pacer.spacingNanos(0));
  }

  @Test
  void aBusyDispatcherMakesAPublishSoonAfterTheLastFanOutWaitForTheRestOfTheSpacing() {
    long last = 1_000 * MS;
    assertEquals(4 * MS, pacer.waitNanos(1000, last, last + MS, () -> 32));
    assertEquals(0, pacer.waitNanos(1000, last, last + 5 * MS, () -> 500));
    assertTrue(pacer.waitNanos(1000, last, last + 9 * MS, () -> 500) < 0, "publishes further apart go at once");
  }

  @Test
  void aTopicWithFewSubscribersIsNotPacedAWaitThatShortCostsMoreThanItSaves() {
    long last = 1_000 * MS;
    assertEquals(0, pacer.waitNanos(24, last, last, () -> 500), "24 x 10 us = 240 us");
    assertEquals(250_000, pacer.waitNanos(25, last, last, () -> 500));
  }

  @Test
  void aDispatcherBelowTheThresholdNeverDelays() {
    long last = 1_000 * MS;
    assertTrue(pacer.waitNanos(1000, last, last + 1, () -> 31) <= 0);
    assertTrue(FanOutPacer.OFF.waitNanos(1000, last, last + 1, () -> Long.MAX_VALUE) <= 0);
  }

  @Test
  void aThresholdOfZeroPacesAnIdleServerToo() {
    FanOutPacer always = pacer(Duration.ofNanos(10_000), Duration.ofMillis(5), 0);
    assertEquals(4 * MS, always.waitNanos(1000, 0, MS, () -> 0));
  }

  @Test
  void negativeSettingsAreRejected() {
    assertThrows(IllegalArgumentException.class, () -> pacer(Duration.ofNanos(-1), Duration.ZERO, 1));
    assertThrows(IllegalArgumentException.class, () -> pacer(Duration.ZERO, Duration.ofMillis(-1), 1));
    assertThrows(IllegalArgumentException.class, () -> pacer(Duration.ZERO, Duration.ZERO, -1));
  }

  @Test
  void theLoadIsTheTasksQueuedInTheCallersForkJoinPool() throws Exception {
    assertEquals(0, FanOutPacer.queuedTasksOfCurrentPool(), "a thread of no pool sees no load");
    ForkJoinPool pool = new ForkJoinPool(1);
    try {
      CountDownLatch started = new CountDownLatch(1);
      CountDownLatch queued = new CountDownLatch(1);
      Future<Long> seen = pool.submit(() -> {
        started.countDown();
        queued.await(10, TimeUnit.SECONDS);
        return FanOutPacer.queuedTasksOfCurrentPool();
      });
      assertTrue(started.await(10, TimeUnit.SECONDS));
      for (int i = 0; i < 5; i++) pool.submit(() -> { });
      queued.countDown();
      assertEquals(5, seen.get(10, TimeUnit.SECONDS));
    } finally {
      pool.shutdownNow();
    }
  }
}
