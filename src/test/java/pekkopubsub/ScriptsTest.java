package pekkopubsub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The scripts' command lines, run as a user runs them: --help prints the script's header and exits
 * 0, a bad argument is one line naming it and exits 2, both before anything is built, installed or
 * started. bench, tls-handshake-cost and pubsub parse theirs in Java (BenchSmokeTest, CliE2ETest).
 */
class ScriptsTest {
  private static final Set<String> PARSED_IN_JAVA = Set.of("bench", "tls-handshake-cost", "pubsub");
  /** Their arguments go on to the server and to JMH, which judge them. */
  private static final Set<String> PASSING_ARGUMENTS_ON = Set.of("run", "jmh");
  /** A bad command line of each other script, whose last argument is the one its error names. */
  private static final Map<String, List<String>> BAD = Map.ofEntries(
      Map.entry("browser-setup", List.of("x")),
      Map.entry("cds-archive", List.of("a.jar", "a.jsa", "extra")),
      Map.entry("client-cost", List.of("--reads", "many")),
      Map.entry("ensure-jar", List.of("x")),
      Map.entry("healthcheck", List.of("x")),
      Map.entry("http-hold", List.of("10", "stats")),
      Map.entry("idle-latency", List.of("--bogus")),
      Map.entry("memory-flood", List.of("100", "lots")),
      Map.entry("peers", List.of("--quik")),
      Map.entry("peers-setup", List.of("x")),
      Map.entry("soak", List.of("--clients", "many")),
      Map.entry("startup-time", List.of("many")),
      Map.entry("syscall-rates", List.of("[p]ekko-pubsub.jar", "extra")),
      Map.entry("tls-cost", List.of("2", "x")),
      Map.entry("tls-idle", List.of("-5")),
      Map.entry("tls-storm", List.of("abc")));

  record Ran(int exit, String out, String err) {}

  static Stream<String> bashScripts() throws IOException {
    return entryPoints().stream().filter(name -> !PARSED_IN_JAVA.contains(name));
  }

  static Stream<String> refusingScripts() {
    return BAD.keySet().stream().sorted();
  }

  @Test
  void everyEntryPointIsCoveredHereOrInItsJavaTest() throws IOException {
    Set<String> covered = new TreeSet<>(BAD.keySet());
    covered.addAll(PARSED_IN_JAVA);
    covered.addAll(PASSING_ARGUMENTS_ON);
    assertEquals(entryPoints(), covered, "the executable files of scripts/");
  }

  @ParameterizedTest
  @MethodSource("bashScripts")
  void helpPrintsTheHeaderAndExits0(String script) throws Exception {
    String header = Files.readAllLines(Path.of("scripts", script)).get(1).replaceFirst("^# ?", "");
    // -h is JMH's own there, answered after a build.
    for (String help : "jmh".equals(script) ? List.of("--help") : List.of("--help", "-h")) {
      Ran ran = run(script, help);
      assertEquals(0, ran.exit(), () -> script + " " + help + ": " + ran);
      assertTrue(ran.out().startsWith(header + "\n"), () -> script + " " + help + ": " + ran);
      assertEquals("", ran.err(), () -> script + " " + help + ": " + ran);
    }
  }

  @ParameterizedTest
  @MethodSource("refusingScripts")
  void aBadArgumentIsOneLineNamingItAndExit2(String script) throws Exception {
    List<String> args = BAD.get(script);
    Ran ran = run(script, args.toArray(String[]::new));
    assertEquals(2, ran.exit(), () -> args + ": " + ran);
    assertEquals("", ran.out(), () -> args + ": " + ran);
    String line = ran.err().strip();
    assertEquals(1, line.lines().count(), () -> args + ": " + ran);
    assertTrue(line.startsWith(script + ": ") && line.contains(args.get(args.size() - 1))
        && line.endsWith("(see scripts/" + script + " --help)"), () -> args + ": " + ran);
  }

  private static Set<String> entryPoints() throws IOException {
    Set<String> names = new TreeSet<>();
    try (Stream<Path> files = Files.list(Path.of("scripts"))) {
      files.filter(f -> Files.isRegularFile(f) && Files.isExecutable(f)).forEach(f -> names.add(f.getFileName().toString()));
    }
    return names;
  }

  private static Ran run(String script, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("scripts/" + script));
    command.addAll(List.of(args));
    File out = File.createTempFile("script", ".out");
    File err = File.createTempFile("script", ".err");
    try {
      Process p = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
          .redirectOutput(out).redirectError(err).start();
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        // Past its arguments it builds, installs or serves: what it started goes too, not only its shell.
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        throw new AssertionError(command + " was still running after 30 s: it did not stop at its arguments");
      }
      return new Ran(p.exitValue(), Files.readString(out.toPath(), StandardCharsets.UTF_8),
          Files.readString(err.toPath(), StandardCharsets.UTF_8));
    } finally {
      out.delete();
      err.delete();
    }
  }
}
