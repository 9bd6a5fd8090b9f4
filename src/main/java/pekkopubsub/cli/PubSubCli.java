package pekkopubsub.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.ScopeType;
import pekkopubsub.client.AdminClient;
import pekkopubsub.client.PubSubClient;
import pekkopubsub.client.TrustedCertificates;
import pekkopubsub.http.TlsContext;
import pekkopubsub.protocol.RequestDecoder;
import sun.misc.Signal;

/** The {@code pubsub} command line (scripts/pubsub): topics, sub, pub, health and stats against a running server. */
public final class PubSubCli {
  /** The command did what was asked. */
  public static final int OK = 0;
  /** Unknown command or option, a bad argument, or a message that is not JSON; nothing more was sent. */
  public static final int USAGE = 1;
  /** The server answered with an error (HTTP 4xx/5xx or an error frame), e.g. topic not found or exists. */
  public static final int SERVER_ERROR = 2;
  /** The server could not be reached, did not answer in time, or (outside {@code sub}) the connection to it was lost. */
  public static final int UNREACHABLE = 3;
  /** {@code sub} only: the server ended the subscription (topic deleted, shutdown, connection lost). */
  public static final int ENDED = 4;

  static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(10);
  // The user's JSON is the user's: the server's codec limits and settings do not apply to reading it.
  private static final ObjectMapper READER = JsonMapper.builder().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();

  private final InputStream in;
  private final PrintStream out;
  private final PrintStream err;
  private final CompletableFuture<Void> stopRequested = new CompletableFuture<>();
  private volatile boolean stoppable;

  /** {@code out} and {@code err} are written in UTF-8, whatever their own charset. */
  public PubSubCli(InputStream in, PrintStream out, PrintStream err) {
    this.in = in;
    // JSON is UTF-8 (RFC 8259): in the platform charset of a C or POSIX locale, a payload's é printed as '?'.
    this.out = new PrintStream(out, true, StandardCharsets.UTF_8);
    this.err = new PrintStream(err, true, StandardCharsets.UTF_8);
  }

  public static void main(String[] args) {
    PubSubCli cli = new PubSubCli(System.in, System.out, System.err);
    // sub ends cleanly (close 1000, exit 0) on Ctrl-C or SIGTERM; other commands end at once with the shell's usual code.
    Signal.handle(new Signal("INT"), signal -> cli.interrupt(130));
    Signal.handle(new Signal("TERM"), signal -> cli.interrupt(143));
    System.exit(cli.run(args));
  }

  /** Runs one command line and returns its exit code; output goes to the streams given to the constructor. */
  public int run(String... args) {
    CommandLine commandLine = new CommandLine(new Root(this));
    PrintWriter outWriter = new PrintWriter(out, true, StandardCharsets.UTF_8);
    PrintWriter errWriter = new PrintWriter(err, true, StandardCharsets.UTF_8);
    commandLine.setOut(outWriter);
    commandLine.setErr(errWriter);
    commandLine.setParameterExceptionHandler((e, badArgs) -> {
      errWriter.println("pubsub: " + e.getMessage() + " (see pubsub --help)");
      return USAGE;
    });
    commandLine.setExecutionExceptionHandler((e, cl, parsed) -> {
      Failure failure = Failure.of(e);
      out.flush();
      errWriter.println("pubsub: " + failure.getMessage());
      return failure.exitCode();
    });
    try {
      for (String arg : args) {
        // The JVM decodes argv in the locale's charset and puts U+FFFD for bytes it cannot: Zürich outside
        // a UTF-8 locale would be published as Z\uFFFD\uFFFDrich.
        if (arg.indexOf('\uFFFD') >= 0) {
          errWriter.println("pubsub: the argument '" + shortened(arg).replace("\uFFFD", "\\uFFFD") + "' holds U+FFFD,"
              + " which stands for bytes the locale's character set (" + System.getProperty("sun.jnu.encoding")
              + ") could not decode: run in a UTF-8 locale (LANG=C.UTF-8) or give the JSON on stdin (pubsub pub TOPIC -)");
          return USAGE;
        }
      }
      return commandLine.execute(args);
    } finally {
      out.flush();
      err.flush();
    }
  }

