package pekkopubsub.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import javax.net.ssl.SSLEngine;
import org.apache.pekko.NotUsed;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.TLSClosing;
import org.apache.pekko.stream.TLSProtocol;
import org.apache.pekko.stream.javadsl.BidiFlow;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.javadsl.TLS;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;
import pekkopubsub.config.Settings.TlsProvider;

/**
 * The TLS stage as a server, in memory, against Pekko's own TLS stage as the client: what the
 * client sends arrives, what the server sends arrives, however the ciphertext is cut or joined on
 * the way, and every way of ending a session ends it.
 */
class TlsStageTest {
  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final Materializer materializer = Materializer.matFromSystem(testKit.system());
  private static final long WAIT_SECONDS = 10;

  @TempDir
  static Path dir;

  private static TestCertificates certs;
  private static final Map<TlsProvider, TlsContext> contexts = new EnumMap<>(TlsProvider.class);

  @BeforeAll
  static void certificates() {
    certs = TestCertificates.create(dir, "EC");
    for (TlsProvider provider : List.of(TlsProvider.JDK, TlsProvider.CONSCRYPT)) {
      contexts.put(provider, TlsContext.fromPem(certs.certificate(), certs.privateKey(), provider));
    }
  }

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  /** The server's side, with {@code provider}'s engine: ciphertext in and out, {@code application} on the plaintext. */
  private static <M> Flow<ByteString, ByteString, M> server(TlsProvider provider, Flow<ByteString, ByteString, M> application) {
    return server(provider, application, duringHandshake -> { throw new AssertionError("no session should fail here"); });
  }

  private static <M> Flow<ByteString, ByteString, M> server(TlsProvider provider, Flow<ByteString, ByteString, M> application,
      TlsStage.Failures failures) {
    return application.join(BidiFlow.fromGraph(new TlsStage(contexts.get(provider)::newServerEngine, failures, new WritingEnds())));
  }

  private static BidiFlow<TLSProtocol.SslTlsOutbound, ByteString, ByteString, TLSProtocol.SslTlsInbound, NotUsed> client() {
    return TLS.create(() -> {
      SSLEngine engine = certs.clientContext().createSSLEngine("localhost", 443);
      engine.setUseClientMode(true);
      return engine;
    }, TLSClosing.eagerClose());
  }

  /** Cuts every element into pieces of the given sizes, in turn. */
  private static Flow<ByteString, ByteString, NotUsed> cutInto(int... sizes) {
    int[] next = {0};
    return Flow.of(ByteString.class).mapConcat(bytes -> {
      List<ByteString> pieces = new ArrayList<>();
      while (!bytes.isEmpty()) {
        int size = sizes[next[0]++ % sizes.length];
        pieces.add(bytes.take(size));
        bytes = bytes.drop(size);
      }
      return pieces;
    });
  }

  /** Joins what arrives within a few milliseconds into one element, so that one push holds several records. */
  private static Flow<ByteString, ByteString, NotUsed> joined() {
    return Flow.of(ByteString.class).groupedWithin(64, Duration.ofMillis(5))
        .map(parts -> parts.stream().reduce(ByteString.emptyByteString(), ByteString::concat));
  }

  private static ByteString randomBytes(int size, long seed) {
    byte[] bytes = new byte[size];
    new Random(seed).nextBytes(bytes);
    return ByteString.fromArray(bytes);
  }

  /** Sends {@code messages} through the client and returns the first {@code expected} bytes the server echoes. */
  private static ByteString echo(TlsProvider provider, List<ByteString> messages, Flow<ByteString, ByteString, NotUsed> toServer,
      Flow<ByteString, ByteString, NotUsed> toClient) throws Exception {
    int expected = messages.stream().mapToInt(ByteString::size).sum();
    Flow<ByteString, ByteString, NotUsed> transport = toServer.via(server(provider, Flow.of(ByteString.class))).via(toClient);
    CompletionStage<ByteString> echoed = Source.from(messages)
        .<TLSProtocol.SslTlsOutbound>map(TLSProtocol.SendBytes::new)
        .concat(Source.maybe())
        .via(client().join(transport))
        .collectType(TLSProtocol.SessionBytes.class)
        .map(TLSProtocol.SessionBytes::bytes)
        .scan(ByteString.emptyByteString(), ByteString::concat)
        .dropWhile(received -> received.size() < expected)
        .runWith(Sink.head(), materializer);
    return echoed.toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
  }

