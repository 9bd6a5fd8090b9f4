package pekkopubsub.topic;

import java.util.function.ToLongFunction;

/**
 * The newest events of one topic, keyed by their consecutive offsets, in a ring, with the sum of
 * their weights (their bytes, for a Topic) so that the oldest can be given up for memory.
 * Not thread-safe: its owning Topic actor is the single writer and reader.
 */
public final class ReplayBuffer<E> {
  /**
   * The ring starts this small and doubles up to the capacity, and halves again when a quarter
   * full: a ring allocated whole made every new topic cost its max-history in slots (1,000 topics
   * with max-history 1,000,000: 4 GB of empty rings), which no history budget saw.
   */
  static final int INITIAL_SLOTS = 8;

  private final int capacity;
  private Object[] ring;
  private final ToLongFunction<? super E> weigher;
  private int size;
  private long lastOffset;
  private long weight;

  /** A buffer whose events weigh nothing. */
  public ReplayBuffer(int capacity) {
    this(capacity, event -> 0);
  }

  public ReplayBuffer(int capacity, ToLongFunction<? super E> weigher) {
    if (capacity < 0) throw new IllegalArgumentException("capacity must be >= 0");
    this.capacity = capacity;
    this.ring = new Object[Math.min(capacity, INITIAL_SLOTS)];
    this.weigher = weigher;
  }

  /**
   * Retains {@code event} as the one with the next offset, evicting the oldest when full; returns
   * how much the retained weight changed.
   */
  public long append(long offset, E event) {
    if (lastOffset != 0 && offset != lastOffset + 1) {
      throw new IllegalArgumentException("offset " + offset + " does not follow " + lastOffset);
    }
    if (size == ring.length && ring.length < capacity) resize((int) Math.min(capacity, 2L * ring.length));
    lastOffset = offset;
    if (ring.length == 0) return 0;
    // Slots outside the retained window are null, so the slot holds an event only when the ring is full.
    int slot = slot(offset);
    long change = weigher.applyAsLong(event) - weighAt(slot);
    ring[slot] = event;
    if (size < ring.length) size++;
    weight += change;
    return change;
  }

  /** Puts {@code event} in place of the retained event at {@code offset}; returns how much the retained weight changed. */
  public long replace(long offset, E event) {
    if (size == 0 || offset < oldestOffset() || offset > lastOffset) {
      throw new IllegalArgumentException("offset " + offset + " is not retained");
    }
    int slot = slot(offset);
    long change = weigher.applyAsLong(event) - weighAt(slot);
    ring[slot] = event;
    weight += change;
    return change;
  }

  /** Gives up the oldest retained event, if any; returns the weight freed. */
  public long evictOldest() {
    if (size == 0) return 0;
    int slot = slot(oldestOffset());
    long freed = weighAt(slot);
    ring[slot] = null;
    size--;
    weight -= freed;
    if (ring.length > INITIAL_SLOTS && size < ring.length / 4) resize(ring.length / 2);
    return freed;
  }

  public int size() {
    return size;
  }

  /** The sum of the retained events' weights. */
  public long weight() {
    return weight;
  }

  public int capacity() {
    return capacity;
  }

  /** The slots the ring has now: what it holds in memory besides the events. */
  int slots() {
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

  /** The retained event at {@code offset}; null when it was evicted or not yet appended. */
  public E at(long offset) {
    if (offset < oldestOffset() || offset > lastOffset) return null;
    @SuppressWarnings("unchecked")
    E e = (E) ring[slot(offset)];
    return e;
  }

  /** The offset of the oldest of the newest {@code n} retained events; {@code lastOffset() + 1} when that is none. */
  public long firstOfNewest(int n) {
    return lastOffset - Math.min(Math.max(n, 0), size) + 1;
  }

  /** The offset of the oldest retained event after {@code offset}; {@code lastOffset() + 1} when there is none. */
  public long firstAfter(long offset) {
    return offset >= lastOffset ? lastOffset + 1 : Math.max(offset + 1, oldestOffset());
  }

  /** True when every event after {@code offset} up to the newest is still retained. */
  public boolean retainsEverythingAfter(long offset) {
    return offset <= lastOffset && offset >= oldestOffset() - 1;
  }

  private long weighAt(int slot) {
    @SuppressWarnings("unchecked")
    E e = (E) ring[slot];
    return e == null ? 0 : weigher.applyAsLong(e);
  }

  private void resize(int slots) {
    Object[] next = new Object[slots];
    for (long offset = oldestOffset(); offset <= lastOffset; offset++) {
      next[(int) Math.floorMod(offset, (long) slots)] = ring[slot(offset)];
    }
    ring = next;
  }

  private int slot(long offset) {
    return (int) Math.floorMod(offset, (long) ring.length);
  }
}