  private static String shortened(String arg) {
    return arg.length() <= 60 ? arg : arg.substring(0, 57) + "...";
  }

  private static void daemonThread(Runnable task) {
    Thread thread = new Thread(task, "pubsub-reconnect");
    thread.setDaemon(true);
    thread.start();
  }

  /** Ends a running {@code sub} as Ctrl-C does: it closes its connection and returns {@link #OK}. */
  public void stop() {
    stopRequested.complete(null);
  }

  private void interrupt(int exitCode) {
    if (stoppable) {
      stop();
    } else {
      out.flush();
      System.exit(exitCode);
    }
  }

  // ---------------------------------------------------------------- commands

  @Command(name = "pubsub", mixinStandardHelpOptions = true, version = "pubsub (pekko-pubsub)",
      description = "Command-line client of a pekko-pubsub server.",
      subcommands = {Topics.class, Sub.class, Pub.class, Health.class, Stats.class},
      exitCodeListHeading = "%nExit codes:%n",
      exitCodeList = {
          "0:ok",
          "1:usage error, bad argument, or a message that is not JSON",
          "2:the server answered with an error (e.g. TOPIC_NOT_FOUND, topic exists, UNAUTHORIZED)",
          "3:cannot reach the server, no answer within 10 s, or (not sub) the connection was lost",
          "4:sub: the server ended the subscription (topic deleted, shutdown, connection lost)"})
  static final class Root implements Callable<Integer> {
    final PubSubCli cli;

    @Option(names = "--url", scope = ScopeType.INHERIT, paramLabel = "URL",
        defaultValue = "${env:PUBSUB_URL:-http://127.0.0.1:8000}",
        description = "server's HTTP address (default: $PUBSUB_URL or ${DEFAULT-VALUE})")
    URI url;

    @Option(names = "--api-key", scope = ScopeType.INHERIT, paramLabel = "KEY",
        defaultValue = "${env:PUBSUB_API_KEY}",
        description = "sent as X-API-Key (default: $PUBSUB_API_KEY)")
    String apiKey;

    @Option(names = "--cacert", scope = ScopeType.INHERIT, paramLabel = "FILE",
        defaultValue = "${env:PUBSUB_CACERT}",
        description = "PEM certificate(s) to trust for an https:// server, instead of the JVM's CAs, as curl's"
            + " --cacert (default: $PUBSUB_CACERT)")
    Path cacert;

    @Option(names = "--cert", scope = ScopeType.INHERIT, paramLabel = "FILE",
        defaultValue = "${env:PUBSUB_CERT}",
        description = "PEM client certificate (chain) for a server that asks for one (mutual TLS), with --key"
            + " (default: $PUBSUB_CERT)")
    Path cert;

    @Option(names = "--key", scope = ScopeType.INHERIT, paramLabel = "FILE",
        defaultValue = "${env:PUBSUB_KEY}",
        description = "its unencrypted PKCS #8 PEM private key (default: $PUBSUB_KEY)")
    Path key;

    /** Built on first use when --cacert or --cert is given; without them the clients use the JVM's defaults. */
    private HttpClient tlsHttp;

    Root(PubSubCli cli) {
      this.cli = cli;
    }

    @Override
    public Integer call() {
      throw new Failure(USAGE, "a command is required: topics, sub, pub, health or stats");
    }

    Map<String, String> headers() {
      return apiKey == null || apiKey.isEmpty() ? Map.of() : Map.of("X-API-Key", apiKey);
    }

