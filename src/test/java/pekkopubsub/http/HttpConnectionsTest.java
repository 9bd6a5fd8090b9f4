package pekkopubsub.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import pekkopubsub.metrics.ServerMetrics;

class HttpConnectionsTest {
  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final AtomicLong TICKETS = new AtomicLong();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static HttpConnections.Admission admit(ActorRef<HttpConnections.Command> connections) {
    return admit(connections, false);
  }

  private static HttpConnections.Admission admit(ActorRef<HttpConnections.Command> connections, boolean healthProbe) {
    TestProbe<HttpConnections.Admission> answer = testKit.createTestProbe();
    connections.tell(new HttpConnections.Admit(TICKETS.incrementAndGet(), healthProbe, answer.getRef()));
    return answer.receiveMessage();
  }

  @Test
  void connectionsPastTheLimitAreRefusedUntilOneCloses() {
    MeterRegistry meters = new SimpleMeterRegistry();
    ActorRef<HttpConnections.Command> connections = testKit.spawn(HttpConnections.create(2, new ServerMetrics(meters)));
    var first = assertInstanceOf(HttpConnections.Admitted.class, admit(connections));
    var second = assertInstanceOf(HttpConnections.Admitted.class, admit(connections));
    assertTrue(first.ticket() != second.ticket(), "each connection has its own ticket");
    var refused = assertInstanceOf(HttpConnections.Refused.class, admit(connections));
    assertTrue(refused.reason().contains("limit of 2 HTTP connections"), refused::toString);
    assertEquals(2, meters.get("pubsub.http.connections").gauge().value());
    assertEquals(1, meters.get("pubsub.http.connections.refused").counter().count());

    connections.tell(new HttpConnections.Closed(first.ticket()));
    assertInstanceOf(HttpConnections.Admitted.class, admit(connections));
    assertInstanceOf(HttpConnections.Refused.class, admit(connections));
    assertEquals(2, meters.get("pubsub.http.connections.refused").counter().count());
  }

  @Test
  void aHealthProbeTakesAFreePlaceButIsNotCountedAsRefusedPastTheLimit() {
    MeterRegistry meters = new SimpleMeterRegistry();
    ActorRef<HttpConnections.Command> connections = testKit.spawn(HttpConnections.create(1, new ServerMetrics(meters)));
    assertInstanceOf(HttpConnections.Admitted.class, admit(connections, true));
    assertInstanceOf(HttpConnections.Refused.class, admit(connections, true));
    assertEquals(0, meters.get("pubsub.http.connections.refused").counter().count(), "the front door serves that probe anyway");
    assertInstanceOf(HttpConnections.Refused.class, admit(connections, false));
    assertEquals(1, meters.get("pubsub.http.connections.refused").counter().count());
  }

  @Test
  void aTicketClosedTwiceOrNeverGivenFreesNoOtherPlace() {
    MeterRegistry meters = new SimpleMeterRegistry();
    ActorRef<HttpConnections.Command> connections = testKit.spawn(HttpConnections.create(1, new ServerMetrics(meters)));
    var only = assertInstanceOf(HttpConnections.Admitted.class, admit(connections));
    connections.tell(new HttpConnections.Closed(only.ticket() + 1000));
    assertInstanceOf(HttpConnections.Refused.class, admit(connections));

    connections.tell(new HttpConnections.Closed(only.ticket()));
    var next = assertInstanceOf(HttpConnections.Admitted.class, admit(connections));
    connections.tell(new HttpConnections.Closed(only.ticket()));
    assertInstanceOf(HttpConnections.Refused.class, admit(connections));
    assertEquals(1, meters.get("pubsub.http.connections").gauge().value());

    connections.tell(new HttpConnections.Closed(next.ticket()));
    assertInstanceOf(HttpConnections.Admitted.class, admit(connections));
  }

  @Test
  void zeroMeansNoLimit() {
    MeterRegistry meters = new SimpleMeterRegistry();
    ActorRef<HttpConnections.Command> connections = testKit.spawn(HttpConnections.create(0, new ServerMetrics(meters)));
    for (int i = 0; i < 2000; i++) assertInstanceOf(HttpConnections.Admitted.class, admit(connections));
    assertEquals(2000, meters.get("pubsub.http.connections").gauge().value());
    assertEquals(0, meters.get("pubsub.http.connections.refused").counter().count());
  }

  /** The gate answers 503 when its ask times out; a place the actor grants after that went nowhere and was held for ever. */
  @Test
  void aPlaceGrantedAfterTheAskTimedOutIsGivenBack() {
    MeterRegistry meters = new SimpleMeterRegistry();
    ActorRef<HttpConnections.Command> connections = testKit.spawn(HttpConnections.create(1, new ServerMetrics(meters)));
    // Stands between the front door and the actor, and passes the admission on only once the ask has failed.
    TestProbe<HttpConnections.Command> late = testKit.createTestProbe();
    var asked = HttpConnections.admit(late.getRef(), 7, false, Duration.ofMillis(50), testKit.scheduler()).toCompletableFuture();
    HttpConnections.Admit admit = late.expectMessageClass(HttpConnections.Admit.class);
    ExecutionException timedOut = assertThrows(ExecutionException.class, () -> asked.get(10, TimeUnit.SECONDS));
    assertInstanceOf(TimeoutException.class, timedOut.getCause());
    connections.tell(admit);
    connections.tell(late.expectMessageClass(HttpConnections.Closed.class));

    assertInstanceOf(HttpConnections.Admitted.class, admit(connections), "the only place is free");
  }
}
