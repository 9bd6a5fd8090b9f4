package pekkopubsub.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import pekkopubsub.SelfSignedCertificate;
import pekkopubsub.config.Settings.TlsProvider;
import pekkopubsub.e2e.TestServer;
import pekkopubsub.http.TestCertificates;
import pekkopubsub.protocol.JsonCodec;

/**
 * Runs every scenario of the load generator once at a tiny size against an in-process server, so
 * the tool cannot rot. Asserts that a sane report is produced; nothing about time.
 */
class BenchSmokeTest {

  private static ServerHandle shared;

  @TempDir
  Path out;

  @BeforeAll
  static void startServer() {
    BenchConfig c = BenchConfig.parse(new String[] {"light", "--in-process"});
    shared = ServerHandle.start(c, Path.of("target"));
  }

  @AfterAll
  static void stopServer() {
    if (shared != null) shared.close();
  }

  /** A tiny run of {@code scenario} against the shared server. */
  private BenchConfig tiny(String scenario, String... extra) {
    List<String> args = new ArrayList<>(List.of(scenario,
        "--url", shared.httpBase.toString(), "--pid", Long.toString(ProcessHandle.current().pid()),
        "--duration", "0.5", "--warmup", "0.2", "--drain", "5", "--io-threads", "2", "--quiet",
        "--out", out.toString()));
    switch (scenario) {
      case "many-topics" -> args.addAll(List.of("--topics", "6", "--publishers", "2", "--subscribers", "6", "--rate", "60"));
      case "replay" -> args.addAll(List.of("--topics", "1", "--publishers", "1", "--subscribers", "4", "--rate", "40",
          "--last-n", "5", "--duration", "0.8"));
      case "connections" -> args.addAll(List.of("--subscribers", "20", "--duration", "0"));
      default -> args.addAll(List.of("--topics", "1", "--publishers", "2", "--subscribers", "3", "--rate", "40"));
    }
    args.addAll(List.of(extra));
    return BenchConfig.parse(args.toArray(String[]::new));
  }

  @ParameterizedTest
  @ValueSource(strings = {"light", "medium", "heavy", "extreme", "fanout", "many-topics"})
  void loadScenarioProducesASaneLosslessReport(String scenario) throws Exception {
    Bench.Outcome o = Bench.run(tiny(scenario), line -> {});
    JsonNode r = o.result();
    assertFiles(o);
    long published = r.path("published").asLong();
    assertTrue(published > 0, "published " + r);
    assertEquals(r.path("sent").asLong(), published, "every publish acked: " + r);
    int subscribersPerTopic = r.path("config").path("subscribers").asInt() / r.path("config").path("topics").asInt();
    assertEquals(published * subscribersPerTopic, r.path("expected_deliveries").asLong(), "expected: " + r);
    assertEquals(r.path("expected_deliveries").asLong(), r.path("delivered").asLong(), "lossless: " + r);
    assertLossless(r);
    assertTrue(r.path("latency_ms").path("count").asLong() > 0, "latencies recorded: " + r);
    assertTrue(r.path("latency_ms").path("p99").asDouble() >= r.path("latency_ms").path("p50").asDouble());
    // The two histograms are read one after the other while deliveries still arrive, so their
    // counts may differ by the few recorded in between.
    JsonNode fromSend = r.path("latency_from_send_ms");
    assertTrue(fromSend.path("count").asLong() >= 0.9 * r.path("latency_ms").path("count").asLong(),
        "both clocks per delivery: " + r);
    assertTrue(fromSend.path("mean").asDouble() <= r.path("latency_ms").path("mean").asDouble() * 1.1 + 0.05,
        "a publish is never sent before its intended time: " + r);
    assertTrue(r.path("series").size() >= 1, "a per-second series: " + r);
  }

  @Test
  void profileSaysWhereTheServersTimeAllocationsAndSystemCallsWent() throws Exception {
    // Busy enough that JFR's execution sampler, which sees only threads running Java code, takes
    // samples: at the smoke runs' 40 msg/s it once caught none in 1.5 s.
    Bench.Outcome o = Bench.run(tiny("fanout", "--profile", "--duration", "1.5", "--rate", "1000"), line -> {});
    JsonNode r = o.result();
    assertLossless(r);
    JsonNode srv = r.path("server_metrics");
    assertTrue(srv.path("write_syscalls").asLong() > 0, "write(2) calls counted from /proc: " + srv);
    assertTrue(srv.path("write_syscalls_per_delivery").asDouble() > 0, srv.toString());
    JsonNode profile = r.path("profile");
    assertTrue(Files.size(Path.of(profile.path("recording").asText())) > 0, "the JFR file is kept: " + profile);
    assertTrue(profile.path("cpu_samples").asLong() > 0, profile.toString());
    double shares = 0;
    for (JsonNode share : profile.path("cpu_share_by_area")) shares += share.asDouble();
    assertEquals(100.0, shares, 1.0, "the areas cover every sample: " + profile);
    assertTrue(profile.path("cpu_share_top_methods").size() > 0, profile.toString());
    assertTrue(profile.path("allocated_bytes_per_delivery").asLong() > 0, profile.toString());
    assertTrue(profile.path("gc").has("collections"), profile.toString());
  }