    URI base() {
      String scheme = url.getScheme();
      if (!("http".equals(scheme) || "https".equals(scheme)) || url.getRawAuthority() == null) {
        throw new Failure(USAGE, "--url must look like http://HOST:PORT, not '" + url + "'");
      }
      return url;
    }

    private boolean ownTls() {
      if ((cert == null) != (key == null)) throw new Failure(USAGE, "--cert and --key go together");
      return cacert != null || cert != null;
    }

    AdminClient admin() {
      return ownTls() ? new AdminClient(base(), headers(), tlsHttp()) : new AdminClient(base(), headers());
    }

    PubSubClient connect() {
      URI ws = PubSubClient.webSocketUri(base());
      try {
        return ownTls() ? PubSubClient.connect(ws, ANSWER_TIMEOUT, headers(), tlsHttp())
            : PubSubClient.connect(ws, ANSWER_TIMEOUT, headers());
      } catch (RuntimeException e) {
        throw Failure.connecting(ws, e);
      }
    }

    private SSLContext tlsContext() {
      KeyManager[] identity;
      try {
        identity = cert == null ? null : TlsContext.keyManagers(cert, key);
      } catch (IllegalArgumentException e) {
        throw new Failure(USAGE, "--cert/--key: " + e.getMessage());
      }
      try {
        return TrustedCertificates.context(cacert, identity);
      } catch (IllegalArgumentException e) {
        throw new Failure(USAGE, "--cacert " + e.getMessage());
      }
    }

    private HttpClient tlsHttp() {
      if (tlsHttp == null) {
        tlsHttp = HttpClient.newBuilder().sslContext(tlsContext()).connectTimeout(Duration.ofSeconds(5)).build();
      }
      return tlsHttp;
    }

    /** Prints a REST answer's body and turns a failure status into {@link Failure}. */
    int printAnswer(AdminClient.Answer answer) {
      if (answer.status() / 100 == 2) {
        cli.out.println(answer.body().toString());
        return OK;
      }
      throw Failure.rest(answer);
    }
  }

  @Command(name = "topics", mixinStandardHelpOptions = true, description = "Create, delete, show or list topics.",
      subcommands = {TopicsCreate.class, TopicsDelete.class, TopicsShow.class, TopicsList.class})
  static final class Topics implements Callable<Integer> {
    @ParentCommand Root root;

    @Override
    public Integer call() {
      throw new Failure(USAGE, "topics needs create, delete, show or list");
    }
  }

  /** A {@code topics} subcommand that sends one REST request about the topic NAME and prints its answer. */
  abstract static class NamedTopicCommand implements Callable<Integer> {
    @ParentCommand Topics topics;
    @Parameters(paramLabel = "NAME") String name;

    abstract AdminClient.Answer send(AdminClient admin, String topic);

    @Override
    public Integer call() {
      return topics.root.printAnswer(send(topics.root.admin(), name));
    }
  }

  @Command(name = "create", mixinStandardHelpOptions = true,
      description = "Create a topic; prints {\"status\":\"created\",\"topic\":NAME}.")
  static final class TopicsCreate extends NamedTopicCommand {
    @Override
    AdminClient.Answer send(AdminClient admin, String topic) {
      return admin.createTopic(topic);
    }
  }

  @Command(name = "delete", mixinStandardHelpOptions = true,
      description = "Delete a topic; its subscribers get info topic_deleted.")
  static final class TopicsDelete extends NamedTopicCommand {
    @Override
    AdminClient.Answer send(AdminClient admin, String topic) {
      return admin.deleteTopic(topic);
    }
  }

  @Command(name = "show", mixinStandardHelpOptions = true,
      description = "Print GET /topics/NAME: the topic's figures, epoch, replay window and subscriptions per client_id.")
  static final class TopicsShow extends NamedTopicCommand {
    @Override
    AdminClient.Answer send(AdminClient admin, String topic) {
      return admin.describeTopic(topic);
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true,
      description = "List topics: {\"topics\":[{\"name\":...,\"subscribers\":N}]}.")
  static final class TopicsList implements Callable<Integer> {
    @ParentCommand Topics topics;

