package pekkopubsub.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Enumeration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import pekkopubsub.LocalServer;
import pekkopubsub.client.AdminClient;
import pekkopubsub.http.TestCertificates;

/**
 * The packaged server where Conscrypt's native library cannot load, as on a platform it has no
 * build for (musl, say): the jar without Conscrypt's native libraries.
 */
class ConscryptUnavailableIT {
  private static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir
  Path dir;
  private Process process;

  @AfterEach
  void cleanUp() throws InterruptedException {
    PackagedServer.stop(process);
  }

  @Test
  void conscryptIsRefusedAtStartWithTheReasonAndTheWayOut() throws Exception {
    Path log = dir.resolve("conscrypt.log");
    process = start(jarWithoutConscryptLibraries(), TestCertificates.create(dir.resolve("certs"), "EC"),
        LocalServer.freePort(), "conscrypt", log);

    assertTrue(process.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS), "the server gives up instead of serving");
    String output = Files.readString(log, StandardCharsets.UTF_8);
    assertEquals(1, process.exitValue(), output);
    assertTrue(output.contains("pubsub.http.tls.provider is conscrypt, but its native library does not load here"), output);
    assertTrue(output.contains("set it to jdk"), output);
  }

  @Test
  void theJdkProviderServesWithoutConscryptsLibraries() throws Exception {
    TestCertificates certs = TestCertificates.create(dir.resolve("certs"), "EC");
    int port = LocalServer.freePort();
    Path log = dir.resolve("jdk.log");
    process = start(jarWithoutConscryptLibraries(), certs, port, "jdk", log);

    HttpClient https = HttpClient.newBuilder().sslContext(certs.clientContext()).connectTimeout(Duration.ofSeconds(5)).build();
    TestServer.awaitHealthy(process, new AdminClient(URI.create("https://localhost:" + port), Map.of(), https));
    PackagedServer.signal(process, "TERM");
    assertTrue(process.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS), "server exits after SIGTERM");
    assertEquals(0, process.exitValue(), () -> read(log));
  }

  /** The packaged jar, less every native library of Conscrypt's (all platforms). */
  private Path jarWithoutConscryptLibraries() throws IOException {
    Path stripped = dir.resolve("server-without-conscrypt-libraries.jar");
    int left = 0;
    try (ZipFile source = new ZipFile(PackagedServer.jar().toFile());
         ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(stripped))) {
      for (Enumeration<? extends ZipEntry> entries = source.entries(); entries.hasMoreElements(); ) {
        ZipEntry entry = entries.nextElement();
        if (entry.getName().startsWith("META-INF/native/") && entry.getName().contains("conscrypt")) {
          left++;
          continue;
        }
        out.putNextEntry(new ZipEntry(entry.getName()));
        try (InputStream in = source.getInputStream(entry)) {
          in.transferTo(out);
        }
        out.closeEntry();
      }
    }
    assertTrue(left > 0, "the jar carried Conscrypt's native libraries to leave out");
    return stripped;
  }

  private Process start(Path jar, TestCertificates certs, int port, String provider, Path log) throws IOException {
    return PackagedServer.startTls(jar, Files.createDirectories(dir.resolve("work-" + provider)), certs, port, provider, log);
  }

  private static String read(Path log) {
    try {
      return Files.readString(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(log unreadable: " + e + ")";
    }
  }
}
