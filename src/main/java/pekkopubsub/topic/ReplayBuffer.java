package pekkopubsub.topic;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The newest events of one topic, keyed by their consecutive offsets, in a fixed ring.
 * Not thread-safe: its owning Topic actor is the single writer and reader.
 */
public final class ReplayBuffer<E> {
  private final Object[] ring;
  private int size;
  private long lastOffset;

  public ReplayBuffer(int capacity) {
    if (capacity < 0) throw new IllegalArgumentException("capacity must be >= 0");
    this.ring = new Object[capacity];
  }

  /** Retains {@code event} as the one with the next offset, evicting the oldest when full. */
  public void append(long offset, E event) {
    if (lastOffset != 0 && offset != lastOffset + 1) {
      throw new IllegalArgumentException("offset " + offset + " does not follow " + lastOffset);
    }
    lastOffset = offset;
    if (ring.length == 0) return;
    ring[slot(offset)] = event;
    if (size < ring.length) size++;
  }

  public int size() {
    return size;
  }

  public int capacity() {
    return ring.length;
  }

  /** The offset of the newest event ever appended, 0 before the first. */
  public long lastOffset() {
    return lastOffset;
  }

  /** The offset of the oldest retained event; {@code lastOffset() + 1} when none is retained. */
  public long oldestOffset() {
    return lastOffset - size + 1;
  }

  /** The newest {@code n} retained events, oldest first. */
  public List<E> lastN(int n) {
    int count = Math.min(Math.max(n, 0), size);
    return range(lastOffset - count + 1, count);
  }

  /** Every retained event with an offset greater than {@code offset}, oldest first. */
  public List<E> after(long offset) {
    if (offset >= lastOffset) return List.of();
    long from = Math.max(offset + 1, oldestOffset());
    if (from > lastOffset) return List.of();
    return range(from, (int) (lastOffset - from + 1));
  }

  /** True when every event after {@code offset} up to the newest is still retained. */
  public boolean retainsEverythingAfter(long offset) {
    return offset <= lastOffset && offset >= oldestOffset() - 1;
  }

  private List<E> range(long fromOffset, int count) {
    if (count == 0) return List.of();
    List<E> out = new ArrayList<>(count);
    for (long o = fromOffset; o < fromOffset + count; o++) {
      @SuppressWarnings("unchecked")
      E e = (E) ring[slot(o)];
      out.add(e);
    }
    return Collections.unmodifiableList(out);
  }

  private int slot(long offset) {
    return (int) Math.floorMod(offset, (long) ring.length);
  }
}
