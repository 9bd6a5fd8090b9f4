package pekkopubsub.topic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import pekkopubsub.config.Settings;

class FanOutPacerTest {
  private static final long US = 1_000;
  private static final long MS = 1_000_000;
  private static final long START = 1_000_000 * MS;
  /** The settings these rules are checked with (the server's default spacing is 150 us per subscriber). */
  private static final Settings.FanOutPacing PACING =
      new Settings.FanOutPacing(Duration.ofNanos(50 * US), Duration.ofMillis(5), 100_000);

  private static FanOutPacer pacer(Settings.FanOutPacing pacing) {
    return new FanOutPacer(pacing, START);
  }

  /** Publishes {@code count} messages {@code interval} apart from {@code from}; returns the time of the last. */
  private static long publish(FanOutPacer pacer, long from, long interval, int count) {
    long now = from;
    for (int i = 0; i < count; i++) {
      now += interval;
      pacer.published(now);
    }
    return now;
  }

  /** Publishes {@code interval} apart for 10 of the rate's time constants: long enough for the rate to settle. */
  private static long publishSteadily(FanOutPacer pacer, long from, long interval) {
    return publish(pacer, from, interval, (int) (10 * FanOutPacer.RATE_TIME_CONSTANT_NANOS / interval));
  }

  /** A pacer that has seen steady publishes {@code interval} apart and fanned out at the last one, {@code at}. */
  private record FannedOut(FanOutPacer pacer, long at) {
    /** The wait of a publish {@code later} nanoseconds after that fan-out. */
    long waitNanos(int subscribers, long later) {
      return pacer.waitNanos(subscribers, at + later);
    }
  }

  private static FannedOut fannedOutAfterPublishes(Settings.FanOutPacing pacing, long interval) {
    FanOutPacer pacer = pacer(pacing);
    long at = publishSteadily(pacer, START, interval);
    pacer.fannedOut(at);
    return new FannedOut(pacer, at);
  }

  @Test
  void spacingGrowsWithTheSubscribersUpToTheMaximum() {
    FanOutPacer pacer = pacer(PACING);
    publishSteadily(pacer, START, MS);
    assertEquals(500 * US, pacer.spacingNanos(10));
    assertEquals(2_500 * US, pacer.spacingNanos(50));
    assertEquals(5 * MS, pacer.spacingNanos(100));
    assertEquals(5 * MS, pacer.spacingNanos(1000));
    assertEquals(0, pacer.spacingNanos(0));
  }

  @Test
  void aHotTopicWithManySubscribersTooSlowToFillTheMaximumWaitsForThreeEvents() {
    FanOutPacer at250 = pacer(PACING);
    publishSteadily(at250, START, 4 * MS);
    long spacing = at250.spacingNanos(1000);
    assertTrue(spacing >= 12 * MS && spacing <= 14 * MS, "three publishes 4 ms apart: " + spacing);
    assertEquals(10 * MS, at250.spacingNanos(200), "no longer than 200 x 50 us");
    assertEquals(5 * MS, at250.spacingNanos(100), "100 x 50 us fits in the maximum: not stretched");

    FanOutPacer at125 = pacer(PACING);
    publishSteadily(at125, START, 8 * MS);
    assertEquals(20 * MS, at125.spacingNanos(1000), "three publishes 8 ms apart, held to 4 x the maximum");
  }

  @Test
  void aHotTopicWithManySubscribersAt125PerSecondHoldsAPublishUntilTheStretchedSpacing() {
    FannedOut fanned = fannedOutAfterPublishes(PACING, 8 * MS);
    assertEquals(12 * MS, fanned.waitNanos(1000, 8 * MS), "125/s x 1,000 = 125,000 deliveries/s, hot");
  }

  @Test
  void theStretchShrinksWithTheMaximum() {
    FanOutPacer pacer = pacer(new Settings.FanOutPacing(Duration.ofNanos(50 * US), Duration.ofMillis(1), 100_000));
    publishSteadily(pacer, START, 8 * MS);
    assertEquals(4 * MS, pacer.spacingNanos(1000));
  }

  @Test
  void theRateFollowsThePublishes() {
    FanOutPacer pacer = pacer(PACING);
    assertEquals(0, pacer.deliveriesPerSecond(100), "a new topic is cold");
    long now = publishSteadily(pacer, START, 500 * US);
    assertEquals(200_000, pacer.deliveriesPerSecond(100), 3_000, "2,000 publishes/s x 100 subscribers");
    publishSteadily(pacer, now, 2 * MS);
    assertEquals(50_000, pacer.deliveriesPerSecond(100), 3_000, "slowed to 500/s");
  }