    @Override
    public Integer call() {
      return topics.root.printAnswer(topics.root.admin().listTopics());
    }
  }

  @Command(name = "health", mixinStandardHelpOptions = true,
      description = "Print GET /health; exit code 2 unless the server answers 200 (e.g. 503 shutting_down).")
  static final class Health implements Callable<Integer> {
    @ParentCommand Root root;

    @Override
    public Integer call() {
      AdminClient.Answer answer = root.admin().health();
      // A health check's body is worth seeing whatever the status, so it is printed before the error line.
      if (answer.status() == 200 || answer.body().has("error")) return root.printAnswer(answer);
      root.cli.out.println(answer.body().toString());
      throw new Failure(SERVER_ERROR, "the server is not healthy: status " + answer.body().path("status").asText("?")
          + " (HTTP " + answer.status() + ")");
    }
  }

  @Command(name = "stats", mixinStandardHelpOptions = true, description = "Print GET /stats.")
  static final class Stats implements Callable<Integer> {
    @ParentCommand Root root;

    @Override
    public Integer call() {
      return root.printAnswer(root.admin().stats());
    }
  }

  @Command(name = "sub", mixinStandardHelpOptions = true,
      description = {"Subscribe and print each event frame as one JSON line on stdout, until Ctrl-C or SIGTERM"
          + " or until what reads stdout goes away (exit 0), or the server ends the subscription (exit 4).",
          "The subscribe ack (epoch, replayed, recovered) is reported on stderr."})
  static final class Sub implements Callable<Integer> {
    @ParentCommand Root root;
    @Parameters(paramLabel = "TOPIC") String topic;

    @Option(names = "--last", paramLabel = "N",
        description = "first replay the newest N retained events (0.." + RequestDecoder.MAX_LAST_N + ")")
    Integer last;

    @Option(names = "--since", paramLabel = "OFFSET",
        description = "first replay every retained event after OFFSET (resume after a reconnect)")
    Long since;

    @Option(names = "--epoch", paramLabel = "E",
        description = "with --since: the epoch the OFFSET belongs to; recovery across another epoch is never claimed")
    String epoch;

    @Option(names = "--client-id", paramLabel = "ID",
        description = "the subscription's client_id: informational, shown by 'topics show' and in the server's logs")
    String clientId;

    @Option(names = "--reconnect",
        description = "once subscribed, survive a lost connection or a server restart: reconnect (waiting 0.5 s, doubling"
            + " up to about 10 s) and resume after the last event printed (since_offset with its epoch); what cannot be"
            + " recovered is reported on stderr")
    boolean reconnect;

    /**
     * Where a reconnect resumes, and the epoch that offset belongs to: the newest offset printed, or
     * until one is, the offset before the subscription's first event (its ack's newest_offset less
     * what it replays), so that what is published during an outage that comes first is not missed.
     */
    private Long resumeAfter;
    private String lastEpoch;

    @Override
    public Integer call() throws InterruptedException {
      if (last != null && since != null) throw new Failure(USAGE, "--last and --since cannot be combined");
      if (epoch != null && since == null) throw new Failure(USAGE, "--epoch needs --since");
      // Refused here, the server's BAD_REQUEST would read as its error (exit 2) for what is the caller's typo.
      if (last != null && (last < 0 || last > RequestDecoder.MAX_LAST_N)) {
        throw new Failure(USAGE, "--last wants a whole number from 0 to " + RequestDecoder.MAX_LAST_N + ", not " + last);
      }
      if (since != null && since < 0) throw new Failure(USAGE, "--since wants an offset >= 0, not " + since);
      PubSubCli cli = root.cli;
      // The first subscription's failures are the caller's to see: a mistyped topic or URL must not loop.
      PubSubClient client = root.connect();
      try {
        subscribed(answer(client.subscribe(topic, last, since, epoch, clientId)), false);
      } catch (RuntimeException e) {
        client.close();
        throw e;
      }
      cli.stoppable = true;
      try {
        ReconnectBackoff backoff = new ReconnectBackoff();
        while (true) {
          Failure lost;
          try {
            return printEvents(cli, client);
          } catch (Failure failure) {
            if (!reconnect || !failure.mayPass()) throw failure;
            lost = failure;
          } finally {
            client.close();
          }
          client = reconnect(cli, backoff, lost);
          if (client == null) return OK;
        }
      } finally {
        cli.stoppable = false;
      }
    }

