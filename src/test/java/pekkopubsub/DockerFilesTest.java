package pekkopubsub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Dockerfile and docker-compose.yml, read as text (no Docker engine runs here): their jar path,
 * port and environment variables agree with the pom, reference.conf and env-overrides.conf.
 */
class DockerFilesTest {
  private static final Set<String> VARIABLES_OUTSIDE_CONFIG =
      Set.of("LOG_LEVEL", "LOG_FORMAT", "JAVA_OPTS", "CONFIG_FILE", "PUBSUB_API_KEYS");
  /** Read by the image's health check (scripts/healthcheck), not by the server. */
  private static final Set<String> HEALTH_CHECK_VARIABLES = Set.of("HEALTHCHECK_CERT", "HEALTHCHECK_KEY");
  private static final Pattern REFERENCE = Pattern.compile("\\$\\{?([A-Z_][A-Z0-9_]*)");

  private static String dockerfile;
  private static String healthcheck;
  private static JsonNode compose;
  private static String composeText;
  private static Config reference;

  @BeforeAll
  static void read() throws IOException {
    dockerfile = Files.readString(Path.of("Dockerfile"));
    healthcheck = Files.readString(Path.of("scripts/healthcheck"));
    composeText = Files.readString(Path.of("docker-compose.yml"));
    compose = new YAMLMapper().readTree(composeText);
    reference = ConfigFactory.parseFile(Path.of("src/main/resources/reference.conf").toFile()).resolve();
  }

  @Test
  void theImageRunsThePomsJar() throws Exception {
    String jar = "target/" + pomProperty("server.jar.name") + ".jar";
    Matcher copy = Pattern.compile("COPY --from=build /build/(\\S+) (\\S+)").matcher(dockerfile);
    assertTrue(copy.find(), "the runtime stage copies the jar from the build stage");
    assertEquals(jar, copy.group(1), "the jar the build stage produced");
    assertTrue(dockerfile.contains("-jar " + copy.group(2)), "ENTRYPOINT runs " + copy.group(2));
    assertTrue(Pattern.compile("(?m)^ENTRYPOINT \\[\"sh\", \"-c\", \"exec java ").matcher(dockerfile).find(),
        "the JVM replaces the shell, so SIGTERM reaches it");
  }

  @Test
  void theImageStartsFromTheClassDataArchiveItsBuildMade() {
    Matcher copy = Pattern.compile("COPY --from=build /build/\\S+ (\\S+)").matcher(dockerfile);
    assertTrue(copy.find());
    Matcher made = Pattern.compile("bash (\\S+)/cds-archive (\\S+) (\\S+)\\s*$", Pattern.MULTILINE).matcher(dockerfile);
    assertTrue(made.find(), "a RUN line makes the archive");
    assertEquals(copy.group(1), made.group(2), "of the jar the image runs");
    assertTrue(dockerfile.contains("COPY scripts/cds-archive " + made.group(1) + "/cds-archive"));
    // the script reads the server's JVM flags from beside itself, as the server is started with them
    assertTrue(dockerfile.contains("COPY scripts/jvm.options " + made.group(1) + "/jvm.options"));
    assertTrue(dockerfile.indexOf("/jvm.options\n") < made.start(), "jvm.options is in place before the training run");
    assertTrue(made.start() < dockerfile.indexOf("\nUSER "), "made as root, so the server cannot write it");
    Matcher entrypoint = Pattern.compile("(?m)^ENTRYPOINT .*$").matcher(dockerfile);
    assertTrue(entrypoint.find());
    assertTrue(entrypoint.group().contains("-XX:SharedArchiveFile=" + made.group(3) + " "), entrypoint.group());
  }

  @Test
  void everyFileTheBuildCopiesExists() {
    Matcher copy = Pattern.compile("(?m)^COPY (?!--from)(\\S+) ").matcher(dockerfile);
    int copies = 0;
    while (copy.find()) {
      assertTrue(Files.exists(Path.of(copy.group(1))), "COPY " + copy.group(1));
      copies++;
    }
    assertTrue(copies >= 2, "pom.xml and src are copied");
  }

