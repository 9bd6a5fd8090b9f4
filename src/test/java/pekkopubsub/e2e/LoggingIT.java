package pekkopubsub.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static pekkopubsub.e2e.Wire.ack;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import pekkopubsub.LocalServer;
import pekkopubsub.client.AdminClient;
import pekkopubsub.client.PubSubClient;

/** The packaged server's log output: LOG_FORMAT=json gives one JSON object per stdout line, text is the default. */
class LoggingIT {
  private Process process;

  @AfterEach
  void cleanUp() throws InterruptedException {
    PackagedServer.stop(process);
  }

  @Test
  void jsonFormatWritesOneObjectPerLineWithTheTopicAsAField() throws Exception {
    String topic = TestServer.uniqueTopicName("logs");
    List<String> lines = runSession("json", topic);

    List<JsonNode> objects = new ArrayList<>();
    for (String line : lines) {
      JsonNode object = Wire.json(line);
      assertTrue(object.isObject(), line);
      assertTrue(object.path("@timestamp").isTextual() && object.path("level").isTextual()
          && object.path("message").isTextual(), line);
      objects.add(object);
    }
    JsonNode created = objects.stream()
        .filter(o -> o.path("message").asText().startsWith("topic created")).findFirst()
        .orElseThrow(() -> new AssertionError("no 'topic created' line in " + lines));
    assertEquals(topic, created.path("topic").asText(), created::toString);
    assertEquals("INFO", created.path("level").asText());
    assertTrue(objects.stream().anyMatch(o -> o.path("message").asText().startsWith("topic deleted")
        && topic.equals(o.path("topic").asText())), lines::toString);
  }

  @Test
  void textIsTheDefaultAndNamesTheTopic() throws Exception {
    String topic = TestServer.uniqueTopicName("logs");
    List<String> lines = runSession(null, topic);
    assertTrue(lines.stream().noneMatch(l -> l.startsWith("{")), lines::toString);
    assertTrue(lines.stream().noneMatch(l -> l.contains(" WARN ")), () -> "requests with bad headers logged: " + lines);
    assertTrue(lines.stream().anyMatch(l -> l.contains(" INFO ") && l.contains("topic created topic=" + topic)),
        lines::toString);
  }

