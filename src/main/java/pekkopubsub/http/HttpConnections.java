package pekkopubsub.http;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Scheduler;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
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
   * Asked by the front door before it hands a connection to Pekko HTTP, under a {@code ticket} no
   * other connection uses (see {@link #admit}). A {@code healthProbe} refused is served all the
   * same, closed after its answer, so its refusal is not counted.
   */
  public record Admit(long ticket, boolean healthProbe, ActorRef<Admission> replyTo) implements Command {}

  public sealed interface Admission {}

  /** {@code ticket} goes back in {@link Closed} when the connection ends. */
  public record Admitted(long ticket) implements Admission {}

  public record Refused(String reason) implements Admission {}

  /** An admitted connection ended, or was admitted after its client had gone. */
  public record Closed(long ticket) implements Command {}

  /**
   * Asks {@code admissions} for a place under {@code ticket}. An answer that does not come within
   * {@code timeout} fails (the front door answers 503), and the ticket is given back: the actor may
   * still grant it later, to a reply that goes nowhere, and with nothing to close it the place was
   * held for ever. Closed follows the Admit it gives back, so it always finds the place granted.
   */
  public static CompletionStage<Admission> admit(ActorRef<Command> admissions, long ticket, boolean healthProbe,
      Duration timeout, Scheduler scheduler) {
    CompletionStage<Admission> answer =
        AskPattern.ask(admissions, replyTo -> new Admit(ticket, healthProbe, replyTo), timeout, scheduler);
    answer.whenCompleteAsync((admission, failure) -> {
      if (failure != null) admissions.tell(new Closed(ticket));
    }, CompletingThread.INSTANCE);
    return answer;
  }

  /** {@code max} 0 means unlimited. */
  public static Behavior<Command> create(int max, ServerMetrics metrics) {
    return Behaviors.setup(context -> new HttpConnections(context, max, metrics));
  }

  private final Set<Long> open = new HashSet<>();
  private final int max;
  private final ServerMetrics metrics;

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
      open.add(admit.ticket());
      metrics.httpConnectionsChanged(1);
      admit.replyTo().tell(new Admitted(admit.ticket()));
    }
    return this;
  }

  private Behavior<Command> onClosed(Closed closed) {
    if (open.remove(closed.ticket())) metrics.httpConnectionsChanged(-1);
    return this;
  }
}
