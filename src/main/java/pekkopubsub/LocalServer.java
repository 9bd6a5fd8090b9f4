package pekkopubsub;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigUtil;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorSystem;
import pekkopubsub.config.Settings;

/** A server inside this JVM on 127.0.0.1, as the bench tool's in-process mode and the tests start one. */
public final class LocalServer {

  private LocalServer() {}

  /**
   * Starts a server on {@code 127.0.0.1:port} with {@code overrides} of the {@code pubsub}
   * configuration (keys relative to {@code pubsub}, e.g. {@code "limits.publish-rate" -> "0"}, or
   * whole Pekko paths, e.g. {@code "pekko.http.server.idle-timeout" -> "1s"}) over the defaults.
   * Returns at once: the caller waits for {@code GET /health}.
   */
  public static ActorSystem<Guardian.Command> start(int port, Map<String, String> overrides) {
    StringBuilder hocon = new StringBuilder()
        .append("pubsub.http.host = \"127.0.0.1\"\n")
        .append("pubsub.http.port = ").append(port).append('\n');
    overrides.forEach((key, value) -> hocon.append(key.startsWith("pekko.") ? "" : "pubsub.").append(key).append(" = ")
        .append(ConfigUtil.quoteString(value)).append('\n'));
    Config config = Settings.withDefaults(ConfigFactory.parseString(hocon.toString()));
    return Main.start(Settings.from(config), config);
  }

  /** A port of 127.0.0.1 that was free a moment ago; another process may still take it first. */
  public static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Thread.sleep for polling loops: an interrupt ends the wait with an exception instead of being lost. */
  public static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
