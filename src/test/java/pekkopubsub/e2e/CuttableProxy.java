package pekkopubsub.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;

/** A TCP relay in front of a server whose connections a test can cut, as a network would, and keep refusing until restored. */
final class CuttableProxy implements AutoCloseable {
  private final ServerSocket listener;
  private final InetSocketAddress upstream;
  private final List<Socket> open = new ArrayList<>();
  private boolean down;

  private CuttableProxy(InetSocketAddress upstream) throws IOException {
    this.upstream = upstream;
    this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(this::accept, "proxy-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  static CuttableProxy to(URI server) throws IOException {
    return new CuttableProxy(new InetSocketAddress(server.getHost(), server.getPort()));
  }

  URI uri() {
    return URI.create("http://127.0.0.1:" + listener.getLocalPort());
  }

  /** Resets every relayed connection, and resets new ones at once until {@link #restore()}. */
  synchronized void cut() {
    down = true;
    for (Socket socket : open) reset(socket);
    open.clear();
  }

  synchronized void restore() {
    down = false;
  }

  private void accept() {
    while (!listener.isClosed()) {
      try {
        Socket client = listener.accept();
        synchronized (this) {
          if (down) {
            reset(client);
            continue;
          }
          Socket server = new Socket(upstream.getAddress(), upstream.getPort());
          open.add(client);
          open.add(server);
          pump(client, server);
          pump(server, client);
        }
      } catch (IOException e) {
        // listener closed, or the server refused: the client sees its connection end
      }
    }
  }

  private static void pump(Socket from, Socket to) {
    Thread thread = new Thread(() -> {
      byte[] buffer = new byte[8192];
      try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
        int n;
        while ((n = in.read(buffer)) >= 0) out.write(buffer, 0, n);
      } catch (IOException e) {
        // cut, or the other side ended
      } finally {
        reset(to);
      }
    }, "proxy-pump");
    thread.setDaemon(true);
    thread.start();
  }

  private static void reset(Socket socket) {
    try {
      socket.setSoLinger(true, 0);
      socket.close();
    } catch (IOException e) {
      // already closed
    }
  }

  @Override
  public synchronized void close() throws IOException {
    listener.close();
    cut();
  }
}
