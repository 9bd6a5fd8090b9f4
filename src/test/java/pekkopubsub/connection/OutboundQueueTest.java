package pekkopubsub.connection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;
import pekkopubsub.config.Settings.OverflowPolicy;
import pekkopubsub.connection.OutboundQueue.Offer;

class OutboundQueueTest {

  private static ByteString f(String s) {
    return ByteString.fromString(s);
  }

  /** Polls one frame at a time (maxBytes 1 always yields exactly one frame) until empty. */
  private static List<String> drainOneByOne(OutboundQueue<?> queue) {
    List<String> out = new ArrayList<>();
    ByteString next;
    while ((next = queue.pollBatch(1)) != null) out.add(next.utf8String());
    return out;
  }

  @Test
  void aQueueThatGrowsWhileWrappedKeepsOrderAndDropsOnlyAtItsCapacity() {
    OutboundQueue<String> queue = new OutboundQueue<>(100, OverflowPolicy.DROP_OLDEST);
    List<String> expected = new ArrayList<>();
    // Wrap the small initial ring before it has to grow: poll a few, then offer many.
    for (int i = 0; i < 6; i++) queue.offerEvent(f("e" + i), "t");
    for (int i = 0; i < 4; i++) assertEquals("e" + i, queue.pollBatch(1).utf8String());
    for (int i = 6; i < 104; i++) assertEquals(Offer.ENQUEUED, queue.offerEvent(f("e" + i), "t"));
    assertEquals(100, queue.eventCount());
    assertEquals(Offer.DROPPED_OLDEST, queue.offerEvent(f("e104"), "t"));
    for (int i = 5; i <= 104; i++) expected.add("e" + i);
    assertEquals(expected, drainOneByOne(queue));
    assertEquals(Map.of("t", 1L), queue.takeUnreportedDrops());
  }

  @Test
  void capacityMustBePositive() {
    assertThrows(IllegalArgumentException.class, () -> new OutboundQueue<String>(0, OverflowPolicy.DROP_OLDEST));
  }

  @Test
  void emptyQueuePollsNull() {
    OutboundQueue<String> queue = new OutboundQueue<>(4, OverflowPolicy.DROP_OLDEST);
    assertTrue(queue.isEmpty());
    assertNull(queue.pollBatch(1000));
    assertEquals(Map.of(), queue.takeUnreportedDrops());
    assertFalse(queue.hasUnreportedDrops());
    assertEquals(0, queue.droppedTotal());
  }

  @Test
  void answersAndEventsLeaveInArrivalOrder() {
    OutboundQueue<String> queue = new OutboundQueue<>(8, OverflowPolicy.DROP_OLDEST);
    queue.offerAnswer(f("a1"));
    assertEquals(Offer.ENQUEUED, queue.offerEvent(f("e1"), "t1"));
    assertEquals(Offer.ENQUEUED, queue.offerEvent(f("e2"), "t2"));
    queue.offerAnswer(f("a2"));
    queue.offerAnswer(f("a3"));
    assertEquals(Offer.ENQUEUED, queue.offerEvent(f("e3"), "t1"));
    queue.offerAnswer(f("a4"));
    assertEquals(4, queue.answerCount());
    assertEquals(3, queue.eventCount());
    assertFalse(queue.isEmpty());
    assertEquals(List.of("a1", "e1", "e2", "a2", "a3", "e3", "a4"), drainOneByOne(queue));
    assertTrue(queue.isEmpty());
    assertEquals(0, queue.droppedTotal());
  }

