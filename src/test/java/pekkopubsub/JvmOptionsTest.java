package pekkopubsub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** scripts/jvm.options: this JDK takes its flags as they are, and every way of starting the server uses it. */
class JvmOptionsTest {

  private static final Path OPTIONS = Path.of("scripts/jvm.options");

  @Test
  void thisJdkAcceptsTheFlagsWithoutAWarning() throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    Process p = new ProcessBuilder(java, "@" + OPTIONS, "-XX:+PrintFlagsFinal", "-version")
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), out);
    assertFalse(out.contains("Unrecognized VM option") || out.contains("VM warning"), out);
    assertTrue(Pattern.compile("G1UseAdaptiveConcRefinement\\s+= false").matcher(out).find(), "the file's flags are in effect");
    assertTrue(Pattern.compile("MaxHeapFreeRatio\\s+= 30").matcher(out).find(), "the heap sizing flags are in effect");
    assertTrue(Pattern.compile("GCTimeRatio\\s+= 4\\s").matcher(out).find(), "G1 keeps the heap small through a burst of connections");
  }

  @Test
  void runTheBenchmarksAndTheImageStartTheJvmWithIt() throws Exception {
    // the class-data archive, when there is one, stands between the file's flags and the operator's
    assertTrue(Pattern.compile("(?m)^exec java @\"\\$root/scripts/jvm.options\" (\\S+ )?\\$\\{JAVA_OPTS:-} -jar")
        .matcher(Files.readString(Path.of("scripts/run"))).find(), "scripts/run uses it");
    assertTrue(Files.readString(Path.of("scripts/lib/local-server.sh")).contains("java @\"$root/scripts/jvm.options\" ${JAVA_OPTS:-} -jar"));
    for (String benchmark : new String[] {"scripts/peers", "scripts/idle-latency"}) {
      assertTrue(Files.readString(Path.of(benchmark)).contains("start_local_server \"$jar\""), benchmark + " starts the server that way");
    }
    String dockerfile = Files.readString(Path.of("Dockerfile"));
    Matcher copy = Pattern.compile("(?m)^COPY scripts/jvm.options (\\S+)$").matcher(dockerfile);
    assertTrue(copy.find(), "the image holds the file");
    assertTrue(Pattern.compile("exec java @" + Pattern.quote(copy.group(1)) + " (\\S+ )?\\$JAVA_OPTS -jar").matcher(dockerfile).find(),
        "the ENTRYPOINT uses it");
  }
}