  @Test
  void aSteadyRateSentInBurstsStaysHotAtEveryPublish() {
    // The peer harness's publisher: every 1 ms tick, that tick's 12 messages at once (12,000/s).
    FanOutPacer pacer = pacer(PACING);
    long tick = START;
    for (int t = 0; t < 100; t++, tick += MS) {
      for (int i = 0; i < 12; i++) pacer.published(tick);
    }
    for (int t = 0; t < 100; t++, tick += MS) {
      for (int i = 0; i < 12; i++) {
        pacer.published(tick);
        assertTrue(pacer.deliveriesPerSecond(10) >= 100_000,
            "12,000/s x 10 subscribers is hot at a tick's first publish as at its last: " + pacer.deliveriesPerSecond(10));
      }
    }
  }

  @Test
  void aSlowTopicIsNotOverstated() {
    FanOutPacer pacer = pacer(PACING);
    pacer.published(START);
    assertEquals(0, pacer.deliveriesPerSecond(2000), "a lone publish");
    publishSteadily(pacer, START, 31 * MS);
    // Counting the publish being measured would read 63 publishes/s here: 127,000 deliveries/s, hot.
    assertTrue(pacer.deliveriesPerSecond(2000) < 100_000, "32 publishes/s x 2,000 subscribers is cold");
  }

  @Test
  void aTopicIdleForHoursIsHotAgainWithinTensOfMillisecondsOfFastPublishes() {
    FanOutPacer pacer = pacer(PACING);
    long start = START + Duration.ofHours(3).toNanos();
    publishSteadily(pacer, START, 100 * US);
    pacer.published(start);
    assertEquals(0, pacer.deliveriesPerSecond(100), 1, "three hours later");
    publish(pacer, start, 100 * US, 300);
    assertTrue(pacer.deliveriesPerSecond(100) > 100_000, "30 ms at 10,000/s");
  }

  @Test
  void aHotTopicWaitsForTheRestOfTheSpacingAfterItsLastFanOut() {
    FannedOut hot = fannedOutAfterPublishes(PACING, 500 * US);
    assertEquals(4 * MS, hot.waitNanos(100, MS));
    assertTrue(hot.waitNanos(100, 6 * MS) < 0, "a publish after the spacing goes at once");
  }

  @Test
  void aColdTopicNeverWaits() {
    FannedOut cold = fannedOutAfterPublishes(PACING, 2 * MS);
    assertEquals(0, cold.waitNanos(100, 10 * US), "500/s x 100 = 50,000 deliveries/s");
    assertEquals(0, cold.waitNanos(50, 10 * US));
  }

  @Test
  void theSameRateMakesATopicWithMoreSubscribersHot() {
    FannedOut fanned = fannedOutAfterPublishes(PACING, 500 * US);
    assertEquals(0, fanned.waitNanos(40, 10 * US), "2,000/s x 40 = 80,000 deliveries/s");
    assertEquals(3 * MS - 10 * US, fanned.waitNanos(60, 10 * US), "2,000/s x 60 = 120,000; 60 x 50 us");
  }

  @Test
  void aTopicWithFewSubscribersIsNotPacedAWaitThatShortCostsMoreThanItSaves() {
    FannedOut fast = fannedOutAfterPublishes(PACING, 10 * US);
    assertEquals(0, fast.waitNanos(4, 0), "4 x 50 us = 200 us");
    assertEquals(250 * US, fast.waitNanos(5, 0));
  }

  @Test
  void offNeverWaits() {
    assertTrue(fannedOutAfterPublishes(Settings.FanOutPacing.OFF, US).waitNanos(1000, 1) <= 0);
  }

  @Test
  void aThresholdOfZeroPacesEveryTopicWhateverItsRate() {
    FanOutPacer pacer = pacer(new Settings.FanOutPacing(Duration.ofNanos(50 * US), Duration.ofMillis(5), 0));
    pacer.fannedOut(START);
    assertEquals(4 * MS, pacer.waitNanos(100, START + MS));
  }

  @Test
  void aPublishFollowsAQuietGapOnlyWhenThePreviousOneCameAtLeastThatLongBefore() {
    FanOutPacer pacer = pacer(PACING);
    assertTrue(pacer.quietBefore(START), "the first publish");
    long last = publish(pacer, START, 10 * US, 5);
    assertFalse(pacer.quietBefore(last + FanOutPacer.QUIET_GAP_NANOS - 1));
    assertTrue(pacer.quietBefore(last + FanOutPacer.QUIET_GAP_NANOS));
  }

  @Test
  void negativeSettingsAreRejected() {
    assertThrows(IllegalArgumentException.class, () -> new Settings.FanOutPacing(Duration.ofNanos(-1), Duration.ZERO, 1));
    assertThrows(IllegalArgumentException.class, () -> new Settings.FanOutPacing(Duration.ZERO, Duration.ofMillis(-1), 1));
    assertThrows(IllegalArgumentException.class, () -> new Settings.FanOutPacing(Duration.ZERO, Duration.ZERO, -1));
  }
}
