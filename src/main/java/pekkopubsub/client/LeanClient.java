package pekkopubsub.client;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import pekkopubsub.connection.WebSocketFrames;

/**
 * A lean WebSocket client for load generation: plain NIO sockets, many connections per
 * {@link Loop} thread, text frames handed over as raw UTF-8 bytes (no decoding, no JSON parsing,
 * no per-frame allocation on the receive path).
 *
 * <p>{@link PubSubClient} is the client of record (JSON in and out, futures per request); it
 * opens one JDK {@code HttpClient} (with its own selector thread) per connection and parses
 * every frame, which is right for tests and wrong for 5,000 idle connections or 500,000 events
 * per second on the machine the server runs on. This class trades convenience for that: the
 * {@link Handler} sees each text frame's bytes in the loop's buffer and must not keep them.
 *
 * <p>Threading: frames are received and handed to the handler on the connection's loop thread.
 * {@link #sendText} may be called from any thread (it writes under a lock and waits for socket
 * space, so a server that stops reading slows the caller, which is what an open-loop load
 * generator wants to see in its latencies).
 *
 * <p>{@code wss://} runs TLS on a JDK {@link SSLEngine} over the same socket: wrapped under the
 * write lock, unwrapped on the loop thread (the engine allows both at once). With permessage-deflate
 * offered and agreed, compressed messages are inflated on the loop thread by one inflater per
 * {@link Loop}; that works because the client insists on {@code server_no_context_takeover}, so
 * each message inflates on its own.
 */
public final class LeanClient implements Closeable {

  /** Receives a connection's frames on its loop thread. */
  public interface Handler {
    /** One complete text message: {@code buf[off, off+len)} is UTF-8 JSON, valid only during the call. */
    void onText(LeanClient client, byte[] buf, int off, int len);

    /** The connection ended: {@code code} is the server's close code, or -1 when the socket broke. */
    default void onClosed(LeanClient client, int code) {}
  }

  /**
   * Which TLS session a {@code wss://} connection offers: the JDK keeps its client sessions by host
   * and port, and this is the port it is told. {@link #SHARED_SESSIONS} offers what any earlier
   * connection to the same server left, as a browser does; a key from {@link #unsharedSessionKey()}
   * offers only what earlier connections with that key left (none: a full handshake).
   */
  public static final int SHARED_SESSIONS = 0;
  private static final AtomicInteger UNSHARED_SESSION_KEYS = new AtomicInteger();

  /**
   * A session key no other connection has been given: negative, so never a real port, and never
   * -1, the JDK's "no port", under which it keeps no session.
   */
  public static int unsharedSessionKey() {
    return -2 - (UNSHARED_SESSION_KEYS.getAndIncrement() & 0x3fffffff);
  }
  private static final byte[] CRLFCRLF = {'\r', '\n', '\r', '\n'};
  private static final int OP_CONT = 0, OP_TEXT = 1, OP_BIN = 2, OP_CLOSE = 8, OP_PING = 9, OP_PONG = 10;

  private final SocketChannel channel;
  private final Loop loop;
  private final Handler handler;
  /** Null on {@code ws://}. */
  private final Tls tls;
  /** The server agreed to permessage-deflate. */
  private final boolean deflate;
  private final Object writeLock = new Object();
  private ByteBuffer in = ByteBuffer.allocate(16 * 1024);
  // a fragmented message being reassembled (rare: the server sends whole frames)
  private byte[] fragments;
  private int fragmentsLength;
  private boolean fragmentsCompressed;
  private volatile boolean closed;
  private final CompletableFuture<Integer> closedFuture = new CompletableFuture<>();
  /** Free for the caller: the load generator keeps its per-connection state here. */
  public volatile Object attachment;

  private LeanClient(SocketChannel channel, Loop loop, Handler handler, Tls tls, boolean deflate, ByteBuffer leftover) {
    this.channel = channel;
    this.loop = loop;
    this.handler = handler;
    this.tls = tls;
    this.deflate = deflate;
    if (in.capacity() < leftover.remaining()) in = ByteBuffer.allocate(leftover.remaining() * 2);
    in.put(leftover);
  }

