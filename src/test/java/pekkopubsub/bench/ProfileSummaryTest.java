package pekkopubsub.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ProfileSummaryTest {

  @Test
  void allocationIsEachThreadsGrowthOverTheRecording() {
    Map<Long, long[]> threads = Map.of(
        1L, new long[] {1_000, 500, 9_000, 2_500},   // seen at start and end: 2,000 bytes inside
        2L, new long[] {9_000, 700, 9_000, 700},     // started during the recording: all 700
        3L, new long[] {1_000, 300, 1_000, 300});    // ended during the recording: unknown, not counted
    assertEquals(2_700, ProfileSummary.allocatedDuring(threads));
  }

  @Test
  void noStatisticsMeansNothingCounted() {
    assertEquals(0, ProfileSummary.allocatedDuring(Map.of()));
  }
}