  @Test
  void arrivalOrderHoldsWhileInterleavingOffersAndPolls() {
    OutboundQueue<String> queue = new OutboundQueue<>(3, OverflowPolicy.DROP_OLDEST);
    List<String> out = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      queue.offerEvent(f("e" + i), "t");
      if (i % 3 == 0) queue.offerAnswer(f("a" + i));
      if (i % 2 == 0) out.add(queue.pollBatch(1).utf8String());
    }
    out.addAll(drainOneByOne(queue));
    // whatever was dropped, what is left is in the order it was offered
    List<Integer> positions = new ArrayList<>();
    for (String s : out) {
      int i = Integer.parseInt(s.substring(1));
      positions.add(i * 2 + (s.startsWith("a") ? 1 : 0)); // a_i was offered right after e_i
    }
    List<Integer> sorted = new ArrayList<>(positions);
    sorted.sort(null);
    assertEquals(sorted, positions, out.toString());
    long answers = out.stream().filter(s -> s.startsWith("a")).count();
    assertEquals(17, answers, "no answer is ever dropped");
    long events = out.stream().filter(s -> s.startsWith("e")).count();
    assertEquals(50, events + queue.droppedTotal(), "each event is delivered or counted as dropped");
  }

  @Test
  void dropOldestDropsTheOldestEventAndNeverAnAnswer() {
    OutboundQueue<String> queue = new OutboundQueue<>(2, OverflowPolicy.DROP_OLDEST);
    queue.offerAnswer(f("a1"));
    queue.offerEvent(f("e1"), "t1");
    queue.offerAnswer(f("a2"));
    queue.offerEvent(f("e2"), "t2");
    assertEquals(Offer.DROPPED_OLDEST, queue.offerEvent(f("e3"), "t1"));
    assertEquals(Offer.DROPPED_OLDEST, queue.offerEvent(f("e4"), "t1"));
    queue.offerAnswer(f("a3"));
    assertEquals(2, queue.eventCount());
    assertEquals(3, queue.answerCount());
    assertEquals(2, queue.droppedTotal());
    assertEquals(List.of("a1", "a2", "e3", "e4", "a3"), drainOneByOne(queue));
  }

  @Test
  void replayedEventsKeepTheirPlaceAmongAnswersAreNeverDroppedAndCountAsEventsTaken() {
    OutboundQueue<String> queue = new OutboundQueue<>(1, OverflowPolicy.DROP_OLDEST);
    queue.offerAnswer(f("ack"));
    queue.offerReplayed(f("r1"));
    queue.offerReplayed(f("r2"));
    queue.offerEvent(f("e1"), "t");
    assertEquals(Offer.DROPPED_OLDEST, queue.offerEvent(f("e2"), "t"));
    assertEquals(3, queue.answerCount());
    assertEquals(List.of("ack", "r1", "r2", "e2"), drainOneByOne(queue));
    assertEquals(3, queue.eventsTaken(), "two replayed events and one live one reached the socket");
    assertEquals(4, queue.framesTaken());
    assertEquals(1, queue.droppedTotal());
  }

  @Test
  void manyAnswersDoNotCountAgainstTheEventCapacity() {
    OutboundQueue<String> queue = new OutboundQueue<>(1, OverflowPolicy.DISCONNECT);
    for (int i = 0; i < 1000; i++) queue.offerAnswer(f("a" + i));
    assertEquals(Offer.ENQUEUED, queue.offerEvent(f("e"), "t"));
    assertEquals(1000, queue.answerCount());
    assertEquals(0, queue.droppedTotal());
  }

  @Test
  void eachDropIsCountedAgainstItsSource() {
    OutboundQueue<String> queue = new OutboundQueue<>(3, OverflowPolicy.DROP_OLDEST);
    queue.offerEvent(f("e1"), "orders");
    queue.offerEvent(f("e2"), "orders");
    queue.offerEvent(f("e3"), "news");
    queue.offerEvent(f("e4"), "news");   // drops e1 (orders)
    queue.offerEvent(f("e5"), "orders"); // drops e2 (orders)
    queue.offerEvent(f("e6"), "orders"); // drops e3 (news)
    assertTrue(queue.hasUnreportedDrops());
    assertEquals(Map.of("orders", 2L, "news", 1L), queue.takeUnreportedDrops());
    assertFalse(queue.hasUnreportedDrops());
    assertEquals(Map.of(), queue.takeUnreportedDrops(), "each drop is reported once");
    queue.offerEvent(f("e7"), "sports"); // drops e4 (news)
    assertEquals(Map.of("news", 1L), queue.takeUnreportedDrops());
    assertEquals(4, queue.droppedTotal());
    assertEquals(List.of("e5", "e6", "e7"), drainOneByOne(queue));
    assertEquals(Map.of(), queue.takeUnreportedDrops());
  }

  @Test
  void takenDropsAreASnapshot() {
    OutboundQueue<String> queue = new OutboundQueue<>(1, OverflowPolicy.DROP_OLDEST);
    queue.offerEvent(f("e1"), "t");
    queue.offerEvent(f("e2"), "t");
    Map<String, Long> first = queue.takeUnreportedDrops();
    queue.offerEvent(f("e3"), "t");
    assertEquals(Map.of("t", 1L), first);
    assertEquals(Map.of("t", 1L), queue.takeUnreportedDrops());
  }

  @Test
  void disconnectPolicyRefusesOnOverflowAndCountsEverythingQueuedAsDropped() {
    OutboundQueue<String> queue = new OutboundQueue<>(3, OverflowPolicy.DISCONNECT);
    queue.offerAnswer(f("a1"));
    assertEquals(Offer.ENQUEUED, queue.offerEvent(f("e1"), "orders"));
    assertEquals(Offer.ENQUEUED, queue.offerEvent(f("e2"), "news"));
    assertEquals(Offer.ENQUEUED, queue.offerEvent(f("e3"), "orders"));
    assertEquals(Offer.REFUSED, queue.offerEvent(f("e4"), "news"));
    assertEquals(0, queue.eventCount(), "queued events are dropped");
    assertEquals(4, queue.droppedTotal(), "the refused one plus the three queued");
    assertEquals(Map.of("orders", 2L, "news", 2L), queue.takeUnreportedDrops());

    // later offers are refused and counted too
    assertEquals(Offer.REFUSED, queue.offerEvent(f("e5"), "orders"));
    assertEquals(Offer.REFUSED, queue.offerEvent(f("e6"), "orders"));
    assertEquals(0, queue.eventCount());
    assertEquals(6, queue.droppedTotal());
    assertEquals(Map.of("orders", 2L), queue.takeUnreportedDrops());

    // answers (e.g. the SLOW_CONSUMER error) still go out, after what was queued before
    queue.offerAnswer(f("slow"));
    assertEquals(List.of("a1", "slow"), drainOneByOne(queue));
  }

  @Test
  void disconnectPolicyAcceptsUpToCapacity() {
    OutboundQueue<String> queue = new OutboundQueue<>(2, OverflowPolicy.DISCONNECT);
    assertEquals(Offer.ENQUEUED, queue.offerEvent(f("e1"), "t"));
    assertEquals(Offer.ENQUEUED, queue.offerEvent(f("e2"), "t"));
    assertEquals(List.of("e1"), List.of(queue.pollBatch(1).utf8String()));
    assertEquals(Offer.ENQUEUED, queue.offerEvent(f("e3"), "t"), "polling made room");
    assertEquals(0, queue.droppedTotal());
    assertEquals(List.of("e2", "e3"), drainOneByOne(queue));
  }

  @Test
  void closeForEventsDropsQueuedAndFutureEventsButKeepsAnswers() {
    OutboundQueue<String> queue = new OutboundQueue<>(4, OverflowPolicy.DROP_OLDEST);
    queue.offerEvent(f("e1"), "orders");
    queue.offerAnswer(f("a1"));
    queue.offerEvent(f("e2"), "news");
    queue.closeForEvents();
    assertEquals(0, queue.eventCount());
    assertEquals(2, queue.droppedTotal());
    assertEquals(Offer.REFUSED, queue.offerEvent(f("e3"), "orders"));
    assertEquals(3, queue.droppedTotal());
    assertEquals(Map.of("orders", 2L, "news", 1L), queue.takeUnreportedDrops());
    queue.offerAnswer(f("bye"));
    assertEquals(List.of("a1", "bye"), drainOneByOne(queue));
    assertTrue(queue.isEmpty());
  }

  @Test
  void pollBatchConcatenatesFramesUpToMaxBytes() {
    OutboundQueue<String> queue = new OutboundQueue<>(10, OverflowPolicy.DROP_OLDEST);
    queue.offerAnswer(f("aaa"));      // 3
    queue.offerEvent(f("bbbb"), "t"); // 4
    queue.offerAnswer(f("cc"));       // 2
    queue.offerEvent(f("ddddd"), "t"); // 5
    assertEquals("aaabbbb", queue.pollBatch(8).utf8String(), "7 bytes; the next frame would make 9 > 8");
    assertEquals("ccddddd", queue.pollBatch(7).utf8String(), "exactly maxBytes is allowed");
    assertNull(queue.pollBatch(7));
  }

  @Test
  void pollBatchAlwaysReturnsAtLeastOneFrame() {
    OutboundQueue<String> queue = new OutboundQueue<>(10, OverflowPolicy.DROP_OLDEST);
    queue.offerEvent(f("x".repeat(100)), "t");
    queue.offerAnswer(f("y"));
    assertEquals(100, queue.pollBatch(10).size(), "one oversized frame alone");
    assertEquals("y", queue.pollBatch(0).utf8String());
    assertTrue(queue.isEmpty());
  }

  @Test
  void pollBatchTakesEverythingWhenItFits() {
    OutboundQueue<String> queue = new OutboundQueue<>(10, OverflowPolicy.DROP_OLDEST);
    for (int i = 0; i < 5; i++) {
      queue.offerEvent(f("e" + i), "t");
      queue.offerAnswer(f("a" + i));
    }
    assertEquals("e0a0e1a1e2a2e3a3e4a4", queue.pollBatch(1 << 20).utf8String());
    assertTrue(queue.isEmpty());
  }

  @Test
  void everyBatchIsTheLongestRunOfWholeFramesThatFits() {
    // Frames of 1-3 bytes and limits from 1 to 40 bytes: batches of one frame, of a few frames and of
    // many, in the order the frames came, none over the limit unless it is one oversized frame.
    for (int maxBytes = 1; maxBytes <= 40; maxBytes++) {
      OutboundQueue<String> queue = new OutboundQueue<>(64, OverflowPolicy.DROP_OLDEST);
      List<String> frames = new ArrayList<>();
      for (int i = 0; i < 30; i++) {
        String frame = String.valueOf((char) ('a' + i % 26)).repeat(1 + i % 3);
        frames.add(frame);
        if (i % 5 == 0) queue.offerAnswer(f(frame));
        else queue.offerEvent(f(frame), "t");
      }
      StringBuilder all = new StringBuilder();
      int next = 0;
      ByteString batch;
      while ((batch = queue.pollBatch(maxBytes)) != null) {
        int expectedBytes = frames.get(next++).length();
        while (next < frames.size() && expectedBytes + frames.get(next).length() <= maxBytes) {
          expectedBytes += frames.get(next++).length();
        }
        assertEquals(expectedBytes, batch.size(), "batch size at maxBytes " + maxBytes);
        all.append(batch.utf8String());
      }
      assertEquals(String.join("", frames), all.toString(), "frames in order at maxBytes " + maxBytes);
    }
  }

  @Test
  void discardAnswersKeepsEvents() {
    OutboundQueue<String> queue = new OutboundQueue<>(10, OverflowPolicy.DROP_OLDEST);
    queue.offerAnswer(f("a1"));
    queue.offerEvent(f("e1"), "t");
    queue.offerAnswer(f("a2"));
    queue.offerEvent(f("e2"), "t");
    queue.discardAnswers();
    assertEquals(0, queue.answerCount());
    assertEquals(2, queue.eventCount());
    assertEquals(0, queue.droppedTotal(), "answers are not events: nothing is counted");
    assertEquals(List.of("e1", "e2"), drainOneByOne(queue));
    queue.offerAnswer(f("a3"));
    queue.discardAnswers();
    assertTrue(queue.isEmpty());
  }

  /** What a peer that closed is still owed: the answers, in order, without the replays it no longer reads. */
  @Test
  void discardReplayedKeepsTheOtherAnswersAndCountsTheLiveEventsOfAPage() {
    OutboundQueue<String> queue = new OutboundQueue<>(10, OverflowPolicy.DROP_OLDEST);
    queue.offerAnswer(f("a1"));
    queue.offerReplayed(f("r1"));
    queue.offerLiveInReplay(f("l1"), "t");
    queue.offerAnswer(f("a2"));
    queue.offerEvent(f("e1"), "u");
    queue.discardReplayed();
    assertEquals(Map.of("t", 1L), queue.takeUnreportedDrops(), "the live one, not the replayed one");
    assertEquals(List.of("a1", "a2", "e1"), drainOneByOne(queue));
  }

  @Test
  void liveEventsOfAReplayPageKeepTheirPlaceAndAreCountedAgainstTheirSourceWhenDiscardedOrRefused() {
    OutboundQueue<String> queue = new OutboundQueue<>(1, OverflowPolicy.DROP_OLDEST);
    queue.offerReplayed(f("r1"));
    assertEquals(Offer.ENQUEUED, queue.offerLiveInReplay(f("l2"), "t"));
    queue.offerEvent(f("e1"), "u");
    assertEquals(Offer.ENQUEUED, queue.offerLiveInReplay(f("l3"), "t"), "a page's events are not bounded with the queue's");
    assertEquals(List.of("r1", "l2", "e1", "l3"), drainOneByOne(queue));
    assertEquals(4, queue.eventsTaken());
    assertEquals(0, queue.droppedTotal());

    queue.offerReplayed(f("r4"));
    queue.offerLiveInReplay(f("l5"), "t");
    queue.offerLiveInReplay(f("l6"), "t");
    queue.discardAnswers();
    assertEquals(Map.of("t", 2L), queue.takeUnreportedDrops(), "the live ones, not the replayed one");
    queue.closeForEvents();
    assertEquals(Offer.REFUSED, queue.offerLiveInReplay(f("l7"), "t"));
    assertTrue(queue.isEmpty());
    assertEquals(3, queue.droppedTotal());
    assertEquals(Map.of("t", 1L), queue.takeUnreportedDrops());
  }

  @Test
  void droppedTotalEqualsTheSumOfReportedDrops() {
    OutboundQueue<Integer> queue = new OutboundQueue<>(5, OverflowPolicy.DROP_OLDEST);
    long reported = 0;
    int delivered = 0;
    for (int i = 0; i < 1000; i++) {
      queue.offerEvent(f("e" + i), i % 7);
      if (i % 4 == 0 && queue.pollBatch(1) != null) delivered++;
      if (i % 50 == 0) reported += queue.takeUnreportedDrops().values().stream().mapToLong(Long::longValue).sum();
    }
    reported += queue.takeUnreportedDrops().values().stream().mapToLong(Long::longValue).sum();
    delivered += drainOneByOne(queue).size();
    assertEquals(queue.droppedTotal(), reported);
    assertEquals(1000, delivered + reported);
  }

  // ---------------------------------------------------------------- the byte bound

  @Test
  void dropOldestDropsAsManyOldEventsAsAnEventOverTheByteBoundNeeds() {
    OutboundQueue<String> queue = new OutboundQueue<>(100, 10, OverflowPolicy.DROP_OLDEST);
    queue.offerAnswer(f("answer-not-counted"));
    for (String e : List.of("aaa", "bbb", "ccc")) assertEquals(Offer.ENQUEUED, queue.offerEvent(f(e), "t"));
    assertEquals(9, queue.eventBytes());
    assertEquals(Offer.DROPPED_OLDEST, queue.offerEvent(f("dddddd"), "t"), "9 + 6 > 10: two must go");
    assertEquals(2, queue.droppedTotal());
    assertEquals(9, queue.eventBytes());
    assertEquals(List.of("answer-not-counted", "ccc", "dddddd"), drainOneByOne(queue));
    assertEquals(0, queue.eventBytes());
  }

  @Test
  void anEventLargerThanTheByteBoundStillFitsAnEmptyQueue() {
    OutboundQueue<String> queue = new OutboundQueue<>(100, 10, OverflowPolicy.DROP_OLDEST);
    queue.offerEvent(f("small"), "t");
    assertEquals(Offer.DROPPED_OLDEST, queue.offerEvent(f("much-too-large"), "t"));
    assertEquals(1, queue.droppedTotal());
    assertEquals(List.of("much-too-large"), drainOneByOne(queue));
    assertEquals(Offer.ENQUEUED, queue.offerEvent(f("much-too-large"), "t"), "alone, it is taken");
  }

  @Test
  void theDisconnectPolicyTreatsTheByteBoundLikeTheCount() {
    OutboundQueue<String> queue = new OutboundQueue<>(100, 10, OverflowPolicy.DISCONNECT);
    assertEquals(Offer.ENQUEUED, queue.offerEvent(f("aaaaa"), "t"));
    assertEquals(Offer.ENQUEUED, queue.offerEvent(f("bbbbb"), "t"), "exactly at the bound");
    assertEquals(Offer.REFUSED, queue.offerEvent(f("c"), "t"));
    assertEquals(3, queue.droppedTotal());
    assertEquals(0, queue.eventBytes());
  }

  @Test
  void takingEventsFreesTheirBytes() {
    OutboundQueue<String> queue = new OutboundQueue<>(100, 10, OverflowPolicy.DISCONNECT);
    queue.offerEvent(f("aaaaa"), "t");
    queue.offerEvent(f("bbbbb"), "t");
    assertEquals("aaaaabbbbb", queue.pollBatch(100).utf8String());
    assertEquals(Offer.ENQUEUED, queue.offerEvent(f("ccccc"), "t"));
    assertEquals(Offer.ENQUEUED, queue.offerEvent(f("ddddd"), "t"));
    assertEquals(0, queue.droppedTotal());
  }

  @Test
  void aNegativeByteBoundIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> new OutboundQueue<String>(1, -1, OverflowPolicy.DROP_OLDEST));
  }

  // ---------------------------------------------------------------- heap pressure

  private static final int KIB = 1024;

  private static HeapPressure pressure(boolean high) {
    HeapPressure pressure = new HeapPressure(100);
    pressure.afterCollection(high ? 100 : 0);
    return pressure;
  }

  @Test
  void underHeapPressureAQueueOfLargeEventsKeepsOnly64KiB() {
    HeapPressure pressure = pressure(false);
    OutboundQueue<String> queue = new OutboundQueue<>(256, 1024 * KIB, OverflowPolicy.DROP_OLDEST, pressure);
    ByteString event = ByteString.fromArray(new byte[16 * KIB]);
    for (int i = 0; i < 10; i++) assertEquals(Offer.ENQUEUED, queue.offerEvent(event, "t"), "no pressure: up to the byte bound");
    pressure.afterCollection(100);
    assertEquals(Offer.SHED_OLDEST, queue.offerEvent(event, "t"));
    assertEquals(4, queue.eventCount(), "64 KiB of 16 KiB events");
    assertEquals(64 * KIB, queue.eventBytes());
    assertEquals(7, queue.droppedTotal());
    assertEquals(7, queue.shedTotal(), "all of them for the pressure");
    assertEquals(Map.of("t", 7L), queue.takeUnreportedDrops(), "counted against the topic like any drop");
  }

  @Test
  void underHeapPressureAQueueOfSmallEventsKeepsItsWholeCount() {
    OutboundQueue<String> queue = new OutboundQueue<>(256, 1024 * KIB, OverflowPolicy.DROP_OLDEST, pressure(true));
    ByteString event = ByteString.fromArray(new byte[256]);
    for (int i = 0; i < 256; i++) assertEquals(Offer.ENQUEUED, queue.offerEvent(event, "t"));
    assertEquals(Offer.DROPPED_OLDEST, queue.offerEvent(event, "t"), "the count binds first");
    assertEquals(0, queue.shedTotal());
  }

  @Test
  void oneEventOfAnySizeFitsAnEmptyQueueUnderPressure() {
    OutboundQueue<String> queue = new OutboundQueue<>(256, 0, OverflowPolicy.DROP_OLDEST, pressure(true));
    ByteString large = ByteString.fromArray(new byte[100 * KIB]);
    assertEquals(Offer.ENQUEUED, queue.offerEvent(large, "t"));
    assertEquals(Offer.SHED_OLDEST, queue.offerEvent(large, "t"));
    assertEquals(1, queue.eventCount());
  }

  @Test
  void theQueueGrowsAgainOnceThePressureIsOff() {
    HeapPressure pressure = pressure(true);
    OutboundQueue<String> queue = new OutboundQueue<>(256, 0, OverflowPolicy.DROP_OLDEST, pressure);
    ByteString event = ByteString.fromArray(new byte[32 * KIB]);
    for (int i = 0; i < 3; i++) queue.offerEvent(event, "t");
    assertEquals(2, queue.eventCount());
    pressure.afterCollection(89);
    for (int i = 0; i < 3; i++) assertEquals(Offer.ENQUEUED, queue.offerEvent(event, "t"));
    assertEquals(5, queue.eventCount());
  }

  @Test
  void theDisconnectPolicyRefusesUnderPressureLikeAtItsBounds() {
    OutboundQueue<String> queue = new OutboundQueue<>(256, 1024 * KIB, OverflowPolicy.DISCONNECT, pressure(true));
    ByteString event = ByteString.fromArray(new byte[40 * KIB]);
    assertEquals(Offer.ENQUEUED, queue.offerEvent(event, "t"));
    assertEquals(Offer.REFUSED, queue.offerEvent(event, "t"));
    assertEquals(2, queue.droppedTotal());
    assertEquals(0, queue.shedTotal(), "the connection closes as a slow consumer; its drops are counted so");
  }

  @Test
  void theBoundsThemselvesCountAsQueueFullEvenUnderPressure() {
    OutboundQueue<String> queue = new OutboundQueue<>(2, 0, OverflowPolicy.DROP_OLDEST, pressure(true));
    ByteString event = ByteString.fromArray(new byte[40 * KIB]);
    queue.offerEvent(event, "t");
    assertEquals(Offer.SHED_OLDEST, queue.offerEvent(event, "t"));
    assertEquals(Offer.SHED_OLDEST, queue.offerEvent(event, "t"));
    assertEquals(2, queue.shedTotal());
    OutboundQueue<String> full = new OutboundQueue<>(1, 0, OverflowPolicy.DROP_OLDEST, pressure(true));
    full.offerEvent(event, "t");
    assertEquals(Offer.DROPPED_OLDEST, full.offerEvent(event, "t"), "the count alone would have dropped it");
    assertEquals(0, full.shedTotal());
  }
}
