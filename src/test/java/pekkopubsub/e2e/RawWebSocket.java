package pekkopubsub.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;
import javax.net.SocketFactory;

/**
 * A minimal blocking WebSocket client on a plain socket, for what java.net.http cannot send:
 * text frames with invalid UTF-8, arbitrary opcodes, an abort in the middle of a frame.
 */
final class RawWebSocket implements AutoCloseable {
  static final int TEXT = 0x1;
  static final int BINARY = 0x2;
  static final int CLOSE = 0x8;
  static final int PING = 0x9;
  static final int PONG = 0xA;

  /** A frame from the server: its opcode, payload, and whether RSV1 (compressed, RFC 7692) was set. */
  record Frame(int opcode, byte[] payload, boolean compressed) {
    String text() {
      return new String(payload, StandardCharsets.UTF_8);
    }

    JsonNode json() {
      return Wire.json(text());
    }
  }

  private final Socket socket;
  private final OutputStream out;
  private final DataInputStream in;
  /** The server's 101 answer, headers included. */
  private String handshake;

  private RawWebSocket(Socket socket) throws IOException {
    this.socket = socket;
    this.out = socket.getOutputStream();
    this.in = new DataInputStream(socket.getInputStream());
  }

  static RawWebSocket connect(URI httpBase) {
    return connect(httpBase, null, null);
  }

  /** Through sockets from {@code sockets}: TLS ones for a server that speaks TLS. */
  static RawWebSocket connect(URI httpBase, SocketFactory sockets) {
    return connect(httpBase, null, null, sockets);
  }

  private static final String UPGRADE = "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

  /**
   * Opens a WebSocket on a socket that first sends {@code precedingRequest} (a whole HTTP request,
   * or null) and reads its answer, and that sends {@code firstFrame} (or null) in the same write as
   * the upgrade request, before any answer to it.
   */
  static RawWebSocket connect(URI httpBase, String precedingRequest, String firstFrame) {
    return connect(httpBase, precedingRequest, firstFrame, SocketFactory.getDefault());
  }

  /** Opens a WebSocket whose upgrade request carries {@code extraHeaders} (each ending in CRLF). */
  static RawWebSocket connectWithHeaders(URI httpBase, String extraHeaders) {
    return connect(httpBase, null, null, SocketFactory.getDefault(), extraHeaders);
  }

  private static RawWebSocket connect(URI httpBase, String precedingRequest, String firstFrame, SocketFactory sockets) {
    return connect(httpBase, precedingRequest, firstFrame, sockets, "");
  }

  private static RawWebSocket connect(
      URI httpBase, String precedingRequest, String firstFrame, SocketFactory sockets, String extraHeaders) {
    try {
      Socket socket = sockets.createSocket(httpBase.getHost(), httpBase.getPort());
      socket.setSoTimeout(15_000);
      socket.setTcpNoDelay(true);
      RawWebSocket ws = new RawWebSocket(socket);
      if (precedingRequest != null) {
        ws.out.write(precedingRequest.getBytes(StandardCharsets.US_ASCII));
        String head = ws.readHeaders();
        java.util.regex.Matcher length = java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)").matcher(head);
        if (!head.startsWith("HTTP/1.1 200") || !length.find()) throw new IllegalStateException("unexpected answer: " + head);
        ws.in.readFully(new byte[Integer.parseInt(length.group(1))]);
      }
      ByteArrayOutputStream request = new ByteArrayOutputStream();
      request.write((UPGRADE.substring(0, UPGRADE.length() - 2) + extraHeaders + "\r\n").getBytes(StandardCharsets.US_ASCII));
      if (firstFrame != null) request.write(frame(TEXT, firstFrame.getBytes(StandardCharsets.UTF_8)));
      ws.out.write(request.toByteArray());
      String status = ws.readHeaders();
      if (!status.startsWith("HTTP/1.1 101")) throw new IllegalStateException("upgrade refused: " + status);
      ws.handshake = status;
      return ws;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private String readHeaders() throws IOException {
    StringBuilder head = new StringBuilder();
    while (head.length() < 4 || !head.substring(head.length() - 4).equals("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) throw new IOException("closed during handshake: " + head);
      head.append((char) b);
    }
    return head.toString();
  }

  /** The server's 101 answer, headers included. */
  String handshake() {
    return handshake;
  }

  /** One final text frame with RSV1 set: {@code deflated} is a compressed message (RFC 7692). */
  void sendCompressed(byte[] deflated) {
    try {
      byte[] whole = frame(TEXT, deflated);
      whole[0] |= 0x40;
      out.write(whole);
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  void sendText(String text) {
    send(TEXT, text.getBytes(StandardCharsets.UTF_8));
  }

  /** One complete masked frame, as RFC 6455 requires of clients. */
  void send(int opcode, byte[] payload) {
    try {
      out.write(frame(opcode, payload));
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Writes only the first {@code bytes} bytes of a frame, then resets the TCP connection. */
  void abortMidFrame(byte[] payload, int bytes) {
    try {
      byte[] whole = frame(TEXT, payload);
      out.write(whole, 0, Math.min(bytes, whole.length));
      out.flush();
      socket.setSoLinger(true, 0);
      socket.close();
    } catch (IOException ignored) {
      // The reset is the point.
    }
  }

  /** Resets the TCP connection: no close frame, and what the server sent and this side did not read is lost. */
  void reset() {
    try {
      socket.setSoLinger(true, 0);
      socket.close();
    } catch (IOException ignored) {
      // The reset is the point.
    }
  }

  /** Several frames (made with {@link #frame}) in one write: the server reads them together, with nothing between. */
  void sendTogether(byte[]... frames) {
    try {
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      for (byte[] frame : frames) all.write(frame);
      out.write(all.toByteArray());
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static byte[] textFrame(String text) {
    return frame(TEXT, text.getBytes(StandardCharsets.UTF_8));
  }

  static byte[] frame(int opcode, byte[] payload) {
    ByteArrayOutputStream f = new ByteArrayOutputStream(payload.length + 14);
    f.write(0x80 | opcode);
    int n = payload.length;
    if (n < 126) {
      f.write(0x80 | n);
    } else if (n < 65536) {
      f.write(0x80 | 126);
      f.write(n >>> 8);
      f.write(n);
    } else {
      f.write(0x80 | 127);
      for (int shift = 56; shift >= 0; shift -= 8) f.write((int) ((long) n >>> shift));
    }
    byte[] mask = new byte[4];
    ThreadLocalRandom.current().nextBytes(mask);
    f.write(mask, 0, 4);
    for (int i = 0; i < n; i++) f.write(payload[i] ^ mask[i & 3]);
    return f.toByteArray();
  }

  /** The next data or close frame from the server; pings and pongs are skipped. */
  Frame read() {
    while (true) {
      Frame frame = readAny();
      if (frame.opcode() != PING && frame.opcode() != PONG) return frame;
    }
  }

  /** The next frame from the server, of any kind; null once the server has closed the connection. */
  Frame readAny() {
    try {
      int b0 = in.read();
      if (b0 < 0) return null;
      int b1 = in.readUnsignedByte();
      long len = b1 & 0x7f;
      if (len == 126) len = in.readUnsignedShort();
      else if (len == 127) len = in.readLong();
      byte[] payload = new byte[Math.toIntExact(len)];
      in.readFully(payload);
      return new Frame(b0 & 0x0f, payload, (b0 & 0x40) != 0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException ignored) {
      // Closing is best effort.
    }
  }
}
