package pekkopubsub.http;

import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongConsumer;
import java.util.function.Supplier;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.BidiShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.stage.AsyncCallback;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.stream.stage.InHandler;
import org.apache.pekko.stream.stage.OutHandler;
import org.apache.pekko.stream.stage.TimerGraphStageLogic;
import org.apache.pekko.util.ByteString;
import pekkopubsub.connection.ConnectionRegistry;
import pekkopubsub.connection.NegotiatedExtensions;
import pekkopubsub.protocol.ErrorCode;

/**
 * The first stage of every TCP connection the {@link FrontDoor} accepts. It reads the request
 * head; a valid upgrade to {@code /ws} is admitted, answered 101 and from then on the gate passes
 * bytes between the socket and the connection's stages (fused with it: no asynchronous boundary
 * per frame). Anything else, including every error case, goes with the bytes read so far to a
 * Pekko HTTP server flow materialized on demand, once admitted among the HTTP connections (past
 * their limit it is answered 503 here, a health probe excepted). A connection that has not sent a whole request
 * head within the head timeout is closed: nothing else bounds it before either of the two takes it.
 * The bytes that go on to Pekko HTTP pass a {@link HeaderLineEnds}, for the heads after the first.
 *
 * <pre>
 *   socket -> fromClient -> [gate] -> toWebSocket   -> frame decoder, Connection
 *   socket <- toClient   <- [gate] <- fromWebSocket <- Connection
 * </pre>
 */
final class UpgradeGate extends GraphStage<BidiShape<ByteString, ByteString, ByteString, ByteString>> {

  private final Inlet<ByteString> fromClient = Inlet.create("UpgradeGate.fromClient");
  private final Outlet<ByteString> toWebSocket = Outlet.create("UpgradeGate.toWebSocket");
  private final Inlet<ByteString> fromWebSocket = Inlet.create("UpgradeGate.fromWebSocket");
  private final Outlet<ByteString> toClient = Outlet.create("UpgradeGate.toClient");
  private final BidiShape<ByteString, ByteString, ByteString, ByteString> shape =
      BidiShape.of(fromClient, toWebSocket, fromWebSocket, toClient);

  private final ApiKeys apiKeys;
  private final Supplier<CompletionStage<ConnectionRegistry.Admission>> admit;
  private final LongConsumer withdraw;
  private final Function<Boolean, CompletionStage<HttpConnections.Admission>> admitHttp;
  private final LongConsumer httpClosed;
  private final Supplier<Flow<ByteString, ByteString, NotUsed>> http;
  private final Duration headTimeout;
  private final boolean deflate;
  private final NegotiatedExtensions extensions;
  private final Consumer<ErrorCode> errorAnswered;

  /**
   * {@code admit} asks the registry for a place, which the connection's own stages take over as
   * they register (with the ticket, through {@code extensions}); {@code withdraw} gives it back
   * when the client leaves before that; {@code admitHttp} asks for a place among the
   * connections Pekko HTTP serves (saying whether the request is a health probe), and
   * {@code httpClosed} gives it back; {@code http} makes a Pekko HTTP server flow;
   * {@code headTimeout} (zero: none) bounds the time from accept to a complete request head;
   * {@code deflate} allows permessage-deflate, and {@code extensions} hears what was agreed;
   * {@code errorAnswered} hears the code of each error answer the gate writes itself.
   */
  UpgradeGate(
      ApiKeys apiKeys,
      Supplier<CompletionStage<ConnectionRegistry.Admission>> admit,
      LongConsumer withdraw,
      Function<Boolean, CompletionStage<HttpConnections.Admission>> admitHttp,
      LongConsumer httpClosed,
      Supplier<Flow<ByteString, ByteString, NotUsed>> http,
      Duration headTimeout,
      boolean deflate,
      NegotiatedExtensions extensions,
      Consumer<ErrorCode> errorAnswered) {
    this.apiKeys = apiKeys;
    this.admit = admit;
    this.withdraw = withdraw;
    this.admitHttp = admitHttp;
    this.httpClosed = httpClosed;
    this.http = http;
    this.headTimeout = headTimeout;
    this.deflate = deflate;
    this.extensions = extensions;
    this.errorAnswered = errorAnswered;
  }

  @Override
  public BidiShape<ByteString, ByteString, ByteString, ByteString> shape() {
    return shape;
  }

