package pekkopubsub.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.io.Inet;
import org.apache.pekko.io.TcpSO;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The selector loop on real sockets: binding, accepting, what it reports to a socket's handler, closing. */
class SelectorLoopTest {
  private static final InetSocketAddress ANY_PORT = new InetSocketAddress("127.0.0.1", 0);
  private final SelectorLoop loop = newLoop("selector-loop-test");

  @AfterEach
  void closeLoop() {
    loop.close();
  }

  /** A running loop for a test (its socket tests too); the caller closes it. */
  static SelectorLoop newLoop(String threadName) {
    try {
      return new SelectorLoop(threadName);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Collects what the loop reports, in order: received text, "paused", "writable", "peer closed", "failed". */
  private static final class Recorder implements SelectorLoop.Handler {
    final BlockingQueue<String> reports = new LinkedBlockingQueue<>();

    @Override
    public void received(ByteString bytes) {
      reports.add(bytes.utf8String());
    }

    @Override
    public void readingPaused() {
      reports.add("paused");
    }

    @Override
    public void writable() {
      reports.add("writable");
    }

    @Override
    public void peerClosed() {
      reports.add("peer closed");
    }

    @Override
    public void failed(IOException cause) {
      reports.add("failed");
    }

    String next() throws InterruptedException {
      String report = reports.poll(10, TimeUnit.SECONDS);
      if (report == null) throw new AssertionError("no report from the loop within 10 s");
      return report;
    }
  }

  private SelectorLoop.Listener listen(BlockingQueue<SocketChannel> accepted, Inet.SocketOption... options)
      throws Exception {
    return loop.listen(ANY_PORT, 16, List.of(options), accepted::add).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** A client connected to a fresh listener, and the server's side of it, registered with a {@link Recorder}. */
  private record Connected(java.net.Socket client, SocketChannel server, Recorder recorder) implements AutoCloseable {
    @Override
    public void close() throws IOException {
      client.close();
    }
  }

  private Connected connectAndRegister() throws Exception {
    BlockingQueue<SocketChannel> accepted = new LinkedBlockingQueue<>();
    SelectorLoop.Listener listener = listen(accepted);
    java.net.Socket client = new java.net.Socket("127.0.0.1", listener.localAddress().getPort());
    SocketChannel server = accepted.poll(10, TimeUnit.SECONDS);
    if (server == null) throw new AssertionError("the connection was not accepted within 10 s");
    Recorder recorder = new Recorder();
    loop.register(server, recorder);
    return new Connected(client, server, recorder);
  }

  @Test
  void aRegisteredSocketReportsWhatItReadsThenThePeersClose() throws Exception {
    try (Connected connected = connectAndRegister()) {
      java.net.Socket client = connected.client();
      Recorder recorder = connected.recorder();
      assertTrue(!connected.server().isBlocking(), "an accepted socket is non-blocking");
      client.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
      StringBuilder read = new StringBuilder();
      while (read.length() < 5) read.append(recorder.next());
      assertEquals("hello", read.toString());
      client.shutdownOutput();
      assertEquals("peer closed", recorder.next());
    }
  }

  @Test
  void readingPausesAfterTheReadAheadLimitUntilResumed() throws Exception {
    try (Connected connected = connectAndRegister()) {
      int sent = 4 * SelectorLoop.READ_AHEAD_LIMIT;
      connected.client().getOutputStream().write(new byte[sent]);
      int read = readUntilPaused(connected.recorder(), sent);
      assertTrue(read >= SelectorLoop.READ_AHEAD_LIMIT && read < SelectorLoop.READ_AHEAD_LIMIT + SelectorLoop.READ_CHUNK,
          "paused after " + read + " bytes");
      assertTrue(connected.recorder().reports.poll(300, TimeUnit.MILLISECONDS) == null, "nothing is read while paused");
      while (read < sent) {
        loop.resumeReading(connected.server());
        read += readUntilPaused(connected.recorder(), sent - read);
      }
      assertEquals(sent, read, "every byte is read once resumed");
    }
  }

  /** Bytes received until the loop reports a pause, or until {@code expected} bytes came. */
  private static int readUntilPaused(Recorder recorder, int expected) throws InterruptedException {
    int read = 0;
    while (read < expected) {
      String report = recorder.next();
      if (report.equals("paused")) break;
      read += report.length();
    }
    return read;
  }

  @Test
  void aSocketWaitingToWriteIsReportedWritable() throws Exception {
    try (Connected connected = connectAndRegister()) {
      SocketChannel server = connected.server();
      Recorder recorder = connected.recorder();
      ByteBuffer filler = ByteBuffer.allocate(64 * 1024);
      int written = 0;
      for (int n; (n = server.write(filler.clear())) > 0; ) {
        written += n; // until the socket's buffers, and the unread client's, are full
      }
      loop.awaitWritable(server);
      assertTrue(recorder.reports.poll(300, TimeUnit.MILLISECONDS) == null, "not writable while nobody reads");
      // Exactly what was written: the kernel sizes the buffers, so a fixed amount could wait forever.
      connected.client().getInputStream().readNBytes(written);
      assertEquals("writable", recorder.next());
    }
  }

  @Test
  void acceptedConnectionsGetTheConfiguredSocketOptions() throws Exception {
    // pekko.http.server.socket-options reaches our sockets this way; the send buffer is the operator's
    // lever on how much backlog a slow subscriber can hold (README, "Backlog under overload").
    int sendBuffer = 100_000;
    BlockingQueue<SocketChannel> accepted = new LinkedBlockingQueue<>();
    SelectorLoop.Listener listener = listen(accepted, TcpSO.sendBufferSize(sendBuffer));
    try (java.net.Socket client = new java.net.Socket("127.0.0.1", listener.localAddress().getPort())) {
      SocketChannel server = accepted.poll(10, TimeUnit.SECONDS);
      int applied = server.getOption(StandardSocketOptions.SO_SNDBUF);
      // Linux reports twice the size asked for (it counts its bookkeeping); other kernels the size itself.
      assertTrue(applied == sendBuffer || applied == 2 * sendBuffer, "SO_SNDBUF " + applied);
      assertTrue(server.getOption(StandardSocketOptions.TCP_NODELAY), "TCP_NODELAY");
    }
  }

  @Test
  void aPortInUseCannotBeBound() throws Exception {
    SelectorLoop.Listener listener = listen(new LinkedBlockingQueue<>());
    ExecutionException failure = assertThrows(ExecutionException.class, () ->
        loop.listen(listener.localAddress(), 16, List.of(), channel -> {}).toCompletableFuture().get(10, TimeUnit.SECONDS));
    assertInstanceOf(BindException.class, failure.getCause());
  }

  @Test
  void unbindingStopsAcceptingButKeepsTheAcceptedConnections() throws Exception {
    BlockingQueue<SocketChannel> accepted = new LinkedBlockingQueue<>();
    SelectorLoop.Listener listener = listen(accepted);
    int port = listener.localAddress().getPort();
    try (java.net.Socket client = new java.net.Socket("127.0.0.1", port)) {
      SocketChannel server = accepted.poll(10, TimeUnit.SECONDS);
      listener.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertThrows(ConnectException.class, () -> new java.net.Socket("127.0.0.1", port).close());
      server.write(ByteBuffer.wrap("still here".getBytes(StandardCharsets.US_ASCII)));
      assertEquals("still here", new String(client.getInputStream().readNBytes(10), StandardCharsets.US_ASCII));
    }
  }

  @Test
  void closingASocketThroughTheLoopEndsItWithAFinOrAReset() throws Exception {
    BlockingQueue<SocketChannel> accepted = new LinkedBlockingQueue<>();
    SelectorLoop.Listener listener = listen(accepted);
    int port = listener.localAddress().getPort();
    try (java.net.Socket graceful = new java.net.Socket("127.0.0.1", port);
        java.net.Socket reset = new java.net.Socket("127.0.0.1", port)) {
      graceful.setSoTimeout(10_000);
      reset.setSoTimeout(10_000);
      SocketChannel first = accepted.poll(10, TimeUnit.SECONDS);
      SocketChannel second = accepted.poll(10, TimeUnit.SECONDS);
      loop.register(first, new Recorder());
      loop.register(second, new Recorder());
      java.net.Socket firstClient = peerPortOf(first) == graceful.getLocalPort() ? graceful : reset;
      java.net.Socket secondClient = firstClient == graceful ? reset : graceful;
      first.write(ByteBuffer.wrap("bye".getBytes(StandardCharsets.US_ASCII)));
      loop.close(first, false);
      loop.close(second, true);
      assertEquals("bye", new String(firstClient.getInputStream().readAllBytes(), StandardCharsets.US_ASCII));
      assertThrows(java.net.SocketException.class, () -> secondClient.getInputStream().read());
    }
  }

  @Test
  void aGracefulCloseLetsAPeerStillSendingReadTheAnswerThenClosesWhenThePeerDoes() throws Exception {
    try (Connected connected = connectAndRegister()) {
      java.net.Socket client = connected.client();
      client.setSoTimeout(10_000);
      byte[] chunk = new byte[64 * 1024];
      client.getOutputStream().write(chunk);
      connected.server().write(ByteBuffer.wrap("413".getBytes(StandardCharsets.US_ASCII)));
      loop.close(connected.server(), false);
      Thread.sleep(200); // closed, with unread bytes: a plain close would reset the connection now
      for (int i = 0; i < 4; i++) client.getOutputStream().write(chunk);
      assertEquals("413", new String(client.getInputStream().readAllBytes(), StandardCharsets.US_ASCII));
      assertTrue(connected.server().isOpen(), "the loop still drains what the peer sends");
      client.shutdownOutput();
      awaitClosed(connected.server(), "once the peer has closed its side");
    }
  }

  @Test
  void aLingeringSocketIsClosedAtItsDeadlineWhenThePeerNeverCloses() throws Exception {
    try (Connected connected = connectAndRegister()) {
      loop.close(connected.server(), false);
      connected.client().setSoTimeout(10_000);
      assertEquals(-1, connected.client().getInputStream().read(), "the peer reads the end of the stream at once");
      awaitClosed(connected.server(), "after " + SelectorLoop.LINGER_MILLIS + " ms");
    }
  }

  /** What counts a connection (max-http-connections) hears when its descriptor is released, not when its close begins. */
  @Test
  void aCloseCompletesOnceTheSocketIsReleased() throws Exception {
    try (Connected connected = connectAndRegister()) {
      CompletableFuture<Done> released = loop.close(connected.server(), false).toCompletableFuture();
      connected.client().setSoTimeout(10_000);
      assertEquals(-1, connected.client().getInputStream().read(), "the peer reads the end of the stream");
      connected.client().close();
      released.get(10, TimeUnit.SECONDS);
      assertFalse(connected.server().isOpen(), "closed before it completes");
    }
    try (Connected connected = connectAndRegister()) {
      loop.close(connected.server(), true).toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertFalse(connected.server().isOpen(), "a reset releases at once");
    }
  }

  /**
   * The loop also runs dispatcher tasks: a StackOverflowError in one was logged and the loop went
   * on, the task's actor or stage left halfway through its step. Other failures it survives.
   */
  @Test
  void anErrorTheThreadCannotSurviveEndsTheLoopClosingItsSocketsAndReachesTheThreadsHandler() throws Exception {
    CompletableFuture<Throwable> fatal = new CompletableFuture<>();
    SelectorLoop dying = new SelectorLoop("selector-loop-fatal-test", (thread, error) -> fatal.complete(error));
    try {
      BlockingQueue<SocketChannel> accepted = new LinkedBlockingQueue<>();
      SelectorLoop.Listener listener = dying.listen(ANY_PORT, 16, List.of(), accepted::add).toCompletableFuture()
          .get(10, TimeUnit.SECONDS);
      try (java.net.Socket client = new java.net.Socket("127.0.0.1", listener.localAddress().getPort())) {
        client.setSoTimeout(10_000);
        SocketChannel server = accepted.poll(10, TimeUnit.SECONDS);
        dying.register(server, new Recorder());

        dying.execute(() -> { throw new IllegalStateException("a task's own failure"); });
        CompletableFuture<Boolean> after = new CompletableFuture<>();
        dying.execute(() -> after.complete(true));
        assertTrue(after.get(10, TimeUnit.SECONDS), "the loop survives an ordinary failure");

        dying.execute(() -> { throw new StackOverflowError(); });
        assertInstanceOf(StackOverflowError.class, fatal.get(10, TimeUnit.SECONDS));
        assertEquals(-1, client.getInputStream().read(), "the client reads the end of its connection");
        assertFalse(server.isOpen());
      }
    } finally {
      dying.close();
    }
  }

  private static void awaitClosed(SocketChannel channel, String when) throws InterruptedException {
    long giveUpAt = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (channel.isOpen() && System.nanoTime() < giveUpAt) Thread.sleep(20);
    assertFalse(channel.isOpen(), "the loop closes the socket " + when);
  }

  @Test
  void closingTheLoopClosesEverySocketItHas() throws Exception {
    try (Connected connected = connectAndRegister()) {
      connected.client().setSoTimeout(10_000);
      loop.close();
      assertEquals(-1, connected.client().getInputStream().read(), "the client reads the end of the stream");
    }
  }

  private static int peerPortOf(SocketChannel channel) throws IOException {
    return ((InetSocketAddress) channel.getRemoteAddress()).getPort();
  }
}
