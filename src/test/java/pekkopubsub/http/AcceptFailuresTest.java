package pekkopubsub.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class AcceptFailuresTest {

  @Test
  void aRunOfFailuresIsWorthOneWarningAndOneRecoveryLineOnceAcceptsHaveWorkedForAWhile() {
    AcceptFailures failures = new AcceptFailures();
    assertNull(failures.accepted(0), "no run, nothing to say");
    assertTrue(failures.failed(1_000));
    for (int i = 1; i < 50; i++) {
      assertFalse(failures.failed(1_000 + i * 100L), "retry " + i);
      // At the edge of the limit, accepts and failures alternate: still the same run.
      assertNull(failures.accepted(1_050 + i * 100L));
    }
    assertNull(failures.accepted(5_900 + AcceptFailures.SETTLE_MILLIS - 1), "not settled yet");
    assertEquals("50 failed attempts over 4900 ms, the last 10000 ms ago", failures.accepted(5_900 + AcceptFailures.SETTLE_MILLIS));
    assertNull(failures.accepted(30_000), "the run is over");

    assertTrue(failures.failed(40_000), "a new run warns again");
    assertEquals("1 failed attempt over 0 ms, the last 20000 ms ago", failures.accepted(60_000));
  }
}