  /**
   * Opens {@code ws://} or {@code wss://host:port/path} with a blocking TLS and RFC 6455 handshake
   * (up to {@code timeout}), then hands the connection to {@code loop}. {@code tls} is the context
   * for {@code wss://} (null: the JVM's default), {@code tlsSessionKey} which earlier session it
   * offers ({@link #SHARED_SESSIONS} or a key of its own). With {@code offerDeflate} it offers
   * permessage-deflate; {@link #compressing()} says whether the server agreed. Throws when the
   * server does not answer 101.
   */
  public static LeanClient connect(URI webSocketUri, Map<String, String> headers, SSLContext tls, int tlsSessionKey,
      boolean offerDeflate, Loop loop, Handler handler, Duration timeout) {
    boolean secure = "wss".equalsIgnoreCase(webSocketUri.getScheme());
    String host = webSocketUri.getHost();
    int port = webSocketUri.getPort() > 0 ? webSocketUri.getPort() : secure ? 443 : 80;
    String path = webSocketUri.getRawPath() == null || webSocketUri.getRawPath().isEmpty() ? "/" : webSocketUri.getRawPath();
    if (webSocketUri.getRawQuery() != null) path += "?" + webSocketUri.getRawQuery();
    SocketChannel ch = null;
    try {
      ch = SocketChannel.open();
      ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
      ch.socket().connect(new InetSocketAddress(host, port), (int) timeout.toMillis());
      ch.configureBlocking(false);
      long deadline = System.nanoTime() + timeout.toNanos();
      int sessionKey = tlsSessionKey == SHARED_SESSIONS ? port : tlsSessionKey;
      Tls session = secure ? Tls.handshake(ch, tls == null ? SSLContext.getDefault() : tls, host, sessionKey, deadline) : null;
      byte[] keyBytes = new byte[16];
      ThreadLocalRandom.current().nextBytes(keyBytes);
      String key = Base64.getEncoder().encodeToString(keyBytes);
      StringBuilder req = new StringBuilder()
          .append("GET ").append(path).append(" HTTP/1.1\r\n")
          .append("Host: ").append(host).append(':').append(port).append("\r\n")
          .append("Upgrade: websocket\r\nConnection: Upgrade\r\n")
          .append("Sec-WebSocket-Key: ").append(key).append("\r\n")
          .append("Sec-WebSocket-Version: 13\r\n");
      if (offerDeflate) req.append("Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover\r\n");
      headers.forEach((k, v) -> req.append(k).append(": ").append(v).append("\r\n"));
      req.append("\r\n");
      ByteBuffer request = ByteBuffer.wrap(req.toString().getBytes(StandardCharsets.US_ASCII));
      if (session == null) writeFully(ch, request);
      else session.write(ch, request);
      ByteBuffer buf = ByteBuffer.allocate(session == null ? 8192 : 2 * session.applicationBufferSize());
      int end;
      while ((end = indexOf(buf.array(), 0, buf.position(), CRLFCRLF)) < 0) {
        if (buf.remaining() < (session == null ? 1 : session.applicationBufferSize())) {
          throw new IOException("handshake answer too large");
        }
        int n = session == null ? ch.read(buf) : session.read(ch, buf);
        if (n < 0) throw new IOException("connection closed during handshake");
        if (n == 0) {
          if (System.nanoTime() > deadline) throw new IOException("handshake timed out");
          LockSupport.parkNanos(100_000);
        }
      }
      String head = new String(buf.array(), 0, end, StandardCharsets.ISO_8859_1);
      if (!head.startsWith("HTTP/1.1 101")) {
        throw new IOException("upgrade refused: " + head.lines().findFirst().orElse(""));
      }
      String expected = WebSocketFrames.acceptKey(key);
      if (!head.toLowerCase().contains("sec-websocket-accept: " + expected.toLowerCase())) {
        throw new IOException("bad Sec-WebSocket-Accept");
      }
      boolean deflate = agreedDeflate(head);
      ByteBuffer leftover = ByteBuffer.wrap(buf.array(), end + 4, buf.position() - end - 4);
      LeanClient client = new LeanClient(ch, loop, handler, session, deflate, leftover);
      loop.register(client);
      return client;
    } catch (IOException | java.security.NoSuchAlgorithmException e) {
      closeQuietly(ch);
      throw new UncheckedIOException("connect " + webSocketUri + ": " + e.getMessage(),
          e instanceof IOException io ? io : new IOException(e));
    }
  }

  /** Whether the 101 answer agreed to permessage-deflate, in a form this client can follow. */
  private static boolean agreedDeflate(String head) throws IOException {
    for (String line : head.split("\r\n")) {
      String lower = line.toLowerCase(java.util.Locale.ROOT);
      if (!lower.startsWith("sec-websocket-extensions:") || !lower.contains("permessage-deflate")) continue;
      if (!lower.contains("server_no_context_takeover")) {
        throw new IOException("the server keeps deflate context across messages, which this client does not follow");
      }
      return true;
    }
    return false;
  }

