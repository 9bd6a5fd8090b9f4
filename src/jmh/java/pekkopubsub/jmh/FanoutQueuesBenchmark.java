package pekkopubsub.jmh;

import org.apache.pekko.util.ByteString;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.infra.Blackhole;
import pekkopubsub.config.Settings.OverflowPolicy;
import pekkopubsub.connection.OutboundQueue;
import pekkopubsub.connection.WebSocketFrames;

/**
 * One publish fanned out to N subscriber queues, single-threaded: the same event frame offered to
 * every connection's OutboundQueue, then each queue drained with pollBatch as the connection
 * stage does before a write. Excludes the actor hops and the socket writes: it bounds what the
 * queueing itself costs per delivery (divide the score by N).
 */
public class FanoutQueuesBenchmark extends NanosecondBenchmark {

  @Param({"1", "100", "1000"})
  int subscribers;

  OutboundQueue<Object>[] queues;
  ByteString frame;
  final Object source = new Object();

  @Setup
  @SuppressWarnings("unchecked")
  public void setup() {
    queues = new OutboundQueue[subscribers];
    for (int i = 0; i < subscribers; i++) queues[i] = new OutboundQueue<>(256, OverflowPolicy.DROP_OLDEST);
    frame = WebSocketFrames.text(ByteString.fromString(
        "{\"type\":\"event\",\"topic\":\"orders\",\"message\":{\"id\":\"5b0e8d4e-6c8f-4f5e-9a51-2d3c1b0e7f11\",\"payload\":{\"bt\":1,\"pad\":\""
            + "x".repeat(64) + "\"}},\"offset\":1,\"ts\":\"2026-11-22T10:00:00.123Z\"}"));
  }

  /** offerEvent to each of N queues, then pollBatch(32 KiB) on each: one publish, N deliveries. */
  @Benchmark
  public void offerAndPoll(Blackhole bh) {
    for (OutboundQueue<Object> q : queues) q.offerEvent(frame, source);
    for (OutboundQueue<Object> q : queues) bh.consume(q.pollBatch(32 * 1024));
  }
}
