package pekkopubsub.http;

import java.util.HashSet;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import pekkopubsub.metrics.ServerMetrics;

/**
 * Admits the connections that Pekko HTTP serves (REST, the docs, every refused upgrade) up to
 * {@code max-http-connections}. Each idle kept-alive one holds about 30 KB of heap for as long as
 * its client sends a byte per idle timeout, so without a bound 12,000 of them ran a 256 MB server
 * out of memory; WebSocket connections have their own bound and are not counted here.
 */
public final class HttpConnections extends AbstractBehavior<HttpConnections.Command> {

  public sealed interface Command {}

  /**
   * Asked by the front door before it hands a connection to Pekko HTTP. A {@code healthProbe}
   * refused is served all the same, closed after its answer, so its refusal is not counted.
   */
  public record Admit(boolean healthProbe, ActorRef<Admission> replyTo) implements Command {}

  public sealed interface Admission {}

  /** {@code ticket} goes back in {@link Closed} when the connection ends. */
  public record Admitted(long ticket) implements Admission {}

  public record Refused(String reason) implements Admission {}

  /** An admitted connection ended, or was admitted after its client had gone. */
  public record Closed(long ticket) implements Command {}

  /** {@code max} 0 means unlimited. */
  public static Behavior<Command> create(int max, ServerMetrics metrics) {
    return Behaviors.setup(context -> new HttpConnections(context, max, metrics));
  }

  private final Set<Long> open = new HashSet<>();
  private final int max;
  private final ServerMetrics metrics;
  private long lastTicket;

  private HttpConnections(ActorContext<Command> context, int max, ServerMetrics metrics) {
    super(context);
    this.max = max;
    this.metrics = metrics;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Admit.class, this::onAdmit)
        .onMessage(Closed.class, this::onClosed)
        .build();
  }

  private Behavior<Command> onAdmit(Admit admit) {
    if (max > 0 && open.size() >= max) {
      if (!admit.healthProbe()) metrics.httpConnectionRefused();
      admit.replyTo().tell(new Refused("the server's limit of " + max + " HTTP connections is reached"));
    } else {
      long ticket = ++lastTicket;
      open.add(ticket);
      metrics.httpConnectionsChanged(1);
      admit.replyTo().tell(new Admitted(ticket));
    }
    return this;
  }

  private Behavior<Command> onClosed(Closed closed) {
    if (open.remove(closed.ticket())) metrics.httpConnectionsChanged(-1);
    return this;
  }
}