  /** Sends one text frame (masked, as a client must). */
  public void sendText(byte[] utf8) {
    sendFrame(OP_TEXT, utf8, 0, utf8.length);
  }

  public void sendText(String text) {
    sendText(text.getBytes(StandardCharsets.UTF_8));
  }

  public boolean isClosed() {
    return closed;
  }

  /** The server agreed to permessage-deflate: it may send compressed messages, which this client inflates. */
  public boolean compressing() {
    return deflate;
  }

  /** On {@code wss://}: the TLS handshake resumed an earlier session instead of a full one. */
  public boolean resumedTls() {
    return tls != null && tls.resumed;
  }

  /** Completes with the close code (-1: broken socket) when the connection ends. */
  public CompletableFuture<Integer> closedFuture() {
    return closedFuture;
  }

  /** Sends a close frame 1000 and lets the server close; the loop closes the socket when it does. */
  @Override
  public void close() {
    if (closed) return;
    try {
      sendFrame(OP_CLOSE, new byte[] {(byte) 0x03, (byte) 0xE8}, 0, 2);
    } catch (UncheckedIOException ignored) {
      abort();
    }
  }

  /** Drops the TCP connection without a close frame. */
  public void abort() {
    finish(-1);
  }

  private void sendFrame(int opcode, byte[] payload, int off, int len) {
    int header = len < 126 ? 2 : len < 65536 ? 4 : 10;
    byte[] frame = new byte[header + 4 + len];
    frame[0] = (byte) (0x80 | opcode);
    if (len < 126) {
      frame[1] = (byte) (0x80 | len);
    } else if (len < 65536) {
      frame[1] = (byte) (0x80 | 126);
      frame[2] = (byte) (len >>> 8);
      frame[3] = (byte) len;
    } else {
      frame[1] = (byte) (0x80 | 127);
      for (int i = 0; i < 8; i++) frame[2 + i] = (byte) ((long) len >>> (56 - 8 * i));
    }
    int mask = ThreadLocalRandom.current().nextInt();
    byte m0 = (byte) (mask >>> 24), m1 = (byte) (mask >>> 16), m2 = (byte) (mask >>> 8), m3 = (byte) mask;
    frame[header] = m0;
    frame[header + 1] = m1;
    frame[header + 2] = m2;
    frame[header + 3] = m3;
    int p = header + 4;
    int i = 0;
    for (; i + 4 <= len; i += 4) {
      frame[p + i] = (byte) (payload[off + i] ^ m0);
      frame[p + i + 1] = (byte) (payload[off + i + 1] ^ m1);
      frame[p + i + 2] = (byte) (payload[off + i + 2] ^ m2);
      frame[p + i + 3] = (byte) (payload[off + i + 3] ^ m3);
    }
    for (; i < len; i++) {
      byte m = (i & 3) == 0 ? m0 : (i & 3) == 1 ? m1 : (i & 3) == 2 ? m2 : m3;
      frame[p + i] = (byte) (payload[off + i] ^ m);
    }
    synchronized (writeLock) {
      if (closed) throw new UncheckedIOException(new ClosedChannelException());
      try {
        if (tls == null) writeFully(channel, ByteBuffer.wrap(frame));
        else tls.write(channel, ByteBuffer.wrap(frame));
      } catch (IOException e) {
        loop.execute(() -> finish(-1));
        throw new UncheckedIOException(e);
      }
    }
  }

  private static void writeFully(SocketChannel ch, ByteBuffer buf) throws IOException {
    int idle = 0;
    while (buf.hasRemaining()) {
      if (ch.write(buf) == 0) {
        // socket buffer full: the server is not reading; wait for it (back off up to 1 ms)
        LockSupport.parkNanos(Math.min(1_000_000L, 10_000L << Math.min(idle++, 7)));
      } else {
        idle = 0;
      }
    }
  }

  // ---- receive path, on the loop thread ----

