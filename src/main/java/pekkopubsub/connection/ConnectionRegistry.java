package pekkopubsub.connection;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * Knows every open WebSocket connection, so that shutdown can tell each to drain and close, and
 * wait for them; and admits new ones up to {@code max-connections}.
 */
public final class ConnectionRegistry extends AbstractBehavior<ConnectionRegistry.Command> {

  public sealed interface Command {}

  /** {@code ticket} is the one {@link Admitted} gave the upgrade; 0 when the connection was not admitted through {@link Admit}. */
  public record Register(ActorRef<Connection.Command> connection, long ticket) implements Command {}

  /**
   * Asked by the {@code /ws} route before it answers 101: a place is reserved until the new
   * connection registers with the ticket, or until the reservation expires (an upgrade whose
   * stream never started), so concurrent upgrades cannot overshoot the limit.
   */
  public record Admit(ActorRef<Admission> replyTo) implements Command {}

  public sealed interface Admission {}

  public record Admitted(long ticket) implements Admission {}

  public record Refused(String reason) implements Admission {}

  /** Gives back an {@link Admitted} reservation: its connection registered without the ticket, or never opened. */
  public record Withdraw(long ticket) implements Command {}

  private record ReservationExpired(long ticket) implements Command {}

  public record Unregister(ActorRef<Connection.Command> connection) implements Command {}

  /** Tells every connection to drain and close; answers {@link AllClosed} once none is left. */
  public record ShutDownAll(ActorRef<AllClosed> replyTo) implements Command {}

  public enum AllClosed { INSTANCE }

  /** {@code maxConnections} 0 means unlimited. */
  public static Behavior<Command> create(int maxConnections, Duration reservationTimeout) {
    return Behaviors.setup(context -> Behaviors.withTimers(timers ->
        new ConnectionRegistry(context, timers, maxConnections, reservationTimeout)));
  }

  private final Set<ActorRef<Connection.Command>> connections = new HashSet<>();
  private final Set<Long> reservations = new HashSet<>();
  private final Set<ActorRef<AllClosed>> waitingForAllClosed = new HashSet<>();
  private final TimerScheduler<Command> timers;
  private final int maxConnections;
  private final Duration reservationTimeout;
  private long lastTicket;
  private boolean shuttingDown;

  private ConnectionRegistry(
      ActorContext<Command> context, TimerScheduler<Command> timers, int maxConnections, Duration reservationTimeout) {
    super(context);
    this.timers = timers;
    this.maxConnections = maxConnections;
    this.reservationTimeout = reservationTimeout;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Register.class, this::onRegister)
        .onMessage(Unregister.class, this::onUnregister)
        .onMessage(ShutDownAll.class, this::onShutDownAll)
        .onMessage(Admit.class, this::onAdmit)
        .onMessage(Withdraw.class, w -> onReservationEnded(w.ticket(), true))
        .onMessage(ReservationExpired.class, e -> onReservationEnded(e.ticket(), false))
        .build();
  }

  private Behavior<Command> onAdmit(Admit admit) {
    if (shuttingDown) {
      admit.replyTo().tell(new Refused("server is shutting down"));
    } else if (maxConnections > 0 && connections.size() + reservations.size() >= maxConnections) {
      admit.replyTo().tell(new Refused("the server's limit of " + maxConnections + " connections is reached"));
    } else {
      long ticket = ++lastTicket;
      reservations.add(ticket);
      timers.startSingleTimer(ticket, new ReservationExpired(ticket), reservationTimeout);
      admit.replyTo().tell(new Admitted(ticket));
    }
    return this;
  }

  private Behavior<Command> onReservationEnded(long ticket, boolean cancelTimer) {
    if (reservations.remove(ticket) && cancelTimer) timers.cancel(ticket);
    return this;
  }

  private Behavior<Command> onRegister(Register register) {
    if (reservations.remove(register.ticket())) timers.cancel(register.ticket());
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