  @Test
  void portsMatchReferenceConf() {
    int port = reference.getInt("pubsub.http.port");
    Matcher expose = Pattern.compile("(?m)^EXPOSE (\\d+)").matcher(dockerfile);
    assertTrue(expose.find());
    assertEquals(port, Integer.parseInt(expose.group(1)), "EXPOSE");
    // Set in the image, they would beat a mounted application.conf's http.host and http.port.
    assertFalse(Pattern.compile("\\b(?:PORT|HOST)=").matcher(dockerfile).find(), "the image sets no PORT or HOST");
    assertEquals(port, ConfigFactory.parseFile(Path.of("application.conf").toFile()).getInt("pubsub.http.port"),
        "the image's application.conf");

    JsonNode service = compose.path("services").path("pubsub");
    String mapping = service.path("ports").path(0).asText();
    assertEquals(String.valueOf(port), mapping.substring(mapping.lastIndexOf(':') + 1), "compose publishes " + mapping);
  }

  /** A variable of a server setting beats the file's line: set in the image or by compose, it hides a mounted application.conf's. */
  @Test
  void neitherTheImageNorComposeSetsAVariableThatBeatsAMountedApplicationConf() throws IOException {
    Set<String> settings = settingVariables();
    List<String> image = new ArrayList<>(imageEnvironment());
    // Meant to beat the file: the health check reads the variable, so the server must too.
    image.remove("ENDPOINT_FILE");
    image.retainAll(settings);
    assertEquals(List.of(), image, "the Dockerfile's ENV");
    List<String> composed = new ArrayList<>();
    compose.path("services").path("pubsub").path("environment").fieldNames().forEachRemaining(composed::add);
    composed.retainAll(settings);
    assertEquals(List.of(), composed, "docker-compose.yml's environment");
  }

  /** README's certbot deploy hook gives the certificate and key to uid 10001. */
  @Test
  void theImageRunsAsTheFixedUidTheReadmeHandsFilesTo() throws IOException {
    Matcher user = Pattern.compile("(?m)^USER (\\d+):(\\d+)$").matcher(dockerfile);
    assertTrue(user.find(), "USER uid:gid, numeric");
    assertEquals("10001", user.group(1), "uid");
    assertEquals("10001", user.group(2), "gid");
    assertTrue(dockerfile.contains("groupadd --system --gid 10001 pubsub"), "the group has that gid");
    assertTrue(dockerfile.contains("useradd --system --uid 10001 --gid pubsub"), "the user has that uid");
    String readme = Files.readString(Path.of("README.md"));
    assertTrue(readme.contains("install -o 10001 -g 10001 -m 0600 \"$src/privkey.pem\""), "README's deploy hook");
  }

  @Test
  void theHealthCheckIsTheScriptTheImageHolds() {
    Matcher copy = Pattern.compile("(?m)^COPY scripts/healthcheck (\\S+)$").matcher(dockerfile);
    assertTrue(copy.find(), "the runtime stage copies scripts/healthcheck");
    assertTrue(Pattern.compile("(?m)^HEALTHCHECK .*CMD \\[\"bash\", \"" + Pattern.quote(copy.group(1)) + "\"]$")
        .matcher(dockerfile).find(), "HEALTHCHECK runs " + copy.group(1));
    assertTrue(healthcheck.contains("\"$url/health\""), "it asks /health");
  }

