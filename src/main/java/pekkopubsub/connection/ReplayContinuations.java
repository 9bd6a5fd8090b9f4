package pekkopubsub.connection;

import java.util.ArrayDeque;
import java.util.Iterator;

/**
 * The replays one connection still takes in pages, and which to ask for next: one page at a time
 * for the whole connection, the current topic's replay to its end before the next topic's, so the
 * replays hold about a page of its memory however many topics it subscribed to.
 * Not thread-safe: it belongs to one connection's stage.
 *
 * @param <A> the address of a topic's actor
 */
final class ReplayContinuations<A> {

  private record Waiting<A>(String topic, A actor) {}

  private final ArrayDeque<Waiting<A>> waiting = new ArrayDeque<>(2);
  /** The topic whose page was asked for and has not come; null when none was. */
  private String asked;

  /** {@code topic}'s replay has more pages, to ask {@code actor} for, after those of the topics waiting already. */
  void continues(String topic, A actor) {
    if (!isWaiting(topic)) waiting.addLast(new Waiting<>(topic, actor));
  }

  /** A page of {@code topic}'s replay came from {@code actor}; unless {@code done}, its next page is asked for first. */
  void pageCame(String topic, A actor, boolean done) {
    if (topic.equals(asked)) asked = null;
    if (!done && !isWaiting(topic)) waiting.addFirst(new Waiting<>(topic, actor));
  }

  /** {@code topic}'s replay ends without its pages: unsubscribed, or the topic deleted (and a page asked for may never come). */
  void ended(String topic) {
    if (topic.equals(asked)) asked = null;
    for (Iterator<Waiting<A>> it = waiting.iterator(); it.hasNext(); ) {
      if (it.next().topic().equals(topic)) it.remove();
    }
  }

  /** The actor to ask for the next page, now recorded as asked; null while a page is on its way or no replay waits. */
  A askNext() {
    if (asked != null || waiting.isEmpty()) return null;
    Waiting<A> next = waiting.removeFirst();
    asked = next.topic();
    return next.actor();
  }

  boolean isEmpty() {
    return waiting.isEmpty() && asked == null;
  }

  private boolean isWaiting(String topic) {
    for (Waiting<A> w : waiting) {
      if (w.topic().equals(topic)) return true;
    }
    return false;
  }
}