    /** A new subscription after {@code lost}, attempted until one succeeds; null when Ctrl-C or SIGTERM came first. */
    private PubSubClient reconnect(PubSubCli cli, ReconnectBackoff backoff, Failure lost) throws InterruptedException {
      Failure last = lost;
      while (true) {
        Duration wait = backoff.next();
        cli.err.println("pubsub: " + last.getMessage() + "; reconnecting in " + String.format(Locale.ROOT, "%.1f", wait.toMillis() / 1000.0) + " s");
        if (stoppedWithin(cli, wait)) return null;
        CompletableFuture<PubSubClient> attempt = CompletableFuture.supplyAsync(this::resubscribe, PubSubCli::daemonThread);
        // A server that does not answer holds an attempt for up to 10 s; Ctrl-C must not wait for it.
        try {
          CompletableFuture.anyOf(attempt, cli.stopRequested).join();
        } catch (CompletionException failedAttempt) {
          // its failure is read from the attempt below
        }
        if (cli.stopRequested.isDone()) {
          attempt.thenAccept(PubSubClient::close);
          return null;
        }
        try {
          PubSubClient client = attempt.join();
          backoff.reset();
          return client;
        } catch (CompletionException e) {
          Failure failure = Failure.of(e.getCause() instanceof Exception cause ? cause : e);
          if (!failure.mayPass()) throw failure;
          last = failure;
        }
      }
    }

    private static boolean stoppedWithin(PubSubCli cli, Duration wait) throws InterruptedException {
      try {
        cli.stopRequested.get(wait.toMillis(), TimeUnit.MILLISECONDS);
        return true;
      } catch (TimeoutException e) {
        return false;
      } catch (ExecutionException e) {
        return true;
      }
    }

    /** Subscribes again after {@link #resumeAfter} when there is one, else as the first subscription did. */
    private PubSubClient resubscribe() {
      PubSubClient client = root.connect();
      try {
        boolean resuming = resumeAfter != null;
        subscribed(answer(client.subscribe(topic, resuming ? null : last, resuming ? resumeAfter : since,
            resuming ? lastEpoch : epoch, clientId)), resuming);
        return client;
      } catch (RuntimeException e) {
        client.close();
        throw e;
      }
    }

    private void subscribed(JsonNode ack, boolean resuming) {
      PubSubCli cli = root.cli;
      String newEpoch = ack.path("epoch").asText();
      cli.err.println((lastEpoch == null ? "subscribed to '" : "resubscribed to '") + topic + "' (epoch " + newEpoch
          + ", replayed " + ack.path("replayed").asInt(0)
          + (ack.has("recovered") ? ", recovered " + ack.path("recovered").asBoolean() : "") + ")");
      if (resuming && !ack.path("recovered").asBoolean(true)) {
        cli.err.println("pubsub: " + (newEpoch.equals(lastEpoch)
            ? "events after offset " + resumeAfter + " were evicted from the replay buffer before the reconnect: offsets skip"
            : "topic '" + topic + "' was created again (epoch " + lastEpoch + ", now " + newEpoch + "): events of the old"
                + " epoch after offset " + resumeAfter + " are lost, and offsets start again"));
      }
      // A server without the ack's newest_offset leaves nothing to resume from until an event is printed.
      if (ack.path("newest_offset").canConvertToLong()) {
        resumeAfter = ack.path("newest_offset").asLong() - ack.path("replayed").asInt(0);
      }
      lastEpoch = newEpoch;
    }