  @ParameterizedTest
  @EnumSource(TlsProvider.class)
  void whatTheClientSendsComesBackWholeAndInOrder(TlsProvider provider) throws Exception {
    List<ByteString> messages = new ArrayList<>();
    for (int i = 0; i < 200; i++) messages.add(ByteString.fromString("{\"type\":\"publish\",\"n\":" + i + "}"));
    messages.add(randomBytes(300_000, 1));
    messages.add(ByteString.fromString("last"));
    ByteString sent = messages.stream().reduce(ByteString.emptyByteString(), ByteString::concat);

    assertEquals(sent, echo(provider, messages, Flow.of(ByteString.class), Flow.of(ByteString.class)));
  }

  @ParameterizedTest
  @EnumSource(TlsProvider.class)
  void ciphertextCutMidRecordOrJoinedAcrossRecordsStillDecrypts(TlsProvider provider) throws Exception {
    List<ByteString> messages = List.of(randomBytes(40_000, 2), ByteString.fromString("short"), randomBytes(20_000, 3));
    ByteString sent = messages.stream().reduce(ByteString.emptyByteString(), ByteString::concat);

    assertEquals(sent, echo(provider, messages, cutInto(1, 5, 700, 20_000), joined()), "cut on the way in");
    assertEquals(sent, echo(provider, messages, joined(), cutInto(3, 17_000)), "joined on the way in");
  }

  @ParameterizedTest
  @EnumSource(TlsProvider.class)
  void whatTheServerWritesLastArrivesBeforeTheSessionCloses(TlsProvider provider) throws Exception {
    Flow<ByteString, ByteString, NotUsed> farewell =
        Flow.fromSinkAndSource(Sink.ignore(), Source.from(List.of(ByteString.fromString("going "), ByteString.fromString("away"))));
    CompletionStage<List<TLSProtocol.SslTlsInbound>> received = Source.<TLSProtocol.SslTlsOutbound>maybe()
        .via(client().join(server(provider, farewell)))
        .runWith(Sink.seq(), materializer);

    List<TLSProtocol.SslTlsInbound> inbound = received.toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
    String text = inbound.stream().filter(TLSProtocol.SessionBytes.class::isInstance)
        .map(bytes -> ((TLSProtocol.SessionBytes) bytes).bytes().utf8String()).reduce("", String::concat);
    assertEquals("going away", text);
    assertFalse(inbound.contains(TLSProtocol.SessionTruncated$.MODULE$), "closed with close_notify, not cut off: " + inbound);
  }

