package pekkopubsub.connection;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import org.apache.pekko.util.ByteString;
import org.apache.pekko.util.ByteStringBuilder;
import pekkopubsub.config.Settings.OverflowPolicy;

/**
 * The frames waiting to be written to one connection, in arrival order: answers (acks, errors,
 * pongs, replay pages, infos), which are never dropped (only discarded with the connection: the
 * live events in a replay page are then counted as dropped), and events, which are bounded in
 * number and in bytes and dropped by the overflow policy, and while the heap is under pressure
 * bounded to {@link #BYTES_UNDER_PRESSURE} as well. Every dropped event is counted against its
 * source (the topic it came from).
 * Not thread-safe: it belongs to one connection's stage.
 *
 * @param <S> the key drops are counted by
 */
public final class OutboundQueue<S> {

  /** What became of an offered event. */
  public enum Offer {
    ENQUEUED,
    /** Enqueued after the oldest queued event was dropped to make room. */
    DROPPED_OLDEST,
    /** Enqueued after the oldest queued events were dropped because the heap is under pressure. */
    SHED_OLDEST,
    /** Not enqueued: the queue overflowed under {@code disconnect}, or was closed for events. */
    REFUSED
  }

  /**
   * {@code event}: an event of a replay page, which counts among the events taken though it is
   * never dropped; {@code source}: for a live one (published since the subscribe), what its drop
   * counts against should the answer be discarded, else null.
   */
  private record Answer<S>(long seq, ByteString frame, boolean event, S source) {}

  /**
   * The bytes of events a queue may hold while the heap is under pressure: 256 events of up to 256
   * bytes, so that only queues of large events, the ones that fill a heap, give any up.
   */
  public static final long BYTES_UNDER_PRESSURE = 64 * 1024;
  private static final int INITIAL_EVENT_SLOTS = 8;
  /** Frames a batch joins with concat before it switches to a builder; see {@link #pollBatch}. */
  private static final int CONCAT_FRAMES = 4;

  private final OverflowPolicy policy;
  private final int eventCapacity;
  private final long eventBytesCapacity;
  private final HeapPressure heapPressure;
  private long eventBytes;
  // The ring starts small and doubles up to eventCapacity: most connections never queue much,
  // and idle connections are what a server holds by the ten thousand.
  private ByteString[] eventFrames;
  private Object[] eventSources;
  private long[] eventSeqs;
  private int eventHead;
  private int eventCount;
  private final ArrayDeque<Answer<S>> answers = new ArrayDeque<>();
  private long nextSeq;
  private boolean closedForEvents;
  private final Map<S, Long> unreportedDrops = new HashMap<>();
  private long droppedTotal;
  private long shedTotal;
  private long framesTaken;
  private long eventsTaken;

  /** Events bounded in number only. */
  public OutboundQueue(int eventCapacity, OverflowPolicy policy) {
    this(eventCapacity, 0, policy);
  }

  /**
   * At most {@code eventCapacity} events, and, when {@code eventBytesCapacity} is not 0, at most
   * that many bytes of them, except that one event is always taken whatever its size.
   */
  public OutboundQueue(int eventCapacity, long eventBytesCapacity, OverflowPolicy policy) {
    this(eventCapacity, eventBytesCapacity, policy, HeapPressure.OFF);
  }

  /** As above, and at most {@link #BYTES_UNDER_PRESSURE} of events while {@code heapPressure} is high. */
  public OutboundQueue(int eventCapacity, long eventBytesCapacity, OverflowPolicy policy, HeapPressure heapPressure) {
    if (eventCapacity < 1) throw new IllegalArgumentException("eventCapacity must be >= 1");
    if (eventBytesCapacity < 0) throw new IllegalArgumentException("eventBytesCapacity must be >= 0 (0: unbounded)");
    this.policy = policy;
    this.eventCapacity = eventCapacity;
    this.eventBytesCapacity = eventBytesCapacity;
    this.heapPressure = heapPressure;
    int slots = Math.min(eventCapacity, INITIAL_EVENT_SLOTS);
    this.eventFrames = new ByteString[slots];
    this.eventSources = new Object[slots];
    this.eventSeqs = new long[slots];
  }

