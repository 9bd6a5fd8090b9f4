package pekkopubsub.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import pekkopubsub.SelfSignedCertificate;
import pekkopubsub.client.LeanClient;
import pekkopubsub.client.TrustedCertificates;
import pekkopubsub.config.Settings.TlsProvider;
import pekkopubsub.http.TlsContext;
import pekkopubsub.protocol.JsonCodec;

/**
 * The server's CPU per TLS handshake, full and resumed, for each provider: the server's engine as
 * the server makes it ({@link TlsContext#newServerEngine()}) against a JDK client, in memory on
 * one thread, counting the thread's CPU time inside the server engine's calls only. No sockets and
 * no load client share the cores, so it isolates what a reconnect storm measures only in sum.
 *
 * <pre>scripts/tls-handshake-cost [--handshakes N] [--rounds R] [--key-algorithm EC|RSA]</pre>
 */
public final class HandshakeCost {
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
  private static final ByteBuffer NOTHING = ByteBuffer.allocate(0);
  private static final byte[] REQUEST = "GET /ws HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] ANSWER = "HTTP/1.1 101 Switching Protocols\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  static final String USAGE = """
      usage: scripts/tls-handshake-cost [--handshakes N] [--rounds R] [--key-algorithm EC|RSA]
        --handshakes N        handshakes measured per provider and kind, after as many for warm-up (default 1000)
        --rounds R            times every measurement is repeated (default 3)
        --key-algorithm A     the server certificate's key: EC (default) or RSA
      """;

  /** What a command line asks to measure. */
  record Options(int handshakes, int rounds, String keyAlgorithm) {}

  /** The measurement a command line asks for; without one ({@code options} null), the exit code once its usage or refusal is printed. */
  record Arguments(Options options, int exitCode) {}

  /** One measurement: {@code handshakes} handshakes after as many for warm-up. */
  public record Result(int round, TlsProvider provider, boolean resumeOffered, int handshakes, int resumed, double serverCpuMs) {
    ObjectNode json() {
      ObjectNode o = JsonCodec.mapper().createObjectNode();
      o.put("round", round).put("provider", provider.name().toLowerCase(Locale.ROOT)).put("handshake", resumeOffered ? "resume" : "full");
      return o.put("handshakes", handshakes).put("resumed", resumed).put("server_cpu_ms_per_handshake", Math.round(serverCpuMs * 1000) / 1000.0);
    }
  }

  private long serverNanos;
  /** Plaintext the server has decrypted in the current exchange. */
  private int serverPlaintext;
  private final ByteBuffer toServer = ByteBuffer.allocate(1 << 17);
  private final ByteBuffer toClient = ByteBuffer.allocate(1 << 17);
  private final ByteBuffer plaintext = ByteBuffer.allocate(1 << 17);

  public static void main(String[] args) throws Exception {
    Arguments arguments = arguments(args, System.out, System.err);
    if (arguments.options() == null) {
      System.exit(arguments.exitCode());
      return;
    }
    Options o = arguments.options();
    run(o.handshakes(), o.rounds(), o.keyAlgorithm(), r -> System.out.println(r.json()));
  }

  /** Parses the command line: --help prints the usage on {@code out} (exit 0), a bad argument one line on {@code err} (exit 2). */
  static Arguments arguments(String[] args, PrintStream out, PrintStream err) {
    if (List.of(args).contains("--help") || List.of(args).contains("-h")) {
      out.print(USAGE);
      return new Arguments(null, 0);
    }
    try {
      return new Arguments(parse(args), 0);
    } catch (IllegalArgumentException e) {
      err.println("tls-handshake-cost: " + e.getMessage() + " (see scripts/tls-handshake-cost --help)");
      return new Arguments(null, 2);
    }
  }

  private static Options parse(String[] args) {
    int handshakes = 1000;
    int rounds = 3;
    String keyAlgorithm = "EC";
    for (int i = 0; i < args.length; i += 2) {
      String flag = args[i];
      if (!flag.startsWith("-")) throw new IllegalArgumentException("unexpected argument '" + flag + "'");
      if (i + 1 >= args.length) throw new IllegalArgumentException(flag + " needs a value");
      String value = args[i + 1];
      switch (flag) {
        case "--handshakes" -> handshakes = atLeastOne(flag, value);
        case "--rounds" -> rounds = atLeastOne(flag, value);
        case "--key-algorithm" -> {
          keyAlgorithm = value.toUpperCase(Locale.ROOT);
          if (!List.of("EC", "RSA").contains(keyAlgorithm)) {
            throw new IllegalArgumentException("--key-algorithm wants EC or RSA, not '" + value + "'");
          }
        }
        default -> throw new IllegalArgumentException("unknown flag " + flag);
      }
    }
    return new Options(handshakes, rounds, keyAlgorithm);
  }

