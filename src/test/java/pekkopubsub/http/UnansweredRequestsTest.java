package pekkopubsub.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.TimeoutAccess;
import org.apache.pekko.http.javadsl.settings.ServerSettings;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.UniqueKillSwitch;
import org.apache.pekko.stream.javadsl.BidiFlow;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** Pekko HTTP's own server layer with a short request timeout, and routes that never answer. */
class UnansweredRequestsTest {
  private static final ActorTestKit testKit =
      ActorTestKit.create(ConfigFactory.parseString("pekko.http.server.request-timeout = 300ms").withFallback(ConfigFactory.load()));
  private static final Materializer materializer = Materializer.matFromSystem(testKit.system());

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  /** The paths whose request timeout fired, in order. */
  private final List<String> timedOut = new CopyOnWriteArrayList<>();

  /**
   * A connection whose client goes away with its request unanswered: Pekko HTTP's timeout for it
   * fired anyway, a request timeout later, long after the stream had ended (with Pekko's default
   * handler, that is the INFO line "Request timeout encountered"). A second connection whose
   * request stays unanswered, opened after the first ended, times out as usual: by then the first
   * one's would have fired too.
   */
  @Test
  void aRequestWhoseConnectionEndsUnansweredNeverTimesOut() throws Exception {
    CountDownLatch routed = new CountDownLatch(1);
    UniqueKillSwitch client = Source.single(request("/gone")).concat(Source.maybe())
        .viaMat(KillSwitches.single(), Keep.right())
        .via(connection(routed))
        .to(Sink.ignore())
        .run(materializer);
    assertTrue(routed.await(10, TimeUnit.SECONDS), "the request reached the routes");
    client.abort(new IOException("Connection reset by peer"));

    String answer = Source.single(request("/waiting")).concat(Source.maybe())
        .via(connection(new CountDownLatch(1)))
        .runWith(Sink.head(), materializer).toCompletableFuture().get(10, TimeUnit.SECONDS).utf8String();
    assertTrue(answer.startsWith("HTTP/1.1 503 "), answer);
    assertEquals(List.of("/waiting"), timedOut);
  }

  /** Pekko HTTP's server layer, this stage, and routes that never answer; each request's timeout is recorded when it fires. */
  private Flow<ByteString, ByteString, NotUsed> connection(CountDownLatch routed) {
    Flow<HttpRequest, HttpResponse, NotUsed> routes = Flow.of(HttpRequest.class)
        .map(request -> {
          request.getHeader(TimeoutAccess.class).orElseThrow().timeoutAccess().updateHandler(timedOutRequest -> {
            timedOut.add(timedOutRequest.getUri().path());
            return HttpResponse.create().withStatus(StatusCodes.SERVICE_UNAVAILABLE);
          });
          routed.countDown();
          return request;
        })
        .mapAsync(1, request -> new CompletableFuture<HttpResponse>());
    return Http.get(testKit.system()).serverLayer(ServerSettings.create(testKit.system().classicSystem()),
            Optional.of(new InetSocketAddress("127.0.0.1", 1)), testKit.system().classicSystem().log())
        .atop(plainBytes())
        .reversed()
        .join(BidiFlow.fromGraph(new UnansweredRequests()).join(routes));
  }

  private static ByteString request(String path) {
    return ByteString.fromString("GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static BidiFlow<org.apache.pekko.stream.TLSProtocol.SslTlsOutbound, ByteString, ByteString,
      org.apache.pekko.stream.TLSProtocol.SslTlsInbound, NotUsed> plainBytes() {
    return (BidiFlow) org.apache.pekko.stream.javadsl.TLSPlacebo.getInstance();
  }
}