  @Test
  void aLimitOfOpenFilesBelowWhatTheConnectionLimitsNeedIsWarnedAboutAtStart() throws Exception {
    int port = LocalServer.freePort();
    Path jar = PackagedServer.jar();
    Path workDir = Files.createDirectories(jar.getParent().resolve("logging-it"));
    Path out = workDir.resolve("nofile.out");
    // As in a container started with --ulimit nofile=1024:1024 (the JVM raises only the soft limit).
    ProcessBuilder builder = new ProcessBuilder("bash", "-c", "ulimit -n 1024 && exec \"$0\" -jar \"$1\"",
            Path.of(System.getProperty("java.home"), "bin", "java").toString(), jar.toString())
        .directory(workDir.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
        .redirectOutput(out.toFile())
        .redirectError(workDir.resolve("stderr.log").toFile());
    builder.environment().keySet().removeIf(List.of("CONFIG_FILE", "PUBSUB_API_KEYS", "LOG_LEVEL", "LOG_FORMAT",
        "MAX_CONNECTIONS", "MAX_HTTP_CONNECTIONS")::contains);
    builder.environment().put("PORT", String.valueOf(port));
    builder.environment().put("HOST", "127.0.0.1");
    process = builder.start();
    TestServer.awaitHealthy(process, new AdminClient(URI.create("http://127.0.0.1:" + port)));
    List<String> lines = Wire.eventually(Wire.WAIT, () -> readLines(out),
        l -> l.stream().anyMatch(line -> line.contains(" WARN ") && line.contains("may open 1024 files")), "the warning");
    String warning = lines.stream().filter(line -> line.contains("may open 1024 files")).findFirst().orElseThrow();
    assertTrue(warning.contains("need about 11152") && warning.contains("ulimit -n"), warning);
  }

  /** What an operator who mistyped PORT sees: one line on stderr naming the setting and the variable, and exit 1. */
  @Test
  void aBadSettingIsOneLineOnStderrNamingItsEnvironmentVariableAndExitsOne() throws Exception {
    Path workDir = Files.createDirectories(PackagedServer.jar().getParent().resolve("logging-it"));
    List<String> stderr = runUntilExit(workDir, "bad-port", Map.of("PORT", "abc"));
    assertEquals(List.of("pubsub: invalid configuration: pubsub.http.port (environment variable PORT) must be a whole number, not \"abc\""),
        stderr);
  }

  /** Logback alone would log at DEBUG for a level it does not know. */
  @Test
  void aMistypedLogLevelIsOneLineOnStderrAndExitsOne() throws Exception {
    Path workDir = Files.createDirectories(PackagedServer.jar().getParent().resolve("logging-it"));
    List<String> stderr = runUntilExit(workDir, "bad-level", Map.of("LOG_LEVEL", "INF0"));
    assertEquals(List.of("pubsub: invalid configuration: environment variable LOG_LEVEL must be one of TRACE, DEBUG, INFO,"
        + " WARN, ERROR, OFF, not \"INF0\""), stderr);
  }

  @Test
  void aLogFormatInCapitalsIsTakenAsTheFormat() throws Exception {
    String topic = TestServer.uniqueTopicName("logs");
    List<String> lines = runSession("JSON", topic);
    assertTrue(lines.stream().anyMatch(l -> l.startsWith("{") && l.contains("topic created")), lines::toString);
  }

  /** A Pekko HTTP setting README documents, with a value Pekko cannot read: it failed the guardian with a stack trace, and exit 0. */
  @Test
  void aPekkoHttpSettingPekkoCannotReadIsOneLineOnStderrAndExitsOne() throws Exception {
    Path workDir = Files.createDirectories(PackagedServer.jar().getParent().resolve("logging-it-bad-pekko"));
    Files.writeString(workDir.resolve("application.conf"), "pekko.http.server {\n  request-timeout = 3\n}\n");
    List<String> stderr = runUntilExit(workDir, "bad-pekko", Map.of());
    assertEquals(List.of("pubsub: invalid configuration: pekko.http.server.request-timeout (application.conf: 2)"
        + " is not a value Pekko HTTP can read: 3"), stderr);
  }

  @Test
  void anApplicationConfThatDoesNotParseIsOneLineOnStderrNamingItsLineAndExitsOne() throws Exception {
    Path workDir = Files.createDirectories(PackagedServer.jar().getParent().resolve("logging-it-broken-conf"));
    Files.writeString(workDir.resolve("application.conf"), "pubsub {\n  http.port = 8001\n  connection {\n");
    List<String> stderr = runUntilExit(workDir, "broken-conf", Map.of());
    assertEquals(1, stderr.size(), stderr::toString);
    assertTrue(stderr.get(0).startsWith("pubsub: invalid configuration: application.conf: 4: "), stderr::toString);
  }

  /**
   * Clients that reset or close their connection with pipelined requests unanswered: each such
   * request logged Pekko HTTP's INFO "Request timeout encountered for request [GET /health Empty]"
   * a request timeout later, its connection long gone (and its stream's graph held in memory until
   * then). The places among max-http-connections were already given back at once, and still are.
   */
  @Test
  void requestsAbandonedByAResetOrACloseLogNothing() throws Exception {
    int port = LocalServer.freePort();
    Path jar = PackagedServer.jar();
    Path workDir = Files.createDirectories(jar.getParent().resolve("logging-it-abandoned"));
    Files.writeString(workDir.resolve("application.conf"), "pekko.http.server.request-timeout = 1 s\n");
    Path out = workDir.resolve("abandoned.out");
    ProcessBuilder builder = PackagedServer.command(jar, workDir, List.of("CONFIG_FILE", "PUBSUB_API_KEYS", "LOG_LEVEL", "LOG_FORMAT"))
        .redirectOutput(out.toFile())
        .redirectError(workDir.resolve("stderr.log").toFile());
    builder.environment().put("PORT", String.valueOf(port));
    builder.environment().put("HOST", "127.0.0.1");
    process = builder.start();
    AdminClient admin = new AdminClient(URI.create("http://127.0.0.1:" + port));
    TestServer.awaitHealthy(process, admin);

    for (int connection = 0; connection < 40; connection++) {
      String body = "{\"name\":\"" + TestServer.uniqueTopicName("abandoned") + "\"}";
      String pipelined = "GET /health HTTP/1.1\r\nHost: localhost\r\n\r\nGET /stats HTTP/1.1\r\nHost: localhost\r\n\r\n"
          + "POST /topics HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: " + body.length()
          + "\r\n\r\n" + body + "GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n";
      try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
        socket.getOutputStream().write(pipelined.getBytes(StandardCharsets.US_ASCII));
        Thread.sleep(5);
        if (connection % 2 == 0) socket.setSoLinger(true, 0);
      }
    }
    // The scrape's own connection is the one left.
    Wire.eventually(Wire.WAIT, () -> metric(admin, "pubsub_http_connections"), open -> open == 1.0, "every other place given back");
    // Three request timeouts: each line came one request timeout after its request.
    Thread.sleep(3_000);
    List<String> lines = readLines(out);
    assertTrue(lines.stream().noneMatch(l -> l.contains("Request timeout")), () -> "abandoned requests logged: " + lines);
    assertTrue(lines.stream().noneMatch(l -> l.contains(" WARN ") || l.contains(" ERROR ")), lines::toString);
  }

