package pekkopubsub.http;

import java.util.function.Consumer;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.event.BusLogging;
import org.apache.pekko.event.MarkerLoggingAdapter;
import pekkopubsub.protocol.ErrorCode;

/**
 * The log Pekko HTTP's server layer writes to, as the system's own log does, which also hears of
 * each answer {@link JsonParsingErrors} gives. Pekko makes that handler itself, with no arguments,
 * and hands it only the status, the error, this log and the settings: the log is the one of those
 * a server chooses per server layer, so its error answers are counted by its own metrics (a JVM
 * running several servers, as the tests do, keeps their counts apart).
 */
final class ParsingErrorsLog extends MarkerLoggingAdapter {
  private final Consumer<ErrorCode> errorAnswered;

  ParsingErrorsLog(ActorSystem system, Consumer<ErrorCode> errorAnswered) {
    this((BusLogging) system.log(), ((ExtendedActorSystem) system).logFilter(), errorAnswered);
  }

  private ParsingErrorsLog(BusLogging systemLog, org.apache.pekko.event.LoggingFilter filter, Consumer<ErrorCode> errorAnswered) {
    super(systemLog.bus(), systemLog.logSource(), systemLog.logClass(), filter);
    this.errorAnswered = errorAnswered;
  }

  /** An error answer for a request Pekko HTTP could not parse is about to be written. */
  void errorAnswered(ErrorCode code) {
    errorAnswered.accept(code);
  }
}