  @Test
  void replayJoinersGetReplayThenLiveWithoutGaps() throws Exception {
    Bench.Outcome o = Bench.run(tiny("replay"), line -> {});
    JsonNode r = o.result();
    assertFiles(o);
    assertTrue(r.path("published").asLong() > 0, "published " + r);
    assertTrue(r.path("replayed").asLong() > 0, "joiners got a replay: " + r);
    assertEquals(r.path("expected_deliveries").asLong(), r.path("delivered").asLong(), "lossless: " + r);
    assertLossless(r);
  }

  @Test
  void connectionsReportsMemoryPerConnectionAndReachesEveryone() throws Exception {
    Bench.Outcome o = Bench.run(tiny("connections"), line -> {});
    JsonNode r = o.result();
    assertFiles(o);
    assertEquals(20, r.path("connections").asInt());
    assertEquals(1, r.path("published").asLong(), "one liveness publish: " + r);
    assertEquals(20, r.path("delivered").asLong(), "every idle subscriber got it: " + r);
    assertTrue(r.path("server_memory").has("rss_bytes_per_connection"), "memory measured: " + r);
    assertEquals(0, r.path("unexpected_closes").asLong());
  }

  @Test
  void sweepFindsAKneeAndTheToolCanStartItsOwnServer() throws Exception {
    BenchConfig c = BenchConfig.parse(new String[] {"fanout", "--in-process", "--subscribers", "2", "--rate", "200",
        "--max-rate", "400", "--sweep", "--step-duration", "0.5", "--warmup", "0.2", "--knee-p99-ms", "5000",
        "--quiet", "--out", out.toString()});
    assertEquals(BenchConfig.ServerMode.IN_PROCESS, c.serverMode);
    Bench.Outcome o = Bench.run(c, line -> {});
    JsonNode r = o.result();
    assertTrue(Files.size(o.json()) > 0 && Files.size(o.png()) > 0);
    assertTrue(r.path("steps").size() >= 2, "steps: " + r);
    assertTrue(r.path("knee_rate").asDouble() > 0, "a tiny lossless step passes: " + Bench.summary(r.deepCopy()));
    JsonNode first = r.path("steps").get(0).path("result");
    assertTrue(first.path("server_metrics").has("cpu_seconds"), "in-process server CPU sampled: " + first.path("server_metrics"));
  }