  private static double metric(AdminClient admin, String name) {
    return admin.send("GET", "/metrics", null).body().asText().lines().filter(line -> line.startsWith(name + " ")).findFirst()
        .map(line -> Double.parseDouble(line.substring(name.length() + 1).trim())).orElseThrow();
  }
  /**
   * A GET whose body had not all arrived when its route answered it: Pekko HTTP logged a WARN
   * ("Sending an 2xx 'early' response before end of request") for each such request and closed the
   * connection, which the same request read in one piece kept. Requests are now read whole first.
   */
  @Test
  void aGetWithABodyIsAnsweredOnceItHasArrivedAndLogsNoWarning() throws Exception {
    Started server = startQuietly("early-answer", null);
    try (java.net.Socket socket = new java.net.Socket(server.base().getHost(), server.base().getPort())) {
      socket.setSoTimeout(10_000);
      socket.setTcpNoDelay(true);
      java.io.OutputStream out = socket.getOutputStream();
      java.io.InputStream in = socket.getInputStream();
      out.write(ascii("GET /health HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"));
      assertAnswered(200, readResponse(in));
      out.write(ascii("GET /stats HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\nhello"));
      out.flush();
      Thread.sleep(300); // the rest of the body in a read of its own, after /stats could have answered
      out.write(ascii("world"));
      assertAnswered(200, readResponse(in));
      out.write(ascii("GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n"));
      assertAnswered(200, readResponse(in));
    }
    List<String> lines = stopAndRead(server);
    assertTrue(lines.stream().noneMatch(l -> l.contains(" WARN ") || l.contains(" ERROR ")), lines::toString);
  }

  /**
   * Clients that reset their connection while an answer was still to come: Pekko HTTP's request
   * timeout went on for that request, and when it passed logged INFO "Request timeout encountered"
   * for a request that never timed out, about one line for every two such connections.
   */
  @Test
  void aClientThatResetsItsConnectionBeforeItsAnswersLeavesNoLine() throws Exception {
    Started server = startQuietly("reset-before-answers", "pekko.http.server.request-timeout = 1 s\n");
    byte[] requests = ascii("GET /stats HTTP/1.1\r\nHost: localhost\r\n\r\n".repeat(5));
    for (int i = 0; i < 40; i++) {
      try (java.net.Socket socket = new java.net.Socket(server.base().getHost(), server.base().getPort())) {
        socket.setSoTimeout(10_000);
        socket.getOutputStream().write(requests);
        assertTrue(socket.getInputStream().read() >= 0, "the first answer began");
        socket.setSoLinger(true, 0); // the close resets the connection
      }
    }
    Thread.sleep(3_000); // three request timeouts: every timer set for those requests has run
    assertEquals(200, new AdminClient(server.base()).health().status());
    List<String> lines = stopAndRead(server);
    assertTrue(lines.stream().noneMatch(l -> l.contains("Request timeout") || l.contains(" WARN ") || l.contains(" ERROR ")),
        lines::toString);
  }

  private Started startQuietly(String name, String applicationConf) throws Exception {
    int port = LocalServer.freePort();
    Path workDir = Files.createDirectories(PackagedServer.jar().getParent().resolve("logging-it-" + name));
    Path conf = workDir.resolve("application.conf");
    if (applicationConf != null) Files.writeString(conf, applicationConf);
    else Files.deleteIfExists(conf);
    Path out = workDir.resolve("server.out");
    ProcessBuilder builder = PackagedServer.command(PackagedServer.jar(), workDir,
            List.of("CONFIG_FILE", "PUBSUB_API_KEYS", "LOG_LEVEL", "LOG_FORMAT"))
        .redirectOutput(out.toFile())
        .redirectError(workDir.resolve("stderr.log").toFile());
    builder.environment().put("PORT", String.valueOf(port));
    builder.environment().put("HOST", "127.0.0.1");
    process = builder.start();
    URI base = URI.create("http://127.0.0.1:" + port);
    TestServer.awaitHealthy(process, new AdminClient(base));
    return new Started(base, out);
  }

  private record Started(URI base, Path out) {}

  /** Stops the server with SIGTERM and returns all it logged. */
  private List<String> stopAndRead(Started server) throws Exception {
    PackagedServer.signal(process, "TERM");
    assertTrue(process.waitFor(20, TimeUnit.SECONDS), "server exited after SIGTERM");
    return readLines(server.out());
  }

  private static byte[] ascii(String text) {
    return text.getBytes(StandardCharsets.US_ASCII);
  }

  private static void assertAnswered(int status, String response) {
    assertTrue(response.startsWith("HTTP/1.1 " + status + " "), response);
    assertFalse(response.toLowerCase(java.util.Locale.ROOT).contains("\r\nconnection: close\r\n"), () -> "closed after: " + response);
  }

