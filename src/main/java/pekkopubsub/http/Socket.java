package pekkopubsub.http;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.Done;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.StreamIdleTimeoutException;
import org.apache.pekko.stream.SubscriptionWithCancelException;
import org.apache.pekko.stream.stage.AsyncCallback;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.stream.stage.InHandler;
import org.apache.pekko.stream.stage.OutHandler;
import org.apache.pekko.stream.stage.TimerGraphStageLogic;
import org.apache.pekko.util.ByteString;

/**
 * One accepted TCP connection as a flow of bytes (bytes to write in, bytes read out): the stage
 * writes to the non-blocking socket itself, and the {@link SelectorLoop} hands it what it reads.
 *
 * <p>A push is written at once, with no message to another actor. When the socket cannot take it
 * all, the stage keeps the rest, stops pulling (so backpressure reaches the connection's bounded
 * queue) and asks the loop to report when the socket is writable. A write that follows the last
 * one within {@link #GATHER_WINDOW_NANOS} pulls the next bytes one turn later, so that what arrives
 * for a busy connection meanwhile is gathered upstream into one write. Reading is pushed by the
 * loop, which pauses after {@link SelectorLoop#READ_AHEAD_LIMIT} bytes; the stage resumes it once
 * it has handed everything read to the stages above, so a connection holds at most about twice
 * that limit unread.
 *
 * <p>Closing follows Pekko's {@code halfClose = false}: when the peer closes, reading completes;
 * when the bytes to write complete (or a TLS stage above announces their end, {@link WritingEnds}),
 * the stage writes what is left, then closes the connection, or resets it when the peer takes
 * none of the rest for {@link #DRAIN_DEADLINE}; a failure resets it, except an idle timeout
 * (HTTP's, on a kept-alive REST connection), which closes it like a completion when everything is
 * written: a client reading an idle connection sees its end, not an error, and one that stopped
 * reading is reset. Whoever counts the connection hears when its socket is closed and released.
 */
final class Socket extends GraphStage<FlowShape<ByteString, ByteString>> {

  /** A write closer than this to the previous one pulls the next bytes a turn later, to gather them. */
  static final long GATHER_WINDOW_NANOS = 1_000_000;

