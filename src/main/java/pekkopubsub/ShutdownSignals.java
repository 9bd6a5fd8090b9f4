package pekkopubsub;

import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import pekkopubsub.Main.SignalReason;
import sun.misc.Signal;

/** SIGTERM and SIGINT from main's first line: remembered until the actor system exists, then its CoordinatedShutdown. */
final class ShutdownSignals {
  private final AtomicReference<SignalReason> received = new AtomicReference<>();
  private volatile ActorSystem<?> system;

  private ShutdownSignals() {}

  /**
   * Takes both signals from the JVM, whose own handling ends the process with 143 or 130: a signal
   * that comes while the server starts must end it with 0 too, as one that comes later does.
   */
  static ShutdownSignals install() {
    ShutdownSignals signals = new ShutdownSignals();
    Signal.handle(new Signal("TERM"), signal -> signals.receive(SignalReason.SIGTERM));
    Signal.handle(new Signal("INT"), signal -> signals.receive(SignalReason.SIGINT));
    return signals;
  }

  /** Whether a signal came; before the system exists, main then exits 0 with nothing to drain. */
  boolean received() {
    return received.get() != null;
  }

  /** From now on a signal shuts {@code started} down, and one that came while it was being created does so now. */
  void attach(ActorSystem<?> started) {
    system = started;
    SignalReason early = received.get();
    if (early != null) CoordinatedShutdown.get(started).run(early);
  }

  /**
   * Remembers the signal, then reads the system; attach stores the system, then reads the signal.
   * Both are volatile, so at least one of them sees the other and runs the shutdown (running it
   * twice is harmless: it runs once). CoordinatedShutdown.run only starts it: the handler returns at once.
   */
  private void receive(SignalReason reason) {
    received.compareAndSet(null, reason);
    ActorSystem<?> current = system;
    if (current != null) CoordinatedShutdown.get(current).run(reason);
  }
}