  public void offerAnswer(ByteString frame) {
    answers.addLast(new Answer<>(nextSeq++, frame, false, null));
  }

  /** An event of a replay: kept in order with the answers, never dropped, and counted in {@link #eventsTaken} when taken. */
  public void offerReplayed(ByteString frame) {
    answers.addLast(new Answer<>(nextSeq++, frame, true, null));
  }

  /**
   * A live event that came in a replay page: kept in order with the page as {@link #offerReplayed}
   * keeps its replayed events, but owed to the subscriber like any event, so it is refused (and
   * counted) once the queue is closed for events, and counted against {@code source} if
   * {@link #discardAnswers} discards it.
   */
  public Offer offerLiveInReplay(ByteString frame, S source) {
    if (closedForEvents) {
      countDrop(source, 1);
      return Offer.REFUSED;
    }
    answers.addLast(new Answer<>(nextSeq++, frame, true, source));
    return Offer.ENQUEUED;
  }

  public Offer offerEvent(ByteString frame, S source) {
    if (closedForEvents) {
      countDrop(source, 1);
      return Offer.REFUSED;
    }
    Offer result = Offer.ENQUEUED;
    if (eventCount == eventFrames.length && eventFrames.length < eventCapacity) {
      growEventRing();
    }
    boolean overBounds = overflowsWith(frame);
    if (overBounds || overPressureShareWith(frame)) {
      if (policy == OverflowPolicy.DISCONNECT) {
        countDrop(source, 1);
        dropAllEvents();
        closedForEvents = true;
        return Offer.REFUSED;
      }
      long droppedBefore = droppedTotal;
      while (overflowsWith(frame) || overPressureShareWith(frame)) dropOldestEvent();
      if (!overBounds) shedTotal += droppedTotal - droppedBefore;
      result = overBounds ? Offer.DROPPED_OLDEST : Offer.SHED_OLDEST;
    }
    int slot = (eventHead + eventCount) % eventFrames.length;
    eventFrames[slot] = frame;
    eventSources[slot] = source;
    eventSeqs[slot] = nextSeq++;
    eventCount++;
    eventBytes += frame.size();
    return result;
  }

  private boolean overflowsWith(ByteString frame) {
    if (eventCount == eventFrames.length) return true;
    return eventBytesCapacity > 0 && eventCount > 0 && eventBytes + frame.size() > eventBytesCapacity;
  }

  // The flag is read only by a queue already past the share: a short queue costs nothing more.
  private boolean overPressureShareWith(ByteString frame) {
    return eventCount > 0 && eventBytes + frame.size() > BYTES_UNDER_PRESSURE && heapPressure.isHigh();
  }

  /** Drops every queued event (counted) and every event offered from now on (counted too). */
  public void closeForEvents() {
    dropAllEvents();
    closedForEvents = true;
  }

  /** Keeps the queued events but refuses (and counts) every event offered from now on. */
  public void refuseNewEvents() {
    closedForEvents = true;
  }

  /** Discards the queued answers: for a connection that is going away and will not read them. */
  public void discardAnswers() {
    for (Answer<S> answer : answers) {
      if (answer.source() != null) countDrop(answer.source(), 1);
    }
    answers.clear();
  }

  /** Discards the queued replays' events, keeping the other answers: for a peer that closed and is owed only those. */
  public void discardReplayed() {
    answers.removeIf(answer -> {
      if (answer.event() && answer.source() != null) countDrop(answer.source(), 1);
      return answer.event();
    });
  }

  public boolean isEmpty() {
    return eventCount == 0 && answers.isEmpty();
  }

  public int answerCount() {
    return answers.size();
  }

  public int eventCount() {
    return eventCount;
  }

  /** The bytes of the queued events' frames. */
  public long eventBytes() {
    return eventBytes;
  }

  /** Frames (answers and events) removed by {@link #pollBatch} since this queue was made. */
  public long framesTaken() {
    return framesTaken;
  }

