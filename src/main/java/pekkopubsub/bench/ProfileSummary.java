package pekkopubsub.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;
import pekkopubsub.protocol.JsonCodec;

/**
 * Where the server's time and memory went during a measured run, read from a JDK Flight Recorder
 * file: CPU samples by area of the code, the hottest methods, bytes allocated per delivery, and
 * GC pauses.
 */
final class ProfileSummary {

  /** Code areas, matched against a frame's class name in this order. */
  private static final List<Map.Entry<String, String>> AREAS = List.of(
      Map.entry("pekkopubsub.", "pekko-pubsub (our code)"),
      Map.entry("org.apache.pekko.io.", "Pekko IO (TCP actors)"),
      Map.entry("org.apache.pekko.http.", "Pekko HTTP"),
      Map.entry("org.apache.pekko.stream.", "Pekko Streams (interpreter)"),
      Map.entry("org.apache.pekko.actor.", "Pekko actors (mailboxes, dispatch)"),
      Map.entry("org.apache.pekko.dispatch.", "Pekko actors (mailboxes, dispatch)"),
      Map.entry("com.fasterxml.jackson.", "Jackson"),
      Map.entry("io.micrometer.", "Micrometer"),
      Map.entry("sun.nio.ch.", "socket I/O (NIO)"));
  private static final String OTHER = "other (JDK, Scala)";
  private static final int TOP_METHODS = 12;

  private ProfileSummary() {}

  /**
   * Summarizes {@code recording}; {@code deliveries} (events handed to subscribers while it ran)
   * turns allocation into bytes per delivery.
   */
  static ObjectNode summarize(Path recording, long deliveries) throws IOException {
    Map<String, Long> byArea = new LinkedHashMap<>();
    Map<String, Long> byMethod = new HashMap<>();
    Map<String, Long> allocatedByClass = new HashMap<>();
    Map<Long, ThreadAllocation> allocatedByThread = new HashMap<>();
    long cpuSamples = 0;
    long sampledBytes = 0;
    long gcCount = 0;
    double gcPauseMs = 0;
    double gcLongestPauseMs = 0;
    try (RecordingFile file = new RecordingFile(recording)) {
      while (file.hasMoreEvents()) {
        RecordedEvent e = file.readEvent();
        switch (e.getEventType().getName()) {
          case "jdk.ExecutionSample" -> {
            RecordedStackTrace stack = e.getStackTrace();
            if (stack == null || stack.getFrames().isEmpty()) continue;
            cpuSamples++;
            byArea.merge(area(stack.getFrames()), 1L, Long::sum);
            byMethod.merge(method(stack.getFrames().get(0)), 1L, Long::sum);
          }
          case "jdk.ObjectAllocationSample" -> {
            long weight = e.getLong("weight");
            sampledBytes += weight;
            allocatedByClass.merge(e.getClass("objectClass").getName(), weight, Long::sum);
          }
          case "jdk.ThreadAllocationStatistics" -> {
            // The statistics' subject is the "thread" field; the event's own thread is the JVM's.
            if (e.getThread("thread") == null) continue;
            long allocated = e.getLong("allocated");
            long at = e.getStartTime().toEpochMilli();
            allocatedByThread.merge(e.getThread("thread").getJavaThreadId(),
                new ThreadAllocation(at, allocated, at, allocated), ThreadAllocation::span);
          }
          case "jdk.GarbageCollection" -> {
            gcCount++;
            double pause = e.getDuration("sumOfPauses").toNanos() / 1e6;
            gcPauseMs += pause;
            gcLongestPauseMs = Math.max(gcLongestPauseMs, e.getDuration("longestPause").toNanos() / 1e6);
          }
          default -> { }
        }
      }
    }
    ObjectNode r = JsonCodec.mapper().createObjectNode();
    r.put("recording", recording.toString());
    r.put("cpu_samples", cpuSamples);
    ObjectNode areas = r.putObject("cpu_share_by_area");
    long samples = Math.max(1, cpuSamples);
    byArea.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed())
        .forEach(a -> areas.put(a.getKey(), round(100.0 * a.getValue() / samples)));
    ObjectNode methods = r.putObject("cpu_share_top_methods");
    byMethod.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(TOP_METHODS)
        .forEach(m -> methods.put(m.getKey(), round(100.0 * m.getValue() / samples)));
    long counted = allocatedDuring(allocatedByThread);
    // A recording dumped while it runs (the in-process server's) may hold no per-thread statistics.
    long allocatedBytes = counted > 0 ? counted : sampledBytes;
    r.put("allocation_source", counted > 0 ? "thread counters" : "allocation samples (rough)");
    r.put("allocated_mb", round(allocatedBytes / 1e6));
    if (deliveries > 0) {
      r.put("allocated_bytes_per_delivery", Math.round((double) allocatedBytes / deliveries));
      ObjectNode classes = r.putObject("allocated_bytes_per_delivery_top_classes");
      double scale = sampledBytes == 0 ? 0 : (double) allocatedBytes / sampledBytes / deliveries;
      allocatedByClass.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(TOP_METHODS)
          .forEach(k -> classes.put(k.getKey(), Math.round(k.getValue() * scale)));
    }
    ObjectNode gc = r.putObject("gc");
    gc.put("collections", gcCount);
    gc.put("pause_ms_total", round(gcPauseMs));
    gc.put("pause_ms_longest", round(gcLongestPauseMs));
    r.put("note", "JFR samples Java code only: time in system calls shows as socket I/O frames at most, and as"
        + " syscalls per delivery in server_metrics; allocation is the threads' own byte counts, split by class"
        + " in the proportions of JFR's allocation samples");
    return r;
  }

  /** One thread's allocation counter, first and last seen in the recording (times in ms). */
  record ThreadAllocation(long firstAt, long firstBytes, long lastAt, long lastBytes) {
    /** The earlier first sighting and the later last sighting of the two. */
    ThreadAllocation span(ThreadAllocation other) {
      ThreadAllocation first = firstAt <= other.firstAt ? this : other;
      ThreadAllocation last = lastAt >= other.lastAt ? this : other;
      return new ThreadAllocation(first.firstAt, first.firstBytes, last.lastAt, last.lastBytes);
    }
  }

  /**
   * Bytes the threads allocated between the recording's first and last per-thread statistics. The
   * sampled allocation events are not a total: one sample's weight is everything its thread
   * allocated since its previous sample, which made single samples weigh gigabytes.
   */
  static long allocatedDuring(Map<Long, ThreadAllocation> byThread) {
    long end = byThread.values().stream().mapToLong(ThreadAllocation::lastAt).max().orElse(0);
    long total = 0;
    for (ThreadAllocation t : byThread.values()) {
      if (t.firstAt() != t.lastAt()) total += t.lastBytes() - t.firstBytes();
      else if (t.lastAt() == end) total += t.lastBytes(); // started during the recording: all its allocation is inside it
    }
    return total;
  }

  /** The area of the innermost frame that belongs to a known one; JDK and Scala frames count for their caller. */
  static String area(List<RecordedFrame> frames) {
    for (RecordedFrame f : frames) {
      String type = f.getMethod().getType().getName();
      for (Map.Entry<String, String> a : AREAS) {
        if (type.startsWith(a.getKey())) return a.getValue();
      }
    }
    return OTHER;
  }

  private static String method(RecordedFrame frame) {
    return frame.getMethod().getType().getName() + "." + frame.getMethod().getName();
  }

  private static double round(double v) {
    return Math.round(v * 10) / 10.0;
  }
}
