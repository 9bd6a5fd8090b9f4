package pekkopubsub.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The socket stage and the selector loop on real TCP connections: order, backpressure, closing and aborting. */
class SocketTest {
  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final Materializer materializer = Materializer.matFromSystem(testKit.system());
  private static final SelectorLoop loop = SelectorLoopTest.newLoop("socket-test-selector");
  private static final int CHUNK = 8 * 1024;
  /** Far more than loopback's socket buffers hold, so a reader that pauses makes writes wait and fail. */
  private static final int CHUNKS = 6 * 1024;

  @AfterAll
  static void shutdown() {
    loop.close();
    testKit.shutdownTestKit();
  }

  /** Binds a free port whose connections run {@code handler} on a socket stage with the given gather window. */
  private static InetSocketAddress serve(long gatherWindowNanos, Supplier<Flow<ByteString, ByteString, NotUsed>> handler)
      throws Exception {
    return serve(gatherWindowNanos, Socket.DRAIN_DEADLINE, handler);
  }

  private static InetSocketAddress serve(long gatherWindowNanos, Duration drainDeadline,
      Supplier<Flow<ByteString, ByteString, NotUsed>> handler) throws Exception {
    SelectorLoop.Listener listener = loop.listen(new InetSocketAddress("127.0.0.1", 0), 16, List.of(),
            channel -> Flow.fromGraph(new Socket(channel, remoteOf(channel), loop, gatherWindowNanos, drainDeadline, new CompletableFuture<>(), null))
                .join(handler.get())
                .run(materializer))
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
    return listener.localAddress();
  }

  private static InetSocketAddress remoteOf(SocketChannel channel) {
    try {
      return (InetSocketAddress) channel.getRemoteAddress();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static ByteString chunk(int index) {
    ByteBuffer buffer = ByteBuffer.allocate(CHUNK);
    while (buffer.hasRemaining()) buffer.putInt(index);
    buffer.flip();
    return ByteString.fromByteBuffer(buffer);
  }

  private static java.net.Socket connect(InetSocketAddress address) throws IOException {
    java.net.Socket client = new java.net.Socket(address.getAddress(), address.getPort());
    client.setSoTimeout(20_000);
    return client;
  }

  private static byte[] readToEnd(InputStream in) throws IOException {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    in.transferTo(all);
    return all.toByteArray();
  }

  private static void assertAllChunksInOrder(long gatherWindowNanos) throws Exception {
    InetSocketAddress address = serve(gatherWindowNanos,
        () -> Flow.fromSinkAndSource(Sink.ignore(), Source.range(0, CHUNKS - 1).map(SocketTest::chunk)));
    try (java.net.Socket client = connect(address)) {
      Thread.sleep(500);
      ByteBuffer received = ByteBuffer.wrap(readToEnd(client.getInputStream()));
      assertEquals(CHUNKS * CHUNK, received.remaining(), "bytes received before the server closed");
      for (int i = 0; i < CHUNKS * CHUNK / 4; i++) {
        assertEquals(i / (CHUNK / 4), received.getInt(), "int " + i);
      }
    }
  }

  @Test
  void aReaderThatPausesGetsEveryByteInOrderWhenEveryPullFollowsItsWrite() throws Exception {
    assertAllChunksInOrder(0);
  }

  @Test
  void aReaderThatPausesGetsEveryByteInOrderWhenPullsAfterRecentWritesWaitATurn() throws Exception {
    assertAllChunksInOrder(Socket.GATHER_WINDOW_NANOS);
  }

  @Test
  void whatIsReadIsWrittenBackAndThePeersCloseClosesTheConnection() throws Exception {
    InetSocketAddress address = serve(Socket.GATHER_WINDOW_NANOS, () -> Flow.of(ByteString.class));
    byte[] sent = "hello, socket\n".repeat(10_000).getBytes(StandardCharsets.US_ASCII);
    try (java.net.Socket client = connect(address)) {
      CompletableFuture<byte[]> echoed = CompletableFuture.supplyAsync(() -> {
        try {
          return readToEnd(client.getInputStream());
        } catch (IOException e) {
          throw new RuntimeException(e);
        }
      });
      client.getOutputStream().write(sent);
      client.shutdownOutput();
      assertArrayEquals(sent, echoed.get(20, TimeUnit.SECONDS));
    }
  }

  @Test
  void aFailedStreamResetsTheConnection() throws Exception {
    InetSocketAddress address = serve(Socket.GATHER_WINDOW_NANOS,
        () -> Flow.fromSinkAndSource(Sink.ignore(),
            Source.single(ByteString.fromString("partial")).concat(Source.failed(new IllegalStateException("broken")))));
    try (java.net.Socket client = connect(address)) {
      InputStream in = client.getInputStream();
      assertThrows(java.net.SocketException.class, () -> readToEnd(in));
    }
  }

  /** The stream has ended and its peer takes none of what is left: the socket was held for ever, waiting to write it. */
  @Test
  void whatAPeerThatStoppedReadingNeverTakesIsGivenUpAtTheDrainDeadline() throws Exception {
    // One element, so that the stream ends while most of it is still to be written.
    InetSocketAddress address = serve(Socket.GATHER_WINDOW_NANOS, Duration.ofMillis(300),
        () -> Flow.fromSinkAndSource(Sink.ignore(), Source.single(ByteString.fromArray(new byte[CHUNKS * CHUNK]))));
    try (java.net.Socket client = new java.net.Socket()) {
      client.setReceiveBufferSize(4096);
      client.connect(address);
      OutputStream out = client.getOutputStream();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (true) {
        if (System.nanoTime() > deadline) fail("the connection was still open 20 s after its stream ended");
        Thread.sleep(200);
        try {
          out.write('x');
          out.flush();
        } catch (IOException reset) {
          break;
        }
      }
    }
  }
}
