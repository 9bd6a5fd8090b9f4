package pekkopubsub.topic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class ReplayBufferTest {

  private static ReplayBuffer<String> filled(int capacity, int count) {
    ReplayBuffer<String> buffer = new ReplayBuffer<>(capacity);
    for (int o = 1; o <= count; o++) buffer.append(o, "e" + o);
    return buffer;
  }

  /** The newest {@code n} retained events, oldest first, as a Topic reads them. */
  private static <E> List<E> lastN(ReplayBuffer<E> buffer, int n) {
    return from(buffer, buffer.firstOfNewest(n));
  }

  /** Every retained event with an offset greater than {@code offset}, oldest first, as a Topic reads them. */
  private static <E> List<E> after(ReplayBuffer<E> buffer, long offset) {
    return from(buffer, buffer.firstAfter(offset));
  }

  private static <E> List<E> from(ReplayBuffer<E> buffer, long first) {
    List<E> events = new ArrayList<>();
    for (long o = first; o <= buffer.lastOffset(); o++) events.add(buffer.at(o));
    return events;
  }

  @Test
  void emptyBufferRetainsNothing() {
    ReplayBuffer<String> buffer = new ReplayBuffer<>(5);
    assertEquals(0, buffer.size());
    assertEquals(5, buffer.capacity());
    assertEquals(0, buffer.lastOffset());
    assertEquals(1, buffer.oldestOffset());
    assertEquals(List.of(), lastN(buffer, 3));
    assertEquals(List.of(), after(buffer, 0));
    assertTrue(buffer.retainsEverythingAfter(0), "nothing was ever published, so nothing is missing after 0");
    assertFalse(buffer.retainsEverythingAfter(1), "offset 1 was never published");
  }

  @Test
  void appendKeepsEventsInOffsetOrderUntilFull() {
    ReplayBuffer<String> buffer = filled(5, 3);
    assertEquals(3, buffer.size());
    assertEquals(3, buffer.lastOffset());
    assertEquals(1, buffer.oldestOffset());
    assertEquals(List.of("e1", "e2", "e3"), after(buffer, 0));
  }

  @Test
  void appendEvictsTheOldestWhenFull() {
    ReplayBuffer<String> buffer = filled(3, 7);
    assertEquals(3, buffer.size());
    assertEquals(7, buffer.lastOffset());
    assertEquals(5, buffer.oldestOffset());
    assertEquals(List.of("e5", "e6", "e7"), after(buffer, 0));
  }

  @Test
  void wrapsAroundManyTimes() {
    ReplayBuffer<String> buffer = filled(4, 1001);
    assertEquals(List.of("e998", "e999", "e1000", "e1001"), after(buffer, 0));
    assertEquals(List.of("e1000", "e1001"), lastN(buffer, 2));
  }

  @Test
  void lastNReturnsTheNewestOldestFirst() {
    ReplayBuffer<String> buffer = filled(5, 8);
    assertEquals(List.of(), lastN(buffer, 0));
    assertEquals(List.of("e8"), lastN(buffer, 1));
    assertEquals(List.of("e6", "e7", "e8"), lastN(buffer, 3));
    assertEquals(List.of("e4", "e5", "e6", "e7", "e8"), lastN(buffer, 5));
  }

  @Test
  void lastNIsCappedAtWhatIsRetained() {
    assertEquals(List.of("e1", "e2"), lastN(filled(5, 2), 1000));
    assertEquals(List.of("e3", "e4", "e5"), lastN(filled(3, 5), 10));
    assertEquals(List.of(), lastN(filled(3, 5), -1));
  }

  @Test
  void afterReturnsEveryRetainedEventWithALargerOffset() {
    ReplayBuffer<String> buffer = filled(5, 8); // retains 4..8
    assertEquals(List.of("e4", "e5", "e6", "e7", "e8"), after(buffer, 0));
    assertEquals(List.of("e4", "e5", "e6", "e7", "e8"), after(buffer, 2), "evicted offsets are skipped");
    assertEquals(List.of("e4", "e5", "e6", "e7", "e8"), after(buffer, 3));
    assertEquals(List.of("e6", "e7", "e8"), after(buffer, 5));
    assertEquals(List.of("e8"), after(buffer, 7));
    assertEquals(List.of(), after(buffer, 8));
    assertEquals(List.of(), after(buffer, 100));
  }

  @Test
  void afterTheLargestOffsetIsEmpty() {
    assertEquals(List.of(), after(filled(3, 2), Long.MAX_VALUE));
  }

  @Test
  void retainsEverythingAfterTellsWhetherAGapWasEvicted() {
    ReplayBuffer<String> buffer = filled(5, 8); // retains 4..8
    assertFalse(buffer.retainsEverythingAfter(0));
    assertFalse(buffer.retainsEverythingAfter(2), "offset 3 was evicted");
    assertTrue(buffer.retainsEverythingAfter(3), "4..8 are all retained");
    assertTrue(buffer.retainsEverythingAfter(6));
    assertTrue(buffer.retainsEverythingAfter(8), "nothing after the newest is missing");
    assertFalse(buffer.retainsEverythingAfter(9), "offset 9 was never published");
  }

  @Test
  void retainsEverythingAfterBeforeAnyEviction() {
    ReplayBuffer<String> buffer = filled(5, 3);
    assertTrue(buffer.retainsEverythingAfter(0));
    assertTrue(buffer.retainsEverythingAfter(2));
    assertTrue(buffer.retainsEverythingAfter(3));
    assertFalse(buffer.retainsEverythingAfter(4));
  }

  @Test
  void capacityZeroRetainsNothingButTracksOffsets() {
    ReplayBuffer<String> buffer = filled(0, 4);
    assertEquals(0, buffer.capacity());
    assertEquals(0, buffer.size());
    assertEquals(4, buffer.lastOffset());
    assertEquals(5, buffer.oldestOffset());
    assertEquals(List.of(), lastN(buffer, 10));
    assertEquals(List.of(), after(buffer, 0));
    assertEquals(List.of(), after(buffer, 3));
    assertFalse(buffer.retainsEverythingAfter(3), "offset 4 was not retained");
    assertTrue(buffer.retainsEverythingAfter(4));
    buffer.append(5, "e5");
    assertEquals(5, buffer.lastOffset());
    assertThrows(IllegalArgumentException.class, () -> buffer.append(7, "e7"));
  }

  @Test
  void negativeCapacityIsRejected() {
    assertThrows(IllegalArgumentException.class, () -> new ReplayBuffer<String>(-1));
  }

  @Test
  void outOfSequenceAppendIsRejectedAndLeavesTheBufferUnchanged() {
    ReplayBuffer<String> buffer = filled(5, 3);
    assertThrows(IllegalArgumentException.class, () -> buffer.append(5, "gap"));
    assertThrows(IllegalArgumentException.class, () -> buffer.append(3, "duplicate"));
    assertThrows(IllegalArgumentException.class, () -> buffer.append(2, "backwards"));
    assertEquals(3, buffer.lastOffset());
    assertEquals(List.of("e1", "e2", "e3"), after(buffer, 0));
    buffer.append(4, "e4");
    assertEquals(List.of("e1", "e2", "e3", "e4"), after(buffer, 0));
  }

  @Test
  void weightIsTheSumOfWhatIsRetained() {
    ReplayBuffer<String> buffer = new ReplayBuffer<>(3, String::length);
    assertEquals(2, buffer.append(1, "ab"));
    assertEquals(3, buffer.append(2, "abc"));
    assertEquals(1, buffer.append(3, "a"));
    assertEquals(6, buffer.weight());
    assertEquals(4 - 2, buffer.append(4, "abcd"), "the event pushed out by a full ring is subtracted");
    assertEquals(8, buffer.weight());
  }

  @Test
  void replaceSwapsARetainedEventAndItsWeight() {
    ReplayBuffer<String> buffer = new ReplayBuffer<>(3, String::length);
    for (int o = 1; o <= 4; o++) buffer.append(o, "e" + o);
    assertEquals(11 - 2, buffer.replace(3, "e3 and more"));
    assertEquals(List.of("e2", "e3 and more", "e4"), after(buffer, 0));
    assertEquals(15, buffer.weight());
    assertThrows(IllegalArgumentException.class, () -> buffer.replace(1, "pushed out"));
    assertThrows(IllegalArgumentException.class, () -> buffer.replace(5, "not yet"));
  }

  @Test
  void evictOldestGivesUpTheOldestAndKeepsTheOffsets() {
    ReplayBuffer<String> buffer = new ReplayBuffer<>(5, String::length);
    for (int o = 1; o <= 4; o++) buffer.append(o, "e" + o);
    assertEquals(2, buffer.evictOldest());
    assertEquals(2, buffer.evictOldest());
    assertEquals(List.of("e3", "e4"), after(buffer, 0));
    assertEquals(3, buffer.oldestOffset());
    assertEquals(4, buffer.weight());
    assertFalse(buffer.retainsEverythingAfter(1), "offset 2 was given up");
    assertTrue(buffer.retainsEverythingAfter(2));
    assertEquals(List.of("e3", "e4"), lastN(buffer, 10));
    assertEquals(2, buffer.append(5, "e5"), "a slot given up holds nothing to subtract");
    assertEquals(List.of("e3", "e4", "e5"), after(buffer, 0));
  }

  @Test
  void atGivesTheRetainedEventAtAnOffsetAndNullOutsideTheWindow() {
    ReplayBuffer<String> buffer = filled(3, 7);
    assertEquals("e5", buffer.at(5));
    assertEquals("e7", buffer.at(7));
    assertNull(buffer.at(4), "evicted by the ring");
    assertNull(buffer.at(8), "not yet appended");
    assertNull(buffer.at(0));
    buffer.evictOldest();
    assertNull(buffer.at(5), "given up for memory");
    assertEquals("e6", buffer.at(6));
  }

  @Test
  void theRingGrowsWithWhatItHoldsNotWithItsCapacityAndShrinksWhenEventsAreGivenUp() {
    ReplayBuffer<String> buffer = new ReplayBuffer<>(1_000_000_000, String::length);
    assertEquals(ReplayBuffer.INITIAL_SLOTS, buffer.slots());
    for (int offset = 1; offset <= 1_000; offset++) buffer.append(offset, "e" + offset);
    assertEquals(1_024, buffer.slots());
    assertEquals(List.of("e998", "e999", "e1000"), lastN(buffer, 3));
    assertEquals("e1", buffer.at(1));
    for (int i = 0; i < 990; i++) buffer.evictOldest();
    assertTrue(buffer.slots() <= 40, "slots " + buffer.slots());
    assertEquals(List.of("e991", "e992"), lastN(buffer, 10).subList(0, 2));
    assertEquals(1_000_000_000, buffer.capacity());
  }

  @Test
  void evictingEverythingLeavesTheNextOffsetAppendable() {
    ReplayBuffer<String> buffer = new ReplayBuffer<>(3, String::length);
    buffer.append(1, "e1");
    buffer.append(2, "e2");
    buffer.evictOldest();
    buffer.evictOldest();
    assertEquals(0, buffer.evictOldest(), "nothing left to give up");
    assertEquals(0, buffer.size());
    assertEquals(0, buffer.weight());
    assertEquals(3, buffer.oldestOffset());
    assertEquals(List.of(), after(buffer, 0));
    assertTrue(buffer.retainsEverythingAfter(2));
    assertFalse(buffer.retainsEverythingAfter(1));
    buffer.append(3, "e3");
    assertEquals(List.of("e3"), lastN(buffer, 5));
  }

  /**
   * Any mix of appends and evictions: the buffer holds what a deque holds when it drops its oldest
   * past the capacity and on each eviction, with the same weight.
   */
  @Property(tries = 500)
  void agreesWithADequeUnderAnyAppendsAndEvictions(
      @ForAll @IntRange(min = 0, max = 60) int capacity, @ForAll("operations") List<Integer> operations) {
    ReplayBuffer<String> buffer = new ReplayBuffer<>(capacity, String::length);
    Deque<String> expected = new ArrayDeque<>();
    long offset = 0;
    for (int op : operations) {
      if (op > 0) {
        offset++;
        String event = "x".repeat(op);
        buffer.append(offset, event);
        expected.addLast(event);
        if (expected.size() > capacity) expected.removeFirst();
      } else {
        String oldest = expected.pollFirst();
        assertEquals(oldest == null ? 0 : oldest.length(), buffer.evictOldest());
      }
      assertEquals(expected.size(), buffer.size());
      assertEquals(expected.stream().mapToLong(String::length).sum(), buffer.weight());
      // The ring halves while under a quarter full (slots / 4, rounded down), so it ends at most 4 x size + 3.
      int bound = Math.min(capacity, Math.max(ReplayBuffer.INITIAL_SLOTS, 4 * expected.size() + 3));
      assertTrue(buffer.slots() <= bound, "slots " + buffer.slots() + " for " + expected.size() + " events");
    }
    assertEquals(new ArrayList<>(expected), after(buffer, 0));
    assertEquals(offset - expected.size() + 1, buffer.oldestOffset());
    assertNull(buffer.at(buffer.oldestOffset() - 1));
  }

  @Provide
  Arbitrary<List<Integer>> operations() {
    return Arbitraries.integers().between(-3, 9).list().ofMaxSize(300);
  }
}
