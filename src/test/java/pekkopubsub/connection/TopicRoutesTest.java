package pekkopubsub.connection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Topic addresses are strings here; requests are their ids. */
class TopicRoutesTest {
  private final TopicRoutes<String, String> routes = new TopicRoutes<>();

  @Test
  void requestsGoThroughTheManagerUntilTheTopicIsLocatedAndEveryManagerRoutedRequestIsAnswered() {
    assertNull(routes.target("orders", "p1"));
    assertTrue(routes.shouldLocate("orders"));
    assertNull(routes.target("orders", "p2"));
    assertTrue(routes.located("orders", "actor-1"));

    // p1 and p2 may still be on their way through the manager: p3 must not overtake them.
    assertNull(routes.target("orders", "p3"));
    routes.answered("orders");
    routes.answered("orders");
    assertNull(routes.target("orders", "p4"), "p3 is still unanswered");
    routes.answered("orders");
    routes.answered("orders");

    assertEquals("actor-1", routes.target("orders", "p5"));
    assertEquals("actor-1", routes.target("orders", "p6"));
  }

  @Test
  void aTopicIsLocatedOnceWhileItsActorLives() {
    assertTrue(routes.shouldLocate("orders"));
    assertFalse(routes.shouldLocate("orders"), "already asked");
    assertTrue(routes.located("orders", "actor-1"));
    assertFalse(routes.shouldLocate("orders"), "known");
  }

  @Test
  void aTopicNotLocatedIsAskedForAgainLater() {
    assertNull(routes.target("missing", "p1"));
    assertTrue(routes.shouldLocate("missing"));
    routes.notLocated("missing");
    routes.answered("missing");
    assertEquals(0, routes.size(), "nothing left to remember");

    assertNull(routes.target("missing", "p2"));
    assertTrue(routes.shouldLocate("missing"));
  }

  @Test
  void theRequestsAStoppedTopicNeverAnsweredComeBackOldestFirstAndGoThroughTheManager() {
    locate("orders", "actor-1");
    assertEquals("actor-1", routes.target("orders", "p1"));
    assertEquals("actor-1", routes.target("orders", "p2"));
    assertEquals("actor-1", routes.target("orders", "p3"));
    routes.answered("orders");

    assertEquals(List.of("p2", "p3"), routes.stopped("actor-1"));
    assertNull(routes.target("orders", "p2"));
    assertNull(routes.target("orders", "p3"));
    assertNull(routes.target("orders", "p4"));
    assertTrue(routes.shouldLocate("orders"), "the name may have a new actor");
    assertTrue(routes.located("orders", "actor-2"));
    assertNull(routes.target("orders", "p5"), "three requests are still with the manager");
    for (int i = 0; i < 4; i++) routes.answered("orders");
    assertEquals("actor-2", routes.target("orders", "p6"));
  }

  @Test
  void aStoppedActorThatNoRouteUsesGivesNothingBack() {
    locate("orders", "actor-1");
    assertEquals(List.of(), routes.stopped("actor-9"));
    assertEquals("actor-1", routes.target("orders", "p1"));
  }

  @Test
  void topicsAreRoutedEachOnTheirOwn() {
    locate("a", "actor-a");
    assertNull(routes.target("b", "pb1"));
    assertEquals("actor-a", routes.target("a", "pa1"), "b's request in flight does not hold a back");
    assertEquals(List.of("pa1"), routes.stopped("actor-a"));
    routes.answered("b");
    assertEquals(0, routes.size());
  }

  @Test
  void aConnectionThatOnlySubscribesKeepsNoRoutes() {
    for (int i = 0; i < 3; i++) assertNull(routes.target("topic-" + i, "s" + i));
    assertEquals(3, routes.size());
    for (int i = 0; i < 3; i++) routes.answered("topic-" + i);
    assertEquals(0, routes.size());
  }

  @Test
  void anAnswerNobodyWaitsForChangesNothing() {
    routes.answered("orders");
    assertEquals(0, routes.size());
    locate("orders", "actor-1");
    routes.answered("orders");
    assertEquals("actor-1", routes.target("orders", "p1"));
  }

  @Test
  void aLateLocatedForATopicNotBeingLocatedIsIgnored() {
    assertFalse(routes.located("orders", "actor-1"));
    assertNull(routes.target("orders", "p1"));
  }

  /** Publishes once through the manager and learns the topic's actor. */
  private void locate(String topic, String actor) {
    assertNull(routes.target(topic, "first"));
    assertTrue(routes.shouldLocate(topic));
    assertTrue(routes.located(topic, actor));
    routes.answered(topic);
  }
}
