package pekkopubsub.http;

import org.apache.pekko.Done;
import org.apache.pekko.stream.stage.AsyncCallback;

/**
 * Lets the stage above a connection's {@link Socket} (TLS) tell it that the bytes it writes are
 * ending before that stage can hand it the last of them: TLS keeps its close_notify until the
 * socket asks for more, which the socket does only once it has written all it holds, so without
 * this the socket could not know that its peer must now take what it holds within the drain
 * deadline, as a socket without TLS knows from the end of its input.
 *
 * <p>One per connection, shared by two stages fused in the same graph; the socket hears of it
 * through its own async callback.
 */
final class WritingEnds {
  private AsyncCallback<Done> socket;
  private boolean announced;

  /** The socket's stage, as it starts. */
  synchronized void listen(AsyncCallback<Done> socket) {
    this.socket = socket;
    if (announced) socket.invoke(Done.done());
  }

  /** Nothing follows what the socket has been given but what the stage above keeps until the socket asks. */
  synchronized void announce() {
    announced = true;
    if (socket != null) socket.invoke(Done.done());
  }
}