  /** ANSWERED: the gate answered the request itself and closes the connection once that is written. */
  private enum State { READING_HEAD, ADMITTING, WEBSOCKET, ADMITTING_HTTP, HTTP, ANSWERED }

  @Override
  public GraphStageLogic createLogic(Attributes inheritedAttributes) {
    return new Logic();
  }

  private enum HeadDeadline { INSTANCE }

  private final class Logic extends TimerGraphStageLogic {
    private State state = State.READING_HEAD;
    private ByteString head = ByteString.emptyByteString();
    /** How much of a head that is not an upgrade has been searched for its end. */
    private int scannedForHeadEnd;
    private WebSocketHandshake.Upgrade upgrade;
    private long reservation;
    /** The place {@code admitHttp} gave this connection; 0 while it has none. */
    private long httpTicket;
    /** While admitting: the head made to close its connection after the answer, if it is a health probe; else null. */
    private ByteString healthProbe;
    private SubSourceOutlet<ByteString> toHttp;
    private SubSinkInlet<ByteString> fromHttp;
    /** Pekko HTTP serves one health probe without a place, and nothing after it. */
    private boolean probeOnly;
    /** What was read before the hand-over to Pekko HTTP and is not yet passed on. */
    private ByteString toHttpPending;
    /** Makes the heads after the first readable to Pekko HTTP; null once there is nothing more to watch. */
    private HeaderLineEnds lineEnds;
    private final AsyncCallback<Object> admitted = createAsyncCallback(this::onAdmission);
    private final AsyncCallback<Object> httpAdmitted = createAsyncCallback(this::onHttpAdmission);

    Logic() {
      super(shape);
      setHandler(fromClient, new InHandler() {
        @Override public void onPush() { onClientBytes(grab(fromClient)); }
        @Override public void onUpstreamFinish() { onClientFinished(null); }
        @Override public void onUpstreamFailure(Throwable cause) { onClientFinished(cause); }
      });
      setHandler(toClient, new OutHandler() {
        @Override public void onPull() { onClientDemand(); }
        @Override public void onDownstreamFinish(Throwable cause) { onClientGone(cause); }
      });
      setHandler(toWebSocket, new OutHandler() {
        @Override public void onPull() { if (state == State.WEBSOCKET) pullClient(); }
        @Override public void onDownstreamFinish(Throwable cause) { cancel(fromClient, cause); }
      });
      setHandler(fromWebSocket, new InHandler() {
        @Override public void onPush() { push(toClient, grab(fromWebSocket)); }
        @Override public void onUpstreamFinish() { complete(toClient); }
        @Override public void onUpstreamFailure(Throwable cause) { fail(toClient, cause); }
      });
    }

    @Override
    public void preStart() {
      if (!headTimeout.isZero()) scheduleOnce(HeadDeadline.INSTANCE, headTimeout);
      pull(fromClient);
    }

    @Override
    public void postStop() {
      if (httpTicket != 0) httpClosed.accept(httpTicket);
      // Admitted, but the client left before its connection opened: the place is free at once,
      // not when the reservation expires (clients aborting upgrades held every place for seconds).
      if (reservation != 0) withdraw.accept(reservation);
    }

    @Override
    public void onTimer(Object key) {
      // A silent or trickling client: closed without an answer, as its request never arrived.
      if (state == State.READING_HEAD) completeStage();
    }

    private void onClientBytes(ByteString bytes) {
      switch (state) {
        case WEBSOCKET -> push(toWebSocket, bytes);
        case HTTP -> toHttp(bytes);
        // not pulled while admitting: a client that sends before its 101 waits for it
        case READING_HEAD, ADMITTING -> examine(head.concat(bytes));
        case ADMITTING_HTTP, ANSWERED -> { }
      }
    }