    private int printEvents(PubSubCli cli, PubSubClient client) throws InterruptedException {
      while (!cli.stopRequested.isDone()) {
        JsonNode frame = client.nextFrame(Duration.ofMillis(200));
        if (frame == null) {
          if (client.closed().isDone()) {
            PubSubClient.CloseStatus status = client.closed().join();
            throw new Failure(ENDED, status.code() == -1
                ? "connection to the server lost (" + status.reason() + ")"
                : "the server closed the connection (" + status.code() + (status.reason().isEmpty() ? "" : " " + status.reason()) + ")",
                true);
          }
          continue;
        }
        String type = frame.path("type").asText();
        String msg = frame.path("msg").asText();
        if ("event".equals(type)) {
          cli.out.println(frame.toString());
          if (frame.path("offset").canConvertToLong()) resumeAfter = frame.path("offset").asLong();
          // A PrintStream keeps write errors to itself and the JVM ignores SIGPIPE: unchecked, `pubsub sub |
          // head -n 1` held its subscription and consumed events after head had gone. Exit 0, as on Ctrl-C:
          // the reader left having what it wanted. checkError flushes too, which keeps `sub | jq` live.
          if (cli.out.checkError()) return OK;
        } else if ("info".equals(type) && "topic_deleted".equals(msg) && topic.equals(frame.path("topic").asText())) {
          throw new Failure(ENDED, "topic '" + topic + "' was deleted");
        } else if ("info".equals(type) && "shutting_down".equals(msg)) {
          cli.err.println("pubsub: the server is shutting down");
        } else if ("error".equals(type)) {
          cli.err.println("pubsub: " + Failure.describe(frame.path("error")));
        }
      }
      return OK;
    }
  }

  @Command(name = "pub", mixinStandardHelpOptions = true,
      description = {"Publish JSON to TOPIC and print each ack (with its offset) as one JSON line.",
          "Without JSON, or with -, publishes one message per line of stdin (blank lines skipped),"
              + " in order, stopping at the first failure; RATE_LIMITED messages are retried after retry_after_ms."})
  static final class Pub implements Callable<Integer> {
    @ParentCommand Root root;
    @Parameters(index = "0", paramLabel = "TOPIC") String topic;
    @Parameters(index = "1", arity = "0..1", paramLabel = "JSON",
        description = "the message's payload, any JSON value (strings need their quotes: '\"hello\"')")
    String json;

    @Override
    public Integer call() throws Exception {
      PubSubCli cli = root.cli;
      if (json != null && !"-".equals(json)) {
        JsonNode payload = parse(json, "the message");
        try (PubSubClient client = root.connect()) {
          publish(client, payload);
        }
        return OK;
      }
      Lines lines = new Lines(cli.in);
      PubSubClient client = null;
      try {
        byte[] bytes;
        int number = 0;
        while ((bytes = lines.next()) != null) {
          number++;
          String line = utf8(bytes, "line " + number);
          if (line.isBlank()) continue;
          JsonNode payload = parse(line, "line " + number);
          if (client == null) client = root.connect();
          publish(client, payload);
        }
        return OK;
      } finally {
        if (client != null) client.close();
      }
    }

    private void publish(PubSubClient client, JsonNode payload) throws InterruptedException {
      while (true) {
        JsonNode answer = await(client.publish(topic, payload), UNREACHABLE);
        JsonNode error = answer.path("error");
        if ("RATE_LIMITED".equals(error.path("code").asText()) && error.has("retry_after_ms")) {
          Thread.sleep(Math.max(1, error.path("retry_after_ms").asLong()));
          continue;
        }
        if (!"ack".equals(answer.path("type").asText())) throw new Failure(SERVER_ERROR, Failure.describe(error));
        root.cli.out.println(answer.toString());
        return;
      }
    }

