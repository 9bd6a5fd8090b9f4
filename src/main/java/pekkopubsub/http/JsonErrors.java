package pekkopubsub.http;

import org.apache.pekko.http.javadsl.model.AttributeKey;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.model.headers.Connection;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;
import org.apache.pekko.http.scaladsl.model.IllegalRequestException;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.util.ByteString;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import pekkopubsub.protocol.ErrorCode;
import pekkopubsub.protocol.JsonCodec;
import pekkopubsub.protocol.Outbound;
import pekkopubsub.protocol.Rest;

/** Turns every HTTP failure (rejections, exceptions, our own errors) into {@code {"error":{"code","message"}}}. */
public final class JsonErrors {
  private static final Logger log = LoggerFactory.getLogger(JsonErrors.class);

  private JsonErrors() {}

  /** The contract code of an error response, carried beside it, so that it is counted without reading the body back. */
  static final AttributeKey<ErrorCode> ERROR_CODE = AttributeKey.create("pubsub-error-code", ErrorCode.class);

  public static HttpResponse response(StatusCode status, ErrorCode code, String message) {
    return HttpResponse.create().withStatus(status).withEntity(ContentTypes.APPLICATION_JSON, body(code, message))
        .addAttribute(ERROR_CODE, code);
  }

  /** The body of every error response: {@code {"error":{"code","message"}}}. */
  static ByteString body(ErrorCode code, String message) {
    return JsonCodec.encode(new Rest.ErrorResponse(new Outbound.ErrorBody(code, message)));
  }

  /** Pekko's own rejection handling (404, 405, 400...), with each plain-text answer rewritten as JSON. */
  public static RejectionHandler rejectionHandler() {
    return RejectionHandler.defaultHandler().mapRejectionResponse(JsonErrors::asJson);
  }

  public static ExceptionHandler exceptionHandler() {
    return ExceptionHandler.newBuilder()
        .match(IllegalRequestException.class, JsonErrors::illegalRequest)
        .match(EntityStreamSizeException.class, e -> org.apache.pekko.http.javadsl.server.Directives.complete(
            response(StatusCodes.PAYLOAD_TOO_LARGE, ErrorCode.PAYLOAD_TOO_LARGE, "the request body"
                + (e.actualSize().isDefined() ? " of " + e.actualSize().get() + " bytes" : "")
                + " is larger than the limit of " + e.limit() + " bytes")))
        .match(Socket.SocketException.class, JsonErrors::connectionLost)
        .match(TimeoutException.class, JsonErrors::notAnsweredInTime)
        .match(CompletionException.class, e -> e.getCause() instanceof TimeoutException timeout, e -> notAnsweredInTime((TimeoutException) e.getCause()))
        .matchAny(e -> {
          log.error("request failed", e);
          return org.apache.pekko.http.javadsl.server.Directives.complete(
              response(StatusCodes.INTERNAL_SERVER_ERROR, ErrorCode.INTERNAL, "internal error"));
        })
        .build();
  }

  /**
   * The actors did not answer within the ask timeout: the server is overloaded, not broken, so the
   * client is told to come back (503, as for a full connection limit) and the log gets one line
   * without a stack trace, where every such request logged an ERROR with one and answered 500.
   */
  private static Route notAnsweredInTime(TimeoutException e) {
    log.warn("request not answered within the ask timeout: {}", e.getMessage());
    return org.apache.pekko.http.javadsl.server.Directives.complete(
        response(StatusCodes.SERVICE_UNAVAILABLE, ErrorCode.INTERNAL, "the server did not answer in time; try again")
            .addHeader(RawHeader.create("Retry-After", "1")));
  }

  /**
   * The client's connection failed (a reset, say) while its request body was read: the client's
   * doing, not the server's, and no answer reaches it. Not counted, as no error was answered.
   */
  private static Route connectionLost(Socket.SocketException e) {
    log.debug("request body lost: {}", e.getMessage());
    return org.apache.pekko.http.javadsl.server.Directives.complete(
        HttpResponse.create().withStatus(StatusCodes.BAD_REQUEST).withEntity(ContentTypes.APPLICATION_JSON,
            body(ErrorCode.BAD_REQUEST, "the connection was lost while the request body was read")));
  }

  /** A request Pekko HTTP found at fault while a route read it, answered with Pekko's status and summary. */
  private static Route illegalRequest(IllegalRequestException e) {
    StatusCode status = e.status();
    if (status.equals(StatusCodes.REQUEST_TIMEOUT)) {
      // The body did not arrive in time (RFC 9110 15.5.9): the rest of it would be read as the next
      // request, so the connection closes.
      log.debug("request body timed out: {}", e.getMessage());
      return org.apache.pekko.http.javadsl.server.Directives.complete(
          response(status, ErrorCode.BAD_REQUEST, "the request body did not arrive in time").addHeader(Connection.create("close")));
    }
    return org.apache.pekko.http.javadsl.server.Directives.complete(response(status, codeFor(status), e.info().summary()));
  }

  private static HttpResponse asJson(HttpResponse response) {
    if (response.entity().getContentType().equals(ContentTypes.APPLICATION_JSON)) return response;
    String text = response.entity() instanceof HttpEntity.Strict strict
        ? strict.getData().utf8String().replace('\n', ' ') : response.status().reason();
    // The contract's failures of a request with a body are 400 ("bad name or body"), and a body
    // that is not declared JSON is a bad body; Pekko would answer 415.
    StatusCode status = response.status().equals(StatusCodes.UNSUPPORTED_MEDIA_TYPE) ? StatusCodes.BAD_REQUEST : response.status();
    // Pekko's headers are part of the answer: a 405's Allow is required (RFC 9110 15.5.6).
    List<HttpHeader> headers = new ArrayList<>();
    for (HttpHeader header : response.getHeaders()) {
      if (!header.is("allow")) {
        headers.add(header);
        continue;
      }
      HttpHeader allow = withHead(header);
      headers.add(allow);
      // Pekko's message lists the methods its routes named; the body says what Allow says.
      text = text.replace("supported methods: " + header.value(), "supported methods: " + allow.value());
    }
    return response(status, codeFor(status), text).addHeaders(headers);
  }

  /** HEAD is answered wherever GET is (Routes.headAsGet), so an Allow that lists GET lists HEAD too (RFC 9110 10.2.1). */
  private static HttpHeader withHead(HttpHeader allow) {
    List<String> methods = List.of(allow.value().split(",\\s*"));
    return methods.contains("GET") && !methods.contains("HEAD") ? RawHeader.create("Allow", allow.value() + ", HEAD") : allow;
  }

  static ErrorCode codeFor(StatusCode status) {
    if (status.equals(StatusCodes.UNAUTHORIZED)) return ErrorCode.UNAUTHORIZED;
    if (status.equals(StatusCodes.PAYLOAD_TOO_LARGE)) return ErrorCode.PAYLOAD_TOO_LARGE;
    if (status.equals(StatusCodes.TOO_MANY_REQUESTS)) return ErrorCode.RATE_LIMITED;
    return status.isFailure() && status.intValue() >= 500 ? ErrorCode.INTERNAL : ErrorCode.BAD_REQUEST;
  }
}
