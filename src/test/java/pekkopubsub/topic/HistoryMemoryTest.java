package pekkopubsub.topic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class HistoryMemoryTest {

  private static HistoryMemory withTopics(long budget, int topics) {
    HistoryMemory memory = new HistoryMemory(budget);
    for (int i = 0; i < topics; i++) memory.topicStarted();
    return memory;
  }

  @Test
  void withinTheBudgetNoTopicGivesUpAnything() {
    HistoryMemory memory = withTopics(1000, 2);
    memory.changed(1000);
    assertFalse(memory.overShare(1000), "the whole budget in one topic is fine while the total is within it");
  }

  @Test
  void overTheBudgetOnlyTopicsOverAnEqualShareGiveUpEvents() {
    HistoryMemory memory = withTopics(1000, 4);
    memory.changed(1001);
    assertTrue(memory.overShare(251), "an equal share of 1000 over 4 topics is 250");
    assertFalse(memory.overShare(250));
    assertFalse(memory.overShare(0), "a topic holding nothing has nothing to give up");
  }

  @Test
  void noBudgetNeverAsksForAnything() {
    HistoryMemory memory = withTopics(0, 1);
    memory.changed(Long.MAX_VALUE / 2);
    assertFalse(memory.overShare(Long.MAX_VALUE / 2));
  }

  @Test
  void aStoppedTopicHandsBackItsBytesAndItsShare() {
    HistoryMemory memory = withTopics(1000, 2);
    memory.changed(900);
    memory.changed(300);
    assertTrue(memory.overShare(600));
    memory.topicStopped(900);
    assertEquals(1, memory.topics());
    assertEquals(300, memory.retainedBytes());
    assertFalse(memory.overShare(300));
  }

  @Test
  void evictionsAreCountedAndHandTheirBytesBack() {
    HistoryMemory memory = new HistoryMemory(10);
    memory.changed(10);
    memory.gaveUp(4);
    memory.gaveUp(3);
    assertEquals(2, memory.evictedEvents());
    assertEquals(3, memory.retainedBytes());
  }

  @Test
  void aNegativeBudgetIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> new HistoryMemory(-1));
  }

  @Test
  void oneWarningAMinuteForAllTopics() {
    HistoryMemory memory = new HistoryMemory(10);
    long now = System.nanoTime();
    assertTrue(memory.warningDue(now));
    assertFalse(memory.warningDue(now + 1), "another topic a moment later stays quiet");
    assertFalse(memory.warningDue(now + HistoryMemory.WARNING_INTERVAL_NANOS - 1));
    assertTrue(memory.warningDue(now + HistoryMemory.WARNING_INTERVAL_NANOS));
  }
}
