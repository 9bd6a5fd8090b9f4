package pekkopubsub.http;

import java.net.BindException;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;
import org.apache.pekko.Done;
import org.apache.pekko.actor.AbstractActor;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.Props;
import org.apache.pekko.io.Inet;
import org.apache.pekko.io.Tcp;
import org.apache.pekko.io.TcpMessage;

/**
 * Binds the server's port with Pekko IO and hands each accepted connection to the front door.
 *
 * <p>A classic actor because Pekko IO addresses each connection by the sender of its
 * {@code Connected}, which typed actors do not see. Connections are accepted in push mode, the
 * mode {@link Socket} reads in.
 */
final class Acceptor extends AbstractActor {

  /** Stop accepting and release the port. */
  enum Unbind { INSTANCE }

  private final InetSocketAddress endpoint;
  private final int backlog;
  private final Iterable<Inet.SocketOption> options;
  private final CompletableFuture<InetSocketAddress> bound;
  private final CompletableFuture<Done> unbound;
  private final BiConsumer<ActorRef, InetSocketAddress> serve;
  private ActorRef listener;

  /** {@code serve} runs one accepted connection, given its Pekko IO actor and the peer's address. */
  static Props props(
      InetSocketAddress endpoint,
      int backlog,
      Iterable<Inet.SocketOption> options,
      CompletableFuture<InetSocketAddress> bound,
      CompletableFuture<Done> unbound,
      BiConsumer<ActorRef, InetSocketAddress> serve) {
    return Props.create(Acceptor.class, () -> new Acceptor(endpoint, backlog, options, bound, unbound, serve));
  }

  private Acceptor(
      InetSocketAddress endpoint,
      int backlog,
      Iterable<Inet.SocketOption> options,
      CompletableFuture<InetSocketAddress> bound,
      CompletableFuture<Done> unbound,
      BiConsumer<ActorRef, InetSocketAddress> serve) {
    this.endpoint = endpoint;
    this.backlog = backlog;
    this.options = options;
    this.bound = bound;
    this.unbound = unbound;
    this.serve = serve;
  }

  @Override
  public void preStart() {
    Tcp.get(getContext().getSystem()).manager().tell(TcpMessage.bind(self(), endpoint, backlog, options, false), self());
  }

  @Override
  public void postStop() {
    bound.completeExceptionally(new IllegalStateException("stopped before the port was bound"));
    unbound.complete(Done.done());
  }

  @Override
  public Receive createReceive() {
    return receiveBuilder()
        .match(Tcp.Connected.class, connected -> serve.accept(sender(), connected.remoteAddress()))
        .match(Tcp.Bound.class, this::onBound)
        .match(Tcp.CommandFailed.class, this::onBindFailed)
        .matchEquals(Unbind.INSTANCE, unbind -> onUnbind())
        .match(Tcp.Unbound.class, unbound -> getContext().stop(self()))
        .build();
  }

  private void onBound(Tcp.Bound b) {
    listener = sender();
    bound.complete(b.localAddress());
  }

  private void onBindFailed(Tcp.CommandFailed failed) {
    String reason = failed.cause().isDefined() ? failed.cause().get().getMessage() : "refused";
    bound.completeExceptionally(new BindException(reason));
    getContext().stop(self());
  }

  private void onUnbind() {
    if (listener == null) getContext().stop(self());
    else listener.tell(TcpMessage.unbind(), self());
  }
}