    private void examine(ByteString bytes) {
      // RFC 9112 2.2: empty lines before a request line are ignored (Pekko HTTP would wait on them).
      head = WebSocketHandshake.withoutLeadingLineBreaks(bytes);
      if (head.isEmpty()) {
        pull(fromClient);
        return;
      }
      bytes = head;
      WebSocketHandshake.Verdict verdict = WebSocketHandshake.examine(bytes, apiKeys, deflate);
      if (verdict instanceof WebSocketHandshake.Upgrade recognized) {
        cancelTimer(HeadDeadline.INSTANCE);
        state = State.ADMITTING;
        upgrade = recognized;
        admit.get().whenCompleteAsync((admission, failure) -> handOver(admitted, admission != null ? admission : failure,
            admission instanceof ConnectionRegistry.Admitted place ? place.ticket() : 0, withdraw), CompletingThread.INSTANCE);
      } else if (verdict == WebSocketHandshake.Incomplete.INSTANCE) {
        pull(fromClient);
      } else if (!WebSocketHandshake.headComplete(bytes, scannedForHeadEnd)) {
        // Pekko HTTP bounds no request head in time: a client trickling the head of a REST request
        // would hold its connection for as long as it keeps trickling. The head deadline holds it here.
        scannedForHeadEnd = bytes.length();
        pull(fromClient);
      } else if (!WebSocketHandshake.startsWithRequestLine(bytes)) {
        // Pekko HTTP reads a first line without a space as the start of a method and waits for
        // the rest of it until its idle timeout: two minutes for a line of garbage.
        answer(WebSocketHandshake.badRequestLine());
      } else {
        String unreadable = WebSocketHandshake.unreadableLineEnd(bytes);
        if (unreadable != null) answer(WebSocketHandshake.unreadableHead(unreadable));
        else handToHttp();
      }
    }

    /** Answers the request here, without Pekko HTTP, and closes the connection once that is written. */
    private void answer(WebSocketHandshake.ErrorAnswer answer) {
      cancelTimer(HeadDeadline.INSTANCE);
      complete(toWebSocket);
      cancel(fromWebSocket);
      answerAndClose(answer);
    }

    private void answerAndClose(WebSocketHandshake.ErrorAnswer answer) {
      state = State.ANSWERED;
      errorAnswered.accept(answer.code());
      emit(toClient, answer.bytes(), this::completeStage);
    }

    /**
     * Gives an admission's answer to this stage through {@code callback}; a place granted (its
     * {@code ticket}, 0 for none) after the stage stopped, its client gone (a reset right after its
     * request), is given back at once with {@code giveBack} rather than when it expires or never.
     */
    private void handOver(AsyncCallback<Object> callback, Object answer, long ticket, LongConsumer giveBack) {
      callback.invokeWithFeedbackCompletionStage(answer).whenCompleteAsync((done, stopped) -> {
        if (stopped != null && ticket != 0) giveBack.accept(ticket);
      }, CompletingThread.INSTANCE);
    }

    private void onAdmission(Object admission) {
      if (!(admission instanceof ConnectionRegistry.Admitted admitted)) {
        // Refused or no answer: the /ws route asks again and answers 503 with its reason.
        handToHttp();
        return;
      }
      state = State.WEBSOCKET;
      ByteString early = head.drop(upgrade.headLength());
      head = ByteString.emptyByteString();
      reservation = admitted.ticket();
      extensions.agreed(upgrade.deflate());
      extensions.admitted(reservation);
      emit(toClient, upgrade.response());
      if (!early.isEmpty()) emit(toWebSocket, early);
      if (isClosed(fromClient)) {
        complete(toWebSocket);
      } else if (isAvailable(toWebSocket) && early.isEmpty()) {
        pullClient();
      }
    }

    private void pullClient() {
      if (!hasBeenPulled(fromClient) && !isClosed(fromClient)) pull(fromClient);
    }

    private void onClientDemand() {
      if (state == State.WEBSOCKET) {
        // The first pull opens the connection's stages, which register with the reservation's
        // ticket: the place passes from one to the other in one message to the registry.
        pull(fromWebSocket);
        reservation = 0;
      }
      else if (state == State.HTTP && !fromHttp.hasBeenPulled() && !fromHttp.isClosed()) fromHttp.pull();
    }

    private void onClientFinished(Throwable cause) {
      switch (state) {
        case WEBSOCKET -> { if (cause == null) complete(toWebSocket); else fail(toWebSocket, cause); }
        case HTTP -> {
          if (toHttp.isClosed()) return;
          if (cause != null) {
            toHttp.fail(cause);
            return;
          }
          // a lead byte held back at the very end goes as it is: Pekko HTTP answers a head cut short
          ByteString held = lineEnds != null ? lineEnds.rest() : ByteString.emptyByteString();
          if (!held.isEmpty()) toHttpPending = toHttpPending == null ? held : toHttpPending.concat(held);
          if (toHttpPending == null) {
            toHttp.complete();
          } else if (toHttp.isAvailable()) {
            toHttp.push(toHttpPending);
            toHttpPending = null;
            toHttp.complete();
          }
          // else the pending bytes go first, then the completion (toHttp's onPull)
        }
        // a client that sent its request and half-closed still gets the answer
        case ADMITTING_HTTP -> { if (cause != null) completeStage(); }
        // the answer being written ends the stage
        case ANSWERED -> { }
        default -> completeStage();
      }
    }

