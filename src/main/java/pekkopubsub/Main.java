package pekkopubsub;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.util.Optional;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.slf4j.LoggerFactory;
import pekkopubsub.config.InvalidConfigurationException;
import pekkopubsub.config.LogSettings;
import pekkopubsub.config.Settings;
import pekkopubsub.http.EndpointFile;

/** Loads the configuration, starts the actor system, and maps SIGTERM/SIGINT to an orderly shutdown with exit code 0. */
public final class Main {

  /** Shutdown asked for by a signal. */
  public enum SignalReason implements CoordinatedShutdown.Reason { SIGTERM, SIGINT }

  private Main() {}

  public static void main(String[] args) {
    // Handling the signals ourselves (instead of the JVM's hook) lets the process exit 0 after the drain,
    // and from the first line, so that a SIGTERM while the server starts gives 0 too, not 143.
    ShutdownSignals signals = ShutdownSignals.install();
    try {
      LogSettings.fromEnvironment(System.getenv()).forEach(System::setProperty);
    } catch (InvalidConfigurationException e) {
      exitOnInvalidConfiguration(e.getMessage());
      return;
    }
    // Logging starts before Pekko's threads do, so no early log line is queued and replayed.
    LoggerFactory.getLogger(Main.class).debug("starting");
    Config config;
    Settings settings;
    try {
      config = Settings.load();
      settings = Settings.from(config);
      Settings.checkPekkoHttpServer(config);
    } catch (InvalidConfigurationException e) {
      exitOnInvalidConfiguration(e.getMessage());
      return;
    }
    // A signal while the configuration was read: nothing started, so nothing to drain.
    if (signals.received()) System.exit(0);
    ActorSystem<Guardian.Command> system;
    try {
      system = start(settings, config);
    } catch (ConfigException e) {
      // Pekko's own settings, from the same files, are read here.
      exitOnInvalidConfiguration(e.getMessage());
      return;
    }
    signals.attach(system);
    system.getWhenTerminated().toCompletableFuture().join();
    Optional<CoordinatedShutdown.Reason> reason = CoordinatedShutdown.get(system).getShutdownReason();
    // 0 only for the orderly stop a signal asked for: a failed bind, or a guardian that failed to
    // start, is a server that did not run, which a supervisor restarting on failure must see.
    System.exit(reason.isPresent() && reason.get() instanceof SignalReason ? 0 : 1);
  }

  /** One line on stderr, in the CLI's style, and exit 1: an operator's mistake, for which a stack trace says nothing more. */
  private static void exitOnInvalidConfiguration(String message) {
    System.err.println("pubsub: invalid configuration: " + message);
    System.exit(1);
  }

  /**
   * Starts a server; the drain phase's timeout follows the configured drain deadline. An endpoint
   * file left by an earlier run is removed first: the guardian writes this server's once bound.
   */
  public static ActorSystem<Guardian.Command> start(Settings settings, Config config) {
    long drainPhaseMillis = settings.drainDeadline().plus(settings.closeTimeout()).plusSeconds(2).toMillis();
    Config effective = ConfigFactory.parseString(
            "pekko.coordinated-shutdown.phases.before-service-unbind.timeout = " + drainPhaseMillis + "ms")
        .withFallback(config);
    if (!settings.endpointFile().isEmpty()) new EndpointFile(Path.of(settings.endpointFile())).remove();
    return ActorSystem.create(Guardian.create(settings), "pekko-pubsub", effective);
  }
}
