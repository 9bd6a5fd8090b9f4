package pekkopubsub.connection;

import static net.logstash.logback.argument.StructuredArguments.kv;

import com.sun.management.GarbageCollectionNotificationInfo;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import javax.management.ListenerNotFoundException;
import javax.management.Notification;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the last garbage collection left the heap nearly full: the signal for outbound queues to
 * hold less ({@link OutboundQueue#BYTES_UNDER_PRESSURE}).
 *
 * <p>Bounds per connection cannot bound the heap by themselves: 300 subscribers that stop reading,
 * each waiting for different 60 KB events, ran a 256 MB server out of memory within every bound.
 * Adding up the queued bytes of all connections would count an event once per subscriber holding
 * it, though they all share one frame, so a popular topic's short stall would look like gigabytes;
 * the heap as a collection leaves it counts what is really held, once, whatever holds it. The
 * pressure comes on when a collection leaves at least the high watermark in use and goes off when
 * one leaves less than {@link #RELEASE_SHARE} of it, so that it does not flap.
 *
 * <p>Like the meters, one is shared by the connections of a JVM: the collector's notification
 * thread writes a volatile flag, the stages only read it, and only when their queue is long.
 */
public final class HeapPressure implements AutoCloseable {
  /** Never under pressure: for tests and for {@code heap-high-watermark = 0}. */
  public static final HeapPressure OFF = new HeapPressure(0);

  /** The pressure goes off once a collection leaves less than this share of the high watermark. */
  static final double RELEASE_SHARE = 0.9;
  private static final long LOG_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);
  private static final Logger log = LoggerFactory.getLogger(HeapPressure.class);
  /** A collection's notification names every pool; only these are the heap. */
  private static final Set<String> HEAP_POOLS = ManagementFactory.getMemoryPoolMXBeans().stream()
      .filter(pool -> pool.getType() == MemoryType.HEAP).map(MemoryPoolMXBean::getName).collect(Collectors.toSet());

  private final long highWatermarkBytes;
  private volatile boolean high;
  private volatile long usedAfterLastCollection = -1;
  private long lastWarningNanos = System.nanoTime() - LOG_INTERVAL_NANOS;
  private boolean warned;
  private final List<NotificationEmitter> emitters = new ArrayList<>();
  private final NotificationListener listener = this::onNotification;

  HeapPressure(long highWatermarkBytes) {
    if (highWatermarkBytes < 0) throw new IllegalArgumentException("highWatermarkBytes must be >= 0 (0: off)");
    this.highWatermarkBytes = highWatermarkBytes;
  }

  /** Follows every garbage collection of this JVM until closed; {@code highWatermarkBytes} 0 is {@link #OFF}. */
  public static HeapPressure watchingCollections(long highWatermarkBytes) {
    if (highWatermarkBytes == 0) return OFF;
    HeapPressure pressure = new HeapPressure(highWatermarkBytes);
    for (GarbageCollectorMXBean collector : ManagementFactory.getGarbageCollectorMXBeans()) {
      if (collector instanceof NotificationEmitter emitter) {
        emitter.addNotificationListener(pressure.listener, null, null);
        pressure.emitters.add(emitter);
      }
    }
    return pressure;
  }

  public boolean isHigh() {
    return high;
  }

  public long highWatermarkBytes() {
    return highWatermarkBytes;
  }

  /** The heap in use as the last collection left it; -1 before the first. */
  public long usedAfterLastCollection() {
    return usedAfterLastCollection;
  }

  /** Called on the collector's notification thread, one collection at a time. */
  void afterCollection(long usedBytes) {
    usedAfterLastCollection = usedBytes;
    if (!high && usedBytes >= highWatermarkBytes) {
      high = true;
      long now = System.nanoTime();
      if (now - lastWarningNanos >= LOG_INTERVAL_NANOS) {
        lastWarningNanos = now;
        warned = true;
        log.warn("heap nearly full after a collection: outbound queues over {} bytes drop their oldest events {} {}",
            OutboundQueue.BYTES_UNDER_PRESSURE, kv("heap_used_bytes", usedBytes), kv("high_watermark_bytes", highWatermarkBytes));
      }
    } else if (high && usedBytes < highWatermarkBytes * RELEASE_SHARE) {
      high = false;
      if (warned) log.info("heap pressure ended after a collection {}", kv("heap_used_bytes", usedBytes));
      warned = false;
    }
  }

  private void onNotification(Notification notification, Object handback) {
    if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(notification.getType())) return;
    var info = GarbageCollectionNotificationInfo.from((CompositeData) notification.getUserData()).getGcInfo();
    long used = 0;
    for (var pool : info.getMemoryUsageAfterGc().entrySet()) {
      if (HEAP_POOLS.contains(pool.getKey())) used += pool.getValue().getUsed();
    }
    afterCollection(used);
  }

  /** Stops following collections: a stopped server must not stay registered with the JVM. */
  @Override
  public void close() {
    for (NotificationEmitter emitter : emitters) {
      try {
        emitter.removeNotificationListener(listener);
      } catch (ListenerNotFoundException alreadyRemoved) {
        // closed twice
      }
    }
    emitters.clear();
  }
}
