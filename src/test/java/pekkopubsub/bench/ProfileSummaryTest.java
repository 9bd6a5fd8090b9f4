package pekkopubsub.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ProfileSummaryTest {

  @Test
  void allocationIsEachThreadsGrowthOverTheRecording() {
    Map<Long, ProfileSummary.ThreadAllocation> threads = Map.of(
        1L, new ProfileSummary.ThreadAllocation(1_000, 500, 9_000, 2_500),   // seen at start and end: 2,000 bytes inside
        2L, new ProfileSummary.ThreadAllocation(9_000, 700, 9_000, 700),     // started during the recording: all 700
        3L, new ProfileSummary.ThreadAllocation(1_000, 300, 1_000, 300));    // ended during the recording: unknown, not counted
    assertEquals(2_700, ProfileSummary.allocatedDuring(threads));
  }

  @Test
  void aThreadSeenTwiceSpansItsEarliestAndLatestCounters() {
    var early = new ProfileSummary.ThreadAllocation(1_000, 500, 1_000, 500);
    var late = new ProfileSummary.ThreadAllocation(9_000, 2_500, 9_000, 2_500);
    assertEquals(new ProfileSummary.ThreadAllocation(1_000, 500, 9_000, 2_500), late.span(early));
    assertEquals(late.span(early), early.span(late));
  }

  @Test
  void noStatisticsMeansNothingCounted() {
    assertEquals(0, ProfileSummary.allocatedDuring(Map.of()));
  }
}