    private void onClientGone(Throwable cause) {
      if (state == State.HTTP) fromHttp.cancel(cause);
      else if (state == State.WEBSOCKET) cancel(fromWebSocket, cause);
      else cancelStage(cause);
    }

    /** Asks for a place among the HTTP connections; Pekko HTTP serves this one once it has it. */
    private void handToHttp() {
      cancelTimer(HeadDeadline.INSTANCE);
      complete(toWebSocket);
      cancel(fromWebSocket);
      state = State.ADMITTING_HTTP;
      healthProbe = WebSocketHandshake.asHealthProbe(head);
      admitHttp.apply(healthProbe != null).whenCompleteAsync((admission, failure) -> handOver(httpAdmitted,
          admission != null ? admission : failure, admission instanceof HttpConnections.Admitted place ? place.ticket() : 0, httpClosed),
          CompletingThread.INSTANCE);
    }

    private void onHttpAdmission(Object admission) {
      if (admission instanceof HttpConnections.Admitted admitted) {
        httpTicket = admitted.ticket();
        serveHttp();
        return;
      }
      if (healthProbe != null) {
        // Answered without a place, and closed after the answer: a server whose places are all
        // taken (by idle kept-alive clients, say) still answers its orchestrator's probes. Pekko
        // HTTP gets the probe alone and then the end of its input: an HTTP/1.0 probe asking to be
        // kept alive overrode the Connection: close, and every later request on it was served.
        head = healthProbe;
        probeOnly = true;
        serveHttp();
        return;
      }
      String reason = admission instanceof HttpConnections.Refused refused
          ? refused.reason() : "the server is too busy to accept a connection";
      answerAndClose(WebSocketHandshake.serviceUnavailable(reason));
    }

    /**
     * Passes bytes the client sent on to Pekko HTTP, with each header line it would misread made
     * readable ({@link HeaderLineEnds}); the gate read only the first head.
     */
    private void toHttp(ByteString bytes) {
      ByteString readable = readable(bytes);
      if (readable.isEmpty()) pull(fromClient);
      else toHttp.push(readable);
    }

    /** {@code bytes} as Pekko HTTP gets them: through {@link #lineEnds} while it watches. */
    private ByteString readable(ByteString bytes) {
      if (lineEnds == null) return bytes;
      ByteString readable = lineEnds.next(bytes);
      if (lineEnds.passing()) lineEnds = null;
      return readable;
    }

    /** From here on Pekko HTTP serves the connection, starting with the bytes read so far. */
    private void serveHttp() {
      state = State.HTTP;
      lineEnds = probeOnly ? null : new HeaderLineEnds();
      toHttpPending = readable(head);
      head = ByteString.emptyByteString();
      healthProbe = null;
      toHttp = new SubSourceOutlet<>("UpgradeGate.toHttp");
      fromHttp = new SubSinkInlet<>("UpgradeGate.fromHttp");
      toHttp.setHandler(new OutHandler() {
        @Override public void onPull() {
          if (toHttpPending != null) {
            toHttp.push(toHttpPending);
            toHttpPending = null;
            if (isClosed(fromClient) || probeOnly) toHttp.complete();
          } else if (isClosed(fromClient)) {
            toHttp.complete();
          } else {
            pull(fromClient);
          }
        }

        @Override public void onDownstreamFinish(Throwable cause) { cancel(fromClient, cause); }
      });
      fromHttp.setHandler(new InHandler() {
        @Override public void onPush() { push(toClient, fromHttp.grab()); }
        @Override public void onUpstreamFinish() { completeStage(); }
        @Override public void onUpstreamFailure(Throwable cause) { failStage(cause); }
      });
      Source.fromGraph(toHttp.source()).via(http.get()).runWith(fromHttp.sink(), subFusingMaterializer());
      if (isAvailable(toClient)) fromHttp.pull();
    }
  }
}