  private void onReadable() {
    try {
      while (true) {
        int room = tls == null ? 1 : tls.applicationBufferSize();
        if (in.remaining() < room) {
          ByteBuffer bigger = ByteBuffer.allocate(Math.max(in.capacity() * 2, in.position() + room));
          in.flip();
          bigger.put(in);
          in = bigger;
        }
        int n = tls == null ? channel.read(in) : tls.read(channel, in);
        if (n < 0) {
          finish(-1);
          return;
        }
        if (n == 0) return;
        if (!parseFrames()) return;
      }
    } catch (IOException e) {
      finish(-1);
    }
  }

  /** Hands one whole message to the handler, inflated first when it came compressed. */
  private boolean deliver(byte[] buf, int off, int len, boolean compressed) {
    if (!compressed) {
      handler.onText(this, buf, off, len);
      return true;
    }
    if (!deflate) return protocolError();
    try {
      int inflated = loop.inflating.inflate(buf, off, len);
      handler.onText(this, loop.inflating.out, 0, inflated);
      return true;
    } catch (DataFormatException e) {
      return protocolError();
    }
  }

  /** A frame this client cannot take: close 1002, as the RFC asks. */
  private boolean protocolError() {
    try {
      sendFrame(OP_CLOSE, new byte[] {(byte) 0x03, (byte) 0xEA}, 0, 2);
    } catch (UncheckedIOException ignored) {
      // closing anyway
    }
    finish(1002);
    return false;
  }

  /** Handles every complete frame in {@code in}; false when the connection ended. */
  private boolean parseFrames() {
    byte[] a = in.array();
    int pos = 0;
    int limit = in.position();
    while (limit - pos >= 2) {
      int b0 = a[pos] & 0xFF;
      int b1 = a[pos + 1] & 0xFF;
      int header = 2;
      long len = b1 & 0x7F;
      if (len == 126) {
        if (limit - pos < 4) break;
        len = ((a[pos + 2] & 0xFF) << 8) | (a[pos + 3] & 0xFF);
        header = 4;
      } else if (len == 127) {
        if (limit - pos < 10) break;
        len = 0;
        for (int i = 0; i < 8; i++) len = (len << 8) | (a[pos + 2 + i] & 0xFF);
        header = 10;
      }
      if ((b1 & 0x80) != 0) header += 4; // servers do not mask; tolerate it anyway (unmasked below)
      if (len > Integer.MAX_VALUE - 64) {
        finish(-1);
        return false;
      }
      if (limit - pos < header + len) {
        if (header + len > in.capacity()) {
          ByteBuffer bigger = ByteBuffer.allocate((int) (header + len) + 1024);
          bigger.put(a, pos, limit - pos);
          in = bigger;
          return true;
        }
        break;
      }
      int start = pos + header;
      int length = (int) len;
      if ((b1 & 0x80) != 0) {
        for (int i = 0; i < length; i++) a[start + i] ^= a[start - 4 + (i & 3)];
      }
      boolean fin = (b0 & 0x80) != 0;
      boolean compressed = (b0 & 0x40) != 0;
      int opcode = b0 & 0x0F;
      pos = start + length;
      switch (opcode) {
        case OP_TEXT, OP_BIN -> {
          if (fin) {
            if (opcode == OP_TEXT && !deliver(a, start, length, compressed)) return false;
          } else {
            fragments = new byte[Math.max(256, length * 2)];
            System.arraycopy(a, start, fragments, 0, length);
            fragmentsLength = length;
            fragmentsCompressed = compressed;
          }
        }
        case OP_CONT -> {
          if (fragments != null) {
            if (fragmentsLength + length > fragments.length) {
              fragments = java.util.Arrays.copyOf(fragments, (fragmentsLength + length) * 2);
            }
            System.arraycopy(a, start, fragments, fragmentsLength, length);
            fragmentsLength += length;
            if (fin) {
              byte[] whole = fragments;
              fragments = null;
              if (!deliver(whole, 0, fragmentsLength, fragmentsCompressed)) return false;
            }
          }
        }
        case OP_PING -> {
          byte[] data = java.util.Arrays.copyOfRange(a, start, start + length);
          try {
            sendFrame(OP_PONG, data, 0, data.length);
          } catch (UncheckedIOException ignored) {
            // closing anyway
          }
        }
        case OP_CLOSE -> {
          int code = length >= 2 ? ((a[start] & 0xFF) << 8) | (a[start + 1] & 0xFF) : 1005;
          try {
            synchronized (writeLock) {
              ByteBuffer answer = ByteBuffer.wrap(new byte[] {(byte) 0x88, (byte) 0x80, 0, 0, 0, 0});
              if (!closed && tls == null) writeFully(channel, answer);
              else if (!closed) tls.write(channel, answer);
            }
          } catch (IOException ignored) {
            // already gone
          }
          finish(code);
          return false;
        }
        default -> { /* pong or reserved: ignore */ }
      }
    }
    // keep the incomplete tail at the start of the buffer
    int rest = limit - pos;
    if (pos > 0) System.arraycopy(a, pos, in.array(), 0, rest);
    in.position(rest);
    return true;
  }

