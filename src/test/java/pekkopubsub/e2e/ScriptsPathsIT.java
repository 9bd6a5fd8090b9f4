package pekkopubsub.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static pekkopubsub.e2e.CallerDirectory.stderr;
import static pekkopubsub.e2e.CallerDirectory.writeExecutable;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import pekkopubsub.LocalServer;
import pekkopubsub.client.AdminClient;
import pekkopubsub.client.TrustedCertificates;
import pekkopubsub.http.TestCertificates;

/**
 * The scripts run from another directory with relative paths, as a user types them there: each
 * path is that directory's, not the repository's (the scripts build in the repository). After
 * packaging, so that scripts/ensure-jar finds the jar fresh; a `mvn` first on PATH that only fails
 * keeps a stale jar from being built a second time here. Where a script would run Maven or write
 * into the repository (jmh, soak, peers), a copy of scripts/ or stand-ins on PATH take its place.
 */
class ScriptsPathsIT {
  private static final List<String> SETTINGS = Stream.concat(PackagedServer.SERVER_SETTINGS.stream(),
      Stream.of("BENCH_JAVA_OPTS", "JMH_JAVA_OPTS", "PEERS_DIR", "PEERS_WARM_RUNS", "PEKKO_JAR")).toList();

  private Process server;

  @AfterEach
  void cleanUp() throws InterruptedException {
    PackagedServer.stop(server);
  }

  /** scripts/bench --cacert ca.pem --out results: it read the repository's ca.pem (NoSuchFileException) and would have written there. */
  @Test
  void benchReadsAndWritesTheCallersRelativePaths() throws Exception {
    Path dir = workDir("bench");
    TestCertificates certs = TestCertificates.create(Files.createDirectories(dir.resolve("server")), "EC");
    Files.copy(certs.certificate(), dir.resolve("ca.pem"), StandardCopyOption.REPLACE_EXISTING);
    int port = LocalServer.freePort();
    server = PackagedServer.startTls(PackagedServer.jar(), dir.resolve("server"), certs, port, null, dir.resolve("server.log"));
    awaitHealthy(certs, port);

    Process bench = script(dir, "scripts/bench", List.of("connections", "--subscribers", "2",
        "--url", "https://127.0.0.1:" + port, "--cacert", "ca.pem", "--out", "results", "--no-chart", "--quiet"), Map.of());
    assertTrue(bench.waitFor(120, TimeUnit.SECONDS), "scripts/bench ended");
    assertEquals(0, bench.exitValue(), stderr(dir));
    assertTrue(Files.isRegularFile(dir.resolve("results/result.json")), "result.json in the caller's results/: " + stderr(dir));
    assertTrue(Files.readString(dir.resolve("stdout.log")).contains("wrote results/result.json"), stderr(dir));
  }

  /** scripts/jmh -rff out.json: JMH ran in the repository and wrote out.json there. */
  @Test
  void jmhBuildsInTheRepositoryAndRunsInTheCallersDirectory() throws Exception {
    Path dir = workDir("jmh");
    Path record = dir.resolve("calls.txt");
    // Stand-ins: Maven's build of the benchmarks is not this test's, and JMH's run would take minutes.
    String recording = "#!/bin/sh\necho \"$(basename \"$0\") in $PWD: $*\" >> '" + record + "'\n";
    writeExecutable(dir.resolve("bin/mvn"), recording);
    writeExecutable(dir.resolve("bin/java"), recording);

    Process jmh = script(dir, "scripts/jmh", List.of("CodecBenchmark", "-rff", "out.json"), Map.of());
    assertTrue(jmh.waitFor(30, TimeUnit.SECONDS), "scripts/jmh ended");
    assertEquals(0, jmh.exitValue(), stderr(dir));
    Path repository = Path.of("").toAbsolutePath();
    assertEquals(List.of("mvn in " + repository + ": -B -q -Pjmh -DskipTests package",
            "java in " + dir + ": -jar " + repository.resolve("target/jmh/benchmarks.jar") + " CodecBenchmark -rff out.json"),
        Files.readAllLines(record));
  }