  private static int atLeastOne(String flag, String value) {
    int n;
    try {
      n = Integer.parseInt(value);
    } catch (NumberFormatException e) {
      n = 0;
    }
    if (n < 1) throw new IllegalArgumentException(flag + " wants a whole number >= 1, not '" + value + "'");
    return n;
  }

  /** Measures every provider, full and resumed, {@code rounds} times; each result goes to {@code out} as it comes. */
  public static List<Result> run(int handshakes, int rounds, String keyAlgorithm, Consumer<Result> out) throws Exception {
    Path dir = Files.createTempDirectory("handshake-cost");
    SelfSignedCertificate certificate = SelfSignedCertificate.create(dir, keyAlgorithm, 2);
    List<Result> results = new ArrayList<>();
    for (int round = 1; round <= rounds; round++) {
      for (TlsProvider provider : TlsProvider.values()) {
        TlsContext server = TlsContext.fromPem(certificate.certificate(), certificate.privateKey(), provider);
        for (boolean resume : new boolean[] {false, true}) {
          Result r = new HandshakeCost().measure(round, provider, server, TrustedCertificates.trusting(certificate.certificate()),
              resume, handshakes);
          results.add(r);
          out.accept(r);
        }
      }
    }
    return results;
  }

  private Result measure(int round, TlsProvider provider, TlsContext server, SSLContext client, boolean resume, int handshakes)
      throws SSLException {
    int resumed = 0;
    for (int i = 0; i < 2 * handshakes; i++) {
      if (i == handshakes) {
        serverNanos = 0;
        resumed = 0;
      }
      long started = System.currentTimeMillis();
      // The JDK client offers the session it holds for this host and port: a key of its own offers none.
      SSLEngine clientEngine = client.createSSLEngine("localhost", resume ? 443 : LeanClient.unsharedSessionKey());
      clientEngine.setUseClientMode(true);
      long before = THREADS.getCurrentThreadCpuTime();
      SSLEngine serverEngine = server.newServerEngine();
      serverNanos += THREADS.getCurrentThreadCpuTime() - before;
      exchange(clientEngine, serverEngine);
      before = THREADS.getCurrentThreadCpuTime();
      TlsContext.release(serverEngine, toClient.clear());
      serverNanos += THREADS.getCurrentThreadCpuTime() - before;
      if (clientEngine.getSession().getCreationTime() < started) resumed++;
    }
    return new Result(round, provider, resume, handshakes, resumed, serverNanos / 1e6 / handshakes);
  }

  /** Handshake, a request and its answer: the client has then also taken the server's session tickets. */
  private void exchange(SSLEngine client, SSLEngine server) throws SSLException {
    toServer.clear();
    toClient.clear();
    serverPlaintext = 0;
    ByteBuffer request = ByteBuffer.wrap(REQUEST);
    ByteBuffer answer = ByteBuffer.wrap(ANSWER);
    int answerReceived = 0;
    for (int step = 0; answerReceived < ANSWER.length; step++) {
      if (step == 100) throw new IllegalStateException("no answer after 100 steps");
      pump(client, request, toServer, toClient);
      answerReceived += plaintext.position();
      long before = THREADS.getCurrentThreadCpuTime();
      pump(server, serverPlaintext >= REQUEST.length ? answer : NOTHING, toClient, toServer);
      serverNanos += THREADS.getCurrentThreadCpuTime() - before;
    }
  }

  /** Runs tasks, wraps {@code data} (once the handshake is done) onto {@code out}, unwraps all of {@code in}. */
  private void pump(SSLEngine engine, ByteBuffer data, ByteBuffer out, ByteBuffer in) throws SSLException {
    plaintext.clear();
    runTasks(engine);
    boolean handshaking = engine.getHandshakeStatus() != SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING;
    engine.wrap(handshaking ? NOTHING : data, out);
    in.flip();
    while (in.hasRemaining()) {
      SSLEngineResult r = engine.unwrap(in, plaintext);
      runTasks(engine);
      if (r.getStatus() != SSLEngineResult.Status.OK || r.bytesConsumed() == 0) break;
    }
    in.compact();
    if (!engine.getUseClientMode()) serverPlaintext += plaintext.position();
  }

  private static void runTasks(SSLEngine engine) {
    for (Runnable task = engine.getDelegatedTask(); task != null; task = engine.getDelegatedTask()) task.run();
  }
}