    /**
     * {@code bytes} as UTF-8; bytes that are not are refused like text that is not JSON. A decoder that
     * replaces them had published Latin-1's café as caf\uFFFD, the é lost.
     */
    private static String utf8(byte[] bytes, String what) {
      ByteBuffer buffer = ByteBuffer.wrap(bytes);
      try {
        return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT).decode(buffer).toString();
      } catch (CharacterCodingException e) {
        throw new Failure(USAGE, what + " is not JSON: not UTF-8 (byte 0x"
            + String.format("%02X", bytes[buffer.position()] & 0xff) + " at byte " + (buffer.position() + 1)
            + "); convert it first, e.g. with iconv -f ISO-8859-1 -t UTF-8");
      }
    }

    private static JsonNode parse(String text, String what) {
      try {
        return READER.readTree(text);
      } catch (JsonProcessingException e) {
        throw new Failure(USAGE, what + " is not JSON (" + e.getOriginalMessage() + "); quote strings: '\"text\"'");
      }
    }
  }

  // ---------------------------------------------------------------- helpers

  /**
   * stdin's lines as bytes, ended as BufferedReader.readLine ends them (LF, CRLF or CR): decoded
   * one by one, a line that is not UTF-8 is refused by its number after the lines before it went out.
   */
  static final class Lines {
    private final InputStream in;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private boolean afterCr;

    Lines(InputStream in) {
      this.in = new BufferedInputStream(in);
    }

    /** The next line without its end, or null at the end of the input. */
    byte[] next() throws IOException {
      line.reset();
      for (int b = in.read(); b != -1; b = in.read()) {
        boolean lfOfCrlf = afterCr && b == '\n';
        afterCr = b == '\r';
        if (lfOfCrlf) continue;
        if (b == '\n' || b == '\r') return line.toByteArray();
        line.write(b);
      }
      return line.size() > 0 ? line.toByteArray() : null;
    }
  }

  /** A request's answer within {@link #ANSWER_TIMEOUT}; an error frame becomes a {@link Failure}. */
  static JsonNode answer(CompletableFuture<JsonNode> request) {
    JsonNode answer = await(request, ENDED);
    if (!"ack".equals(answer.path("type").asText())) {
      JsonNode error = answer.path("error");
      // A restarted server holds no topics until they are created again: sub --reconnect waits for it, as for the server.
      throw new Failure(SERVER_ERROR, Failure.describe(error), "TOPIC_NOT_FOUND".equals(error.path("code").asText()));
    }
    return answer;
  }

