package pekkopubsub.http;

import java.util.ArrayDeque;
import java.util.Optional;
import org.apache.pekko.http.javadsl.TimeoutAccess;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.BidiShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import scala.concurrent.duration.Duration;

/**
 * Between Pekko HTTP's server layer and the routes: passes requests and answers through, and
 * cancels the request timeout of every request its connection's stream ends without answering.
 *
 * <p>Why: Pekko HTTP cancels a request's timeout only when the answer passes its timeout stage
 * (HttpServerBluePrint.RequestTimeoutSupport, 1.3.0 and its main branch). A client that reset or
 * closed its connection with pipelined requests unanswered ended the stream at once, but each such
 * request's timer stayed scheduled for the whole request timeout (10 s), holding the connection's
 * stream graph in memory, and then logged "Request timeout encountered for request [...]" at INFO
 * from Pekko's default timeout handler, for a request nobody was waiting for.
 *
 * <pre>
 *   Pekko HTTP -> requests  -> [this] -> routes
 *   Pekko HTTP <- answers   <- [this] <- routes
 * </pre>
 */
final class UnansweredRequests extends GraphStage<BidiShape<HttpRequest, HttpRequest, HttpResponse, HttpResponse>> {

  private final Inlet<HttpRequest> requestsIn = Inlet.create("UnansweredRequests.requestsIn");
  private final Outlet<HttpRequest> requestsOut = Outlet.create("UnansweredRequests.requestsOut");
  private final Inlet<HttpResponse> answersIn = Inlet.create("UnansweredRequests.answersIn");
  private final Outlet<HttpResponse> answersOut = Outlet.create("UnansweredRequests.answersOut");
  private final BidiShape<HttpRequest, HttpRequest, HttpResponse, HttpResponse> shape =
      BidiShape.of(requestsIn, requestsOut, answersIn, answersOut);

  @Override
  public BidiShape<HttpRequest, HttpRequest, HttpResponse, HttpResponse> shape() {
    return shape;
  }

  @Override
  public GraphStageLogic createLogic(Attributes inheritedAttributes) {
    return new GraphStageLogic(shape) {
      /** One entry per request passed on and not yet answered, in order; empty when it has no timeout. */
      private final ArrayDeque<Optional<TimeoutAccess>> unanswered = new ArrayDeque<>();

      {
        setHandler(requestsIn, new AbstractInHandler() {
          @Override public void onPush() {
            HttpRequest request = grab(requestsIn);
            unanswered.add(request.getHeader(org.apache.pekko.http.javadsl.model.headers.TimeoutAccess.class)
                .map(org.apache.pekko.http.javadsl.model.headers.TimeoutAccess::timeoutAccess));
            push(requestsOut, request);
          }
          @Override public void onUpstreamFinish() { complete(requestsOut); }
          @Override public void onUpstreamFailure(Throwable cause) { fail(requestsOut, cause); }
        });
        setHandler(requestsOut, new AbstractOutHandler() {
          @Override public void onPull() { pull(requestsIn); }
          @Override public void onDownstreamFinish(Throwable cause) { cancel(requestsIn, cause); }
        });
        setHandler(answersIn, new AbstractInHandler() {
          @Override public void onPush() {
            unanswered.poll();
            push(answersOut, grab(answersIn));
          }
          @Override public void onUpstreamFinish() { complete(answersOut); }
          @Override public void onUpstreamFailure(Throwable cause) { fail(answersOut, cause); }
        });
        setHandler(answersOut, new AbstractOutHandler() {
          @Override public void onPull() { pull(answersIn); }
          @Override public void onDownstreamFinish(Throwable cause) { cancel(answersIn, cause); }
        });
      }

      @Override
      public void postStop() {
        // An infinite timeout cancels the scheduled one and schedules none; one that already fired
        // is left as it was, and its answer goes to a stage that has stopped.
        for (Optional<TimeoutAccess> timeout : unanswered) timeout.ifPresent(t -> t.updateTimeout(Duration.Inf()));
        unanswered.clear();
      }
    };
  }
}
