package pekkopubsub.http;

import java.nio.ByteBuffer;
import java.util.function.Supplier;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.BidiShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.StreamIdleTimeoutException;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.stream.stage.InHandler;
import org.apache.pekko.stream.stage.OutHandler;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection's TLS session, fused with its socket: plaintext on the left (to send, top;
 * received, bottom), ciphertext on the right.
 *
 * <p>Why not Pekko's {@code TLS} stage: it runs every session in an actor of its own, behind an
 * asynchronous boundary (two more mailbox hops per write), and gives each session four fixed
 * buffers of 17-35 KB, about 130 KB of memory per idle connection against 12 KB without TLS. Here
 * the engine works in buffers that belong to the thread and are used within one call, so a
 * session keeps only its engine and a partial record, if any (see docs/performance-history.md).
 *
 * <p>Closing: when the plaintext to send ends, what is left is sent, then close_notify, then the
 * ciphertext side completes (so the socket closes) without waiting for the peer's close_notify,
 * which a client that never handshook would never send. When the ciphertext received ends, or the
 * peer's close_notify arrives, the received plaintext completes. A session that fails (a handshake
 * refused, a record that does not decrypt) sends its alert, then ends both sides as a close does.
 *
 * <p>The engine is the JDK's or Conscrypt's ({@link TlsContext}). Where they differ the stage keeps
 * to the {@code SSLEngine} contract rather than either's habits: it wraps until the outbound side
 * is done after closing it, counts a handshake that finishes as progress even when no bytes
 * moved, and releases the engine when the stage stops.
 */
final class TlsStage extends GraphStage<BidiShape<ByteString, ByteString, ByteString, ByteString>> {

  private static final Logger log = LoggerFactory.getLogger(TlsStage.class);

  /** Room for one TLS record and a little more, as the JDK reports it; grown when it asks for more. */
  private static final int INITIAL_RECORD_ROOM = 17 * 1024;
  /** The most plaintext one TLS record carries (RFC 8446 5.1). */
  private static final int MAX_RECORD_PLAINTEXT = 16 * 1024;

