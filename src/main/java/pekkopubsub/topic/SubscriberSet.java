package pekkopubsub.topic;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * A topic's subscribers and their covered offsets: constant-time join and leave, a dense array for fan-out.
 * Not thread-safe: its owning Topic actor is the single writer and reader.
 */
public final class SubscriberSet<S> {
  private static final int MIN_CAPACITY = 8;

  private static final class Member {
    int position;
    final long coveredAfter;
    final long liveAfter;

    Member(int position, long coveredAfter, long liveAfter) {
      this.position = position;
      this.coveredAfter = coveredAfter;
      this.liveAfter = liveAfter;
    }
  }

  private final Map<S, Member> members = new HashMap<>();
  // Rebuilding an array per join made a reconnect storm on one broadcast topic quadratic.
  private Object[] dense = new Object[MIN_CAPACITY];
  private int size;

  /**
   * Adds {@code subscriber}, which has had every event after {@code coveredAfter} up to
   * {@code liveAfter} (its replay) and gets the later ones as live events: as they are fanned out,
   * and those already published in its replay's last page; false, and nothing changes, when it is
   * already a member.
   */
  public boolean add(S subscriber, long coveredAfter, long liveAfter) {
    if (members.containsKey(subscriber)) return false;
    if (size == dense.length) dense = Arrays.copyOf(dense, size * 2);
    dense[size] = subscriber;
    members.put(subscriber, new Member(size, coveredAfter, liveAfter));
    size++;
    return true;
  }

  /** Removes {@code subscriber}, moving the last member into its place; false when it was not one. */
  public boolean remove(S subscriber) {
    Member gone = members.remove(subscriber);
    if (gone == null) return false;
    int last = --size;
    if (gone.position != last) {
      @SuppressWarnings("unchecked")
      S moved = (S) dense[last];
      dense[gone.position] = moved;
      members.get(moved).position = gone.position;
    }
    dense[last] = null;
    if (dense.length > MIN_CAPACITY && size < dense.length / 4) dense = Arrays.copyOf(dense, dense.length / 2);
    return true;
  }

  /** The offset after which {@code subscriber} has had every event, or null when it is not a member. */
  public Long coveredAfter(S subscriber) {
    Member member = members.get(subscriber);
    return member == null ? null : member.coveredAfter;
  }

  /** The offset after which {@code subscriber} gets its events as live events, or null when it is not a member. */
  public Long liveAfter(S subscriber) {
    Member member = members.get(subscriber);
    return member == null ? null : member.liveAfter;
  }

  public boolean contains(S subscriber) {
    return members.containsKey(subscriber);
  }

  public int size() {
    return size;
  }

  /** The member at {@code position}, 0 to size() - 1; positions change when a member leaves. */
  @SuppressWarnings("unchecked")
  public S get(int position) {
    if (position < 0 || position >= size) throw new IndexOutOfBoundsException(position);
    return (S) dense[position];
  }
}
