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
import java.util.concurrent.locks.LockSupport;
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
 */
public final class LeanClient implements Closeable {

  /** Receives a connection's frames on its loop thread. */
  public interface Handler {
    /** One complete text message: {@code buf[off, off+len)} is UTF-8 JSON, valid only during the call. */
    void onText(LeanClient client, byte[] buf, int off, int len);

    /** The connection ended: {@code code} is the server's close code, or -1 when the socket broke. */
    default void onClosed(LeanClient client, int code) {}
  }

  private static final byte[] CRLFCRLF = {'\r', '\n', '\r', '\n'};
  private static final int OP_CONT = 0, OP_TEXT = 1, OP_BIN = 2, OP_CLOSE = 8, OP_PING = 9, OP_PONG = 10;

  private final SocketChannel channel;
  private final Loop loop;
  private final Handler handler;
  private final Object writeLock = new Object();
  private ByteBuffer in = ByteBuffer.allocate(16 * 1024);
  // a fragmented message being reassembled (rare: the server sends whole frames)
  private byte[] fragments;
  private int fragmentsLength;
  private volatile boolean closed;
  private final CompletableFuture<Integer> closedFuture = new CompletableFuture<>();
  /** Free for the caller: the load generator keeps its per-connection state here. */
  public volatile Object attachment;

  private LeanClient(SocketChannel channel, Loop loop, Handler handler, ByteBuffer leftover) {
    this.channel = channel;
    this.loop = loop;
    this.handler = handler;
    in.put(leftover);
  }

  /**
   * Opens {@code ws://host:port/path} with a blocking RFC 6455 handshake (up to {@code timeout}),
   * then hands the connection to {@code loop}. Throws when the server does not answer 101.
   */
  public static LeanClient connect(URI webSocketUri, Map<String, String> headers, Loop loop, Handler handler, Duration timeout) {
    String host = webSocketUri.getHost();
    int port = webSocketUri.getPort() > 0 ? webSocketUri.getPort() : 80;
    String path = webSocketUri.getRawPath() == null || webSocketUri.getRawPath().isEmpty() ? "/" : webSocketUri.getRawPath();
    if (webSocketUri.getRawQuery() != null) path += "?" + webSocketUri.getRawQuery();
    SocketChannel ch = null;
    try {
      ch = SocketChannel.open();
      ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
      ch.socket().setSoTimeout((int) timeout.toMillis()); // not honoured by channel reads; the deadline below is
      ch.socket().connect(new InetSocketAddress(host, port), (int) timeout.toMillis());
      byte[] keyBytes = new byte[16];
      ThreadLocalRandom.current().nextBytes(keyBytes);
      String key = Base64.getEncoder().encodeToString(keyBytes);
      StringBuilder req = new StringBuilder()
          .append("GET ").append(path).append(" HTTP/1.1\r\n")
          .append("Host: ").append(host).append(':').append(port).append("\r\n")
          .append("Upgrade: websocket\r\nConnection: Upgrade\r\n")
          .append("Sec-WebSocket-Key: ").append(key).append("\r\n")
          .append("Sec-WebSocket-Version: 13\r\n");
      headers.forEach((k, v) -> req.append(k).append(": ").append(v).append("\r\n"));
      req.append("\r\n");
      writeFully(ch, ByteBuffer.wrap(req.toString().getBytes(StandardCharsets.US_ASCII)));
      ch.configureBlocking(false);
      ByteBuffer buf = ByteBuffer.allocate(8192);
      long deadline = System.nanoTime() + timeout.toNanos();
      int end;
      while ((end = indexOf(buf.array(), 0, buf.position(), CRLFCRLF)) < 0) {
        if (!buf.hasRemaining()) throw new IOException("handshake answer too large");
        int n = ch.read(buf);
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
      ByteBuffer leftover = ByteBuffer.wrap(buf.array(), end + 4, buf.position() - end - 4);
      LeanClient client = new LeanClient(ch, loop, handler, leftover);
      loop.register(client);
      return client;
    } catch (IOException e) {
      closeQuietly(ch);
      throw new UncheckedIOException("connect " + webSocketUri + ": " + e.getMessage(), e);
    }
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
        writeFully(channel, ByteBuffer.wrap(frame));
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
        if (!in.hasRemaining()) {
          ByteBuffer bigger = ByteBuffer.allocate(in.capacity() * 2);
          in.flip();
          bigger.put(in);
          in = bigger;
        }
        int n = channel.read(in);
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
      int opcode = b0 & 0x0F;
      pos = start + length;
      switch (opcode) {
        case OP_TEXT, OP_BIN -> {
          if (fin) {
            if (opcode == OP_TEXT) handler.onText(this, a, start, length);
          } else {
            fragments = new byte[Math.max(256, length * 2)];
            System.arraycopy(a, start, fragments, 0, length);
            fragmentsLength = length;
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
              handler.onText(this, whole, 0, fragmentsLength);
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
              if (!closed) writeFully(channel, ByteBuffer.wrap(new byte[] {(byte) 0x88, (byte) 0x80, 0, 0, 0, 0}));
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
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
  }
}