  private void finish(int code) {
    synchronized (writeLock) {
      if (closed) return;
      closed = true;
      if (tls != null) tls.closeOutbound(channel);
    }
    closeQuietly(channel);
    closedFuture.complete(code);
    try {
      handler.onClosed(this, code);
    } catch (RuntimeException ignored) {
      // the handler's problem
    }
  }

  private static void closeQuietly(SocketChannel ch) {
    if (ch == null) return;
    try {
      ch.close();
    } catch (IOException ignored) {
      // nothing to do
    }
  }

  static int indexOf(byte[] a, int from, int to, byte[] needle) {
    outer:
    for (int i = from; i <= to - needle.length; i++) {
      for (int j = 0; j < needle.length; j++) if (a[i + j] != needle[j]) continue outer;
      return i;
    }
    return -1;
  }

  /** One selector thread serving the reads of many connections. */
  public static final class Loop implements Closeable {
    private final Selector selector;
    private final Thread thread;
    private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final Inflating inflating = new Inflating();
    private volatile boolean running = true;

    public Loop(String name) {
      try {
        selector = Selector.open();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      thread = new Thread(this::run, name);
      thread.setDaemon(true);
      thread.start();
    }

    /** Compressed messages this loop's connections have received so far. */
    public long inflatedMessages() {
      return inflating.messages;
    }

    /** Runs {@code task} on this loop's thread. */
    public void execute(Runnable task) {
      tasks.add(task);
      selector.wakeup();
    }

    void register(LeanClient client) {
      execute(() -> {
        try {
          client.channel.register(selector, SelectionKey.OP_READ, client);
          // the handshake read may have carried frames already
          if (client.in.position() > 0) client.parseFrames();
          client.onReadable();
        } catch (IOException e) {
          client.finish(-1);
        }
      });
    }

    private void run() {
      while (running) {
        try {
          selector.select(100);
          Runnable task;
          while ((task = tasks.poll()) != null) task.run();
          var keys = selector.selectedKeys();
          for (var it = keys.iterator(); it.hasNext(); ) {
            SelectionKey key = it.next();
            it.remove();
            LeanClient client = (LeanClient) key.attachment();
            if (!key.isValid()) {
              client.finish(-1);
              continue;
            }
            client.onReadable();
          }
        } catch (IOException | RuntimeException e) {
          if (running) e.printStackTrace();
        }
      }
    }

    /** Stops the thread and aborts every connection still registered. */
    @Override
    public void close() {
      execute(() -> {
        for (SelectionKey key : selector.keys()) ((LeanClient) key.attachment()).finish(-1);
        running = false;
      });
      try {
        thread.join(5000);
        selector.close();
        inflating.inflater.end();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
  }
  /** One loop's inflater and output buffer: each message is inflated whole, on the loop thread. */
  private static final class Inflating {
    // RFC 7692 7.2.2: the sender removed this empty stored block's tail from every message
    private static final byte[] TAIL = {0, 0, (byte) 0xFF, (byte) 0xFF};
    final Inflater inflater = new Inflater(true);
    byte[] out = new byte[64 * 1024];
    volatile long messages;

    /** Inflates one message into {@link #out}; returns its length. */
    int inflate(byte[] buf, int off, int len) throws DataFormatException {
      inflater.reset();
      inflater.setInput(buf, off, len);
      int length = drain(0);
      inflater.setInput(TAIL);
      length = drain(length);
      messages++; // one writer, the loop thread
      return length;
    }

    private int drain(int length) throws DataFormatException {
      while (true) {
        if (length == out.length) out = java.util.Arrays.copyOf(out, out.length * 2);
        int n = inflater.inflate(out, length, out.length - length);
        length += n;
        if (n == 0 && (inflater.needsInput() || inflater.finished() || inflater.needsDictionary())) return length;
      }
    }
  }

  /**
   * A client TLS session over a non-blocking socket: {@link #write} wraps (callers hold the
   * connection's write lock), {@link #read} unwraps (on the loop thread, or in connect before it).
   */
  private static final class Tls {
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);
    private final SSLEngine engine;
    private ByteBuffer netIn;
    private final ByteBuffer netOut;
    private boolean resumed;

    private Tls(SSLEngine engine) {
      this.engine = engine;
      netIn = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
      netOut = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
    }

    /**
     * Runs the TLS handshake to its end, polling the socket until {@code deadline}; the context's
     * sessions for {@code host} and {@code sessionKey} are offered for resumption.
     */
    static Tls handshake(SocketChannel ch, SSLContext context, String host, int sessionKey, long deadline) throws IOException {
      long started = System.currentTimeMillis();
      SSLEngine engine = context.createSSLEngine(host, sessionKey);
      engine.setUseClientMode(true);
      var parameters = engine.getSSLParameters();
      parameters.setEndpointIdentificationAlgorithm("HTTPS");
      engine.setSSLParameters(parameters);
      Tls tls = new Tls(engine);
      ByteBuffer early = ByteBuffer.allocate(tls.applicationBufferSize());
      engine.beginHandshake();
      while (true) {
        switch (engine.getHandshakeStatus()) {
          case NEED_WRAP -> tls.write(ch, EMPTY);
          case NEED_TASK -> tls.runTasks();
          case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
            tls.netIn.flip();
            SSLEngineResult r = engine.unwrap(tls.netIn, early);
            tls.netIn.compact();
            if (r.getStatus() == SSLEngineResult.Status.CLOSED) throw new SSLException("the server closed during the handshake");
            if (r.getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW && tls.fill(ch) == 0) {
              if (System.nanoTime() > deadline) throw new IOException("TLS handshake timed out");
              LockSupport.parkNanos(100_000);
            }
          }
          default -> {
            // A resumed session keeps the time it was first made.
            tls.resumed = engine.getSession().getCreationTime() < started;
            return tls;
          }
        }
      }
    }

    int applicationBufferSize() {
      return engine.getSession().getApplicationBufferSize();
    }

    /** Encrypts all of {@code plain} and writes it (waiting for socket space). */
    void write(SocketChannel ch, ByteBuffer plain) throws IOException {
      do {
        netOut.clear();
        SSLEngineResult r = engine.wrap(plain, netOut);
        if (r.getStatus() == SSLEngineResult.Status.CLOSED && r.bytesProduced() == 0) throw new ClosedChannelException();
        netOut.flip();
        writeFully(ch, netOut);
        if (r.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_TASK) runTasks();
      } while (plain.hasRemaining());
    }

    /**
     * Decrypts into {@code app} (which has room for a whole record): the bytes it got, 0 when the
     * socket has nothing more for now, -1 when the session or the socket ended.
     */
    int read(SocketChannel ch, ByteBuffer app) throws IOException {
      while (true) {
        netIn.flip();
        SSLEngineResult r = engine.unwrap(netIn, app);
        netIn.compact();
        switch (r.getHandshakeStatus()) {
          case NEED_TASK -> runTasks();
          case NEED_WRAP -> write(ch, EMPTY); // a post-handshake message to answer (TLS 1.3 key update)
          default -> { }
        }
        if (r.getStatus() == SSLEngineResult.Status.CLOSED) return -1;
        if (r.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) throw new SSLException("no room for a record");
        if (r.bytesProduced() > 0) return r.bytesProduced();
        if (r.getStatus() == SSLEngineResult.Status.OK && r.bytesConsumed() > 0) continue; // a session ticket
        int n = fill(ch);
        if (n <= 0) return n;
      }
    }

    /** Reads more ciphertext; the bytes read, 0 for none yet, -1 at the end of the stream. */
    private int fill(SocketChannel ch) throws IOException {
      if (!netIn.hasRemaining()) {
        ByteBuffer bigger = ByteBuffer.allocate(netIn.capacity() * 2);
        netIn.flip();
        netIn = bigger.put(netIn);
      }
      return ch.read(netIn);
    }

    private void runTasks() {
      for (Runnable task = engine.getDelegatedTask(); task != null; task = engine.getDelegatedTask()) task.run();
    }

    /** Sends close_notify if the socket takes it at once; never waits. */
    void closeOutbound(SocketChannel ch) {
      engine.closeOutbound();
      try {
        netOut.clear();
        engine.wrap(EMPTY, netOut);
        netOut.flip();
        ch.write(netOut);
      } catch (IOException ignored) {
        // the socket is closing anyway
      }
    }
  }
}
