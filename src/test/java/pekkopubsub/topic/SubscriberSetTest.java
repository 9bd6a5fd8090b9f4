package pekkopubsub.topic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

class SubscriberSetTest {

  /** The members in fan-out order, asserting that each comes once. */
  private static <S> Set<S> walk(SubscriberSet<S> set) {
    Set<S> seen = new HashSet<>();
    for (int i = 0; i < set.size(); i++) assertTrue(seen.add(set.get(i)), "each member once: " + set.get(i));
    return seen;
  }

  @Test
  void aMemberIsWalkedOnceAndKeepsItsCoveredAndLiveOffsets() {
    SubscriberSet<String> set = new SubscriberSet<>();
    assertTrue(set.add("a", 4, 10));
    assertTrue(set.add("b", 7, 7));
    assertEquals(Set.of("a", "b"), walk(set));
    assertEquals(4L, set.coveredAfter("a"));
    assertEquals(10L, set.liveAfter("a"));
    assertEquals(7L, set.coveredAfter("b"));
    assertEquals(7L, set.liveAfter("b"));
    assertNull(set.coveredAfter("c"));
    assertNull(set.liveAfter("c"));
  }

  @Test
  void addingAMemberAgainChangesNothing() {
    SubscriberSet<String> set = new SubscriberSet<>();
    set.add("a", 4, 5);
    assertFalse(set.add("a", 9, 9));
    assertEquals(1, set.size());
    assertEquals(4L, set.coveredAfter("a"));
    assertEquals(5L, set.liveAfter("a"));
  }

  @Test
  void removingFromTheMiddleKeepsEveryOtherMember() {
    SubscriberSet<String> set = new SubscriberSet<>();
    for (String s : List.of("a", "b", "c", "d")) set.add(s, 0, 0);
    assertTrue(set.remove("b"));
    assertFalse(set.remove("b"));
    assertFalse(set.contains("b"));
    assertEquals(Set.of("a", "c", "d"), walk(set));
    assertTrue(set.remove("d"));
    assertEquals(Set.of("a", "c"), walk(set));
  }

  @Test
  void positionsPastTheEndAreRefused() {
    SubscriberSet<String> set = new SubscriberSet<>();
    set.add("a", 0, 0);
    set.remove("a");
    assertThrows(IndexOutOfBoundsException.class, () -> set.get(0));
  }

  @Test
  void aTopicEmptiedAfterAStormHoldsAllItStillHas() {
    SubscriberSet<Integer> set = new SubscriberSet<>();
    for (int i = 0; i < 20_000; i++) set.add(i, i, i);
    for (int i = 0; i < 19_990; i++) assertTrue(set.remove(i));
    assertEquals(10, set.size());
    assertEquals(Set.of(19_990, 19_991, 19_992, 19_993, 19_994, 19_995, 19_996, 19_997, 19_998, 19_999), walk(set));
    assertEquals(19_995L, set.coveredAfter(19_995));
  }

  /** Any sequence of joins and leaves: the set holds exactly what a map of the same changes holds. */
  @Property(tries = 300)
  void agreesWithAMapUnderAnyJoinsAndLeaves(@ForAll("changes") List<Integer> changes) {
    SubscriberSet<Integer> set = new SubscriberSet<>();
    Map<Integer, Long> expected = new HashMap<>();
    long offset = 0;
    for (int change : changes) {
      int subscriber = Math.abs(change);
      offset++;
      if (change >= 0) {
        assertEquals(!expected.containsKey(subscriber), set.add(subscriber, offset, offset));
        expected.putIfAbsent(subscriber, offset);
      } else {
        assertEquals(expected.remove(subscriber) != null, set.remove(subscriber));
      }
      assertEquals(expected.size(), set.size());
    }
    assertEquals(expected.keySet(), walk(set));
    for (Map.Entry<Integer, Long> member : expected.entrySet()) {
      assertEquals(member.getValue(), set.coveredAfter(member.getKey()));
    }
  }

  @Provide
  Arbitrary<List<Integer>> changes() {
    return Arbitraries.integers().between(-40, 40).list().ofMaxSize(400);
  }
}
