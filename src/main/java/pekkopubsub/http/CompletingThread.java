package pekkopubsub.http;

import java.util.concurrent.Executor;

/**
 * Runs a callback registered on one of Pekko's {@code CompletionStage}s in the thread that completes
 * the stage, for callbacks that only hand a value on (an async callback, a tell).
 *
 * <p>Why it must be named: Pekko's Java futures are Scala's {@code CF}, which turns
 * {@code whenComplete}, {@code handle} and {@code thenRun} into their {@code Async} forms; with two
 * cores the common pool has a parallelism of one, and {@code CompletableFuture} then runs each
 * async callback on a thread of its own. That was two new threads per WebSocket connection.
 */
public enum CompletingThread implements Executor {
  INSTANCE;

  @Override
  public void execute(Runnable callback) {
    callback.run();
  }
}