  /** scripts/soak said "full log in target/soak.log", a path of the repository, not of the caller's directory. */
  @Test
  void soakNamesItsLogSoThatTheCallerFindsIt() throws Exception {
    Path dir = workDir("soak");
    Path repository = copyOfScripts(dir);
    writeExecutable(dir.resolve("bin/mvn"), "#!/bin/sh\necho 'ScriptsPathsIT: the chaos test failed'\nexit 1\n");

    Process soak = script(dir, repository.resolve("scripts/soak").toString(), List.of("--clients", "2"), Map.of());
    assertTrue(soak.waitFor(30, TimeUnit.SECONDS), "scripts/soak ended");
    assertEquals(1, soak.exitValue(), stderr(dir));
    String said = stderr(dir).strip();
    assertTrue(said.startsWith("soak failed; full log in "), said);
    Path log = dir.resolve(said.substring("soak failed; full log in ".length()));
    assertEquals(repository.resolve("target/soak.log"), log.normalize());
    assertEquals("ScriptsPathsIT: the chaos test failed\n", Files.readString(log));
  }

  /** scripts/peers --out mine: the harness resolves it against its own copy, target/peers/mine. */
  @Test
  void peersGivesTheHarnessTheCallersOutputDirectory() throws Exception {
    Path dir = workDir("peers");
    Path repository = copyOfScripts(dir);
    // A stand-in for ../shared/peers: its run.sh records what it was given.
    Path harness = Files.createDirectories(dir.resolve("harness"));
    Path record = dir.resolve("harness-args.txt");
    writeExecutable(harness.resolve("install.sh"), "#!/bin/sh\nexit 0\n");
    writeExecutable(harness.resolve("run.sh"), "#!/bin/sh\nfor a in \"$@\"; do echo \"$a\"; done >> '" + record + "'\n");

    Process peers = script(dir, repository.resolve("scripts/peers").toString(),
        List.of("--targets", "pekko", "--out", "mine", "--mock-path=mock/server.mjs", "--quick"),
        Map.of("PEERS_DIR", harness.toString(), "PEKKO_JAR", PackagedServer.jar().toString()));
    assertTrue(peers.waitFor(90, TimeUnit.SECONDS), "scripts/peers ended");
    assertEquals(0, peers.exitValue(), stderr(dir));
    List<String> given = Files.readAllLines(record);
    assertEquals(dir.resolve("mine").toString(), given.get(given.indexOf("--out") + 1), given.toString());
    assertTrue(given.contains("--mock-path=" + dir.resolve("mock/server.mjs")), given.toString());
    assertTrue(given.contains("--quick") && given.get(given.indexOf("--targets") + 1).equals("pekko"), given.toString());
  }

  private static void awaitHealthy(TestCertificates certs, int port) {
    AdminClient admin = new AdminClient(java.net.URI.create("https://127.0.0.1:" + port), Map.of(),
        java.net.http.HttpClient.newBuilder().sslContext(TrustedCertificates.trusting(certs.certificate())).build());
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (TestServer.healthOrNull(admin) == null) {
      if (System.nanoTime() > deadline) fail("the TLS server did not answer within 30 s");
      LocalServer.sleep(50);
    }
  }

  private static Path workDir(String name) throws IOException {
    return CallerDirectory.create("scripts-paths-it", name, "ScriptsPathsIT");
  }

  /** A repository of scripts/ alone under {@code dir}, for a script that writes into its repository. */
  private static Path copyOfScripts(Path dir) throws IOException {
    Path repository = dir.resolve("repository");
    Path from = Path.of("scripts");
    try (Stream<Path> files = Files.walk(from)) {
      for (Path file : (Iterable<Path>) files::iterator) {
        Path to = repository.resolve("scripts").resolve(from.relativize(file).toString());
        if (Files.isDirectory(file)) Files.createDirectories(to);
        else Files.copy(file, to, StandardCopyOption.COPY_ATTRIBUTES);
      }
    }
    return repository;
  }

  private static Process script(Path dir, String script, List<String> args, Map<String, String> env) throws IOException {
    ProcessBuilder builder = CallerDirectory.script(dir, script, args, SETTINGS);
    builder.environment().putAll(env);
    return builder.start();
  }
}