  /** Reads one answer with a Content-Length, head and body. */
  private static String readResponse(java.io.InputStream in) throws java.io.IOException {
    java.io.ByteArrayOutputStream head = new java.io.ByteArrayOutputStream();
    while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
      int b = in.read();
      assertTrue(b >= 0, () -> "closed after " + head);
      head.write(b);
    }
    String text = head.toString(StandardCharsets.ISO_8859_1);
    java.util.regex.Matcher length = java.util.regex.Pattern.compile("(?i)\r\nContent-Length: (\\d+)\r\n").matcher(text);
    assertTrue(length.find(), text);
    return text + new String(in.readNBytes(Integer.parseInt(length.group(1))), StandardCharsets.UTF_8);
  }

  /** Starts the jar in {@code workDir} with {@code env}, expects it to refuse to start with exit 1 and no stack trace; returns its stderr. */
  private List<String> runUntilExit(Path workDir, String name, Map<String, String> env) throws Exception {
    Path out = workDir.resolve(name + ".out");
    Path err = workDir.resolve(name + ".err");
    ProcessBuilder builder = PackagedServer.command(PackagedServer.jar(), workDir,
            List.of("CONFIG_FILE", "PUBSUB_API_KEYS", "LOG_LEVEL", "LOG_FORMAT", "PORT", "HOST"))
        .redirectOutput(out.toFile())
        .redirectError(err.toFile());
    builder.environment().putAll(env);
    process = builder.start();
    assertTrue(process.waitFor(30, TimeUnit.SECONDS), "the server refused to start");
    assertEquals(1, process.exitValue(), "exit code");
    List<String> all = new ArrayList<>(readLines(out));
    all.addAll(readLines(err));
    assertTrue(all.stream().noneMatch(l -> l.contains("Exception in thread") || l.startsWith("\tat ")), all::toString);
    return readLines(err);
  }

  private static List<String> readLines(Path file) {
    try {
      return Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /**
   * Starts the jar, creates a topic, publishes 200 messages to a subscriber, deletes the topic and
   * stops the server with SIGTERM; returns its stdout lines. Publishing adds no INFO line.
   */
  private List<String> runSession(String logFormat, String topic) throws Exception {
    int port = LocalServer.freePort();
    URI base = URI.create("http://127.0.0.1:" + port);
    Path jar = PackagedServer.jar();
    Path workDir = Files.createDirectories(jar.getParent().resolve("logging-it"));
    Path out = workDir.resolve((logFormat == null ? "text" : logFormat) + ".out");
    ProcessBuilder builder = PackagedServer.command(jar, workDir, List.of("CONFIG_FILE", "PUBSUB_API_KEYS", "LOG_LEVEL", "LOG_FORMAT"))
        .redirectOutput(out.toFile())
        .redirectError(workDir.resolve("stderr.log").toFile());
    Map<String, String> env = builder.environment();
    if (logFormat != null) env.put("LOG_FORMAT", logFormat);
    env.put("PORT", String.valueOf(port));
    env.put("HOST", "127.0.0.1");
    process = builder.start();

    AdminClient admin = new AdminClient(base);
    TestServer.awaitHealthy(process, admin);
    assertEquals(201, admin.createTopic(topic).status());
    int linesBeforePublishing = Files.readAllLines(out, StandardCharsets.UTF_8).size();
    try (PubSubClient subscriber = PubSubClient.connect(PubSubClient.webSocketUri(base), Duration.ofSeconds(10));
         PubSubClient publisher = PubSubClient.connect(PubSubClient.webSocketUri(base), Duration.ofSeconds(10))) {
      ack(subscriber.subscribe(topic), topic);
      for (int i = 0; i < 200; i++) ack(publisher.publish(topic, Wire.payload(i)), topic);
      Wire.events(subscriber, topic, 200);
    }
    assertEquals(200, admin.deleteTopic(topic).status());
    java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
    for (String header : List.of("If-Modified-Since", "Accept", "Authorization")) {
      java.net.http.HttpResponse<String> health = http.send(java.net.http.HttpRequest.newBuilder(base.resolve("/health"))
          .header(header, "???").build(), java.net.http.HttpResponse.BodyHandlers.ofString());
      assertEquals(200, health.statusCode(), "a request with a header Pekko cannot parse is still answered");
    }
    PackagedServer.signal(process, "TERM");
    assertTrue(process.waitFor(20, TimeUnit.SECONDS), "server exited after SIGTERM");
    List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
    // Lifecycle lines only: topic created/deleted, shutdown; never one per published message.
    assertTrue(lines.size() - linesBeforePublishing < 20, () -> "200 publishes logged: " + lines);
    return lines;
  }
}
