package pekkopubsub.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import pekkopubsub.LocalServer;
import pekkopubsub.http.TestCertificates;

/**
 * Which deadline governs which connection: a request head must arrive within the request timeout,
 * a REST connection closes after HTTP's idle timeout, and a WebSocket lives by its own heartbeat
 * and idle timeout, not by HTTP's.
 */
class ConnectionDeadlinesE2ETest {
  private static final long GIVE_UP_MILLIS = 10_000;
  private static TestServer server;

  @TempDir
  Path dir;

  @BeforeAll
  static void start() {
    server = TestServer.start(Map.of(
        "pekko.http.server.request-timeout", "500ms",
        "pekko.http.server.idle-timeout", "1s"));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  /** Any first request, not only an upgrade: Pekko HTTP itself bounds no request head in time. */
  @ParameterizedTest
  @ValueSource(strings = {"GET /ws", "GET /health", "POST /topics", "GARBAGE"})
  void aClientThatTricklesItsRequestHeadIsCutOffAtTheRequestTimeout(String requestLineStart) throws IOException {
    try (Socket socket = open()) {
      OutputStream out = socket.getOutputStream();
      out.write((requestLineStart + " HTTP/1.1\r\nHost: localhost\r\n").getBytes(StandardCharsets.US_ASCII));
      socket.setSoTimeout(100);
      long start = System.nanoTime();
      // One more header byte every 100 ms: traffic that an idle timeout alone would never end.
      while (true) {
        if (elapsedMillis(start) > GIVE_UP_MILLIS) fail("the server kept a connection without a request head open for 10 s");
        try {
          if (socket.getInputStream().read() == -1) break;
          fail("the server answered a request it never got whole");
        } catch (SocketTimeoutException stillOpen) {
          try {
            out.write('X');
          } catch (IOException closedWhileWriting) {
            break;
          }
        } catch (IOException reset) {
          break;
        }
      }
      assertTrue(elapsedMillis(start) >= 400, "closed before the request timeout");
    }
  }

  /** Pekko HTTP starts its request timeout only once a body has arrived whole. */
  @Test
  void aRequestBodyTrickledPastTheRequestTimeoutIsAnswered408AndTheConnectionClosed() throws IOException {
    try (Socket socket = open()) {
      OutputStream out = socket.getOutputStream();
      out.write(("POST /topics HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
          + "{\"name\":\"").getBytes(StandardCharsets.US_ASCII));
      socket.setSoTimeout(100);
      long start = System.nanoTime();
      InputStream in = socket.getInputStream();
      byte[] first = new byte[1];
      // One more body byte every 100 ms, so that HTTP's idle timeout never ends it, until an answer starts.
      while (true) {
        if (elapsedMillis(start) > GIVE_UP_MILLIS) fail("a request whose body never ended was not answered in 10 s");
        try {
          if (in.read(first) == 1) break;
          fail("closed without an answer");
        } catch (SocketTimeoutException stillWaiting) {
          out.write('x');
        }
      }
      assertTrue(elapsedMillis(start) >= 400, "answered before the request timeout");
      socket.setSoTimeout((int) GIVE_UP_MILLIS);
      String answer = (char) first[0] + readUntilClosed(in);
      assertEquals("BAD_REQUEST", Wire.bodyJson(answer, 408).path("error").path("code").asText(), answer);
      assertTrue(answer.contains("Connection: close"), answer);
    }
  }

  @Test
  void aRestConnectionLeftIdleIsClosedAfterTheHttpIdleTimeout() throws IOException {
    try (Socket socket = open()) {
      socket.getOutputStream().write("GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      String answer = readUntilClosed(socket.getInputStream());
      assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
    }
  }

  /**
   * A REST client that stops reading while answers are still coming: once HTTP's idle timeout had
   * ended its connection, the server kept the socket for ever, waiting to write the rest, and no
   * longer counted it among max-http-connections.
   */
  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void aRestClientThatStopsReadingIsCutOffAtTheIdleTimeout(boolean tls) throws IOException {
    if (!tls) {
      assertCutOffWhenNotReading(server);
      return;
    }
    try (TestServer https = TestServer.start(Map.of("pekko.http.server.idle-timeout", "1s"), TestCertificates.create(dir, "EC"))) {
      assertCutOffWhenNotReading(https);
    }
  }

  private static void assertCutOffWhenNotReading(TestServer server) throws IOException {
    try (Socket socket = server.sockets().createSocket()) {
      socket.setReceiveBufferSize(4096);
      socket.connect(new InetSocketAddress(server.httpBase().getHost(), server.httpBase().getPort()), 5_000);
      OutputStream out = socket.getOutputStream();
      out.write("GET /docs/swagger-ui-bundle.js HTTP/1.1\r\nHost: localhost\r\n\r\n".repeat(6).getBytes(StandardCharsets.US_ASCII));
      // Past the idle timeout before the first probe: a byte that reached Pekko HTTP would count as traffic.
      LocalServer.sleep(3_000);
      long start = System.nanoTime();
      while (true) {
        if (elapsedMillis(start) > GIVE_UP_MILLIS) fail("a client that stopped reading still had its connection 13 s later");
        try {
          out.write('\n');
          out.flush();
        } catch (IOException reset) {
          break;
        }
        LocalServer.sleep(200);
      }
    }
  }

  /**
   * A REST client reading its last answer slowly, after its HTTP stream has ended: the socket still
   * writes it, so the connection keeps its place among max-http-connections (given back as the
   * stream ended, it was free for anyone else meanwhile), and over TLS as without it the client
   * gets all of it, however long that takes, as long as it keeps taking some (TLS gave the socket
   * 10 s from the end of the stream, progress or not, then reset it). The server's small send
   * buffer leaves most of the answer to the socket stage when the stream ends.
   */
  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void aSlowReaderOfTheLastAnswerGetsAllOfItAndHoldsItsPlaceUntilTheSocketCloses(boolean tls) throws Exception {
    try (TestServer server = TestServer.start(Map.of("pekko.http.server.socket-options.so-send-buffer-size", "1024"),
        tls ? TestCertificates.create(dir, "EC") : null)) {
      double held = server.metric("pubsub_http_connections");
      // Over TLS slow enough that what is left when the stream ends takes the reader more than 10 s.
      try (SlowReader reader = new SlowReader(new InetSocketAddress("127.0.0.1", server.httpBase().getPort()), tls ? 384 : 1024);
          Socket socket = server.sockets().createSocket(reader.address().getAddress(), reader.address().getPort())) {
        socket.setSoTimeout(30_000);
        socket.getOutputStream().write("GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII));
        // Long enough for the answer to be made and its stream to end (Connection: close); far too
        // short for the reader to take its 20 KB.
        LocalServer.sleep(2_000);
        double whileWriting = server.metric("pubsub_http_connections");
        String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        int headEnd = answer.indexOf("\r\n\r\n");
        java.util.regex.Matcher length = java.util.regex.Pattern.compile("(?i)\r\ncontent-length: (\\d+)\r\n").matcher(answer);
        assertTrue(headEnd > 0 && length.find(), "the answer ended after " + answer.length() + " bytes: "
            + answer.substring(0, Math.min(answer.length(), 300)));
        assertEquals(Integer.parseInt(length.group(1)), answer.length() - headEnd - 4, "the whole answer arrived");
        assertEquals(held + 1, whileWriting, "the connection kept its place while its socket still wrote");
      }
      Wire.eventually(Wire.WAIT, () -> server.metric("pubsub_http_connections"), n -> n == held, "the place is back once closed");
    }
  }

  @Test
  void aWebSocketOutlivesTheHttpIdleTimeout() {
    try (RawWebSocket ws = RawWebSocket.connect(server.httpBase())) {
      LocalServer.sleep(2_500);
      ws.sendText("{\"type\":\"ping\",\"request_id\":\"after-silence\"}");
      JsonNode pong = ws.read().json();
      assertEquals("pong", pong.get("type").asText(), pong.toString());
      assertEquals("after-silence", pong.get("request_id").asText());
    }
  }

  private static Socket open() throws IOException {
    Socket socket = new Socket(server.httpBase().getHost(), server.httpBase().getPort());
    socket.setSoTimeout((int) GIVE_UP_MILLIS);
    return socket;
  }

  /** Everything the server sends until it closes the connection (a FIN, not a reset); fails after 10 s. */
  private static String readUntilClosed(InputStream in) throws IOException {
    StringBuilder text = new StringBuilder();
    byte[] buffer = new byte[4096];
    try {
      for (int n; (n = in.read(buffer)) != -1; ) text.append(new String(buffer, 0, n, StandardCharsets.US_ASCII));
    } catch (SocketTimeoutException notClosed) {
      fail("the connection was still open after 10 s; read so far: " + text);
    } catch (java.net.SocketException reset) {
      fail("the connection was reset instead of closed (" + reset + "); read so far: " + text);
    }
    return text.toString();
  }

  private static long elapsedMillis(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }
}
