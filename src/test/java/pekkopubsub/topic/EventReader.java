package pekkopubsub.topic;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.util.ByteString;

/**
 * Reads subscriber probes one event at a time, whatever batches the topic fanned the events out
 * in. One reader per test: it remembers the unread rest of each probe's last batch.
 */
final class EventReader {

  /** One event as a subscriber got it: its frame and the topic it came from. */
  record Delivered(ActorRef<Topic.Command> from, ByteString frame) {}

  private final Map<TestProbe<Topic.Reply>, ArrayDeque<Delivered>> unread = new HashMap<>();

  Delivered next(TestProbe<Topic.Reply> subscriber) {
    ArrayDeque<Delivered> rest = unread.computeIfAbsent(subscriber, s -> new ArrayDeque<>());
    if (rest.isEmpty()) {
      Topic.Events events = subscriber.expectMessageClass(Topic.Events.class);
      for (ByteString frame : events.frames()) rest.add(new Delivered(events.from(), frame));
    }
    return rest.removeFirst();
  }

  /** True when every batch read so far has been read to its end. */
  boolean allRead() {
    return unread.values().stream().allMatch(ArrayDeque::isEmpty);
  }
}
