package pekkopubsub.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReconnectBackoffTest {

  private static List<Long> waits(ReconnectBackoff backoff, int n) {
    List<Long> millis = new ArrayList<>();
    for (int i = 0; i < n; i++) millis.add(backoff.next().toMillis());
    return millis;
  }

  @Test
  void waitsDoubleFromHalfASecondUpToTenSeconds() {
    assertEquals(List.of(500L, 1000L, 2000L, 4000L, 8000L, 10000L, 10000L), waits(new ReconnectBackoff(() -> 0.5), 7));
  }

  @Test
  void jitterStaysWithinTwentyPercentEitherSide() {
    assertEquals(List.of(400L, 800L), waits(new ReconnectBackoff(() -> 0.0), 2));
    assertEquals(List.of(600L, 1200L), waits(new ReconnectBackoff(() -> 0.999999), 2));
  }

  @Test
  void aSuccessfulSubscriptionStartsTheNextLossFromTheFirstWait() {
    ReconnectBackoff backoff = new ReconnectBackoff(() -> 0.5);
    waits(backoff, 4);
    backoff.reset();
    assertEquals(Duration.ofMillis(500), backoff.next());
  }
}
