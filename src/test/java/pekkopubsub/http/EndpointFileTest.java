package pekkopubsub.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the server writes for the health check: where to ask from the same machine, and how. */
class EndpointFileTest {

  @TempDir
  Path dir;

  @Test
  void aServerOnEveryInterfaceIsAskedOnTheLoopback() throws Exception {
    assertEquals("url=http://127.0.0.1:8000\nclient_certificate=none\n",
        EndpointFile.contents(new InetSocketAddress(InetAddress.getByName("0.0.0.0"), 8000), false, false));
    assertEquals("url=https://127.0.0.1:9443\nclient_certificate=none\n",
        EndpointFile.contents(new InetSocketAddress(InetAddress.getByName("::"), 9443), true, false));
  }

  @Test
  void aServerOnOneAddressIsAskedThere() throws Exception {
    assertEquals("url=https://10.1.2.3:8443\nclient_certificate=required\n",
        EndpointFile.contents(new InetSocketAddress(InetAddress.getByName("10.1.2.3"), 8443), true, true));
    assertEquals("url=http://[0:0:0:0:0:0:0:1]:8000\nclient_certificate=none\n",
        EndpointFile.contents(new InetSocketAddress(InetAddress.getByName("::1"), 8000), false, false));
  }

  @Test
  void theFileIsReplacedWholeAndRemoved() throws Exception {
    Path file = dir.resolve("run/pubsub/endpoint");
    EndpointFile endpoint = new EndpointFile(file);
    endpoint.write(new InetSocketAddress(InetAddress.getLoopbackAddress(), 8000), false, false);
    endpoint.write(new InetSocketAddress(InetAddress.getLoopbackAddress(), 9000), true, false);
    assertEquals("url=https://127.0.0.1:9000\nclient_certificate=none\n", Files.readString(file));
    try (Stream<Path> beside = Files.list(file.getParent())) {
      assertEquals(List.of(file), beside.toList(), "no temporary file left beside it");
    }
    endpoint.remove();
    assertFalse(Files.exists(file));
    endpoint.remove();
  }

  /** The server serves all the same; the health check then says it finds no file. */
  @Test
  void aFileThatCannotBeWrittenIsNotAnError() throws Exception {
    Path notADirectory = Files.writeString(dir.resolve("plain"), "x");
    new EndpointFile(notADirectory.resolve("endpoint")).write(new InetSocketAddress(8000), false, false);
    assertEquals("x", Files.readString(notADirectory));
  }
}