  @Test
  void overTlsWithCompressionEveryEventArrivesAndIsInflated() throws Exception {
    // 400-byte payloads: every event is over the server's 256-byte threshold, so each one comes compressed
    BenchConfig c = BenchConfig.parse(new String[] {"fanout", "--in-process", "--tls", "--compress", "--subscribers", "3",
        "--rate", "40", "--payload-bytes", "400", "--duration", "0.5", "--warmup", "0.2", "--drain", "5", "--quiet",
        "--out", out.toString()});
    Bench.Outcome o = Bench.run(c, line -> {});
    JsonNode r = o.result();
    assertTrue(r.path("server").path("url").asText().startsWith("https://"), r.path("server").toString());
    assertTrue(r.path("published").asLong() > 0, "published " + r);
    assertEquals(r.path("expected_deliveries").asLong(), r.path("delivered").asLong(), "lossless: " + r);
    assertLossless(r);
    JsonNode compression = r.path("compression");
    assertEquals(4, compression.path("connections").asLong(), compression.toString());
    assertEquals(4, compression.path("connections_agreed").asLong(), "the server agreed with everyone: " + compression);
    assertEquals(r.path("delivered").asLong(), compression.path("messages_inflated").asLong(),
        "every event came compressed: " + compression);
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void connectionsOverTlsReportTheServersCpuPerConnectAndHowManyResumed(boolean resume) throws Exception {
    List<String> args = new ArrayList<>(List.of("connections", "--in-process", "--tls", "--subscribers", "20",
        "--duration", "0", "--drain", "5", "--quiet", "--out", out.toString()));
    if (!resume) args.add("--no-resume");
    JsonNode r = Bench.run(BenchConfig.parse(args.toArray(String[]::new)), line -> {}).result();
    assertEquals(20, r.path("delivered").asLong(), "every idle TLS subscriber got the liveness publish: " + r);
    assertTrue(r.path("server_cpu_us_per_connect").asDouble() > 0, "handshake cost measured: " + r);
    assertEquals(0, r.path("unexpected_closes").asLong());
    long resumed = r.path("tls_resumed_connects").asLong(-1);
    if (resume) {
      assertTrue(resumed > 0, "connections resumed the session of an earlier one (the tool's REST calls share it): " + r);
    } else {
      assertEquals(0, resumed, "every connection ran a full handshake: " + r);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"plain", "tls", "tls --no-resume"})
  void aReconnectStormBringsEverySubscriberBackAndCountsResumedSessions(String mode) throws Exception {
    List<String> args = new ArrayList<>(List.of("connections", "--in-process", "--subscribers", "20", "--reconnect",
        "--duration", "0", "--drain", "5", "--quiet", "--out", out.toString()));
    if (mode.startsWith("tls")) args.add("--tls");
    if (mode.endsWith("--no-resume")) args.add("--no-resume");
    JsonNode r = Bench.run(BenchConfig.parse(args.toArray(String[]::new)), line -> {}).result();
    assertEquals(20, r.path("delivered").asLong(), "before the blip: " + r);
    JsonNode back = r.path("reconnect");
    assertEquals(20, back.path("connections").asLong(), back.toString());
    assertEquals(20, back.path("delivered").asLong(), "every subscriber came back and got the next publish: " + back);
    assertTrue(back.path("server_cpu_us_per_reconnect").asDouble() > 0, back.toString());
    assertEquals(0, r.path("unexpected_closes").asLong(), "the dropped connections were dropped on purpose: " + r);
    switch (mode) {
      case "tls" -> assertEquals(20, back.path("tls_resumed").asLong(), "each resumed its own session: " + back);
      case "tls --no-resume" -> assertEquals(0, back.path("tls_resumed").asLong(), "each ran a full handshake: " + back);
      default -> assertTrue(back.path("tls_resumed").isMissingNode(), back.toString());
    }
  }

  @Test
  void handshakeCostMeasuresFullAndResumedHandshakesWithEachProvider() throws Exception {
    List<HandshakeCost.Result> results = HandshakeCost.run(5, 1, "EC", r -> {});
    assertEquals(2 * TlsProvider.values().length, results.size(), results.toString());
    for (HandshakeCost.Result r : results) {
      assertEquals(r.resumeOffered() ? 5 : 0, r.resumed(), "offered sessions are resumed, and only those: " + r);
      assertTrue(r.serverCpuMs() > 0, "the server's CPU counted: " + r);
    }
  }

  @Test
  void aServerThatAsksForClientCertificatesIsMeasuredWithCertAndKey() throws Exception {
    SelfSignedCertificate client = SelfSignedCertificate.create(out.resolve("client"), "EC", 2);
    TestCertificates certs = TestCertificates.create(out.resolve("server"), "EC").presenting(client);
    try (TestServer server = TestServer.start(Map.of("http.tls.client-ca", client.certificate().toString(),
        "limits.max-connections", "0"), certs)) {
      BenchConfig c = BenchConfig.parse(new String[] {"connections", "--url", server.httpBase().toString(),
          "--cacert", certs.certificate().toString(), "--cert", client.certificate().toString(),
          "--key", client.privateKey().toString(), "--subscribers", "10", "--duration", "0", "--drain", "5", "--quiet",
          "--out", out.resolve("run").toString()});
      JsonNode r = Bench.run(c, line -> {}).result();
      assertEquals(10, r.path("delivered").asLong(), "every subscriber presented the certificate and got in: " + r);
      assertEquals(0, r.path("unexpected_closes").asLong());
    }
  }

  @Test
  void helpPrintsTheUsageAndExits0() {
    for (List<String> args : List.of(List.of("--help"), List.of("-h"), List.of("fanout", "--rate", "500", "--help"))) {
      Printed p = bench(args);
      assertEquals(0, p.exit(), () -> args + ": " + p);
      assertTrue(p.out().startsWith("usage: scripts/bench SCENARIO [flags]"), () -> args + ": " + p);
      assertEquals("", p.err(), () -> args + ": " + p);
    }
  }

  @Test
  void badArgumentsAreRefusedWithOneLineNamingThemAndExit2() {
    Map<List<String>, String> named = new LinkedHashMap<>();
    named.put(List.of(), "a scenario is required");
    named.put(List.of("--rate", "5"), "the scenario comes first, before --rate");
    named.put(List.of("nope"), "unknown scenario 'nope'");
    named.put(List.of("fanout", "--rate", "abc"), "--rate wants a number, not 'abc'");
    named.put(List.of("fanout", "--duration=NaN"), "--duration wants a number, not 'NaN'");
    named.put(List.of("fanout", "--subscribers", "1k"), "--subscribers wants a whole number, not '1k'");
    named.put(List.of("fanout", "--subscribers"), "--subscribers needs a value");
    named.put(List.of("light", "--bogus", "1"), "unknown flag --bogus");
    named.put(List.of("light", "extra"), "unexpected argument 'extra'");
    named.put(List.of("light", "--drain", "-1"), "--drain must be >= 0");
    named.put(List.of("light", "--url", "http://127.0.0.1:1", "--tls"), "--tls with --url wants an https:// URL");
    named.put(List.of("light", "--url", "https://127.0.0.1:1", "--cert", "client.pem"), "--cert and --key go together");
    named.put(List.of("light", "--url", "http://127.0.0.1:1", "--no-resume"), "--no-resume is for TLS");
    named.put(List.of("light", "--reconnect"), "--reconnect is for the connections scenario");
    named.forEach((args, message) -> {
      Printed p = bench(args);
      assertEquals(2, p.exit(), () -> args + ": " + p);
      assertEquals("", p.out(), () -> args + ": " + p);
      assertTrue(p.err().startsWith("bench: " + message) && p.err().strip().endsWith(" (see scripts/bench --help)"),
          () -> args + ": " + p);
      assertEquals(1, p.err().lines().count(), () -> args + ": " + p);
    });
  }

  @Test
  void handshakeCostPrintsItsUsageOnHelpAndRefusesBadArgumentsWithOneLine() {
    for (List<String> args : List.of(List.of("--help"), List.of("--rounds", "1", "-h"))) {
      Printed p = handshakeCost(args);
      assertEquals(0, p.exit(), () -> args + ": " + p);
      assertTrue(p.out().startsWith("usage: scripts/tls-handshake-cost [--handshakes N]"), () -> args + ": " + p);
      assertEquals("", p.err(), () -> args + ": " + p);
    }
    Map<List<String>, String> named = new LinkedHashMap<>();
    named.put(List.of("--handshakes", "many"), "--handshakes wants a whole number >= 1, not 'many'");
    named.put(List.of("--rounds", "0"), "--rounds wants a whole number >= 1, not '0'");
    named.put(List.of("--key-algorithm", "DSA"), "--key-algorithm wants EC or RSA, not 'DSA'");
    named.put(List.of("--rounds"), "--rounds needs a value");
    named.put(List.of("--bogus", "1"), "unknown flag --bogus");
    named.put(List.of("1000"), "unexpected argument '1000'");
    named.forEach((args, message) -> {
      Printed p = handshakeCost(args);
      assertEquals(2, p.exit(), () -> args + ": " + p);
      assertEquals("", p.out(), () -> args + ": " + p);
      assertEquals("tls-handshake-cost: " + message + " (see scripts/tls-handshake-cost --help)", p.err().strip(),
          () -> args + ": " + p);
    });
  }

  /** What a tool printed for a command line it did not run. */
  private record Printed(int exit, String out, String err) {}

  private static Printed bench(List<String> args) {
    return printed(args, (a, out, err) -> {
      Bench.Arguments parsed = Bench.arguments(a, out, err);
      assertNull(parsed.config(), () -> args + " would have started a run");
      return parsed.exitCode();
    });
  }

  private static Printed handshakeCost(List<String> args) {
    return printed(args, (a, out, err) -> {
      HandshakeCost.Arguments parsed = HandshakeCost.arguments(a, out, err);
      assertNull(parsed.options(), () -> args + " would have started a measurement");
      return parsed.exitCode();
    });
  }

  /** A tool's parsing of its command line, returning the exit code. */
  private interface Parsing {
    int exitCode(String[] args, PrintStream out, PrintStream err);
  }

  private static Printed printed(List<String> args, Parsing parsing) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exit = parsing.exitCode(args.toArray(String[]::new), new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Printed(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  private static void assertLossless(JsonNode r) {
    JsonNode d = r.path("dropped");
    assertEquals(0, d.path("client_gaps").asLong(), "gaps: " + r);
    assertEquals(0, d.path("client_missing_at_end").asLong(), "missing: " + r);
    assertEquals(0, d.path("server_stats").asLong(), "server drops: " + r);
    assertEquals(0, r.path("duplicates").asLong(), "duplicates: " + r);
    assertEquals(0, r.path("errors").size(), "errors: " + r.path("errors"));
    assertEquals(0, r.path("unexpected_closes").asLong(), "closes: " + r);
  }

  private static void assertFiles(Bench.Outcome o) throws Exception {
    assertTrue(Files.size(o.json()) > 0, "JSON written");
    JsonNode reread = JsonCodec.mapper().readTree(o.json().toFile());
    assertEquals(o.result().path("scenario").asText(), reread.path("scenario").asText());
    assertTrue(o.png() != null && Files.size(o.png()) > 1000, "PNG written");
    byte[] head = Files.readAllBytes(o.png());
    assertEquals((byte) 0x89, head[0]);
    assertEquals('P', head[1]);
  }
}
