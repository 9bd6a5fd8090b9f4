package pekkopubsub.connection;

import java.util.HashSet;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/** Knows every open WebSocket connection, so that shutdown can tell each to drain and close, and wait for them. */
public final class ConnectionRegistry extends AbstractBehavior<ConnectionRegistry.Command> {

  public sealed interface Command {}

  public record Register(ActorRef<Connection.Command> connection) implements Command {}

  public record Unregister(ActorRef<Connection.Command> connection) implements Command {}

  /** Tells every connection to drain and close; answers {@link AllClosed} once none is left. */
  public record ShutDownAll(ActorRef<AllClosed> replyTo) implements Command {}

  public enum AllClosed { INSTANCE }

  public record CountConnections(ActorRef<Integer> replyTo) implements Command {}

  public static Behavior<Command> create() {
    return Behaviors.setup(ConnectionRegistry::new);
  }

  private final Set<ActorRef<Connection.Command>> connections = new HashSet<>();
  private final Set<ActorRef<AllClosed>> waitingForAllClosed = new HashSet<>();
  private boolean shuttingDown;

  private ConnectionRegistry(ActorContext<Command> context) {
    super(context);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Register.class, this::onRegister)
        .onMessage(Unregister.class, this::onUnregister)
        .onMessage(ShutDownAll.class, this::onShutDownAll)
        .onMessage(CountConnections.class, c -> { c.replyTo().tell(connections.size()); return this; })
        .build();
  }

  private Behavior<Command> onRegister(Register register) {
    connections.add(register.connection());
    // An upgrade that raced the start of shutdown still gets the orderly close.
    if (shuttingDown) register.connection().tell(Connection.ShutDown.INSTANCE);
    return this;
  }

  private Behavior<Command> onUnregister(Unregister unregister) {
    connections.remove(unregister.connection());
    answerIfAllClosed();
    return this;
  }

  private Behavior<Command> onShutDownAll(ShutDownAll shutDown) {
    if (!shuttingDown) {
      shuttingDown = true;
      getContext().getLog().info("draining {} open connections", connections.size());
      connections.forEach(connection -> connection.tell(Connection.ShutDown.INSTANCE));
    }
    waitingForAllClosed.add(shutDown.replyTo());
    answerIfAllClosed();
    return this;
  }

  private void answerIfAllClosed() {
    if (shuttingDown && connections.isEmpty()) {
      waitingForAllClosed.forEach(waiting -> waiting.tell(AllClosed.INSTANCE));
      waitingForAllClosed.clear();
    }
  }
}
