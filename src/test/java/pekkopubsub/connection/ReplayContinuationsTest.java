package pekkopubsub.connection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ReplayContinuationsTest {

  private final ReplayContinuations<String> replays = new ReplayContinuations<>();

  @Test
  void nothingIsAskedWithoutAReplayThatContinues() {
    assertNull(replays.askNext());
    assertTrue(replays.isEmpty());
  }

  @Test
  void onePageIsAskedAtATimeAndATopicsReplayRunsToItsEndBeforeTheNext() {
    replays.continues("a", "actor-a");
    replays.continues("b", "actor-b");
    assertEquals("actor-a", replays.askNext());
    assertNull(replays.askNext(), "a's page is on its way");
    replays.pageCame("a", "actor-a", false);
    assertEquals("actor-a", replays.askNext(), "a goes on before b");
    replays.pageCame("a", "actor-a", true);
    assertEquals("actor-b", replays.askNext());
    replays.pageCame("b", "actor-b", true);
    assertNull(replays.askNext());
    assertTrue(replays.isEmpty());
  }

  @Test
  void aTopicThatContinuesTwiceWaitsOnce() {
    replays.continues("a", "actor-a");
    replays.continues("a", "actor-a");
    assertEquals("actor-a", replays.askNext());
    replays.pageCame("a", "actor-a", true);
    assertNull(replays.askNext());
  }

  @Test
  void anEndedReplayIsNoLongerAskedForAndItsMissingPageBlocksNothing() {
    replays.continues("a", "actor-a");
    replays.continues("b", "actor-b");
    replays.continues("c", "actor-c");
    assertEquals("actor-a", replays.askNext());
    replays.ended("b");
    replays.ended("a");
    assertEquals("actor-c", replays.askNext(), "a's page may never come (its topic was deleted)");
    replays.pageCame("a", "actor-a", true);
    assertNull(replays.askNext(), "a late last page of a changes nothing");
    replays.pageCame("c", "actor-c", true);
    assertTrue(replays.isEmpty());
  }

  @Test
  void aPageThatSaysMoreAfterTheReplayEndedStartsItAgainForANewSubscription() {
    replays.continues("a", "actor-a");
    assertEquals("actor-a", replays.askNext());
    replays.ended("a");
    assertTrue(replays.isEmpty());
    // Subscribed again before the topic answered the ask: the page is the new replay's first.
    replays.pageCame("a", "actor-a", false);
    assertFalse(replays.isEmpty());
    assertEquals("actor-a", replays.askNext());
  }
}
