package pekkopubsub.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * A client that reads slowly but keeps reading, in front of any client: it forwards one connection
 * to the server and passes on what the server sends, a few hundred bytes every {@link #PAUSE_MILLIS},
 * reading it through a small receive buffer, so that the server's writes wait for it. TLS passes
 * through untouched, so the client behind it can be a TLS client that reads whole records at once.
 */
final class SlowReader implements AutoCloseable {
  static final long PAUSE_MILLIS = 300;

  private final ServerSocket listening;
  private final Thread forwarding;
  private final int bytesPerPause;

  SlowReader(InetSocketAddress server, int bytesPerPause) throws IOException {
    this.bytesPerPause = bytesPerPause;
    listening = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
    forwarding = new Thread(() -> forward(server), "slow-reader");
    forwarding.setDaemon(true);
    forwarding.start();
  }

  /** Where the client connects instead of the server. */
  InetSocketAddress address() {
    return new InetSocketAddress(listening.getInetAddress(), listening.getLocalPort());
  }

  private void forward(InetSocketAddress server) {
    try (Socket client = listening.accept(); Socket upstream = new Socket()) {
      upstream.setReceiveBufferSize(1024);
      upstream.connect(server, 5_000);
      Thread requests = new Thread(() -> copy(client, upstream), "slow-reader-requests");
      requests.setDaemon(true);
      requests.start();
      InputStream in = upstream.getInputStream();
      OutputStream out = client.getOutputStream();
      byte[] buffer = new byte[bytesPerPause];
      for (int n; (n = in.read(buffer)) != -1; ) {
        out.write(buffer, 0, n);
        Thread.sleep(PAUSE_MILLIS);
      }
      client.shutdownOutput();
      requests.join(5_000);
    } catch (IOException | InterruptedException e) {
      // The server reset the connection: the client behind sees it end early.
    }
  }

  private static void copy(Socket from, Socket to) {
    try {
      InputStream in = from.getInputStream();
      OutputStream out = to.getOutputStream();
      byte[] buffer = new byte[4096];
      for (int n; (n = in.read(buffer)) != -1; ) out.write(buffer, 0, n);
      to.shutdownOutput();
    } catch (IOException closed) {
      // either side gone: the other thread ends the connection
    }
  }

  @Override
  public void close() throws IOException {
    listening.close();
    forwarding.interrupt();
  }
}