  @ParameterizedTest
  @EnumSource(TlsProvider.class)
  void aClientThatNeverHandshakesLosesTheConnectionWhenTheServerEndsIt(TlsProvider provider) throws Exception {
    CompletionStage<List<ByteString>> written = Source.<ByteString>maybe()
        .via(server(provider, Flow.fromSinkAndSource(Sink.ignore(), Source.empty())))
        .runWith(Sink.seq(), materializer);

    written.toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS);
  }

  /**
   * Conscrypt frees a session's native memory, and closes the pipe each holds, only once both
   * directions are closed and drained: a connection reset mid-handshake must still get there, not
   * wait for a finalizer.
   */
  @Test
  void aConscryptSessionCutOffByTheSocketHasBothDirectionsClosed() throws Exception {
    CompletableFuture<SSLEngine> created = new CompletableFuture<>();
    Supplier<SSLEngine> recorded = () -> {
      SSLEngine engine = contexts.get(TlsProvider.CONSCRYPT).newServerEngine();
      created.complete(engine);
      return engine;
    };
    CompletableFuture<java.util.Optional<ByteString>> socket = Source.<ByteString>maybe()
        .via(Flow.fromSinkAndSource(Sink.<ByteString>ignore(), Source.<ByteString>maybe())
            .join(BidiFlow.fromGraph(new TlsStage(recorded, duringHandshake -> { }, new WritingEnds()))))
        .to(Sink.ignore())
        .run(materializer);

    SSLEngine engine = created.get(WAIT_SECONDS, TimeUnit.SECONDS);
    assertFalse(engine.isInboundDone() || engine.isOutboundDone(), "open while the connection is");
    socket.completeExceptionally(new java.io.IOException("Connection reset by peer"));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
    while (!(engine.isInboundDone() && engine.isOutboundDone()) && System.nanoTime() < deadline) Thread.sleep(10);
    assertTrue(engine.isInboundDone() && engine.isOutboundDone(), "both directions closed: the native session is freed");
  }

  @ParameterizedTest
  @EnumSource(TlsProvider.class)
  void plaintextGetsAnAlertAndTheCloseAndNothingReachesTheServer(TlsProvider provider) throws Exception {
    ByteString request = ByteString.fromString("GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n", StandardCharsets.US_ASCII);
    List<Boolean> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
    Pair<CompletionStage<List<ByteString>>, CompletionStage<List<ByteString>>> run = Source.single(request)
        .concat(Source.maybe())
        .viaMat(server(provider, Flow.fromSinkAndSourceMat(Sink.<ByteString>seq(), Source.<ByteString>maybe(), Keep.left()), failures::add),
            Keep.right())
        .toMat(Sink.seq(), Keep.both())
        .run(materializer);

    ByteString written = run.second().toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS).stream()
        .reduce(ByteString.emptyByteString(), ByteString::concat);
    // The JDK's engine answers with an alert; Conscrypt's refuses what is not a TLS record before BoringSSL sees it, and just closes.
    if (provider == TlsProvider.JDK) assertFalse(written.isEmpty(), "an alert before the close");
    if (!written.isEmpty()) assertEquals(21, written.apply(0), "TLS record type alert: " + written);
    assertEquals(List.of(), run.first().toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS), "nothing decrypted");
    assertEquals(List.of(true), failures, "one failure, during the handshake");
  }

  @ParameterizedTest
  @EnumSource(TlsProvider.class)
  void aPeerThatClosesWithoutCloseNotifyEndsWhatTheServerReceives(TlsProvider provider) throws Exception {
    CompletionStage<List<ByteString>> seenByServer = Source.<ByteString>empty()
        .viaMat(server(provider, Flow.fromSinkAndSourceMat(Sink.<ByteString>seq(), Source.<ByteString>maybe(), Keep.left())), Keep.right())
        .to(Sink.ignore())
        .run(materializer);

    assertEquals(List.of(), seenByServer.toCompletableFuture().get(WAIT_SECONDS, TimeUnit.SECONDS));
  }

  /**
   * A client that stops reading stops the server taking plaintext: what the connection has to send
   * waits upstream (in its bounded queue, on the server), not in the TLS stage.
   */
  @ParameterizedTest
  @EnumSource(TlsProvider.class)
  void aClientThatStopsReadingStopsTheServerTakingPlaintext(TlsProvider provider) throws Exception {
    int messages = 1_000;
    int size = 10_000;
    AtomicInteger taken = new AtomicInteger();
    Flow<ByteString, ByteString, NotUsed> writer = Flow.fromSinkAndSource(Sink.ignore(),
        Source.repeat(randomBytes(size, 4)).take(messages).map(bytes -> {
          taken.incrementAndGet();
          return bytes;
        }));
    PausedReader reader = new PausedReader((long) messages * size);
    Source.<TLSProtocol.SslTlsOutbound>maybe()
        .via(client().join(server(provider, writer)))
        .collectType(TLSProtocol.SessionBytes.class)
        .runWith(Sink.fromSubscriber(reader), materializer);

    reader.first.get(WAIT_SECONDS, TimeUnit.SECONDS);
    Thread.sleep(500);
    int takenWhilePaused = taken.get();
    assertTrue(takenWhilePaused < messages / 10, takenWhilePaused + " of " + messages + " taken while the client read nothing");

    reader.subscription.request(Long.MAX_VALUE);
    assertEquals((long) messages * size, reader.all.get(WAIT_SECONDS, TimeUnit.SECONDS), "all of it once the client reads again");
  }

  /** Asks for one element, then nothing until told; counts bytes until all expected have come. */
  private static final class PausedReader implements Subscriber<TLSProtocol.SessionBytes> {
    final CompletableFuture<Void> first = new CompletableFuture<>();
    final CompletableFuture<Long> all = new CompletableFuture<>();
    private final long expected;
    volatile Subscription subscription;
    private long bytes;

    PausedReader(long expected) {
      this.expected = expected;
    }

    @Override
    public void onSubscribe(Subscription subscription) {
      this.subscription = subscription;
      subscription.request(1);
    }

    @Override
    public void onNext(TLSProtocol.SessionBytes received) {
      bytes += received.bytes().size();
      first.complete(null);
      if (bytes >= expected) all.complete(bytes);
    }

    @Override
    public void onError(Throwable failure) {
      all.completeExceptionally(failure);
    }

    @Override
    public void onComplete() {
      all.complete(bytes);
    }
  }
}