  /** {@code request}'s answer; a connection lost before it is exit code {@code lost}: {@link #ENDED} is {@code sub}'s alone. */
  static JsonNode await(CompletableFuture<JsonNode> request, int lost) {
    try {
      return request.get(ANSWER_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new Failure(UNREACHABLE, "no answer from the server within " + ANSWER_TIMEOUT.toSeconds() + " s", true);
    } catch (ExecutionException e) {
      throw new Failure(lost, "connection to the server lost (" + e.getCause().getMessage() + ")", true);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Failure(UNREACHABLE, "interrupted");
    }
  }

  /** Why a command failed: the exit code and the one line printed on stderr. */
  static final class Failure extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int exitCode;
    private final boolean mayPass;

    Failure(int exitCode, String message) {
      this(exitCode, message, false);
    }

    /** {@code mayPass}: the server or the network may be back in a while (a restart, a cut), so {@code sub --reconnect} tries again. */
    Failure(int exitCode, String message, boolean mayPass) {
      super(message, null, false, false);
      this.exitCode = exitCode;
      this.mayPass = mayPass;
    }

    int exitCode() {
      return exitCode;
    }

    boolean mayPass() {
      return mayPass;
    }

    static Failure of(Exception e) {
      if (e instanceof Failure failure) return failure;
      if (e instanceof UncheckedIOException io) return new Failure(UNREACHABLE, "cannot reach the server: " + reason(io), true);
      return new Failure(USAGE, "unexpected failure: " + e);
    }

    static Failure rest(AdminClient.Answer answer) {
      JsonNode error = answer.body().path("error");
      String text = error.isObject() ? describe(error)
          : answer.body().isTextual() ? answer.body().textValue() : answer.body().toString();
      return new Failure(SERVER_ERROR, text + " (HTTP " + answer.status() + ")");
    }

    static Failure connecting(URI ws, RuntimeException e) {
      for (Throwable t = e; t != null; t = t.getCause()) {
        if (t instanceof WebSocketHandshakeException handshake) {
          int status = handshake.getResponse().statusCode();
          // A 503 has more than one cause (shutting down, max-connections reached): the server's own words say which.
          String said = errorMessage(handshake.getResponse().body());
          String hint = status == 401 ? ": UNAUTHORIZED, check --api-key"
              : said != null ? ": " + said
              : status == 503 ? ": the server is shutting down or at its connection limit" : "";
          return new Failure(SERVER_ERROR, "the server refused the WebSocket connection to " + ws
              + " (HTTP " + status + hint + ")", status == 503);
        }
      }
      return new Failure(UNREACHABLE, "cannot connect to " + ws + ": " + reason(e), true);
    }

    /** The message of a JSON error body, {"error":{"code":...,"message":...}}; null for another body or none. */
    private static String errorMessage(Object body) {
      if (!(body instanceof String text) || text.isBlank()) return null;
      try {
        JsonNode message = READER.readTree(text).path("error").path("message");
        return message.isTextual() && !message.asText().isBlank() ? message.asText() : null;
      } catch (JsonProcessingException e) {
        return null;
      }
    }

    /** {@code CODE: message}, plus the retry hint when the server gave one. */
    static String describe(JsonNode error) {
      String text = error.path("code").asText("ERROR") + ": " + error.path("message").asText("");
      return error.has("retry_after_ms") ? text + " (retry after " + error.path("retry_after_ms").asLong() + " ms)" : text;
    }

    private static String reason(Throwable e) {
      for (Throwable t = e; t != null; t = t.getCause()) {
        if (t instanceof UnresolvedAddressException) return "unknown host";
        if (t instanceof javax.net.ssl.SSLException && t.getMessage() != null
            && t.getMessage().matches(".*(certificate_required|bad_certificate|certificate_unknown).*")) {
          return "TLS handshake failed: " + t.getMessage()
              + " (the server asks for a client certificate it trusts: give it with --cert FILE --key FILE)";
        }
        if (t instanceof SSLHandshakeException) {
          return "TLS handshake failed: " + t.getMessage() + " (a certificate the JVM does not trust: give it with --cacert FILE)";
        }
        if (t instanceof HttpConnectTimeoutException) return "connect timed out";
        if (t instanceof HttpTimeoutException) return "no answer within 10 s";
        if (t instanceof TimeoutException) return "no answer within " + ANSWER_TIMEOUT.toSeconds() + " s";
      }
      // The JDK's HttpClient nests ConnectExceptions, often without a message: the innermost text that exists wins.
      String connectMessage = null;
      for (Throwable t = e; t != null; t = t.getCause()) {
        if (t instanceof ConnectException && t.getMessage() != null && !t.getMessage().isEmpty()) connectMessage = t.getMessage();
        else if (t instanceof ConnectException && connectMessage == null) connectMessage = "connection refused";
      }
      if (connectMessage != null) return connectMessage.toLowerCase(Locale.ROOT);
      Throwable root = e;
      while ((root instanceof CompletionException || root instanceof UncheckedIOException) && root.getCause() != null) {
        root = root.getCause();
      }
      return root.getMessage() != null ? root.getMessage() : root.toString();
    }
  }
}
