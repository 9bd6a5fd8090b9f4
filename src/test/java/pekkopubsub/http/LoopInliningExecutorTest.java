package pekkopubsub.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Where the default dispatcher's work runs: on the selector loop's thread when a quiet read set it
 * off (within the loop's budget), on the pool otherwise. Real sockets, a real loop, a one-thread pool.
 */
class LoopInliningExecutorTest {
  private static final String LOOP = "inlining-test-loop";
  private static final String POOL = "inlining-test-pool";
  private final SelectorLoop loop = SelectorLoopTest.newLoop(LOOP);
  private final ExecutorService pool = Executors.newSingleThreadExecutor(task -> new Thread(task, POOL));
  private final LoopInliningExecutorConfigurator.Inlining executor = new LoopInliningExecutorConfigurator.Inlining(pool);

  @AfterEach
  void close() throws InterruptedException {
    loop.close();
    executor.shutdown();
    executor.awaitTermination(10, TimeUnit.SECONDS);
  }

  /** On every read, submits a chain of {@code length} tasks, each from the one before; records each task's thread. */
  private class ChainOnRead implements SelectorLoop.Handler {
    final int length;
    final BlockingQueue<String> threads = new LinkedBlockingQueue<>();

    ChainOnRead(int length) {
      this.length = length;
    }

    @Override
    public void received(ByteString bytes) {
      submit(length);
    }

    private void submit(int remaining) {
      executor.execute(() -> {
        threads.add(Thread.currentThread().getName());
        if (remaining > 1) submit(remaining - 1);
      });
    }

    List<String> take(int count) throws InterruptedException {
      List<String> taken = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        String thread = threads.poll(10, TimeUnit.SECONDS);
        if (thread == null) throw new AssertionError("task " + (i + 1) + " of " + count + " did not run within 10 s");
        taken.add(thread);
      }
      return taken;
    }

    @Override
    public void readingPaused() {}

    @Override
    public void writable() {}

    @Override
    public void peerClosed() {}

    @Override
    public void failed(IOException cause) {}
  }

  /** Clients connected to one listener of the loop, each registered with its handler. */
  private List<java.net.Socket> connect(SelectorLoop.Handler... handlers) throws Exception {
    BlockingQueue<SocketChannel> accepted = new LinkedBlockingQueue<>();
    SelectorLoop.Listener listener = loop.listen(new InetSocketAddress("127.0.0.1", 0), 16, List.of(), accepted::add)
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
    List<java.net.Socket> clients = new ArrayList<>();
    for (SelectorLoop.Handler handler : handlers) {
      java.net.Socket client = new java.net.Socket("127.0.0.1", listener.localAddress().getPort());
      clients.add(client);
      SocketChannel server = accepted.poll(10, TimeUnit.SECONDS);
      if (server == null) throw new AssertionError("the connection was not accepted within 10 s");
      loop.register(server, handler);
    }
    return clients;
  }

  @Test
  void workThatAQuietReadSetsOffRunsOnTheLoopUpToItsBudgetThenOnThePool() throws Exception {
    int beyondBudget = 3;
    ChainOnRead chain = new ChainOnRead(SelectorLoop.INLINE_BUDGET + beyondBudget);
    java.net.Socket client = connect(chain).get(0);
    try {
      client.getOutputStream().write(1);
      List<String> threads = chain.take(SelectorLoop.INLINE_BUDGET + beyondBudget);
      List<String> expected = new ArrayList<>();
      for (int i = 0; i < SelectorLoop.INLINE_BUDGET; i++) expected.add(LOOP);
      for (int i = 0; i < beyondBudget; i++) expected.add(POOL);
      assertEquals(expected, threads);
    } finally {
      client.close();
    }
  }

  @Test
  void eachQuietReadGetsAFreshBudget() throws Exception {
    ChainOnRead chain = new ChainOnRead(SelectorLoop.INLINE_BUDGET);
    java.net.Socket client = connect(chain).get(0);
    try {
      for (int read = 0; read < 3; read++) {
        client.getOutputStream().write(1);
        assertEquals(List.of(LOOP), chain.take(SelectorLoop.INLINE_BUDGET).stream().distinct().toList(), "read " + read);
      }
    } finally {
      client.close();
    }
  }

  @Test
  void whenSeveralSocketsAreReadyAtOnceThePoolGetsTheirWork() throws Exception {
    ChainOnRead first = new ChainOnRead(2);
    ChainOnRead second = new ChainOnRead(2);
    List<java.net.Socket> clients = connect(first, second);
    try {
      // The loop is held in a task while both clients write, so that its next select finds both ready.
      CountDownLatch holding = new CountDownLatch(1);
      CountDownLatch release = new CountDownLatch(1);
      loop.execute(() -> {
        holding.countDown();
        awaitQuietly(release);
      });
      holding.await(10, TimeUnit.SECONDS);
      for (java.net.Socket client : clients) client.getOutputStream().write(1);
      release.countDown();
      assertEquals(List.of(POOL, POOL), first.take(2));
      assertEquals(List.of(POOL, POOL), second.take(2));
    } finally {
      for (java.net.Socket client : clients) client.close();
    }
  }

  @Test
  void whileAForkJoinPoolThreadIsAwakeThePoolGetsTheWork() throws Exception {
    ForkJoinPool forkJoin = new ForkJoinPool(1, p -> {
      ForkJoinWorkerThread thread = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(p);
      thread.setName(POOL);
      return thread;
    }, null, false);
    LoopInliningExecutorConfigurator.Inlining overForkJoin = new LoopInliningExecutorConfigurator.Inlining(forkJoin);
    BlockingQueue<String> ranOn = new LinkedBlockingQueue<>();
    BlockingQueue<Boolean> submitted = new LinkedBlockingQueue<>();
    SelectorLoop.Handler submitsOnRead = new ChainOnRead(1) {
      @Override
      public void received(ByteString bytes) {
        overForkJoin.execute(() -> ranOn.add(Thread.currentThread().getName()));
        submitted.add(true);
      }
    };
    java.net.Socket client = connect(submitsOnRead).get(0);
    CountDownLatch busy = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    try {
      client.getOutputStream().write(1);
      assertEquals(LOOP, ranOn.poll(10, TimeUnit.SECONDS), "the pool asleep: the loop runs it");
      submitted.clear();
      // Spinning, not blocked: a pool thread blocked in a latch counts as asleep (managed blocking).
      forkJoin.execute(() -> {
        busy.countDown();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (release.getCount() > 0 && System.nanoTime() < deadline) Thread.onSpinWait();
      });
      busy.await(10, TimeUnit.SECONDS);
      client.getOutputStream().write(1);
      // Released once the loop has decided, so that the pool thread is awake when it does.
      submitted.poll(10, TimeUnit.SECONDS);
      release.countDown();
      assertEquals(POOL, ranOn.poll(10, TimeUnit.SECONDS), "a pool thread awake: the pool runs it");
    } finally {
      release.countDown();
      client.close();
      overForkJoin.shutdown();
    }
  }

  @Test
  void workSubmittedByAnyOtherThreadGoesToThePool() throws Exception {
    BlockingQueue<String> threads = new LinkedBlockingQueue<>();
    executor.execute(() -> threads.add(Thread.currentThread().getName()));
    assertEquals(POOL, threads.poll(10, TimeUnit.SECONDS));
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