  /** The engine's working buffers, one set per thread: used within one call and never kept by a session. */
  private static final class Scratch {
    ByteBuffer ciphertext = ByteBuffer.allocate(4 * INITIAL_RECORD_ROOM);
    ByteBuffer record = ByteBuffer.allocate(INITIAL_RECORD_ROOM);
    ByteBuffer plaintext = ByteBuffer.allocate(INITIAL_RECORD_ROOM);
    // Plaintext is copied here, up to four full records at a time: wrapping the frames' own buffers
    // would allocate three views per frame, per delivery.
    final ByteBuffer[] toEncrypt = {ByteBuffer.allocate(4 * MAX_RECORD_PLAINTEXT)};
  }

  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);
  private static final ByteBuffer[] NOTHING = {ByteBuffer.allocate(0)};

  private final Inlet<ByteString> plaintextToSend = Inlet.create("Tls.plaintextToSend");
  private final Outlet<ByteString> ciphertextToSend = Outlet.create("Tls.ciphertextToSend");
  private final Inlet<ByteString> ciphertextReceived = Inlet.create("Tls.ciphertextReceived");
  private final Outlet<ByteString> plaintextReceived = Outlet.create("Tls.plaintextReceived");
  private final BidiShape<ByteString, ByteString, ByteString, ByteString> shape =
      BidiShape.of(plaintextToSend, ciphertextToSend, ciphertextReceived, plaintextReceived);
  /** Hears of every session the engine refused or broke off, once. */
  interface Failures {
    void failed(boolean duringHandshake);
  }

  private final Supplier<SSLEngine> engines;
  private final Failures failures;
  private final WritingEnds writingEnds;

  /**
   * {@code engines} makes the session's engine, in server or client mode, when the stage starts;
   * {@code writingEnds} tells the socket below when the plaintext to send has ended.
   */
  TlsStage(Supplier<SSLEngine> engines, Failures failures, WritingEnds writingEnds) {
    this.engines = engines;
    this.failures = failures;
    this.writingEnds = writingEnds;
  }

  @Override
  public BidiShape<ByteString, ByteString, ByteString, ByteString> shape() {
    return shape;
  }

  @Override
  public GraphStageLogic createLogic(Attributes inheritedAttributes) {
    return new Logic();
  }

  private final class Logic extends GraphStageLogic {
    private SSLEngine engine;
    /** Ciphertext received but not yet decrypted: a partial record. */
    private ByteString undecrypted = ByteString.emptyByteString();
    /** Ciphertext waiting for the socket to ask for it. */
    private ByteString toSend = ByteString.emptyByteString();
    /** Plaintext decrypted but not yet asked for. */
    private ByteString decrypted = ByteString.emptyByteString();
    /** The last unwrap lacked the rest of a record: wait for more ciphertext before trying again. */
    private boolean awaitingRecord;
    private boolean handshaken;
    private boolean receivingEnded;
    /** The session failed: nothing more goes through the engine; what it had to send is sent, then the close. */
    private boolean failed;
    /**
     * closeOutbound was called: wrap until the engine's outbound is done. The JDK's engine then asks
     * to wrap; Conscrypt's says it is not handshaking and leaves close_notify to the caller's loop.
     */
    private boolean closingOutbound;

    Logic() {
      super(shape);
      setHandler(plaintextToSend, new InHandler() {
        @Override
        public void onPush() {
          encrypt(grab(plaintextToSend));
        }

        @Override
        public void onUpstreamFinish() {
          closeOutbound();
          advance();
          // The socket has not taken the last records: it is writing what came before to a peer
          // that may have stopped reading. Until these records are handed on, the socket cannot
          // know that nothing follows them, and bounds what it holds as it would without TLS.
          if (!isClosed(ciphertextToSend)) writingEnds.announce();
        }

        @Override
        public void onUpstreamFailure(Throwable cause) {
          if (!(cause instanceof StreamIdleTimeoutException)) {
            failStage(cause);
            return;
          }
          // As the socket does without TLS: an idle REST connection is closed, not reset, unless
          // what is left to send shows that its client stopped reading.
          closeOutbound();
          advance();
          if (!isClosed(ciphertextToSend)) failStage(cause);
        }
      });
      setHandler(ciphertextToSend, new OutHandler() {
        @Override
        public void onPull() {
          advance();
        }
      });
      setHandler(ciphertextReceived, new InHandler() {
        @Override
        public void onPush() {
          undecrypted = undecrypted.concat(grab(ciphertextReceived));
          awaitingRecord = false;
          advance();
        }

        @Override
        public void onUpstreamFinish() {
          endReceiving();
          try {
            engine.closeInbound();
          } catch (SSLException truncated) {
            // The peer closed its connection without close_notify; what arrived before still counts.
          }
          advance();
        }
      });
      setHandler(plaintextReceived, new OutHandler() {
        @Override
        public void onPull() {
          advance();
        }

        @Override
        public void onDownstreamFinish(Throwable cause) {
          endReceiving();
          cancel(ciphertextReceived, cause);
          advance();
        }
      });
    }

    @Override
    public void preStart() {
      try {
        engine = engines.get();
        engine.beginHandshake();
      } catch (SSLException | RuntimeException e) {
        failStage(e);
        return;
      }
      advance();
    }

    @Override
    public void postStop() {
      if (engine != null) TlsContext.release(engine, SCRATCH.get().record);
    }

    /** Encrypts one push of plaintext into records, in order, behind what is already to send. */
    private void encrypt(ByteString plaintext) {
      ByteBuffer[] sources = SCRATCH.get().toEncrypt;
      int chunk = sources[0].capacity();
      // A wrap that moves nothing ends the push: encrypting a later chunk after it would leave a gap.
      boolean stalled = false;
      for (int from = 0; from < plaintext.size() && !stalled && !failed && !engine.isOutboundDone(); from += chunk) {
        sources[0].clear();
        (plaintext.size() <= chunk ? plaintext : plaintext.slice(from, from + chunk)).copyToBuffer(sources[0]);
        sources[0].flip();
        try {
          while (sources[0].hasRemaining() && !engine.isOutboundDone() && !stalled) {
            stalled = !wrap(sources);
          }
        } catch (SSLException e) {
          sessionFailed(e);
        }
      }
      advance();
    }

    /**
     * Does whatever the engine and the ports allow now: runs the handshake's tasks, sends its
     * records, decrypts what has arrived; then hands on what is ready, completes the sides that
     * have ended and pulls where there is room.
     */
    private void advance() {
      if (!failed) {
        try {
          runEngine();
        } catch (SSLException e) {
          sessionFailed(e);
        }
      }
      if (!toSend.isEmpty() && isAvailable(ciphertextToSend)) {
        push(ciphertextToSend, toSend);
        toSend = ByteString.emptyByteString();
      }
      if (toSend.isEmpty() && (failed || engine.isOutboundDone()) && !isClosed(ciphertextToSend)) {
        complete(ciphertextToSend);
        if (!isClosed(plaintextToSend)) cancel(plaintextToSend);
      }
      if (!decrypted.isEmpty() && isAvailable(plaintextReceived)) {
        push(plaintextReceived, decrypted);
        decrypted = ByteString.emptyByteString();
      }
      if (decrypted.isEmpty() && receivingEnded && !isClosed(plaintextReceived)) complete(plaintextReceived);
      if (decrypted.isEmpty() && !receivingEnded && !hasBeenPulled(ciphertextReceived) && !isClosed(ciphertextReceived)) {
        pull(ciphertextReceived);
      }
      // Plaintext is taken only when the socket asks for more, so that what comes meanwhile gathers upstream.
      if (handshaken && toSend.isEmpty() && isAvailable(ciphertextToSend)
          && !hasBeenPulled(plaintextToSend) && !isClosed(plaintextToSend)) {
        pull(plaintextToSend);
      }
    }

    private void runEngine() throws SSLException {
      ByteBuffer received = null;
      if (!undecrypted.isEmpty() && !awaitingRecord && !engine.isInboundDone()) {
        received = load(undecrypted);
        undecrypted = ByteString.emptyByteString();
      }
      try {
        while (true) {
          HandshakeStatus status = engine.getHandshakeStatus();
          if (status == HandshakeStatus.NEED_TASK) {
            for (Runnable task = engine.getDelegatedTask(); task != null; task = engine.getDelegatedTask()) task.run();
          } else if (status == HandshakeStatus.NEED_WRAP || (closingOutbound && !engine.isOutboundDone())) {
            if (!wrap(NOTHING)) return;
          } else if (received != null && received.hasRemaining() && !engine.isInboundDone()) {
            if (!unwrap(received)) return;
          } else {
            if (status == HandshakeStatus.NOT_HANDSHAKING) handshaken = true;
            return;
          }
        }
      } finally {
        if (received != null && received.hasRemaining() && !engine.isInboundDone()) {
          undecrypted = ByteString.fromByteBuffer(received);
        }
      }
    }

    /** One record from {@code sources} (or a handshake record) onto what is to send; false when nothing moved. */
    private boolean wrap(ByteBuffer[] sources) throws SSLException {
      Scratch scratch = SCRATCH.get();
      scratch.record.clear();
      SSLEngineResult result = engine.wrap(sources, scratch.record);
      switch (result.getStatus()) {
        case BUFFER_OVERFLOW -> {
          scratch.record = ByteBuffer.allocate(Math.max(2 * scratch.record.capacity(), engine.getSession().getPacketBufferSize()));
          return true;
        }
        case BUFFER_UNDERFLOW -> throw new IllegalStateException("the TLS engine found nothing to wrap");
        default -> {
          scratch.record.flip();
          if (scratch.record.hasRemaining()) toSend = toSend.concat(ByteString.fromByteBuffer(scratch.record));
          boolean finished = result.getHandshakeStatus() == HandshakeStatus.FINISHED;
          if (finished) handshaken = true;
          // Conscrypt can finish the handshake in a wrap that moves no bytes; what has arrived after
          // the client's Finished (its first request) must still be decrypted.
          boolean moved = result.bytesConsumed() > 0 || result.bytesProduced() > 0 || finished;
          if (!moved && result.getStatus() == SSLEngineResult.Status.OK && engine.getHandshakeStatus() == HandshakeStatus.NEED_WRAP) {
            // A known JDK failure mode (akka/akka#29922): the engine asks to wrap and never produces.
            throw new SSLException("the TLS engine asks to wrap but produces nothing");
          }
          return moved;
        }
      }
    }

    /** Decrypts one record of {@code received} onto the plaintext received; false when it needs more. */
    private boolean unwrap(ByteBuffer received) throws SSLException {
      Scratch scratch = SCRATCH.get();
      scratch.plaintext.clear();
      SSLEngineResult result = engine.unwrap(received, scratch.plaintext);
      switch (result.getStatus()) {
        case BUFFER_UNDERFLOW -> {
          awaitingRecord = true;
          return false;
        }
        case BUFFER_OVERFLOW -> {
          scratch.plaintext = ByteBuffer.allocate(Math.max(2 * scratch.plaintext.capacity(), engine.getSession().getApplicationBufferSize()));
          return true;
        }
        default -> {
          scratch.plaintext.flip();
          if (scratch.plaintext.hasRemaining()) decrypted = decrypted.concat(ByteString.fromByteBuffer(scratch.plaintext));
          boolean finished = result.getHandshakeStatus() == HandshakeStatus.FINISHED;
          if (finished) handshaken = true;
          if (result.getStatus() == SSLEngineResult.Status.CLOSED) endReceiving();
          return result.bytesConsumed() > 0 || result.bytesProduced() > 0 || finished;
        }
      }
    }

    /** The ciphertext in this thread's buffer, writable: the engine decrypts in place. */
    private ByteBuffer load(ByteString ciphertext) {
      Scratch scratch = SCRATCH.get();
      if (scratch.ciphertext.capacity() < ciphertext.size()) {
        scratch.ciphertext = ByteBuffer.allocate(Math.max(2 * scratch.ciphertext.capacity(), ciphertext.size()));
      }
      scratch.ciphertext.clear();
      ciphertext.copyToBuffer(scratch.ciphertext);
      scratch.ciphertext.flip();
      return scratch.ciphertext;
    }

    /**
     * The engine refused the session: its alert, then close_notify, are sent before the close.
     * Nothing more is decrypted, and the plaintext received ends as if the peer had closed.
     */
    private void sessionFailed(SSLException cause) {
      log.debug("TLS session failed: {}", cause.toString());
      failures.failed(!handshaken);
      failed = true;
      undecrypted = ByteString.emptyByteString();
      endReceiving();
      if (!isClosed(ciphertextReceived)) cancel(ciphertextReceived);
      try {
        closeOutbound();
        while (!engine.isOutboundDone() && wrap(NOTHING)) {
          // the alert, then close_notify
        }
      } catch (SSLException | RuntimeException alertFailed) {
        log.debug("TLS alert not sent: {}", alertFailed.toString());
      }
    }

    private void closeOutbound() {
      closingOutbound = true;
      engine.closeOutbound();
    }

    private void endReceiving() {
      receivingEnded = true;
      awaitingRecord = false;
    }
  }
}