  /** The check asks where the server says it serves: the file the image has the server write is the one it reads. */
  @Test
  void theHealthCheckReadsTheEndpointFileTheServerWrites() throws IOException {
    Matcher env = Pattern.compile("(?m)^ENV ENDPOINT_FILE=(\\S+)$").matcher(dockerfile);
    assertTrue(env.find(), "the image sets ENDPOINT_FILE");
    assertTrue(env.group(1).startsWith("/tmp/"), "in /tmp, writable wherever the JVM runs: " + env.group(1));
    assertTrue(settingVariables().contains("ENDPOINT_FILE"), "the server reads ENDPOINT_FILE (env-overrides.conf)");
    assertTrue(Files.readString(Path.of("src/main/resources/env-overrides.conf"))
        .contains("pubsub.http.endpoint-file = ${?ENDPOINT_FILE}"), "as pubsub.http.endpoint-file");
    assertTrue(healthcheck.contains("file=\"${ENDPOINT_FILE:-}\""), "the check reads ENDPOINT_FILE");
    assertFalse(Pattern.compile("\\$\\{?(PORT|TLS_[A-Z_]+)\\b").matcher(healthcheck).find(),
        "the check reads no PORT or TLS_* variable, which a mounted application.conf does not set");
  }

  @Test
  void composeGivesTheDrainTimeToFinish() {
    Duration grace = Duration.parse("PT" + compose.path("services").path("pubsub").path("stop_grace_period").asText()
        .toUpperCase(java.util.Locale.ROOT));
    Duration drain = reference.getDuration("pubsub.shutdown.drain-deadline")
        .plus(reference.getDuration("pubsub.connection.close-timeout"));
    assertTrue(grace.compareTo(drain) > 0, "stop_grace_period " + grace + " exceeds drain + close " + drain);
  }

  @Test
  void everyEnvironmentVariableIsOneTheServerReads() throws IOException {
    Set<String> known = new TreeSet<>(VARIABLES_OUTSIDE_CONFIG);
    known.addAll(HEALTH_CHECK_VARIABLES);
    known.addAll(settingVariables());

    Set<String> named = new LinkedHashSet<>(imageEnvironment());
    named.addAll(references(dockerfile));
    named.addAll(references(healthcheck));
    compose.path("services").path("pubsub").path("environment").fieldNames().forEachRemaining(named::add);
    named.addAll(references(composeText));
    // Settings shown commented out in the compose file are documentation too.
    Matcher commented = Pattern.compile("(?m)^\\s+#\\s*([A-Z_][A-Z0-9_]*):").matcher(composeText);
    while (commented.find()) named.add(commented.group(1));

    assertFalse(named.isEmpty());
    List<String> unknown = new ArrayList<>(named);
    unknown.removeAll(known);
    assertEquals(List.of(), unknown, "environment variables the server does not read (known: " + known + ")");
  }

  /** The variables env-overrides.conf reads: each sets a server setting over application.conf. */
  private static Set<String> settingVariables() throws IOException {
    Set<String> names = new TreeSet<>();
    Matcher override = Pattern.compile("\\$\\{\\?([A-Z_][A-Z0-9_]*)}")
        .matcher(Files.readString(Path.of("src/main/resources/env-overrides.conf")));
    while (override.find()) names.add(override.group(1));
    return names;
  }

  /** The variables the Dockerfile's ENV lines set. */
  private static Set<String> imageEnvironment() {
    Set<String> names = new LinkedHashSet<>();
    Matcher env = Pattern.compile("(?m)^(?:ENV\\s+|\\s+)([A-Z_][A-Z0-9_]*)=").matcher(dockerfile);
    while (env.find()) names.add(env.group(1));
    return names;
  }

  private static List<String> references(String text) {
    List<String> names = new ArrayList<>();
    Matcher m = REFERENCE.matcher(text);
    while (m.find()) names.add(m.group(1));
    return names;
  }

  private static String pomProperty(String name) throws Exception {
    var pom = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(Path.of("pom.xml").toFile());
    var nodes = pom.getElementsByTagName(name);
    assertEquals(1, nodes.getLength(), "pom property " + name);
    return nodes.item(0).getTextContent().trim();
  }
}