  /** Failures of the connection. */
  static final class SocketException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    SocketException(String message) {
      super(message, null, false, false);
    }
  }

  private enum Signal { WRITABLE, READING_PAUSED, PEER_CLOSED, PULL }

  /**
   * How long the last bytes of a connection that has ended may wait for the peer to take any of
   * them before the connection is reset. A client that stops reading held its socket for ever after
   * its stream had ended (and its place among the HTTP connections with it).
   */
  static final Duration DRAIN_DEADLINE = Duration.ofSeconds(10);

  private enum Drain { DEADLINE }

  /** Bytes copied out of the heap per write call; the socket's send buffer seldom takes more at once. */
  static final int WRITE_CHUNK = 64 * 1024;

  /**
   * One direct buffer per writing thread, filled and written within one call: a heap buffer would be
   * copied into a direct one by the JDK anyway, and a batch of frames (many parts) would be written
   * with a gathering write, which costs more than the copy.
   */
  private static final ThreadLocal<ByteBuffer> SCRATCH = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(WRITE_CHUNK));

  private final Inlet<ByteString> in = Inlet.create("Socket.toWrite");
  private final Outlet<ByteString> out = Outlet.create("Socket.read");
  private final FlowShape<ByteString, ByteString> shape = FlowShape.of(in, out);
  private final SocketChannel channel;
  private final InetSocketAddress remote;
  private final SelectorLoop loop;
  private final long gatherWindowNanos;
  private final Duration drainDeadline;
  private final CompletableFuture<Done> released;
  private final WritingEnds writingEnds;

  /**
   * {@code channel} is a non-blocking, connected socket the loop has not registered yet;
   * {@code released} completes once the stage has closed it and the loop released it;
   * {@code writingEnds}, if not null, is how a TLS stage above announces the end of the bytes to write.
   */
  Socket(SocketChannel channel, InetSocketAddress remote, SelectorLoop loop, CompletableFuture<Done> released,
      WritingEnds writingEnds) {
    this(channel, remote, loop, GATHER_WINDOW_NANOS, DRAIN_DEADLINE, released, writingEnds);
  }

  /** With a gather window of 0 every pull follows its write at once (for tests). */
  Socket(SocketChannel channel, InetSocketAddress remote, SelectorLoop loop, long gatherWindowNanos, Duration drainDeadline,
      CompletableFuture<Done> released, WritingEnds writingEnds) {
    this.channel = channel;
    this.remote = remote;
    this.loop = loop;
    this.gatherWindowNanos = gatherWindowNanos;
    this.drainDeadline = drainDeadline;
    this.released = released;
    this.writingEnds = writingEnds;
  }

  @Override
  public FlowShape<ByteString, ByteString> shape() {
    return shape;
  }

  @Override
  public GraphStageLogic createLogic(Attributes inheritedAttributes) {
    return new Logic();
  }

  private final class Logic extends TimerGraphStageLogic implements InHandler, OutHandler, SelectorLoop.Handler {
    private AsyncCallback<ByteString> onReceived;
    private AsyncCallback<Signal> onSignal;
    private AsyncCallback<IOException> onFailed;
    private long lastWriteNanos = System.nanoTime() - gatherWindowNanos;
    /** What the socket did not take of the last push; null when everything is written. */
    private ByteString unwritten;
    private ByteString received = ByteString.emptyByteString();
    /** The loop paused reading and waits for this stage to resume it. */
    private boolean readingPaused;
    private boolean peerClosed;
    private boolean closed;
    /** The stage above announced that only what it keeps until the next pull follows what this stage holds. */
    private boolean endAnnounced;

    Logic() {
      super(shape);
      setHandlers(in, out, this);
    }

    @Override
    public void preStart() {
      setKeepGoing(true);
      onReceived = createAsyncCallback(this::onReceived);
      onSignal = createAsyncCallback(this::onSignal);
      onFailed = createAsyncCallback(this::fail);
      if (writingEnds != null) writingEnds.listen(createAsyncCallback(done -> onEndAnnounced()));
      loop.register(channel, this);
      pull(in);
    }

    @Override
    public void postStop() {
      if (!closed) close(true);
    }

    // ---- the loop's reports, on its thread: handed over to the stage ----

    @Override
    public void received(ByteString bytes) {
      onReceived.invoke(bytes);
    }

    @Override
    public void writable() {
      onSignal.invoke(Signal.WRITABLE);
    }

    @Override
    public void readingPaused() {
      onSignal.invoke(Signal.READING_PAUSED);
    }

    @Override
    public void peerClosed() {
      onSignal.invoke(Signal.PEER_CLOSED);
    }

    @Override
    public void failed(IOException cause) {
      onFailed.invoke(cause);
    }

    private void onSignal(Signal signal) {
      switch (signal) {
        case WRITABLE -> writeUnwritten();
        case READING_PAUSED -> {
          readingPaused = true;
          resumeReadingIfTaken();
        }
        case PEER_CLOSED -> onPeerClosed();
        case PULL -> pullIfOpen();
      }
    }

    // ---- writing ----

    @Override
    public void onPush() {
      unwritten = grab(in);
      writeUnwritten();
    }

    @Override
    public void onUpstreamFinish() {
      if (unwritten == null) closeAndComplete();
      else scheduleOnce(Drain.DEADLINE, drainDeadline);
    }

    @Override
    public void onUpstreamFailure(Throwable cause) {
      if (cause instanceof StreamIdleTimeoutException) {
        // Nothing moved for the whole idle timeout: bytes still unwritten are bytes the client is not reading.
        if (unwritten == null) closeAndComplete();
        else resetAndComplete();
        return;
      }
      close(true);
      failStage(cause);
    }

    @Override
    public void onTimer(Object key) {
      resetAndComplete();
    }

    private void onEndAnnounced() {
      endAnnounced = true;
      if (unwritten != null && !closed) scheduleOnce(Drain.DEADLINE, drainDeadline);
    }

    /** What this stage holds is all but the last bytes: the peer must take them within the drain deadline. */
    private boolean ending() {
      return isClosed(in) || endAnnounced;
    }

    private void writeUnwritten() {
      if (unwritten == null || closed) return;
      int before = unwritten.size();
      try {
        unwritten = writeSome(unwritten);
      } catch (IOException e) {
        fail(e);
        return;
      }
      if (unwritten != null) {
        // A peer still reading, however slowly, gets the rest, with or without TLS.
        if (ending() && (unwritten.size() < before || !isTimerActive(Drain.DEADLINE))) scheduleOnce(Drain.DEADLINE, drainDeadline);
        loop.awaitWritable(channel);
        return;
      }
      // Written: what TLS kept (its close_notify) comes with the next pull, at once.
      if (endAnnounced) cancelTimer(Drain.DEADLINE);
      long now = System.nanoTime();
      boolean recent = now - lastWriteNanos < gatherWindowNanos;
      lastWriteNanos = now;
      if (isClosed(in)) closeAndComplete();
      else if (recent) onSignal.invoke(Signal.PULL);
      else pull(in);
    }

    private void pullIfOpen() {
      if (!isClosed(in) && !hasBeenPulled(in) && unwritten == null) pull(in);
    }

    /** Writes until the socket is full; returns what it did not take, or null. */
    private ByteString writeSome(ByteString bytes) throws IOException {
      ByteBuffer scratch = SCRATCH.get();
      while (!bytes.isEmpty()) {
        scratch.clear();
        int copied = bytes.copyToBuffer(scratch);
        scratch.flip();
        int written = channel.write(scratch);
        bytes = bytes.drop(written);
        if (written < copied) return bytes;
      }
      return null;
    }

    // ---- reading ----

    @Override
    public void onPull() {
      if (!received.isEmpty()) {
        ByteString bytes = received;
        received = ByteString.emptyByteString();
        push(out, bytes);
        resumeReadingIfTaken();
      } else if (peerClosed) {
        complete(out);
      }
    }

    @Override
    public void onDownstreamFinish(Throwable cause) {
      boolean normal = cause instanceof SubscriptionWithCancelException.NonFailureCancellation
          || cause instanceof StreamIdleTimeoutException;
      if (!normal) {
        close(true);
        failStage(cause);
        return;
      }
      // Nothing more will be read (out stays closed, so reading is never resumed); what is still
      // to be written is written before the close.
      received = ByteString.emptyByteString();
      loop.suspendReading(channel);
    }

    private void onReceived(ByteString bytes) {
      if (isClosed(out)) return;
      if (received.isEmpty() && isAvailable(out)) {
        push(out, bytes);
        return;
      }
      received = received.concat(bytes);
    }

    private void resumeReadingIfTaken() {
      if (readingPaused && received.isEmpty() && !isClosed(out)) {
        readingPaused = false;
        loop.resumeReading(channel);
      }
    }

    private void onPeerClosed() {
      peerClosed = true;
      if (received.isEmpty() && !isClosed(out)) complete(out);
    }

    // ---- closing ----

    private void closeAndComplete() {
      close(false);
      completeStage();
    }

    private void resetAndComplete() {
      close(true);
      completeStage();
    }

    private void fail(IOException cause) {
      close(true);
      failStage(new SocketException("connection from " + remote + " failed: " + cause.getMessage()));
    }

    private void close(boolean reset) {
      closed = true;
      loop.close(channel, reset).thenRun(() -> released.complete(Done.done()));
    }
  }
}
