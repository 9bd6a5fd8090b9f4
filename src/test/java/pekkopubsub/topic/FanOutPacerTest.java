package pekkopubsub.topic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import pekkopubsub.config.Settings;

class FanOutPacerTest {
  private static final long US = 1_000;
  private static final long MS = 1_000_000;
  private static final long START = 1_000_000 * MS;
  private static final Settings.FanOutPacing DEFAULTS =
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

  @Test
  void spacingGrowsWithTheSubscribersUpToTheMaximum() {
    FanOutPacer pacer = pacer(DEFAULTS);
    assertEquals(500 * US, pacer.spacingNanos(10));
    assertEquals(2_500 * US, pacer.spacingNanos(50));
    assertEquals(5 * MS, pacer.spacingNanos(100));
    assertEquals(5 * MS, pacer.spacingNanos(1000));
    assertEquals(0, pacer.spacingNanos(0));
  }

  @Test
  void theRateFollowsThePublishesWithinTensOfThem() {
    FanOutPacer pacer = pacer(DEFAULTS);
    assertTrue(pacer.deliveriesPerSecond(100) < 100_000, "a new topic is cold");
    long now = publish(pacer, START, 500 * US, 60);
    assertEquals(200_000, pacer.deliveriesPerSecond(100), 2_000, "2,000 publishes/s x 100 subscribers");
    publish(pacer, now, 2 * MS, 60);
    assertEquals(50_000, pacer.deliveriesPerSecond(100), 1_000, "slowed to 500/s");
  }

  @Test
  void aTopicIdleForHoursIsHotAgainWithinTensOfFastPublishes() {
    FanOutPacer pacer = pacer(DEFAULTS);
    pacer.published(START + Duration.ofHours(3).toNanos());
    publish(pacer, START + Duration.ofHours(3).toNanos(), 100 * US, 60);
    assertTrue(pacer.deliveriesPerSecond(100) > 100_000);
  }

  @Test
  void aHotTopicWaitsForTheRestOfTheSpacingAfterItsLastFanOut() {
    FanOutPacer pacer = pacer(DEFAULTS);
    long now = publish(pacer, START, 500 * US, 60);
    pacer.fannedOut(now);
    assertEquals(4 * MS, pacer.waitNanos(100, now + MS));
    assertTrue(pacer.waitNanos(100, now + 6 * MS) < 0, "a publish after the spacing goes at once");
  }

  @Test
  void aColdTopicNeverWaits() {
    FanOutPacer pacer = pacer(DEFAULTS);
    long now = publish(pacer, START, 2 * MS, 60);
    pacer.fannedOut(now);
    assertEquals(0, pacer.waitNanos(100, now + 10 * US), "500/s x 100 = 50,000 deliveries/s");
    assertEquals(0, pacer.waitNanos(50, now + 10 * US));
  }

  @Test
  void theSameRateMakesATopicWithMoreSubscribersHot() {
    FanOutPacer pacer = pacer(DEFAULTS);
    long now = publish(pacer, START, 500 * US, 60);
    pacer.fannedOut(now);
    assertEquals(0, pacer.waitNanos(40, now + 10 * US), "2,000/s x 40 = 80,000 deliveries/s");
    assertEquals(3 * MS - 10 * US, pacer.waitNanos(60, now + 10 * US), "2,000/s x 60 = 120,000; 60 x 50 us");
  }

  @Test
  void aTopicWithFewSubscribersIsNotPacedAWaitThatShortCostsMoreThanItSaves() {
    FanOutPacer pacer = pacer(DEFAULTS);
    long now = publish(pacer, START, 10 * US, 60);
    pacer.fannedOut(now);
    assertEquals(0, pacer.waitNanos(4, now), "4 x 50 us = 200 us");
    assertEquals(250 * US, pacer.waitNanos(5, now));
  }

  @Test
  void offNeverWaits() {
    FanOutPacer pacer = pacer(Settings.FanOutPacing.OFF);
    long now = publish(pacer, START, US, 60);
    pacer.fannedOut(now);
    assertTrue(pacer.waitNanos(1000, now + 1) <= 0);
  }

  @Test
  void aThresholdOfZeroPacesEveryTopicWhateverItsRate() {
    FanOutPacer pacer = pacer(new Settings.FanOutPacing(Duration.ofNanos(50 * US), Duration.ofMillis(5), 0));
    pacer.fannedOut(START);
    assertEquals(4 * MS, pacer.waitNanos(100, START + MS));
  }

  @Test
  void negativeSettingsAreRejected() {
    assertThrows(IllegalArgumentException.class, () -> new Settings.FanOutPacing(Duration.ofNanos(-1), Duration.ZERO, 1));
    assertThrows(IllegalArgumentException.class, () -> new Settings.FanOutPacing(Duration.ZERO, Duration.ofMillis(-1), 1));
    assertThrows(IllegalArgumentException.class, () -> new Settings.FanOutPacing(Duration.ZERO, Duration.ZERO, -1));
  }
}
