package pekkopubsub.http;

import java.net.InetSocketAddress;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.Terminated;
import org.apache.pekko.io.Tcp;
import org.apache.pekko.io.TcpMessage;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.SubscriptionWithCancelException;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.stream.stage.InHandler;
import org.apache.pekko.stream.stage.OutHandler;
import org.apache.pekko.stream.stage.GraphStageLogic.StageActor;
import org.apache.pekko.util.ByteString;
import org.apache.pekko.util.ByteStringBuilder;
import scala.Tuple2;
import scala.runtime.BoxedUnit;

/**
 * One accepted TCP connection as a flow of bytes (bytes to write in, bytes read out), driving its
 * Pekko IO connection actor directly.
 *
 * <p>Why not Pekko Streams' own TCP stage: it waits for an acknowledgement of every write, and
 * first sends an empty write to gather more (four messages between the stage and the connection
 * actor per write). Here a write to a connection that has not written for a while goes without
 * an acknowledgement: one message. Writes that follow each other within {@link #GATHER_WINDOW_NANOS}
 * are acknowledged, and what arrives while one is in flight is gathered into the next write, so a
 * busy connection still makes few, large writes. Nothing is lost when the socket is full: the
 * connection actor returns each write it cannot take ({@code CommandFailed}), the stage keeps
 * them, asks to resume, and writes them again in order; meanwhile it stops pulling, so
 * backpressure reaches the connection's bounded queue. Reading is in push mode: the actor reads
 * whenever data arrives, without a request per read, and is suspended while more than
 * {@link #READ_BUFFER_LIMIT} bytes wait for the stages above.
 *
 * <p>Closing follows Pekko's {@code halfClose = false}: when the peer closes, reading completes;
 * when the bytes to write complete, the stage writes what is left, then closes the connection.
 */
final class Socket extends GraphStage<FlowShape<ByteString, ByteString>> {

  /** Consecutive writes closer than this are acknowledged, so that writes in between are gathered. */
  static final long GATHER_WINDOW_NANOS = 1_000_000;
  /** Bytes gathered while a write is in flight before the stage stops pulling. */
  static final int WRITE_BUFFER_LIMIT = 64 * 1024;
  /** Bytes read but not yet taken by the stages above before reading is suspended. */
  static final int READ_BUFFER_LIMIT = 64 * 1024;

  /** The acknowledgement asked for with a write. */
  private enum WriteAck implements Tcp.Event { INSTANCE }

