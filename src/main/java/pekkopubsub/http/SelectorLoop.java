package pekkopubsub.http;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.apache.pekko.Done;
import org.apache.pekko.io.Inet;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.util.control.NonFatal;

/**
 * The server's selector thread: accepts connections and reads every socket, handing what it read
 * to the socket's stage; the stages write to their sockets themselves.
 *
 * <p>Why not Pekko IO: there every read and every write is a message to a TCP actor per
 * connection, and every read re-arms the selector with a wake-up; here a read is one message (to
 * the stage) and a write none, and a socket stays armed for reading (see docs/performance-history.md).
 *
 * <p>Everything that touches the selector or a selection key runs on this thread: other threads
 * hand it tasks ({@link #execute}), in order, and wake it when it may be asleep. The selector thread
 * is the only thread that blocks, and only in {@code select}.
 */
final class SelectorLoop implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SelectorLoop.class);
  /** Bytes read from one socket per readiness; a socket with more is read again on the next select. */
  static final int READ_CHUNK = 64 * 1024;
  /**
   * Bytes read from one socket since reading was last armed, after which the loop stops reading it
   * until its stage asks to resume. The loop reads on its own thread, however busy the stages are:
   * this bounds what a fast sender piles up in front of a slow stage.
   */
  static final int READ_AHEAD_LIMIT = 64 * 1024;
  /**
   * Dispatcher tasks the loop's thread runs itself per select that found one socket ready (see
   * {@link LoopInliningExecutorConfigurator}): enough for a publish to one subscriber (the
   * publisher's stages, the topic manager until the connection has located the topic, the topic,
   * the subscriber's stages, the ack), few enough that the loop is back at its sockets within tens
   * of microseconds. A select that finds several sockets ready means load: then the pool gets
   * everything.
   */
  static final int INLINE_BUDGET = 8;
  /** How long accepting pauses after it failed (typically: out of file descriptors). */
  private static final long ACCEPT_PAUSE_MILLIS = 100;
  /**
   * How long a socket its stage closed is still read, and what it sends discarded, before the loop
   * closes it. Closing a socket with unread bytes makes the kernel reset the connection, which can
   * destroy the answer just written (a 413 to a client still sending its body); so the loop first
   * sends its FIN and waits for the peer's, at most this long (RFC 7230, 6.6).
   */
  static final long LINGER_MILLIS = 2_000;

  /** What a socket's stage hears from the loop. Called on the loop's thread: implementations only hand over. */
  interface Handler {
    void received(ByteString bytes);

    /** Reading stopped after {@link #READ_AHEAD_LIMIT} bytes: the stage resumes it when it has taken them. */
    void readingPaused();

    void writable();

    void peerClosed();

    void failed(IOException cause);
  }

  /** A bound server socket, accepting. */
  final class Listener {
    private final ServerSocketChannel channel;
    private final Iterable<Inet.SocketOption> options;
    private final Consumer<SocketChannel> accepted;
    /** Loop thread only. */
    private final AcceptFailures failures = new AcceptFailures();
    private final CompletableFuture<Done> unbound = new CompletableFuture<>();
    private final InetSocketAddress localAddress;

    private Listener(ServerSocketChannel channel, Iterable<Inet.SocketOption> options, Consumer<SocketChannel> accepted)
        throws IOException {
      this.channel = channel;
      this.options = options;
      this.accepted = accepted;
      this.localAddress = (InetSocketAddress) channel.getLocalAddress();
    }

    InetSocketAddress localAddress() {
      return localAddress;
    }

    /** Stops accepting and releases the port; connections already accepted go on. */
    CompletionStage<Done> unbind() {
      execute(() -> {
        closeQuietly(channel);
        releaseClosedChannels();
        unbound.complete(Done.done());
      });
      return unbound;
    }
  }

  /** A registered socket's handler and what the loop counts for it (loop thread only). */
  private static final class Registration {
    final Handler handler;
    int bytesSinceArmed;

    Registration(Handler handler) {
      this.handler = handler;
    }
  }

  /** A socket closed by its stage, drained until its peer closes too or {@code closeAtMillis}; then {@code released}. */
  private record Lingering(SocketChannel channel, long closeAtMillis, CompletableFuture<Done> released) {
    void close() {
      closeQuietly(channel);
      released.complete(Done.done());
    }
  }

  /** The loop's thread, known by its type so that the dispatcher can tell it submits a task. */
  private static final class LoopThread extends Thread {
    final SelectorLoop loop;

    LoopThread(SelectorLoop loop, String name) {
      super(loop::run, name);
      this.loop = loop;
    }
  }

  /** A dispatcher task the loop took, and the pool it goes to if the loop hands it back. */
  private record Deferred(Runnable task, Executor pool) {}

  private final Selector selector;
  private final Thread thread;
  private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
  /** Set when a wake-up is under way, so that a burst of tasks wakes the selector once. */
  private final AtomicBoolean wakeUpPending = new AtomicBoolean();
  private final ByteBuffer readBuffer = ByteBuffer.allocateDirect(READ_CHUNK);
  private volatile boolean closing;
  /** The listener whose accepting failed, and when it tries again (loop thread only). */
  private Listener pausedListener;
  private long acceptResumesAtMillis;
  /** Sockets closed by their stages, in the order of their deadlines (loop thread only). */
  private final ArrayDeque<Lingering> lingering = new ArrayDeque<>();
  /** Dispatcher tasks this pass runs on the loop's thread, and how many more it may take (loop thread only). */
  private final ArrayDeque<Deferred> inline = new ArrayDeque<>();
  private int inlineBudget;

  SelectorLoop(String threadName) throws IOException {
    this(threadName, null);
  }

  /**
   * {@code fatalErrors} hears an error the loop's thread does not survive (null: the JVM's default
   * handler); the front door gives it the actor system's, which logs it and stops the JVM.
   */
  SelectorLoop(String threadName, Thread.UncaughtExceptionHandler fatalErrors) throws IOException {
    selector = Selector.open();
    thread = new LoopThread(this, threadName);
    thread.setDaemon(true);
    if (fatalErrors != null) thread.setUncaughtExceptionHandler(fatalErrors);
    thread.start();
  }

  /** The loop whose thread calls this, or null on any other thread. */
  static SelectorLoop current() {
    return Thread.currentThread() instanceof LoopThread loopThread ? loopThread.loop : null;
  }

  /**
   * Takes a dispatcher task submitted on this loop's thread, to run there after the current step,
   * when the loop is quiet; false: the caller gives it to {@code pool}. Loop thread only.
   */
  boolean offerInline(Runnable task, Executor pool) {
    if (inlineBudget <= 0) return false;
    inlineBudget--;
    inline.add(new Deferred(task, pool));
    return true;
  }

  /** Runs {@code task} on the loop's thread, after the tasks handed over before it. */
  void execute(Runnable task) {
    tasks.add(task);
    if (Thread.currentThread() != thread && wakeUpPending.compareAndSet(false, true)) selector.wakeup();
  }

  /**
   * Binds {@code endpoint}; each accepted connection, non-blocking, with TCP_NODELAY and the
   * {@code options} (Pekko's, as configured for its own TCP), goes to {@code accepted} (on the loop's thread).
   */
  CompletionStage<Listener> listen(
      InetSocketAddress endpoint, int backlog, Iterable<Inet.SocketOption> options, Consumer<SocketChannel> accepted) {
    CompletableFuture<Listener> bound = new CompletableFuture<>();
    execute(() -> {
      ServerSocketChannel channel = null;
      try {
        channel = ServerSocketChannel.open();
        channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        for (Inet.SocketOption option : options) option.beforeServerSocketBind(channel.socket());
        channel.bind(endpoint, backlog);
        channel.configureBlocking(false);
        Listener listener = new Listener(channel, options, accepted);
        channel.register(selector, SelectionKey.OP_ACCEPT, listener);
        bound.complete(listener);
      } catch (IOException | RuntimeException e) {
        if (channel != null) closeQuietly(channel);
        bound.completeExceptionally(e);
      }
    });
    return bound;
  }

  /** Starts reading {@code channel}, reporting to {@code handler}. */
  void register(SocketChannel channel, Handler handler) {
    execute(() -> {
      try {
        channel.register(selector, SelectionKey.OP_READ, new Registration(handler));
      } catch (IOException | RuntimeException e) {
        handler.failed(e instanceof IOException io ? io : new IOException(e));
      }
    });
  }

  void suspendReading(SocketChannel channel) {
    execute(() -> changeInterest(channel, SelectionKey.OP_READ, false));
  }

  void resumeReading(SocketChannel channel) {
    execute(() -> {
      SelectionKey key = changeInterest(channel, SelectionKey.OP_READ, true);
      if (key != null && key.attachment() instanceof Registration registration) registration.bytesSinceArmed = 0;
    });
  }

  /** Reports to the channel's handler, once, when the channel can take more bytes. */
  void awaitWritable(SocketChannel channel) {
    execute(() -> changeInterest(channel, SelectionKey.OP_WRITE, true));
  }

  /**
   * Closes {@code channel}: after what was written, and after the peer has closed its side or
   * {@link #LINGER_MILLIS} passed; with {@code reset}, at once, discarding unsent bytes. Completes
   * on the loop's thread when the channel is closed and its descriptor released (never when the
   * loop stopped before it could close it).
   */
  CompletionStage<Done> close(SocketChannel channel, boolean reset) {
    CompletableFuture<Done> released = new CompletableFuture<>();
    execute(() -> {
      if (reset) {
        try {
          channel.setOption(StandardSocketOptions.SO_LINGER, 0);
        } catch (IOException | RuntimeException ignored) {
          // Already closed or reset: closing is all that is left.
        }
        closeQuietly(channel);
        released.complete(Done.done());
      } else {
        linger(channel, released);
      }
    });
    return released;
  }

  private void linger(SocketChannel channel, CompletableFuture<Done> released) {
    SelectionKey key = channel.keyFor(selector);
    boolean open = key != null && key.isValid();
    try {
      if (open) channel.shutdownOutput();
    } catch (IOException | RuntimeException notOpenAnyMore) {
      open = false;
    }
    Lingering entry = new Lingering(channel, System.currentTimeMillis() + LINGER_MILLIS, released);
    if (!open) {
      entry.close();
      return;
    }
    key.attach(entry);
    key.interestOps(SelectionKey.OP_READ);
    lingering.add(entry);
  }

  private void drain(Lingering entry) {
    readBuffer.clear();
    int count;
    try {
      count = entry.channel().read(readBuffer);
    } catch (IOException e) {
      count = -1;
    }
    if (count < 0) entry.close();
  }

  private void closeLingeringPastDeadline() {
    long now = System.currentTimeMillis();
    while (!lingering.isEmpty() && lingering.peekFirst().closeAtMillis() <= now) {
      lingering.pollFirst().close();
    }
  }

  /** Stops the loop and closes every socket it still has. */
  @Override
  public void close() {
    closing = true;
    selector.wakeup();
  }

  /**
   * A registered channel's descriptor is released only when the selector next selects: select now,
   * so that a closed port is free when its unbinding completes.
   */
  private void releaseClosedChannels() {
    try {
      selector.selectNow(this::onReady);
    } catch (IOException e) {
      log.error("selector loop: {}", e.toString());
    }
  }

  /** Turns {@code operation} on or off for the channel's key; returns the key, or null when the channel is gone. */
  private SelectionKey changeInterest(SocketChannel channel, int operation, boolean on) {
    SelectionKey key = channel.keyFor(selector);
    // A lingering socket's stage is gone: only the loop still reads it.
    if (key == null || !key.isValid() || key.attachment() instanceof Lingering) return null;
    int interest = key.interestOps();
    key.interestOps(on ? interest | operation : interest & ~operation);
    return key;
  }

  /**
   * Runs until the loop is closed, or until an error its thread cannot survive (see
   * {@link #runSafely}), which goes on to the thread's handler; either way every socket is closed,
   * so that clients see their connections end rather than a server that has stopped reading.
   */
  private void run() {
    try {
      while (!closing) {
        try {
          long timeout = selectTimeoutMillis();
          inlineBudget = INLINE_BUDGET;
          int ready = selector.select(this::onReady, timeout);
          wakeUpPending.set(false);
          if (ready > 1) handInlineToPool();
          runTasks();
          resumeAccepting();
          closeLingeringPastDeadline();
        } catch (IOException e) {
          log.error("selector loop: {}", e.toString());
        } catch (Throwable e) {
          if (!NonFatal.apply(e)) throw e;
          log.error("selector loop: {}", e.toString());
        }
      }
    } finally {
      handInlineToPool();
      for (SelectionKey key : selector.keys()) closeQuietly(key.channel());
      for (Lingering entry : lingering) entry.close();
      closeQuietly(selector);
    }
  }

  /** Until the next deadline: a paused listener's or the oldest lingering socket's; 0 for none. */
  private long selectTimeoutMillis() {
    long wakeAt = Long.MAX_VALUE;
    if (pausedListener != null) wakeAt = acceptResumesAtMillis;
    if (!lingering.isEmpty()) wakeAt = Math.min(wakeAt, lingering.peekFirst().closeAtMillis());
    return wakeAt == Long.MAX_VALUE ? 0 : Math.max(1, wakeAt - System.currentTimeMillis());
  }

  /** Runs the loop's own tasks and the dispatcher tasks it took, until neither has any left. */
  private void runTasks() {
    while (true) {
      Runnable task;
      while ((task = tasks.poll()) != null) runSafely(task);
      Deferred deferred = inline.poll();
      if (deferred == null) return;
      runSafely(deferred.task());
    }
  }

  private void handInlineToPool() {
    inlineBudget = 0;
    Deferred deferred;
    while ((deferred = inline.poll()) != null) deferred.pool().execute(deferred.task());
  }

  /**
   * A failure is logged and the loop goes on: it is the only thread that reads the sockets. Not an
   * error the JVM may not survive (a VirtualMachineError such as StackOverflowError or
   * OutOfMemoryError, a LinkageError: not NonFatal, as Pekko judges them): the loop runs dispatcher
   * tasks too, and a StackOverflowError swallowed here left an actor or a stream stage halfway
   * through its step, its mailbox never scheduled again, while the server went on looking
   * healthy. Such an error ends the loop and reaches its thread's handler, as it would a
   * dispatcher thread's (Pekko's: pekko.jvm-exit-on-fatal-error stops the JVM).
   */
  private static void runSafely(Runnable task) {
    try {
      task.run();
    } catch (Throwable e) {
      if (!NonFatal.apply(e)) throw e;
      log.error("selector loop task failed: {}", e.toString());
    }
  }

  private void onReady(SelectionKey key) {
    try {
      if (key.attachment() instanceof Registration registration) {
        int ready = key.readyOps();
        if ((ready & SelectionKey.OP_WRITE) != 0) {
          key.interestOps(key.interestOps() & ~SelectionKey.OP_WRITE);
          registration.handler.writable();
        }
        if ((ready & SelectionKey.OP_READ) != 0) read(key, registration);
      } else if (key.attachment() instanceof Lingering entry) {
        drain(entry);
      } else if (key.attachment() instanceof Listener listener) {
        accept(key, listener);
      }
    } catch (java.nio.channels.CancelledKeyException closedMeanwhile) {
      // The stage closed its socket while it was ready: nothing is left to report to.
    }
  }

  private void read(SelectionKey key, Registration registration) {
    Handler handler = registration.handler;
    readBuffer.clear();
    int count;
    try {
      count = ((SocketChannel) key.channel()).read(readBuffer);
    } catch (IOException e) {
      key.cancel();
      handler.failed(e);
      return;
    }
    if (count > 0) {
      readBuffer.flip();
      handler.received(ByteString.fromByteBuffer(readBuffer));
      registration.bytesSinceArmed += count;
      if (registration.bytesSinceArmed >= READ_AHEAD_LIMIT) {
        key.interestOps(key.interestOps() & ~SelectionKey.OP_READ);
        handler.readingPaused();
      }
    } else if (count < 0) {
      key.interestOps(key.interestOps() & ~SelectionKey.OP_READ);
      handler.peerClosed();
    }
  }

  private void accept(SelectionKey key, Listener listener) {
    while (true) {
      SocketChannel channel;
      try {
        channel = listener.channel.accept();
        if (channel == null) return;
      } catch (IOException e) {
        if (listener.failures.failed(System.currentTimeMillis())) {
          log.warn("cannot accept connections on {}: {}; trying again every {} ms (logged again once it works)",
              listener.localAddress, e.toString(), ACCEPT_PAUSE_MILLIS);
        } else {
          log.debug("cannot accept connections on {}: {}", listener.localAddress, e.toString());
        }
        key.interestOps(0);
        pausedListener = listener;
        acceptResumesAtMillis = System.currentTimeMillis() + ACCEPT_PAUSE_MILLIS;
        return;
      }
      String recovery = listener.failures.accepted(System.currentTimeMillis());
      if (recovery != null) log.info("accepting connections on {} again: {}", listener.localAddress, recovery);
      try {
        channel.configureBlocking(false);
        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        for (Inet.SocketOption option : listener.options) option.afterConnect(channel.socket());
        listener.accepted.accept(channel);
      } catch (IOException | RuntimeException e) {
        log.debug("accepted connection lost before it was served: {}", e.toString());
        closeQuietly(channel);
      }
    }
  }

  private void resumeAccepting() {
    if (pausedListener == null || System.currentTimeMillis() < acceptResumesAtMillis) return;
    SelectionKey key = pausedListener.channel.keyFor(selector);
    if (key != null && key.isValid()) key.interestOps(SelectionKey.OP_ACCEPT);
    pausedListener = null;
  }

  private static void closeQuietly(AutoCloseable closeable) {
    try {
      closeable.close();
    } catch (Exception ignored) {
      // Closing is best effort: the descriptor is released either way.
    }
  }
}