  /** Events (replayed ones too) removed by {@link #pollBatch}, i.e. handed to the socket, since this queue was made. */
  public long eventsTaken() {
    return eventsTaken;
  }

  /** Events dropped since this queue was made. */
  public long droppedTotal() {
    return droppedTotal;
  }

  /** Of {@link #droppedTotal}, the events dropped because the heap was under pressure. */
  public long shedTotal() {
    return shedTotal;
  }

  /**
   * Removes the next frames in arrival order and returns them as one buffer of at most
   * {@code maxBytes} (or one frame, if a single frame is larger); null when empty.
   */
  public ByteString pollBatch(int maxBytes) {
    if (isEmpty()) return null;
    ByteString batch = takeHead();
    // A few frames are joined with concat: a builder starts with a 32-slot part array and was 46 %
    // of the bytes the server allocated per delivery. Past them concat would copy the growing part
    // vector on every frame, which took a quarter of the server's CPU when a backlog made batches long.
    for (int frames = 1; frames < CONCAT_FRAMES && nextFits(batch.size(), maxBytes); frames++) {
      batch = batch.concat(takeHead());
    }
    if (!nextFits(batch.size(), maxBytes)) return batch;
    ByteStringBuilder builder = ByteString.newBuilder().append(batch);
    while (nextFits(builder.length(), maxBytes)) builder.append(takeHead());
    return builder.result();
  }

  private boolean nextFits(int batchBytes, int maxBytes) {
    return !isEmpty() && batchBytes + peekHead().size() <= maxBytes;
  }

  /** The drops counted since the last call, per source; the caller reports them. */
  public Map<S, Long> takeUnreportedDrops() {
    if (unreportedDrops.isEmpty()) return Map.of();
    Map<S, Long> drops = Map.copyOf(unreportedDrops);
    unreportedDrops.clear();
    return drops;
  }

  public boolean hasUnreportedDrops() {
    return !unreportedDrops.isEmpty();
  }

  private ByteString peekHead() {
    return peekIsAnswer() ? answers.peekFirst().frame() : eventFrames[eventHead];
  }

  private ByteString takeHead() {
    ByteString head = peekHead();
    removeHead();
    return head;
  }

  private boolean peekIsAnswer() {
    if (answers.isEmpty()) return false;
    return eventCount == 0 || answers.peekFirst().seq() < eventSeqs[eventHead];
  }

  private void removeHead() {
    framesTaken++;
    if (peekIsAnswer()) {
      if (answers.removeFirst().event()) eventsTaken++;
    } else {
      eventsTaken++;
      clearEventSlot(eventHead);
      eventHead = (eventHead + 1) % eventFrames.length;
      eventCount--;
    }
  }

  private void growEventRing() {
    int slots = Math.min(eventCapacity, eventFrames.length * 2);
    ByteString[] frames = new ByteString[slots];
    Object[] sources = new Object[slots];
    long[] seqs = new long[slots];
    for (int i = 0; i < eventCount; i++) {
      int from = (eventHead + i) % eventFrames.length;
      frames[i] = eventFrames[from];
      sources[i] = eventSources[from];
      seqs[i] = eventSeqs[from];
    }
    eventFrames = frames;
    eventSources = sources;
    eventSeqs = seqs;
    eventHead = 0;
  }

  private void dropOldestEvent() {
    @SuppressWarnings("unchecked")
    S source = (S) eventSources[eventHead];
    countDrop(source, 1);
    clearEventSlot(eventHead);
    eventHead = (eventHead + 1) % eventFrames.length;
    eventCount--;
  }

  private void dropAllEvents() {
    while (eventCount > 0) dropOldestEvent();
    eventHead = 0;
  }

  private void clearEventSlot(int slot) {
    eventBytes -= eventFrames[slot].size();
    eventFrames[slot] = null;
    eventSources[slot] = null;
  }

  private void countDrop(S source, long count) {
    unreportedDrops.merge(source, count, Long::sum);
    droppedTotal += count;
  }
}
