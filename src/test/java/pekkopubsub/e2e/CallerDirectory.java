package pekkopubsub.e2e;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A directory the ITs run the repository's scripts from, as a user would from elsewhere: the
 * scripts' output goes to its stdout.log and stderr.log, and a {@code mvn} first on PATH only fails,
 * so that a script finding the packaged jar stale does not build it a second time there.
 */
final class CallerDirectory {
  private CallerDirectory() {}

  /** {@code group/name} beside the packaged jar, emptied, with the failing {@code mvn} that names {@code test}. */
  static Path create(String group, String name, String test) throws IOException {
    Path dir = PackagedServer.jar().getParent().resolve(group).resolve(name);
    if (Files.exists(dir)) {
      try (Stream<Path> old = Files.walk(dir)) {
        old.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
      }
    }
    Files.createDirectories(dir.resolve("bin"));
    writeExecutable(dir.resolve("bin/mvn"),
        "#!/bin/sh\necho \"" + test + ": scripts/ensure-jar found the jar stale and ran mvn $*\" >&2\nexit 97\n");
    return dir;
  }

  static void writeExecutable(Path file, String text) throws IOException {
    Files.writeString(file, text);
    assertTrue(file.toFile().setExecutable(true));
  }

  /** {@code script} with {@code args}, run in {@code dir} with nothing on stdin, without the variables {@code unset}. */
  static ProcessBuilder script(Path dir, String script, List<String> args, Collection<String> unset) {
    List<String> command = new ArrayList<>(List.of(Path.of(script).toAbsolutePath().toString()));
    command.addAll(args);
    ProcessBuilder builder = new ProcessBuilder(command)
        .directory(dir.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
        .redirectOutput(dir.resolve("stdout.log").toFile())
        .redirectError(dir.resolve("stderr.log").toFile());
    builder.environment().keySet().removeIf(unset::contains);
    builder.environment().put("PATH", dir.resolve("bin") + File.pathSeparator + System.getenv("PATH"));
    return builder;
  }

  static String stderr(Path dir) throws IOException {
    return Files.readString(dir.resolve("stderr.log"));
  }
}
