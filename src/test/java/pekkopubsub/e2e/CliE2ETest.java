package pekkopubsub.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static pekkopubsub.e2e.Wire.ack;
import static pekkopubsub.e2e.Wire.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import pekkopubsub.LocalServer;
import pekkopubsub.cli.PubSubCli;
import pekkopubsub.client.PubSubClient;
import pekkopubsub.http.TestCertificates;

/** scripts/pubsub's commands against the real server: what they print on stdout and stderr, and their exit codes. */
class CliE2ETest {
  private static TestServer server;

  @BeforeAll
  static void start() {
    server = TestServer.start();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  /** One finished command: exit code, stdout, stderr. */
  record Run(int exit, String out, String err) {
    List<JsonNode> jsonLines() {
      List<JsonNode> lines = new ArrayList<>();
      for (String line : out.split("\n")) {
        if (!line.isBlank()) lines.add(Wire.json(line));
      }
      return lines;
    }

    JsonNode json() {
      List<JsonNode> lines = jsonLines();
      assertEquals(1, lines.size(), () -> "one JSON line expected: " + this);
      return lines.get(0);
    }

    /** A failure is reported as exactly one line on stderr, prefixed like any Unix tool's. */
    String errorLine() {
      String line = err.strip();
      assertTrue(line.startsWith("pubsub: ") && !line.contains("\n"), () -> "one error line expected: " + this);
      return line;
    }
  }

  /** A command that runs in the background, like {@code pubsub sub} until Ctrl-C. */
  static final class Background {
    final PubSubCli cli;
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();
    final CompletableFuture<Integer> exit;

    Background(String... args) {
      this((PrintStream) null, args);
    }

    /** Printing to {@code stdout} when given, as a pipe to another program, else to {@link #out}. */
    Background(PrintStream stdout, String... args) {
      this(withUrl(args), stdout);
    }

    /** Against the server at {@code url} instead of the class's. */
    Background(URI url, String... args) {
      this(withUrl(url, args), null);
    }

    private Background(String[] argsWithUrl, PrintStream stdout) {
      cli = new PubSubCli(new ByteArrayInputStream(new byte[0]), stdout != null ? stdout : print(out), print(err));
      exit = CompletableFuture.supplyAsync(() -> cli.run(argsWithUrl));
    }

    String err() {
      return err.toString(StandardCharsets.UTF_8);
    }

    List<JsonNode> lines() {
      return new Run(0, out.toString(StandardCharsets.UTF_8), "").jsonLines();
    }

    void awaitSubscribed() {
      Wire.eventually(Wire.WAIT, this::err, e -> e.contains("subscribed to") || exit.isDone(), "sub reports its subscription");
      assertTrue(err().startsWith("subscribed to"), err());
    }

    List<JsonNode> awaitLines(int n) {
      return Wire.eventually(Wire.WAIT, this::lines, l -> l.size() >= n, n + " event lines on stdout");
    }

    int awaitExit() {
      return await(exit, Duration.ofSeconds(20));
    }
  }

  static Run cli(String stdin, String... args) {
    return cli(stdin.getBytes(StandardCharsets.UTF_8), args);
  }

  static Run cli(byte[] stdin, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exit = new PubSubCli(new ByteArrayInputStream(stdin), print(out), print(err)).run(args);
    return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  static Run pubsub(String... args) {
    return cli("", withUrl(args));
  }

  static String[] withUrl(String... args) {
    return withUrl(server.httpBase(), args);
  }

  static String[] withUrl(URI url, String... args) {
    List<String> all = new ArrayList<>(List.of("--url", url.toString()));
    all.addAll(List.of(args));
    return all.toArray(String[]::new);
  }

  private static PrintStream print(ByteArrayOutputStream bytes) {
    return new PrintStream(bytes, true, StandardCharsets.UTF_8);
  }

  // ---------------------------------------------------------------- topics, health, stats

  @Test
  void topicsCreateListDeleteAndTheirErrors() {
    String topic = TestServer.uniqueTopicName("cli");
    Run created = pubsub("topics", "create", topic);
    assertEquals(0, created.exit(), created::toString);
    assertEquals("created", created.json().path("status").asText());
    assertEquals(topic, created.json().path("topic").asText());

    Run again = pubsub("topics", "create", topic);
    assertEquals(PubSubCli.SERVER_ERROR, again.exit(), again::toString);
    assertTrue(again.errorLine().contains("already exists"), again::toString);
    assertEquals("", again.out());

    // --url is global: it may follow the subcommand too.
    Run list = cli("", "topics", "list", "--url", server.httpBase().toString());
    assertEquals(0, list.exit(), list::toString);
    assertTrue(list.json().path("topics").findValuesAsText("name").contains(topic), list::toString);

    Run deleted = pubsub("topics", "delete", topic);
    assertEquals(0, deleted.exit(), deleted::toString);
    assertEquals("deleted", deleted.json().path("status").asText());

    Run missing = pubsub("topics", "delete", topic);
    assertEquals(PubSubCli.SERVER_ERROR, missing.exit(), missing::toString);
    assertTrue(missing.errorLine().contains("TOPIC_NOT_FOUND"), missing::toString);
  }

  /** A server with a self-signed certificate: --cacert names what to trust, for REST and for WebSocket alike. */
  @Test
  void aTlsServerIsReachedWithItsCertificateGivenByCacert(@TempDir Path dir) {
    TestCertificates certs = TestCertificates.create(dir, "EC");
    try (TestServer tls = TestServer.start(java.util.Map.of(), certs)) {
      String url = tls.httpBase().toString();
      String cacert = certs.certificate().toString();
      String topic = TestServer.uniqueTopicName("cli-tls");
      Run created = cli("", "--url", url, "--cacert", cacert, "topics", "create", topic);
      assertEquals(0, created.exit(), created::toString);
      Run published = cli("{\"n\":1}\n", "--url", url, "--cacert", cacert, "pub", topic);
      assertEquals(0, published.exit(), published::toString);
      assertEquals(1, published.json().path("offset").asLong(), published::toString);

      Run untrusted = cli("", "--url", url, "health");
      assertEquals(PubSubCli.UNREACHABLE, untrusted.exit(), untrusted::toString);
      assertTrue(untrusted.errorLine().contains("TLS handshake failed") && untrusted.errorLine().contains("--cacert FILE"),
          untrusted::toString);
      Run missing = cli("", "--url", url, "--cacert", dir.resolve("absent.pem").toString(), "health");
      assertEquals(PubSubCli.USAGE, missing.exit(), missing::toString);
      assertTrue(missing.errorLine().contains("--cacert"), missing::toString);
    }
  }

  /** A server that asks for client certificates: --cert and --key present one. */
  @Test
  void aServerAskingForAClientCertificateIsReachedWithCertAndKey(@TempDir Path dir) {
    TestCertificates certs = TestCertificates.create(dir.resolve("server"), "EC");
    pekkopubsub.SelfSignedCertificate client = pekkopubsub.SelfSignedCertificate.create(dir.resolve("client"), "EC", 2);
    try (TestServer tls = TestServer.start(java.util.Map.of("http.tls.client-ca", client.certificate().toString()),
        certs.presenting(client))) {
      String url = tls.httpBase().toString();
      String cacert = certs.certificate().toString();
      Run health = cli("", "--url", url, "--cacert", cacert, "--cert", client.certificate().toString(),
          "--key", client.privateKey().toString(), "health");
      assertEquals(0, health.exit(), health::toString);
      assertEquals("ok", health.json().path("status").asText(), health::toString);

      Run without = cli("", "--url", url, "--cacert", cacert, "health");
      assertEquals(PubSubCli.UNREACHABLE, without.exit(), without::toString);
      assertTrue(without.errorLine().contains("--cert FILE --key FILE"), without::toString);
      Run halfGiven = cli("", "--url", url, "--cacert", cacert, "--cert", client.certificate().toString(), "health");
      assertEquals(PubSubCli.USAGE, halfGiven.exit(), halfGiven::toString);
      assertTrue(halfGiven.errorLine().contains("--cert and --key go together"), halfGiven::toString);
    }
  }

  @Test
  void healthAndStatsPrintTheServersJson() {
    String topic = server.createTopic("cli-stats");
    Run health = pubsub("health");
    assertEquals(0, health.exit(), health::toString);
    assertEquals("ok", health.json().path("status").asText());

    Run stats = pubsub("stats");
    assertEquals(0, stats.exit(), stats::toString);
    assertEquals(0, stats.json().path("topics").path(topic).path("messages").asInt(-1), stats::toString);
  }

  // ---------------------------------------------------------------- pub

  @Test
  void pubPublishesTheArgumentOrEachStdinLineInOrderAndPrintsAcks() {
    String topic = server.createTopic("cli-pub");
    PubSubClient reader = server.connect();
    ack(reader.subscribe(topic), topic);

    Run one = pubsub("pub", topic, "{\"item\":\"mouse\"}");
    assertEquals(0, one.exit(), one::toString);
    assertEquals("ack", one.json().path("type").asText());
    assertEquals(1, one.json().path("offset").asLong());

    Run lines = cli("1\n\n\"two\"\n[3]\n", withUrl("pub", topic));
    assertEquals(0, lines.exit(), lines::toString);
    assertEquals(List.of(2L, 3L, 4L), lines.jsonLines().stream().map(a -> a.path("offset").asLong()).toList());

    List<JsonNode> events = Wire.events(reader, topic, 4);
    assertEquals(List.of("{\"item\":\"mouse\"}", "1", "\"two\"", "[3]"),
        events.stream().map(e -> e.path("message").path("payload").toString()).toList());

    Run dash = cli("{\"n\":5}\n", withUrl("pub", topic, "-"));
    assertEquals(0, dash.exit(), dash::toString);
    assertEquals(5, dash.json().path("offset").asLong());
  }

  @Test
  void pubRefusesTextThatIsNotJsonAndPublishesNothing() {
    String topic = server.createTopic("cli-badjson");
    Run run = pubsub("pub", topic, "hello");
    assertEquals(PubSubCli.USAGE, run.exit(), run::toString);
    assertTrue(run.errorLine().contains("not JSON"), run::toString);

    Run stdin = cli("{\"ok\":1}\nnot json\n{\"never\":1}\n", withUrl("pub", topic));
    assertEquals(PubSubCli.USAGE, stdin.exit(), stdin::toString);
    assertTrue(stdin.errorLine().contains("line 2"), stdin::toString);
    assertEquals(1, stdin.jsonLines().size(), "the line before the bad one was published");
    assertEquals(1, server.topicStats(topic).path("messages").asInt());
  }

  /** A Latin-1 line piped in: its é (0xE9) is not UTF-8, and the server got U+FFFD in its place. */
  @Test
  void pubRefusesAStdinLineThatIsNotUtf8AfterPublishingTheLinesBeforeIt() {
    String topic = server.createTopic("cli-latin1");
    ByteArrayOutputStream stdin = new ByteArrayOutputStream();
    stdin.writeBytes("{\"name\":\"café\"}\r\n".getBytes(StandardCharsets.UTF_8));
    stdin.writeBytes("{\"name\":\"café\"}\n".getBytes(StandardCharsets.ISO_8859_1));
    stdin.writeBytes("{\"never\":1}\n".getBytes(StandardCharsets.UTF_8));

    Run run = cli(stdin.toByteArray(), withUrl("pub", topic));
    assertEquals(PubSubCli.USAGE, run.exit(), run::toString);
    assertTrue(run.errorLine().contains("line 2 is not JSON: not UTF-8 (byte 0xE9 at byte 13)"), run::toString);
    assertEquals(1, run.jsonLines().size(), "the line before the bad one was published");
    PubSubClient reader = server.connect();
    ack(reader.subscribeLast(topic, 10), topic);
    assertEquals("café", Wire.events(reader, topic, 1).get(0).path("message").path("payload").path("name").asText());
    assertEquals(1, server.topicStats(topic).path("messages").asInt());
  }

  /** Outside a UTF-8 locale the JVM reads Zürich in argv as Z\uFFFD\uFFFDrich, the bytes it could not decode being lost. */
  @Test
  void pubRefusesAnArgumentTheLocaleCouldNotDecodeAndPublishesNothing() {
    String topic = server.createTopic("cli-argv");
    Run run = pubsub("pub", topic, "{\"city\":\"Z\uFFFD\uFFFDrich\"}");
    assertEquals(PubSubCli.USAGE, run.exit(), run::toString);
    assertTrue(run.errorLine().contains("UTF-8 locale") && run.errorLine().contains("stdin"), run::toString);
    assertEquals(0, server.topicStats(topic).path("messages").asInt(), run::toString);
  }

  /** A 503 to the upgrade is a shutdown or max-connections reached: the server's JSON says which. */
  @Test
  void aWebSocketRefusedAt503SaysWhyInTheServersWords() {
    try (TestServer full = TestServer.start(java.util.Map.of("limits.max-connections", "1"))) {
      String topic = full.createTopic("cli-full");
      full.connect();
      Run run = cli("", "--url", full.httpBase().toString(), "pub", topic, "1");
      assertEquals(PubSubCli.SERVER_ERROR, run.exit(), run::toString);
      assertTrue(run.errorLine().endsWith("(HTTP 503: the server's limit of 1 connections is reached)"), run::toString);
    }
  }

  /** Exit code 4 is sub's, for a subscription the server ended: pub losing its server is 3, as README's table says. */
  @Test
  void pubFromStdinWhoseServerGoesAwayExitsWith3() {
    TestServer going = TestServer.start();
    String topic = going.createTopic("cli-lost");
    CountDownLatch serverGone = new CountDownLatch(1);
    InputStream stdin = new InputStream() {
      private final ByteArrayInputStream first = new ByteArrayInputStream("{\"n\":1}\n".getBytes(StandardCharsets.UTF_8));
      private final ByteArrayInputStream second = new ByteArrayInputStream("{\"n\":2}\n".getBytes(StandardCharsets.UTF_8));

      @Override
      public int read() {
        throw new UnsupportedOperationException();
      }

      @Override
      public int read(byte[] b, int off, int len) {
        if (first.available() > 0) return first.read(b, off, len);
        try {
          serverGone.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return second.read(b, off, len);
      }
    };
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() ->
        new PubSubCli(stdin, print(out), print(err)).run("--url", going.httpBase().toString(), "pub", topic));
    Wire.eventually(Wire.WAIT, () -> out.toString(StandardCharsets.UTF_8), o -> o.contains("\"ack\""), "the first ack");
    going.close();
    serverGone.countDown();

    assertEquals(PubSubCli.UNREACHABLE, await(exit, Duration.ofSeconds(20)), err::toString);
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("connection to the server lost"), err::toString);
  }

  @Test
  void pubToAMissingTopicIsAServerError() {
    Run run = pubsub("pub", TestServer.uniqueTopicName("cli-none"), "1");
    assertEquals(PubSubCli.SERVER_ERROR, run.exit(), run::toString);
    assertTrue(run.errorLine().contains("TOPIC_NOT_FOUND"), run::toString);
  }

  // ---------------------------------------------------------------- sub

  @Test
  void subPrintsReplayedThenLiveEventsAsJsonLinesUntilStopped() {
    String topic = server.createTopic("cli-sub");
    PubSubClient publisher = server.connect();
    for (int i = 1; i <= 3; i++) ack(publisher.publish(topic, Wire.payload(i)), topic);

    Background sub = new Background("sub", topic, "--last", "2");
    sub.awaitSubscribed();
    assertTrue(sub.err().contains("replayed 2"), sub.err());
    ack(publisher.publish(topic, Wire.payload(4)), topic);

    List<JsonNode> lines = sub.awaitLines(3);
    assertEquals(List.of(2L, 3L, 4L), Wire.offsets(lines));
    assertTrue(lines.get(0).path("replay").asBoolean(), lines.get(0)::toString);
    assertEquals("event", lines.get(2).path("type").asText());
    assertEquals(Wire.payload(4), lines.get(2).path("message").path("payload"));

    sub.cli.stop();
    assertEquals(PubSubCli.OK, sub.awaitExit(), sub.err());
    assertEquals(0, server.topicStats(topic).path("subscribers").asInt(), "the CLI's connection was closed");
  }

  @Test
  void subSinceAnOffsetAndEpochRecovers() {
    String topic = server.createTopic("cli-since");
    PubSubClient publisher = server.connect();
    for (int i = 1; i <= 3; i++) ack(publisher.publish(topic, Wire.payload(i)), topic);
    String epoch = ack(server.connect().subscribe(topic), topic).path("epoch").asText();

    Background sub = new Background("sub", topic, "--since", "1", "--epoch", epoch);
    sub.awaitSubscribed();
    assertTrue(sub.err().contains("recovered true"), sub.err());
    assertEquals(List.of(2L, 3L), Wire.offsets(sub.awaitLines(2)));
    sub.cli.stop();
    assertEquals(PubSubCli.OK, sub.awaitExit());
  }

  /** A network cut: the CLI reconnects and replays what was published meanwhile, each offset once. */
  @Test
  void subWithReconnectReplaysWhatWasPublishedWhileItsConnectionWasCut() throws Exception {
    String topic = server.createTopic("cli-cut");
    PubSubClient publisher = server.connect();
    try (CuttableProxy proxy = CuttableProxy.to(server.httpBase())) {
      Background sub = new Background(proxy.uri(), "sub", topic, "--reconnect");
      sub.awaitSubscribed();
      ack(publisher.publish(topic, Wire.payload(1)), topic);
      sub.awaitLines(1);

      proxy.cut();
      Wire.eventually(Wire.WAIT, sub::err, e -> e.contains("reconnecting in"), "sub reports the lost connection");
      ack(publisher.publish(topic, Wire.payload(2)), topic);
      ack(publisher.publish(topic, Wire.payload(3)), topic);
      proxy.restore();
      Wire.eventually(Wire.WAIT, sub::err, e -> e.contains("resubscribed to"), "sub subscribes again");
      ack(publisher.publish(topic, Wire.payload(4)), topic);

      List<JsonNode> lines = sub.awaitLines(4);
      assertEquals(List.of(1L, 2L, 3L, 4L), Wire.offsets(lines), sub.err());
      assertTrue(lines.get(1).path("replay").asBoolean() && lines.get(2).path("replay").asBoolean(), lines::toString);
      assertEquals(Wire.payload(4), lines.get(3).path("message").path("payload"));
      assertTrue(sub.err().contains("replayed 2, recovered true"), sub.err());
      assertFalse(sub.exit.isDone(), sub.err());

      sub.cli.stop();
      assertEquals(PubSubCli.OK, sub.awaitExit(), sub.err());
    }
  }

  /** Cut before it has printed anything, the CLI resumes from the newest offset its subscribe ack named. */
  @Test
  void subWithReconnectReplaysWhatWasPublishedDuringACutBeforeItsFirstEvent() throws Exception {
    String topic = server.createTopic("cli-cut-early");
    PubSubClient publisher = server.connect();
    for (int n = 1; n <= 3; n++) ack(publisher.publish(topic, Wire.payload(n)), topic);
    try (CuttableProxy proxy = CuttableProxy.to(server.httpBase())) {
      Background sub = new Background(proxy.uri(), "sub", topic, "--reconnect");
      sub.awaitSubscribed();

      proxy.cut();
      Wire.eventually(Wire.WAIT, sub::err, e -> e.contains("reconnecting in"), "sub reports the lost connection");
      ack(publisher.publish(topic, Wire.payload(4)), topic);
      ack(publisher.publish(topic, Wire.payload(5)), topic);
      proxy.restore();
      Wire.eventually(Wire.WAIT, sub::err, e -> e.contains("resubscribed to"), "sub subscribes again");
      ack(publisher.publish(topic, Wire.payload(6)), topic);

      List<JsonNode> lines = sub.awaitLines(3);
      assertEquals(List.of(4L, 5L, 6L), Wire.offsets(lines), "neither the events before it subscribed nor a gap: " + sub.err());
      assertTrue(sub.err().contains("replayed 2, recovered true"), sub.err());

      sub.cli.stop();
      assertEquals(PubSubCli.OK, sub.awaitExit(), sub.err());
    }
  }

  /** A restart loses every topic: the CLI waits for its topic to be created again and says its old events are gone. */
  @Test
  void subWithReconnectFollowsItsTopicAcrossAServerRestart() {
    TestServer first = TestServer.start();
    TestServer second = null;
    try {
      String topic = first.createTopic("cli-restart");
      Background sub = new Background(first.httpBase(), "sub", topic, "--reconnect");
      sub.awaitSubscribed();
      ack(first.connect().publish(topic, Wire.payload(1)), topic);
      sub.awaitLines(1);

      int port = first.httpBase().getPort();
      first.close();
      Wire.eventually(Wire.WAIT, sub::err, e -> e.contains("reconnecting in"), "sub reports the lost server");
      second = TestServer.startAt(port);
      Wire.eventually(Wire.WAIT, sub::err, e -> e.contains("TOPIC_NOT_FOUND"), "sub waits for its topic");
      assertEquals(201, second.admin().createTopic(topic).status());
      Wire.eventually(Wire.WAIT, sub::err, e -> e.contains("resubscribed to"), "sub subscribes again");
      ack(second.connect().publish(topic, Wire.payload(2)), topic);

      List<JsonNode> lines = sub.awaitLines(2);
      assertEquals(List.of(1L, 1L), Wire.offsets(lines), "offsets start again in the new epoch");
      assertEquals(Wire.payload(2), lines.get(1).path("message").path("payload"));
      assertTrue(sub.err().contains("was created again"), sub.err());

      sub.cli.stop();
      assertEquals(PubSubCli.OK, sub.awaitExit(), sub.err());
    } finally {
      if (second != null) second.close();
    }
  }

  /** The first subscribe never retries, so a mistyped topic ends the command at once. */
  @Test
  void subWithReconnectStillFailsAtOnceWhenItCouldNeverSubscribe() {
    Run missing = pubsub("sub", TestServer.uniqueTopicName("cli-never"), "--reconnect");
    assertEquals(PubSubCli.SERVER_ERROR, missing.exit(), missing::toString);
    assertTrue(missing.errorLine().contains("TOPIC_NOT_FOUND"), missing::toString);
  }

  @Test
  void subGivesItsClientIdWhichTopicsShowCountsUntilItEnds() {
    String topic = server.createTopic("cli-client-id");
    Background sub = new Background("sub", topic, "--client-id", "dashboard-feed");
    sub.awaitSubscribed();

    Run shown = pubsub("topics", "show", topic);
    assertEquals(0, shown.exit(), shown::toString);
    assertEquals(topic, shown.json().path("name").asText());
    assertEquals(1, shown.json().path("subscribers").asInt(), shown::toString);
    assertEquals(1, shown.json().path("client_ids").path("dashboard-feed").asInt(), shown::toString);

    sub.cli.stop();
    assertEquals(PubSubCli.OK, sub.awaitExit(), sub.err());
    JsonNode after = Wire.eventually(Wire.WAIT, () -> pubsub("topics", "show", topic).json(),
        t -> t.path("subscribers").asInt() == 0, "the subscription ended");
    assertTrue(after.path("client_ids").isEmpty(), after::toString);
    Run missing = pubsub("topics", "show", TestServer.uniqueTopicName("cli-none"));
    assertEquals(PubSubCli.SERVER_ERROR, missing.exit(), missing::toString);
    assertTrue(missing.errorLine().contains("TOPIC_NOT_FOUND"), missing::toString);
  }

  /** System.out in a C or POSIX locale: its charset is US-ASCII, and JSON is UTF-8 whatever the locale. */
  @Test
  void subPrintsEventsInUtf8WhateverTheCharsetOfItsStdout() {
    String topic = server.createTopic("cli-utf8");
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    Background sub = new Background(new PrintStream(bytes, true, StandardCharsets.US_ASCII), "sub", topic);
    sub.awaitSubscribed();
    ack(server.connect().publish(topic, Wire.json("{\"city\":\"Zürich\",\"jp\":\"日本\"}")), topic);

    String printed = Wire.eventually(Wire.WAIT, () -> bytes.toString(StandardCharsets.UTF_8), out -> out.contains("\n"), "an event line");
    assertEquals(Wire.json("{\"city\":\"Zürich\",\"jp\":\"日本\"}"), Wire.json(printed).path("message").path("payload"), printed);
    sub.cli.stop();
    assertEquals(PubSubCli.OK, sub.awaitExit(), sub.err());
  }

  /** {@code pubsub sub T | head -n 1}: once head has gone, every write to the pipe fails (EPIPE). */
  @Test
  void subEndsWith0AndUnsubscribesWhenWhatReadsItsOutputGoesAway() {
    String topic = server.createTopic("cli-pipe");
    ByteArrayOutputStream read = new ByteArrayOutputStream();
    AtomicBoolean readerGone = new AtomicBoolean();
    OutputStream pipe = new OutputStream() {
      @Override
      public void write(int b) throws IOException {
        if (readerGone.get()) throw new IOException("Broken pipe");
        read.write(b);
      }
    };
    Background sub = new Background(new PrintStream(pipe, true, StandardCharsets.UTF_8), "sub", topic);
    sub.awaitSubscribed();
    PubSubClient publisher = server.connect();
    ack(publisher.publish(topic, Wire.payload(1)), topic);
    Wire.eventually(Wire.WAIT, () -> read.toString(StandardCharsets.UTF_8), out -> out.contains("\n"), "the first event line");
    readerGone.set(true);

    ack(publisher.publish(topic, Wire.payload(2)), topic);
    assertEquals(PubSubCli.OK, sub.awaitExit(), sub.err());
    assertEquals(0, server.topicStats(topic).path("subscribers").asInt(), "the CLI's connection was closed");
  }

  @Test
  void subRefusesAReplayOutsideTheContractsRangeItselfAndTakesItsBounds() {
    String topic = server.createTopic("cli-range");
    // Sent, each would come back BAD_REQUEST from the server: exit 2 instead of 1.
    for (List<String> replay : List.of(List.of("--last", "-5"), List.of("--last", "1001"), List.of("--since", "-3"))) {
      Run run = pubsub("sub", topic, replay.get(0), replay.get(1));
      assertEquals(PubSubCli.USAGE, run.exit(), () -> replay + ": " + run);
      String line = run.errorLine();
      assertTrue(line.contains(replay.get(0)) && line.contains(replay.get(1)), () -> replay + ": " + run);
      assertEquals("", run.out());
    }
    for (List<String> replay : List.of(List.of("--last", "0"), List.of("--last", "1000"), List.of("--since", "0"))) {
      Background sub = new Background("sub", topic, replay.get(0), replay.get(1));
      sub.awaitSubscribed();
      sub.cli.stop();
      assertEquals(PubSubCli.OK, sub.awaitExit(), () -> replay + ": " + sub.err());
    }
  }

  @Test
  void subEndsWithCode4WhenItsTopicIsDeleted() {
    String topic = server.createTopic("cli-deleted");
    Background sub = new Background("sub", topic);
    sub.awaitSubscribed();
    assertEquals(200, server.admin().deleteTopic(topic).status());
    assertEquals(PubSubCli.ENDED, sub.awaitExit(), sub.err());
    assertTrue(sub.err().strip().endsWith("pubsub: topic '" + topic + "' was deleted"), sub.err());
  }

  @Test
  void subToAMissingTopicIsAServerError() {
    Run run = pubsub("sub", TestServer.uniqueTopicName("cli-none"));
    assertEquals(PubSubCli.SERVER_ERROR, run.exit(), run::toString);
    assertTrue(run.errorLine().contains("TOPIC_NOT_FOUND"), run::toString);
  }

  // ---------------------------------------------------------------- usage and connectivity

  @Test
  void usageErrorsExitWith1AndOneLine() {
    for (String[] args : List.of(new String[0], new String[] {"bogus"}, new String[] {"topics"},
        new String[] {"sub", "t", "--last", "1", "--since", "2"}, new String[] {"sub", "t", "--epoch", "e"},
        new String[] {"sub", "t", "--last", "many"}, new String[] {"--url", "ftp://x", "health"})) {
      Run run = cli("", args);
      assertEquals(PubSubCli.USAGE, run.exit(), () -> List.of(args) + ": " + run);
      run.errorLine();
    }
    Run help = cli("", "--help");
    assertEquals(0, help.exit());
    assertTrue(help.out().contains("Exit codes"), help.out());
  }

  @Test
  void anUnreachableServerExitsWith3() {
    String url = "http://127.0.0.1:" + LocalServer.freePort();
    for (String[] args : List.of(new String[] {"health"}, new String[] {"sub", "t"}, new String[] {"pub", "t", "1"})) {
      List<String> all = new ArrayList<>(List.of("--url", url));
      all.addAll(List.of(args));
      Run run = cli("", all.toArray(String[]::new));
      assertEquals(PubSubCli.UNREACHABLE, run.exit(), run::toString);
      assertTrue(run.errorLine().contains("connection refused"), run::toString);
    }
  }

  @Test
  void apiKeyIsSentAsXApiKey() throws Exception {
    AtomicReference<String> seen = new AtomicReference<>();
    HttpServer fake = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    fake.createContext("/health", exchange -> {
      seen.set(exchange.getRequestHeaders().getFirst("X-API-Key"));
      byte[] body = "{\"status\":\"ok\"}".getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().add("Content-Type", "application/json");
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    fake.start();
    try {
      Run run = cli("", "--url", "http://127.0.0.1:" + fake.getAddress().getPort(), "health", "--api-key", "k1");
      assertEquals(0, run.exit(), run::toString);
      assertEquals("k1", seen.get());
    } finally {
      fake.stop(0);
    }
  }
}
