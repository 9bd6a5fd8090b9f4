package pekkopubsub.logging;

import ch.qos.logback.core.spi.ContextAwareBase;
import ch.qos.logback.core.status.Status;
import ch.qos.logback.core.status.StatusListener;

/** Prints logback's own configuration errors (e.g. an unknown LOG_FORMAT) on stderr, and nothing else. */
public final class ErrorStatusListener extends ContextAwareBase implements StatusListener {
  // Logback's stock console listeners print every status, which would put its chatter in front of the
  // JSON lines on stdout; without any listener it prints them all whenever a warning occurs.
  @Override
  public void addStatusEvent(Status status) {
    if (status.getLevel() == Status.ERROR) {
      System.err.println("logback: " + status.getMessage() + " (LOG_FORMAT must be text or json)");
    }
  }
}
