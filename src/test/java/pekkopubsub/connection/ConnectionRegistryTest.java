package pekkopubsub.connection;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class ConnectionRegistryTest {
  private static final ActorTestKit testKit = ActorTestKit.create();

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  private static ConnectionRegistry.Admission admit(ActorRef<ConnectionRegistry.Command> registry) {
    TestProbe<ConnectionRegistry.Admission> answer = testKit.createTestProbe();
    registry.tell(new ConnectionRegistry.Admit(answer.getRef()));
    return answer.receiveMessage();
  }

  @Test
  void aReservationHoldsAPlaceUntilItsConnectionRegistersAndLeaves() {
    ActorRef<ConnectionRegistry.Command> registry = testKit.spawn(ConnectionRegistry.create(1, Duration.ofMinutes(1)));
    var admitted = assertInstanceOf(ConnectionRegistry.Admitted.class, admit(registry));
    assertInstanceOf(ConnectionRegistry.Refused.class, admit(registry));

    TestProbe<Connection.Command> connection = testKit.createTestProbe();
    registry.tell(new ConnectionRegistry.Register(connection.getRef(), admitted.ticket()));
    assertInstanceOf(ConnectionRegistry.Refused.class, admit(registry));

    registry.tell(new ConnectionRegistry.Unregister(connection.getRef()));
    assertInstanceOf(ConnectionRegistry.Admitted.class, admit(registry));
  }

  @Test
  void aWithdrawnReservationGivesItsPlaceBack() {
    ActorRef<ConnectionRegistry.Command> registry = testKit.spawn(ConnectionRegistry.create(1, Duration.ofMinutes(1)));
    var admitted = assertInstanceOf(ConnectionRegistry.Admitted.class, admit(registry));
    registry.tell(new ConnectionRegistry.Withdraw(admitted.ticket()));
    assertInstanceOf(ConnectionRegistry.Admitted.class, admit(registry));
  }

  @Test
  void aConnectionRegisteredWithoutATicketCountsAgainstTheLimit() {
    ActorRef<ConnectionRegistry.Command> registry = testKit.spawn(ConnectionRegistry.create(1, Duration.ofMinutes(1)));
    var admitted = assertInstanceOf(ConnectionRegistry.Admitted.class, admit(registry));
    TestProbe<Connection.Command> connection = testKit.createTestProbe();
    // the front door's order: the connection registers with no ticket, the reservation is withdrawn
    registry.tell(new ConnectionRegistry.Register(connection.getRef(), 0));
    registry.tell(new ConnectionRegistry.Withdraw(admitted.ticket()));
    assertInstanceOf(ConnectionRegistry.Refused.class, admit(registry));
  }

  @Test
  void anExpiredReservationGivesItsPlaceBack() {
    ActorRef<ConnectionRegistry.Command> registry = testKit.spawn(ConnectionRegistry.create(1, Duration.ofMillis(50)));
    assertInstanceOf(ConnectionRegistry.Admitted.class, admit(registry));
    TestProbe<ConnectionRegistry.Admission> answer = testKit.createTestProbe();
    answer.awaitAssert(Duration.ofSeconds(5), () -> {
      registry.tell(new ConnectionRegistry.Admit(answer.getRef()));
      return assertInstanceOf(ConnectionRegistry.Admitted.class, answer.receiveMessage());
    });
  }

  @Test
  void shutdownTellsEveryConnectionAndAnswersOnceAllHaveLeft() {
    ActorRef<ConnectionRegistry.Command> registry = testKit.spawn(ConnectionRegistry.create(0, Duration.ofMinutes(1)));
    TestProbe<Connection.Command> first = testKit.createTestProbe();
    TestProbe<Connection.Command> second = testKit.createTestProbe();
    registry.tell(new ConnectionRegistry.Register(first.getRef(), 0));
    registry.tell(new ConnectionRegistry.Register(second.getRef(), 0));
    TestProbe<ConnectionRegistry.AllClosed> done = testKit.createTestProbe();
    registry.tell(new ConnectionRegistry.ShutDownAll(done.getRef()));
    first.expectMessage(Connection.ShutDown.INSTANCE);
    second.expectMessage(Connection.ShutDown.INSTANCE);
    assertInstanceOf(ConnectionRegistry.Refused.class, admit(registry));

    registry.tell(new ConnectionRegistry.Unregister(first.getRef()));
    done.expectNoMessage(Duration.ofMillis(100));
    registry.tell(new ConnectionRegistry.Unregister(second.getRef()));
    done.expectMessage(ConnectionRegistry.AllClosed.INSTANCE);
  }
}
