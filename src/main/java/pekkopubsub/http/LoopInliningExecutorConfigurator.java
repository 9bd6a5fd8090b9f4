package pekkopubsub.http;

import com.typesafe.config.Config;
import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.dispatch.DispatcherPrerequisites;
import org.apache.pekko.dispatch.ExecutorServiceConfigurator;
import org.apache.pekko.dispatch.ExecutorServiceFactory;
import org.apache.pekko.dispatch.ForkJoinExecutorConfigurator;

/**
 * The default dispatcher's executor: Pekko's fork-join pool (configured by the dispatcher's
 * {@code fork-join-executor} section), except that work the {@link SelectorLoop}'s thread starts
 * while the server is quiet runs on that thread, which is awake already, when no pool thread is.
 *
 * <p>Why: on an idle server every hand-off wakes a parked pool thread, and the first one, from the
 * loop to the connection that sent a publish, took 100-150 us of the 200 us from reading a publish
 * to writing its event (docs/performance-history.md). The loop decides per read what it keeps
 * ({@link SelectorLoop#INLINE_BUDGET}); under load it keeps nothing and the pool does the work.
 */
public final class LoopInliningExecutorConfigurator extends ExecutorServiceConfigurator {
  private final ForkJoinExecutorConfigurator forkJoin;

  /** {@code config} is the dispatcher's section, as Pekko passes it to a configurator named by class. */
  public LoopInliningExecutorConfigurator(Config config, DispatcherPrerequisites prerequisites) {
    super(config, prerequisites);
    forkJoin = new ForkJoinExecutorConfigurator(config.getConfig("fork-join-executor"), prerequisites);
  }

  @Override
  public ExecutorServiceFactory createExecutorServiceFactory(String id, ThreadFactory threadFactory) {
    ExecutorServiceFactory pool = forkJoin.createExecutorServiceFactory(id, threadFactory);
    return () -> new Inlining(pool.createExecutorService());
  }

  /**
   * Offers a task to the loop when the loop's thread submits it and no pool thread is awake to take
   * it (a running pool thread takes it without a wake-up, and under load the loop keeps to reading);
   * everything else is the pool's.
   */
  static final class Inlining extends AbstractExecutorService {
    private final ExecutorService pool;

    Inlining(ExecutorService pool) {
      this.pool = pool;
    }

    @Override
    public void execute(Runnable task) {
      SelectorLoop loop = SelectorLoop.current();
      if (loop != null && poolAsleep() && loop.offerInline(task, pool)) return;
      pool.execute(task);
    }

    private boolean poolAsleep() {
      return !(pool instanceof ForkJoinPool forkJoin) || forkJoin.getActiveThreadCount() == 0;
    }

    @Override
    public void shutdown() {
      pool.shutdown();
    }

    @Override
    public List<Runnable> shutdownNow() {
      return pool.shutdownNow();
    }

    @Override
    public boolean isShutdown() {
      return pool.isShutdown();
    }

    @Override
    public boolean isTerminated() {
      return pool.isTerminated();
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
      return pool.awaitTermination(timeout, unit);
    }
  }
}