  /** Failures of the connection reported by Pekko IO. */
  static final class SocketException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    SocketException(String message) {
      super(message, null, false, false);
    }
  }

  private final Inlet<ByteString> in = Inlet.create("Socket.toWrite");
  private final Outlet<ByteString> out = Outlet.create("Socket.read");
  private final FlowShape<ByteString, ByteString> shape = FlowShape.of(in, out);
  private final ActorRef connection;
  private final InetSocketAddress remote;
  private final long gatherWindowNanos;

  /** {@code connection} is the Pekko IO actor of a connection accepted in push mode and not yet registered. */
  Socket(ActorRef connection, InetSocketAddress remote) {
    this(connection, remote, GATHER_WINDOW_NANOS);
  }

  /** With a gather window of 0 every write but the last goes unacknowledged (for tests). */
  Socket(ActorRef connection, InetSocketAddress remote, long gatherWindowNanos) {
    this.connection = connection;
    this.remote = remote;
    this.gatherWindowNanos = gatherWindowNanos;
  }

  @Override
  public FlowShape<ByteString, ByteString> shape() {
    return shape;
  }

  private enum Writing {
    /** No acknowledged write in flight: a push is written at once. */
    OPEN,
    /** An acknowledged write is in flight: pushes are gathered until its acknowledgement. */
    ACKING,
    /** The connection actor refused writes: they and new pushes wait until it resumes writing. */
    SUSPENDED,
    /** Everything is written and the close is sent. */
    CLOSED
  }

  @Override
  public GraphStageLogic createLogic(Attributes inheritedAttributes) {
    return new Logic();
  }

  private final class Logic extends GraphStageLogic implements InHandler, OutHandler {
    private ActorRef self;
    private Writing writing = Writing.OPEN;
    private long lastWriteNanos = System.nanoTime() - gatherWindowNanos;
    /**
     * Pushed while a write was in flight or writing was suspended; null when nothing is (an idle
     * connection keeps no builder). A builder, because concat copies the growing buffer's part
     * vector on every push.
     */
    private ByteStringBuilder gathered;
    /** Returned by the connection actor, in the order written, to be written again when it resumes. */
    private ByteString refused = ByteString.emptyByteString();
    private ByteString received = ByteString.emptyByteString();
    private boolean readingSuspended;
    private boolean peerClosed;

    Logic() {
      super(shape);
      setHandlers(in, out, this);
    }

    @Override
    public void preStart() {
      setKeepGoing(true);
      StageActor stageActor = getStageActor(this::receive);
      stageActor.watch(connection);
      self = stageActor.ref();
      connection.tell(TcpMessage.register(self, true, true), self);
      pull(in);
    }

    // ---- writing ----

    @Override
    public void onPush() {
      ByteString bytes = grab(in);
      if (writing == Writing.OPEN) {
        write(bytes, false);
      } else {
        if (gathered == null) gathered = ByteString.newBuilder();
        gathered.append(bytes);
      }
      pullIfRoom();
    }

    @Override
    public void onUpstreamFinish() {
      // The empty acknowledged write confirms that every earlier write has gone to the socket.
      if (writing == Writing.OPEN) write(ByteString.emptyByteString(), true);
    }

    @Override
    public void onUpstreamFailure(Throwable cause) {
      connection.tell(TcpMessage.abort(), self);
      failStage(cause);
    }

    /** Acknowledged when asked, when closing, or when the previous write was within the gather window. */
    private void write(ByteString bytes, boolean acknowledged) {
      long now = System.nanoTime();
      boolean recent = now - lastWriteNanos < gatherWindowNanos;
      lastWriteNanos = now;
      if (acknowledged || recent || isClosed(in)) {
        connection.tell(TcpMessage.write(bytes, WriteAck.INSTANCE), self);
        writing = Writing.ACKING;
      } else {
        connection.tell(TcpMessage.write(bytes), self);
      }
    }

    private void pullIfRoom() {
      if (!isClosed(in) && !hasBeenPulled(in) && gatheredBytes() < WRITE_BUFFER_LIMIT) pull(in);
    }

    private void onWriteAck() {
      if (writing != Writing.ACKING) return;
      if (gatheredBytes() > 0) {
        write(takeGathered(), true);
      } else if (isClosed(in)) {
        connection.tell(TcpMessage.close(), self);
        writing = Writing.CLOSED;
      } else {
        writing = Writing.OPEN;
      }
      pullIfRoom();
    }

    private int gatheredBytes() {
      return gathered == null ? 0 : gathered.length();
    }

    private ByteString takeGathered() {
      if (gathered == null) return ByteString.emptyByteString();
      ByteString bytes = gathered.result();
      gathered = null;
      return bytes;
    }

    private void onWriteRefused(Tcp.Write write) {
      refused = refused.concat(write.data());
      if (writing != Writing.SUSPENDED) {
        writing = Writing.SUSPENDED;
        connection.tell(TcpMessage.resumeWriting(), self);
      }
    }

    private void onWritingResumed() {
      // Every write sent before the resume request has been taken or returned by now: messages
      // between two actors keep their order.
      ByteString again = refused.concat(takeGathered());
      refused = ByteString.emptyByteString();
      write(again, true);
      pullIfRoom();
    }

    // ---- reading ----

    @Override
    public void onPull() {
      if (!received.isEmpty()) {
        ByteString bytes = received;
        received = ByteString.emptyByteString();
        push(out, bytes);
        if (readingSuspended) {
          readingSuspended = false;
          connection.tell(TcpMessage.resumeReading(), self);
        }
      } else if (peerClosed) {
        complete(out);
      }
    }

    @Override
    public void onDownstreamFinish(Throwable cause) {
      if (!(cause instanceof SubscriptionWithCancelException.NonFailureCancellation)) {
        connection.tell(TcpMessage.abort(), self);
        failStage(cause);
        return;
      }
      // Nothing more will be read; what is still to be written is written before the close.
      received = ByteString.emptyByteString();
      if (!readingSuspended) {
        readingSuspended = true;
        connection.tell(TcpMessage.suspendReading(), self);
      }
    }

    private void onReceived(ByteString bytes) {
      if (isClosed(out)) return;
      if (received.isEmpty() && isAvailable(out)) {
        push(out, bytes);
        return;
      }
      received = received.concat(bytes);
      if (received.size() >= READ_BUFFER_LIMIT && !readingSuspended) {
        readingSuspended = true;
        connection.tell(TcpMessage.suspendReading(), self);
      }
    }

    private void onPeerClosed() {
      peerClosed = true;
      if (received.isEmpty() && !isClosed(out)) complete(out);
    }

    // ---- the connection actor's messages ----

    private BoxedUnit receive(Tuple2<ActorRef, Object> envelope) {
      Object message = envelope._2();
      if (message instanceof Tcp.Received received) {
        onReceived(received.data());
      } else if (message == WriteAck.INSTANCE) {
        onWriteAck();
      } else if (message instanceof Tcp.CommandFailed failed && failed.cmd() instanceof Tcp.Write write) {
        onWriteRefused(write);
      } else if (message instanceof Tcp.WritingResumed) {
        onWritingResumed();
      } else if (message instanceof Tcp.ConnectionClosed closed) {
        onClosed(closed);
      } else if (message instanceof Tcp.CommandFailed failed) {
        failStage(new SocketException("connection from " + remote + ": " + failed.cmd() + " failed" + failed.causedByString()));
      } else if (message instanceof Terminated) {
        failStage(new SocketException("connection from " + remote + ": its connection actor stopped"));
      }
      return BoxedUnit.UNIT;
    }

    private void onClosed(Tcp.ConnectionClosed closed) {
      if (closed.isPeerClosed()) {
        onPeerClosed();
      } else if (closed.isErrorClosed()) {
        failStage(new SocketException("connection from " + remote + " failed: " + closed.getErrorCause()));
      } else if (closed.isAborted()) {
        failStage(new SocketException("connection from " + remote + " aborted"));
      } else {
        completeStage();
      }
    }
  }
}
