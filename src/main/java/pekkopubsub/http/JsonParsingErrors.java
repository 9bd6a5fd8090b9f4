package pekkopubsub.http;

import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.http.ParsingErrorHandler;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.scaladsl.model.ErrorInfo;
import org.apache.pekko.http.scaladsl.model.StatusCode;
import org.apache.pekko.http.scaladsl.settings.ServerSettings;
import pekkopubsub.protocol.ErrorCode;

/**
 * Pekko HTTP's answer to a request it cannot parse (bad request line, unknown method, oversized
 * header, unsupported version), as a JSON error like every other: Pekko's own is plain text and
 * logged at WARN, once per bad request from anyone. Configured as
 * {@code pekko.http.server.parsing.error-handler}; loaded by Pekko through its no-argument constructor.
 * Counted in {@code pubsub_errors_total} through the server layer's log ({@link ParsingErrorsLog}).
 */
public final class JsonParsingErrors extends ParsingErrorHandler {
  /** How Pekko HTTP's parser (HttpMessageParser, 1.3.0) begins the summary of a head with more header lines than max-header-count. */
  static final String TOO_MANY_HEADERS = "HTTP message contains more than the configured limit of";

  @Override
  public HttpResponse handle(StatusCode status, ErrorInfo info, LoggingAdapter log, ServerSettings settings) {
    String message = info.formatPretty();
    StatusCode answered = tooManyHeaders(status, info)
        ? org.apache.pekko.http.scaladsl.model.StatusCodes.RequestHeaderFieldsTooLarge() : status;
    log.debug("unparsable request answered {}: {}", answered.intValue(), message);
    ErrorCode code = codeFor(answered);
    // Rendered by Pekko HTTP's server layer, this answer never passes the routes, which count theirs.
    if (log instanceof ParsingErrorsLog counting) counting.errorAnswered(code);
    return JsonErrors.response(answered, code, message);
  }

  /**
   * RFC 6585 5: a head with too many header lines is what 431 is for. Pekko HTTP answers it 400,
   * which tells a client or proxy only that it is at fault, not that a shorter head (fewer cookies,
   * say) would pass.
   */
  private static boolean tooManyHeaders(StatusCode status, ErrorInfo info) {
    return status.intValue() == 400 && info.summary().startsWith(TOO_MANY_HEADERS);
  }

  /** The request was at fault, whatever status Pekko chose (501 unknown method, 505 version...). */
  static ErrorCode codeFor(org.apache.pekko.http.javadsl.model.StatusCode status) {
    return status.equals(StatusCodes.PAYLOAD_TOO_LARGE) ? ErrorCode.PAYLOAD_TOO_LARGE : ErrorCode.BAD_REQUEST;
  }
}
