package pekkopubsub.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import pekkopubsub.client.AdminClient;
import pekkopubsub.client.LeanClient;
import pekkopubsub.client.PubSubClient;
import pekkopubsub.protocol.JsonCodec;

/**
 * One load run against one server: creates fresh topics, connects subscribers and publishers
 * over real sockets, publishes (open loop at a rate, or closed loop on acks), measures, drains,
 * reads {@code /stats}, cleans up, and returns the result as JSON (with a per-second series).
 *
 * <p>Latency is end to end: each payload carries {@code "bt"}, the publish's <em>intended</em>
 * send time (open loop: its slot in the schedule, so a sender or server that falls behind shows
 * up as latency instead of silently sending less: no coordinated omission; closed loop: the
 * actual send time). Subscribers read it from the event's bytes without parsing the JSON. It also
 * carries {@code "st"}, the time the publish was actually handed to the socket, so that a result
 * shows apart ({@code latency_from_send_ms}) how much of the latency is the load generator's own
 * lateness in sending (a descheduled thread, its GC) rather than the server's and the network's.
 */
final class LoadRun {

  private static final byte[] EVENT_PREFIX = bytes("{\"type\":\"event\"");
  private static final byte[] ACK_PREFIX = bytes("{\"type\":\"ack\"");
  private static final byte[] OFFSET_KEY = bytes("\"offset\":");
  /** The payload's two time stamps, as the publisher writes them and the subscribers look for them. */
  private static final String BT_FIELD = "\"bt\":", ST_FIELD = "\"st\":";
  private static final byte[] BT_KEY = bytes(BT_FIELD);
  private static final byte[] ST_KEY = bytes(ST_FIELD);
  private static final byte[] REQUEST_ID_KEY = bytes("\"request_id\":\"");
  private static final byte[] REPLAY_SUFFIX = bytes("\"replay\":true}");
  private static final long HIST_MAX_NANOS = TimeUnit.SECONDS.toNanos(120);

  private final BenchConfig c;
  private final ServerHandle server;
  private final Consumer<String> progress;
  private final String runId = Long.toHexString(System.nanoTime() & 0xFFFFFFFFL);
  private final String[] topicNames;
  private final long origin = System.nanoTime();

  // ---- counters, shared by the loop threads ----
  private final Recorder recorder = new Recorder(HIST_MAX_NANOS, 3);
  private final Histogram total = new Histogram(HIST_MAX_NANOS, 3);
  private final Recorder fromSendRecorder = new Recorder(HIST_MAX_NANOS, 3);
  private final LongAdder sent = new LongAdder();
  private final LongAdder acked = new LongAdder();
  private final LongAdder delivered = new LongAdder();
  private final LongAdder replayed = new LongAdder();
  private final LongAdder gaps = new LongAdder();
  private final LongAdder duplicates = new LongAdder();
  private final LongAdder infos = new LongAdder();
  private final LongAdder unexpectedCloses = new LongAdder();
  private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
  private final AtomicLongArray maxAckedOffset;
  private final AtomicLong maxLagNanos = new AtomicLong();
  private volatile boolean publishing;
  private volatile boolean finishing;

  private final List<LeanClient.Loop> loops = new ArrayList<>();
  private final List<Sub> subs = new ArrayList<>();
  private final List<Pub> pubs = new ArrayList<>();
  private final ArrayNode series = JsonCodec.mapper().createArrayNode();
  private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "bench-timer");
    t.setDaemon(true);
    return t;
  });

  LoadRun(BenchConfig c, ServerHandle server, Consumer<String> progress) {
    this.c = c;
    this.server = server;
    this.progress = progress;
    this.topicNames = new String[c.topics];
    for (int i = 0; i < c.topics; i++) topicNames[i] = "bench-" + runId + "-" + i;
    this.maxAckedOffset = new AtomicLongArray(c.topics);
  }

  // ---- per-connection state ----

  /** A subscriber: one topic; offsets seen, for gaps and duplicates. Touched only by its loop thread. */
  private final class Sub implements LeanClient.Handler {
    final int topic;
    final boolean joiner;
    /** The TLS session this subscriber offers (LeanClient.SHARED_SESSIONS or one of its own). */
    final int sessionKey;
    LeanClient client;
    /** Dropped on purpose (--reconnect): its close is not unexpected. */
    volatile boolean dropped;
    long base = -1; // offset before the first one this subscriber is owed (-1: not known yet)
    long last;
    long received;
    volatile CompletableFuture<JsonNode> answer;

    Sub(int topic, boolean joiner, int sessionKey) {
      this.topic = topic;
      this.joiner = joiner;
      this.sessionKey = sessionKey;
      if (!joiner) {
        base = 0; // fresh topic, subscribed before the first publish
        last = 0;
      }
    }

    @Override
    public void onText(LeanClient client, byte[] buf, int off, int len) {
      if (startsWith(buf, off, len, EVENT_PREFIX)) {
        long now = System.nanoTime();
        int o = lastIndexOf(buf, off, len, OFFSET_KEY);
        long offset = o < 0 ? -1 : parseLong(buf, o + OFFSET_KEY.length, off + len);
        boolean replay = endsWith(buf, off, len, REPLAY_SUFFIX);
        if (base < 0) {
          base = offset - 1;
          last = base;
        }
        if (offset == last + 1) {
          last = offset;
        } else if (offset > last + 1) {
          gaps.add(offset - last - 1);
          last = offset;
        } else {
          duplicates.increment();
        }
        received++;
        if (replay) {
          replayed.increment();
        } else {
          delivered.increment();
          int b = indexOf(buf, off, len, BT_KEY);
          if (b >= 0) {
            long bt = parseLong(buf, b + BT_KEY.length, off + len);
            long latency = now - origin - bt;
            recorder.recordValue(Math.max(0, Math.min(latency, HIST_MAX_NANOS)));
            // "st" follows bt's digits: the search starts there, not at the event's beginning.
            int st = indexOf(buf, b, off + len - b, ST_KEY);
            if (st >= 0) {
              long fromSend = now - origin - parseLong(buf, st + ST_KEY.length, off + len);
              fromSendRecorder.recordValue(Math.max(0, Math.min(fromSend, HIST_MAX_NANOS)));
            }
          }
        }
        return;
      }
      CompletableFuture<JsonNode> waiting = answer;
      onOtherFrame(buf, off, len, waiting);
      if (waiting != null && waiting.isDone()) answer = null;
    }

    @Override
    public void onClosed(LeanClient client, int code) {
      if (!finishing && !dropped) unexpectedCloses.increment();
    }
  }

  /** A publisher: its topics in turn; in closed loop, sends the next publish from its ack. */
  private final class Pub implements LeanClient.Handler {
    final int[] topics;
    final byte[][] prefixes; // publish frame up to the timestamp digits, per topic
    int nextTopic;
    LeanClient client;
    final AtomicLong inFlight = new AtomicLong();

    Pub(int[] topics) {
      this.topics = topics;
      this.prefixes = new byte[topics.length][];
      for (int i = 0; i < topics.length; i++) {
        prefixes[i] = bytes("{\"type\":\"publish\",\"topic\":\"" + topicNames[topics[i]] + "\",\"request_id\":\""
            + topics[i] + "\",\"message\":{\"payload\":{" + BT_FIELD);
      }
    }

    /**
     * Sends one publish stamped {@code bt} and {@code st} (intended and actual send time, ns since
     * the run's origin). Any thread; one at a time per Pub.
     */
    void send(long bt, long st) {
      int i = nextTopic;
      nextTopic = i + 1 == topics.length ? 0 : i + 1;
      byte[] prefix = prefixes[i];
      byte[] stamps = (bt + "," + ST_FIELD + st).getBytes(StandardCharsets.US_ASCII);
      byte[] frame = new byte[prefix.length + stamps.length + suffix.length];
      System.arraycopy(prefix, 0, frame, 0, prefix.length);
      System.arraycopy(stamps, 0, frame, prefix.length, stamps.length);
      System.arraycopy(suffix, 0, frame, prefix.length + stamps.length, suffix.length);
      inFlight.incrementAndGet();
      client.sendText(frame);
      sent.increment();
    }

    @Override
    public void onText(LeanClient client, byte[] buf, int off, int len) {
      if (startsWith(buf, off, len, ACK_PREFIX)) {
        acked.increment();
        int r = indexOf(buf, off, len, REQUEST_ID_KEY);
        int o = lastIndexOf(buf, off, len, OFFSET_KEY);
        if (r >= 0 && o >= 0) {
          int topic = (int) parseLong(buf, r + REQUEST_ID_KEY.length, off + len);
          long offset = parseLong(buf, o + OFFSET_KEY.length, off + len);
          if (topic >= 0 && topic < topicNames.length) maxAckedOffset.accumulateAndGet(topic, offset, Math::max);
        }
        inFlight.decrementAndGet();
        if (c.closedLoop && publishing) sendSafely(System.nanoTime() - origin);
        return;
      }
      JsonNode frame = onOtherFrame(buf, off, len, null);
      if (frame != null && "error".equals(frame.path("type").asText()) && frame.hasNonNull("request_id")) {
        inFlight.decrementAndGet();
        if (c.closedLoop && publishing) {
          long retry = Math.max(1, frame.path("error").path("retry_after_ms").asLong(1));
          timers.schedule(() -> {
            if (publishing) sendSafely(System.nanoTime() - origin);
          }, retry, TimeUnit.MILLISECONDS);
        }
      }
    }

    /** Sends one publish whose intended time is its actual time. */
    void sendSafely(long sentAt) {
      sendSafely(sentAt, sentAt);
    }

    synchronized void sendSafely(long bt, long st) {
      try {
        send(bt, st);
      } catch (RuntimeException e) {
        countError("SEND_FAILED");
      }
    }

    @Override
    public void onClosed(LeanClient client, int code) {
      if (!finishing) unexpectedCloses.increment();
    }
  }

  private byte[] suffix;

  /** Counts errors and infos; completes {@code waiting} with any answer. Parses JSON: these frames are rare. */
  private JsonNode onOtherFrame(byte[] buf, int off, int len, CompletableFuture<JsonNode> waiting) {
    JsonNode frame;
    try {
      frame = JsonCodec.parse(new String(buf, off, len, StandardCharsets.UTF_8));
    } catch (Exception e) {
      countError("UNPARSEABLE");
      return null;
    }
    String type = frame.path("type").asText();
    if (type.equals("error")) countError(frame.path("error").path("code").asText("?"));
    if (type.equals("info")) infos.increment();
    if (waiting != null && (type.equals("ack") || type.equals("error"))) waiting.complete(frame);
    return frame;
  }

  private void countError(String code) {
    errors.computeIfAbsent(code, k -> new LongAdder()).increment();
  }

  // ---- the run ----

  ObjectNode run() throws Exception {
    ObjectNode result = JsonCodec.mapper().createObjectNode();
    int pad = Math.max(0, c.payloadBytes - 55);
    suffix = bytes(",\"pad\":\"" + "x".repeat(pad) + "\"}}}");
    for (int i = 0; i < c.ioThreads; i++) loops.add(new LeanClient.Loop("bench-io-" + i));
    try {
      createTopics();
      if (c.scenario.equals("connections")) {
        runConnections(result);
      } else {
        runLoad(result);
      }
      if (c.compress) {
        List<LeanClient> all = new ArrayList<>();
        for (Sub s : subs) if (s.client != null) all.add(s.client);
        for (Pub p : pubs) if (p.client != null) all.add(p.client);
        ObjectNode compression = result.putObject("compression");
        compression.put("connections_agreed", all.stream().filter(LeanClient::compressing).count());
        compression.put("connections", all.size());
        compression.put("messages_inflated", loops.stream().mapToLong(LeanClient.Loop::inflatedMessages).sum());
      }
    } finally {
      finishing = true;
      publishing = false;
      for (Sub s : subs) if (s.client != null) s.client.abort();
      for (Pub p : pubs) if (p.client != null) p.client.abort();
      for (LeanClient.Loop loop : loops) loop.close();
      timers.shutdownNow();
      deleteTopics();
    }
    return result;
  }

  private void runLoad(ObjectNode result) throws Exception {
    boolean replayScenario = c.scenario.equals("replay");
    int joiners = replayScenario ? c.subscribers / 2 : 0;
    int early = c.subscribers - joiners;
    long t0 = System.nanoTime();
    connectSubscribers(0, early, false);
    connectPublishers();
    long connectedNanos = System.nanoTime() - t0;
    progress.accept(String.format(Locale.ROOT, "connected %d subscribers and %d publishers in %.1f s",
        early, c.publishers, connectedNanos / 1e9));

    long warmupNanos = (long) (c.warmupSec * 1e9);
    long measureNanos = (long) (c.durationSec * 1e9);
    long start = System.nanoTime();
    long measureStart = start + warmupNanos;
    long end = measureStart + measureNanos;
    publishing = true;
    Thread sender = null;
    if (c.closedLoop) {
      for (Pub p : pubs) for (int w = 0; w < c.window; w++) p.sendSafely(System.nanoTime() - origin);
    } else {
      sender = new Thread(() -> openLoop(start, end), "bench-sender");
      sender.setDaemon(true);
      sender.start();
    }
    // replay: the joiners subscribe with last_n during the first half of the measured time
    Future<?> joining = null;
    ExecutorService joinExec = null;
    if (joiners > 0) {
      joinExec = Executors.newSingleThreadExecutor();
      joining = joinExec.submit(() -> {
        for (int j = 0; j < joiners; j++) {
          long at = measureStart + (long) (measureNanos / 2.0 * j / Math.max(1, joiners - 1));
          sleepUntil(at);
          connectSubscribers(early + j, 1, true);
        }
        return null;
      });
    }

    // per-second progress until the end of the measured time
    Sampler sampler = new Sampler();
    boolean measuring = false;
    long measuredCpu0 = 0, measuredOwnCpu0 = 0;
    long measuredDelivered0 = 0, measuredAcked0 = 0;
    ServerHandle.Sample measured0 = null;
    long next = start + 1_000_000_000L;
    while (true) {
      long now = System.nanoTime();
      if (!measuring && now >= measureStart) {
        measuring = true;
        recorder.getIntervalHistogram(); // warmup latencies are not reported
        fromSendRecorder.getIntervalHistogram();
        if (server.canSample()) measured0 = server.sample();
        measuredCpu0 = measured0 != null ? measured0.cpuNanos() : -1;
        measuredOwnCpu0 = ownCpu();
        measuredDelivered0 = delivered.sum();
        measuredAcked0 = acked.sum();
        if (c.profile) server.startProfile(c.profileFile);
      }
      if (now >= end) break;
      long wake = Math.min(next, end);
      if (!measuring) wake = Math.min(wake, measureStart);
      sleepUntil(wake);
      if (System.nanoTime() >= next) {
        sampler.tick(measuring, start);
        next += 1_000_000_000L;
      }
    }
    if (end - (next - 1_000_000_000L) > 100_000_000L) sampler.tick(measuring, start); // the last partial second
    publishing = false;
    long measuredDelivered = delivered.sum() - measuredDelivered0;
    long measuredAcked = acked.sum() - measuredAcked0;
    ServerHandle.Sample measured1 = server.canSample() ? server.sample() : null;
    long measuredCpu = (measured1 != null ? measured1.cpuNanos() : -1) - measuredCpu0;
    Path recording = c.profile ? server.stopProfile() : null;
    long measuredOwnCpu = ownCpu() - measuredOwnCpu0;
    Histogram last = recorder.getIntervalHistogram();
    total.add(last);
    Histogram fromSend = fromSendRecorder.getIntervalHistogram();
    if (sender != null) sender.join(10_000);
    if (joining != null) {
      joining.get(60, TimeUnit.SECONDS);
      joinExec.shutdown();
    }

    // drain: the acks, then the deliveries still on their way
    long drainDeadline = System.nanoTime() + (long) (c.drainSec * 1e9);
    while (pubs.stream().anyMatch(p -> p.inFlight.get() > 0) && System.nanoTime() < drainDeadline) Thread.sleep(10);
    JsonNode stats = serverStats();
    long[] finalOffsets = finalOffsets(stats);
    long expected = expectedDeliveries(finalOffsets);
    long lastSeen = -1;
    long quietSince = System.nanoTime();
    while (System.nanoTime() < drainDeadline) {
      long seen = delivered.sum() + replayed.sum() + gaps.sum();
      if (seen >= expected) break;
      if (seen != lastSeen) {
        lastSeen = seen;
        quietSince = System.nanoTime();
      } else if (System.nanoTime() - quietSince > 2_000_000_000L) {
        break;
      }
      Thread.sleep(10);
    }
    stats = serverStats();
    finalOffsets = finalOffsets(stats);
    expected = expectedDeliveries(finalOffsets);

    long serverDropped = 0;
    for (String t : topicNames) serverDropped += stats.path("topics").path(t).path("dropped").asLong(0);
    long missingTail = 0;
    for (Sub s : subs) if (s.base >= 0) missingTail += Math.max(0, finalOffsets[s.topic] - s.last);
    long received = delivered.sum() + replayed.sum();
    double measuredSec = measureNanos / 1e9;

    result.put("published", acked.sum());
    result.put("sent", sent.sum());
    result.put("expected_deliveries", expected);
    result.put("delivered", received);
    result.put("delivered_live", delivered.sum());
    result.put("replayed", replayed.sum());
    result.put("delivery_ratio", expected == 0 ? 1.0 : (double) received / expected);
    ObjectNode dropped = result.putObject("dropped");
    dropped.put("client_gaps", gaps.sum());
    dropped.put("client_missing_at_end", missingTail);
    dropped.put("server_stats", serverDropped);
    result.put("duplicates", duplicates.sum());
    ObjectNode errs = result.putObject("errors");
    new TreeMap<>(errors).forEach((k, v) -> errs.put(k, v.sum()));
    result.put("unexpected_closes", unexpectedCloses.sum());
    result.put("connect_seconds", connectedNanos / 1e9);
    ObjectNode measured = result.putObject("measured");
    measured.put("seconds", measuredSec);
    measured.put("publish_rate", measuredAcked / Math.max(1e-9, measuredSec));
    measured.put("deliveries_per_sec", measuredDelivered / Math.max(1e-9, measuredSec));
    result.set("latency_ms", latencyJson(total));
    result.set("latency_from_send_ms", latencyJson(fromSend));
    result.put("publisher_lag_ms_max", maxLagNanos.get() / 1e6);
    ObjectNode srv = result.putObject("server_metrics");
    if (measuredCpu > 0) {
      srv.put("cpu_seconds", measuredCpu / 1e9);
      srv.put("cpu_pct_avg", 100.0 * measuredCpu / Math.max(1, measureNanos));
      if (measuredDelivered > 0) srv.put("cpu_us_per_delivery", measuredCpu / 1e3 / measuredDelivered);
    }
    putSyscalls(srv, measured0, measured1, measuredDelivered);
    sampler.putMax(srv);
    if (recording != null) result.set("profile", ProfileSummary.summarize(recording, measuredDelivered));
    ObjectNode gen = result.putObject("load_generator");
    gen.put("cpu_pct_avg", Math.round(100.0 * measuredOwnCpu / Math.max(1, measureNanos)));
    gen.put("cores", Runtime.getRuntime().availableProcessors());
    gen.put("note", "CPU of this JVM's threads (the load generator's own sockets), server threads excluded");
    result.set("series", series);
  }

  /** The server's system calls over the measured seconds: a write(2) per delivery means no batching at all. */
  private void putSyscalls(ObjectNode srv, ServerHandle.Sample from, ServerHandle.Sample to, long deliveries) {
    if (from == null || to == null || from.writeSyscalls() < 0 || to.writeSyscalls() < 0) return;
    long writes = to.writeSyscalls() - from.writeSyscalls();
    srv.put("write_syscalls", writes);
    srv.put("read_syscalls", to.readSyscalls() - from.readSyscalls());
    if (deliveries > 0) srv.put("write_syscalls_per_delivery", (double) writes / deliveries);
    if (server.mode == BenchConfig.ServerMode.IN_PROCESS) {
      srv.put("syscalls_note", "in-process: the counts include the load generator's own sockets");
    }
  }

  /** CPU time of this JVM's threads, less the in-process server's (ns). */
  private long ownCpu() {
    long all = ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
    if (server.mode == BenchConfig.ServerMode.IN_PROCESS) all -= Math.max(0, server.sample().cpuNanos());
    return all;
  }

  private void openLoop(long start, long end) {
    double intervalNanos = 1e9 / c.rate;
    long k = 0;
    int p = 0;
    while (publishing) {
      long intended = start + (long) (k * intervalNanos);
      if (intended >= end) break;
      long now = System.nanoTime();
      if (now < intended) {
        long wait = intended - now;
        if (wait > 200_000) LockSupport.parkNanos(wait - 100_000);
        else Thread.onSpinWait();
        continue;
      }
      long lag = now - intended;
      if (lag > maxLagNanos.get()) maxLagNanos.set(lag);
      Pub pub = pubs.get(p);
      p = p + 1 == pubs.size() ? 0 : p + 1;
      pub.sendSafely(intended - origin, now - origin);
      k++;
    }
  }

  private final class Sampler {
    long lastAcked, lastDelivered, lastCpu = -1, lastOwn = ownCpu(), lastT = System.nanoTime();
    long maxRss = -1, maxHeap = -1;
    double maxCpuPct;

    void tick(boolean measuring, long start) {
      long now = System.nanoTime();
      double dt = (now - lastT) / 1e9;
      lastT = now;
      long a = acked.sum(), d = delivered.sum();
      double pubRate = (a - lastAcked) / dt, delRate = (d - lastDelivered) / dt;
      lastAcked = a;
      lastDelivered = d;
      Histogram h = recorder.getIntervalHistogram();
      if (measuring) total.add(h);
      ObjectNode point = series.addObject();
      point.put("t", Math.round((now - start) / 1e8) / 10.0);
      point.put("measuring", measuring);
      point.put("published_per_s", Math.round(pubRate));
      point.put("delivered_per_s", Math.round(delRate));
      point.put("p50_ms", ms(h.getValueAtPercentile(50)));
      point.put("p99_ms", ms(h.getValueAtPercentile(99)));
      point.put("max_ms", ms(h.getMaxValue()));
      String srv = "";
      if (server.canSample()) {
        ServerHandle.Sample s = server.sample();
        if (lastCpu >= 0 && s.cpuNanos() >= 0) {
          double pct = 100.0 * (s.cpuNanos() - lastCpu) / (dt * 1e9);
          point.put("server_cpu_pct", Math.round(pct));
          if (measuring) maxCpuPct = Math.max(maxCpuPct, pct);
          srv = String.format(Locale.ROOT, "  server cpu %3.0f%%", pct);
        }
        lastCpu = s.cpuNanos();
        if (s.rssBytes() > 0) {
          point.put("server_rss_mb", s.rssBytes() >> 20);
          maxRss = Math.max(maxRss, s.rssBytes());
          srv += "  rss " + (s.rssBytes() >> 20) + " MB";
        }
        if (s.heapUsedBytes() > 0) {
          point.put("heap_used_mb", s.heapUsedBytes() >> 20);
          maxHeap = Math.max(maxHeap, s.heapUsedBytes());
          srv += "  heap " + (s.heapUsedBytes() >> 20) + " MB";
        }
      }
      long own = ownCpu();
      double ownPct = 100.0 * (own - lastOwn) / (dt * 1e9);
      lastOwn = own;
      point.put("generator_cpu_pct", Math.round(ownPct));
      srv += String.format(Locale.ROOT, "  gen cpu %3.0f%%", ownPct);
      long errs = errors.values().stream().mapToLong(LongAdder::sum).sum();
      progress.accept(String.format(Locale.ROOT,
          "[%5.1fs]%s pub %,9.0f/s  deliv %,10.0f/s  p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms  gaps %d  errs %d%s",
          (now - start) / 1e9, measuring ? " " : "w", pubRate, delRate, ms(h.getValueAtPercentile(50)),
          ms(h.getValueAtPercentile(99)), ms(h.getMaxValue()), gaps.sum(), errs, srv));
    }

    void putMax(ObjectNode srv) {
      if (maxCpuPct > 0) srv.put("cpu_pct_max", Math.round(maxCpuPct));
      if (maxRss > 0) srv.put("rss_max_mb", maxRss >> 20);
      if (maxHeap > 0) srv.put("heap_used_max_mb", maxHeap >> 20);
      srv.put("note", server.mode == BenchConfig.ServerMode.IN_PROCESS
          ? "in-process: CPU is the actor system's threads; heap is shared with the load generator"
          : server.pid > 0 ? "from /proc/" + server.pid : "no --pid: server CPU and memory unknown");
    }
  }

  /** connections: N idle subscribers; the server's memory per connection. */
  private void runConnections(ObjectNode result) throws Exception {
    // a control publisher, connected before the baseline so it is not counted
    Pub control = new Pub(new int[] {0});
    control.client = connect(control, sessionKey());
    pubs.add(control);
    ServerHandle.Sample before = server.canSample() ? server.sample() : null;
    long heapBefore = server.canSample() ? server.heapAfterGc() : -1;
    ServerHandle.Sample beforeConnecting = server.canSample() ? server.sample() : null;
    long rssBefore = beforeConnecting == null ? -1 : beforeConnecting.rssBytes();
    long t0 = System.nanoTime();
    connectSubscribers(0, c.subscribers, false);
    double connectSec = (System.nanoTime() - t0) / 1e9;
    ServerHandle.Sample connected = server.canSample() ? server.sample() : null;
    progress.accept(String.format(Locale.ROOT, "connected and subscribed %d idle subscribers in %.1f s (%.0f/s)",
        c.subscribers, connectSec, c.subscribers / connectSec));
    long holdUntil = System.nanoTime() + (long) (Math.max(2, c.durationSec) * 1e9);
    Sampler sampler = new Sampler();
    long start = System.nanoTime();
    while (System.nanoTime() < holdUntil) {
      Thread.sleep(1000);
      sampler.tick(false, start);
    }
    long heapAfter = server.canSample() ? server.heapAfterGc() : -1;
    ServerHandle.Sample after = server.canSample() ? server.sample() : null;
    publishToAll(control, c.subscribers);
    total.add(recorder.getIntervalHistogram());

    int n = c.subscribers;
    result.put("connections", n);
    result.put("connect_seconds", connectSec);
    result.put("connects_per_sec", n / connectSec);
    if (beforeConnecting != null && beforeConnecting.cpuNanos() >= 0 && connected.cpuNanos() >= 0) {
      // what a reconnect storm costs the server: accept, (TLS handshake,) upgrade and subscribe
      result.put("server_cpu_us_per_connect", (connected.cpuNanos() - beforeConnecting.cpuNanos()) / 1e3 / n);
    }
    if (c.tls) result.put("tls_resumed_connects", subs.stream().filter(s -> s.client != null && s.client.resumedTls()).count());
    result.put("published", acked.sum());
    result.put("expected_deliveries", (long) n * acked.sum());
    result.put("delivered", delivered.sum());
    result.put("delivery_ratio", acked.sum() == 0 ? 0 : (double) delivered.sum() / ((long) n * acked.sum()));
    ObjectNode errs = result.putObject("errors");
    new TreeMap<>(errors).forEach((k, v) -> errs.put(k, v.sum()));
    result.put("unexpected_closes", unexpectedCloses.sum());
    result.set("latency_ms", latencyJson(total));
    ObjectNode mem = result.putObject("server_memory");
    if (before != null && after != null) {
      mem.put("rss_before_mb", rssBefore >> 20);
      mem.put("rss_after_mb", after.rssBytes() >> 20);
      mem.put("rss_bytes_per_connection", (after.rssBytes() - rssBefore) / n);
      if (heapBefore > 0 && heapAfter > 0) {
        mem.put("heap_after_gc_before_mb", heapBefore >> 20);
        mem.put("heap_after_gc_after_mb", heapAfter >> 20);
        mem.put("heap_bytes_per_connection", (heapAfter - heapBefore) / n);
      }
      mem.put("note", server.mode == BenchConfig.ServerMode.IN_PROCESS
          ? "in-process: RSS and heap include the load generator's own connections"
          : "RSS from /proc/" + server.pid + "/status, heap after a full GC from jcmd GC.heap_info");
    } else {
      mem.put("note", "server process unknown: pass --pid (or let the tool start the server)");
    }
    result.set("series", series);
    if (c.reconnect) reconnect(result.putObject("reconnect"), control);
  }

  /**
   * A network blip: every subscriber drops its TCP connection at once; once the server has let
   * their subscriptions go, they all connect and subscribe again, each offering (over TLS) the
   * session its first connection got, and one publish must reach them all.
   */
  private void reconnect(ObjectNode out, Pub control) throws Exception {
    int n = subs.size();
    long subscribedBefore = subscribersOnServer() - n;
    for (Sub s : subs) {
      s.dropped = true;
      s.client.abort();
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (subscribersOnServer() > subscribedBefore) {
      if (System.nanoTime() > deadline) throw new IllegalStateException("the server still holds the dropped subscriptions after 60 s");
      Thread.sleep(50);
    }
    List<Sub> back = new ArrayList<>(n);
    for (Sub old : subs) {
      Sub s = new Sub(old.topic, false, c.tlsResume ? old.sessionKey : LeanClient.unsharedSessionKey());
      s.base = -1;
      back.add(s);
    }
    ServerHandle.Sample before = server.canSample() ? server.sample() : null;
    long t0 = System.nanoTime();
    connectAll(back);
    double seconds = (System.nanoTime() - t0) / 1e9;
    ServerHandle.Sample after = server.canSample() ? server.sample() : null;
    synchronized (subs) {
      subs.clear();
      subs.addAll(back);
    }
    long deliveredAfter = publishToAll(control, n);
    out.put("connections", n);
    out.put("seconds", seconds);
    out.put("per_sec", n / seconds);
    if (before != null && before.cpuNanos() >= 0 && after.cpuNanos() >= 0) {
      out.put("server_cpu_us_per_reconnect", (after.cpuNanos() - before.cpuNanos()) / 1e3 / n);
    }
    if (c.tls) out.put("tls_resumed", back.stream().filter(s -> s.client.resumedTls()).count());
    out.put("delivered", deliveredAfter);
  }

  /**
   * The liveness check of idle subscribers: one publish from {@code control}, then waits (up to
   * --drain) until {@code subscribers} deliveries of it arrived; how many did.
   */
  private long publishToAll(Pub control, int subscribers) throws InterruptedException {
    long deliveredBefore = delivered.sum();
    publishing = true;
    control.sendSafely(System.nanoTime() - origin);
    long deadline = System.nanoTime() + (long) (c.drainSec * 1e9);
    while (delivered.sum() - deliveredBefore < subscribers && System.nanoTime() < deadline) Thread.sleep(5);
    publishing = false;
    return delivered.sum() - deliveredBefore;
  }

  private long subscribersOnServer() throws Exception {
    AdminClient.Answer health = rest("GET", "/health", null);
    if (health.status() != 200) throw new IllegalStateException("GET /health: " + health.status() + " " + health.body());
    return health.body().path("subscribers").asLong();
  }

  // ---- setup ----

  private void connectSubscribers(int from, int count, boolean joiner) throws Exception {
    List<Sub> added = new ArrayList<>(count);
    for (int i = from; i < from + count; i++) {
      added.add(new Sub(i % c.topics, joiner, c.reconnect ? LeanClient.unsharedSessionKey() : sessionKey()));
    }
    connectAll(added);
    synchronized (subs) {
      subs.addAll(added);
    }
  }

  /** Connects and subscribes every one of {@code toConnect}, up to 8 at a time; each waits for its ack. */
  private void connectAll(List<Sub> toConnect) throws Exception {
    ExecutorService exec = Executors.newFixedThreadPool(Math.min(8, Math.max(1, toConnect.size() / 50)));
    try {
      List<Future<?>> futures = new ArrayList<>(toConnect.size());
      for (Sub s : toConnect) {
        futures.add(exec.submit(() -> {
          s.client = connect(s, s.sessionKey);
          CompletableFuture<JsonNode> ack = new CompletableFuture<>();
          s.answer = ack;
          String lastN = s.joiner ? ",\"last_n\":" + c.lastN : "";
          s.client.sendText("{\"type\":\"subscribe\",\"topic\":\"" + topicNames[s.topic] + "\",\"client_id\":\"bench-sub-"
              + s.topic + "\"" + lastN + ",\"request_id\":\"s\"}");
          JsonNode answer = ack.get(30, TimeUnit.SECONDS);
          if (!"ack".equals(answer.path("type").asText())) throw new IllegalStateException("subscribe refused: " + answer);
          return null;
        }));
      }
      for (Future<?> f : futures) f.get(60, TimeUnit.SECONDS);
    } finally {
      exec.shutdownNow();
    }
  }

  private void connectPublishers() {
    for (int p = 0; p < c.publishers; p++) {
      int[] topics;
      if (c.publishers >= c.topics) {
        topics = new int[] {p % c.topics};
      } else {
        int pp = p;
        topics = java.util.stream.IntStream.range(0, c.topics).filter(t -> t % c.publishers == pp).toArray();
      }
      Pub pub = new Pub(topics);
      pub.client = connect(pub, sessionKey());
      pubs.add(pub);
    }
  }

  /** Over TLS, the session a new connection offers: any earlier one's, or none with --no-resume. */
  private int sessionKey() {
    return c.tlsResume ? LeanClient.SHARED_SESSIONS : LeanClient.unsharedSessionKey();
  }

  private LeanClient connect(LeanClient.Handler handler, int tlsSessionKey) {
    int n;
    synchronized (this) {
      n = connectCounter++;
    }
    Map<String, String> headers = c.apiKey == null ? Map.of() : Map.of("X-API-Key", c.apiKey);
    URI ws = PubSubClient.webSocketUri(server.httpBase);
    return LeanClient.connect(ws, headers, server.clientTls, tlsSessionKey, c.compress, loops.get(n % loops.size()), handler,
        Duration.ofSeconds(30));
  }

  private int connectCounter;

  private void createTopics() {
    for (String name : topicNames) {
      AdminClient.Answer a = rest("POST", "/topics", "{\"name\":\"" + name + "\"}");
      if (a.status() != 201) throw new IllegalStateException("POST /topics " + name + ": " + a.status() + " " + a.body());
    }
  }

  private void deleteTopics() {
    for (String name : topicNames) {
      try {
        rest("DELETE", "/topics/" + name, null);
      } catch (RuntimeException ignored) {
        // server gone: nothing to clean
      }
    }
  }

  private JsonNode serverStats() {
    try {
      AdminClient.Answer a = rest("GET", "/stats", null);
      return a.status() == 200 ? a.body() : JsonCodec.mapper().createObjectNode();
    } catch (RuntimeException e) {
      return JsonCodec.mapper().createObjectNode();
    }
  }

  private AdminClient.Answer rest(String method, String path, String body) {
    HttpRequest.Builder b = HttpRequest.newBuilder(server.httpBase.resolve(path)).timeout(Duration.ofSeconds(30));
    if (c.apiKey != null) b.header("X-API-Key", c.apiKey);
    if (body != null) b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body));
    else b.method(method, HttpRequest.BodyPublishers.noBody());
    return adminClient().send(b.build());
  }

  private AdminClient adminClientInstance;

  private synchronized AdminClient adminClient() {
    if (adminClientInstance == null) adminClientInstance = new AdminClient(server.httpBase, Map.of(), server.http);
    return adminClientInstance;
  }

  /** Per topic: the newest offset, from /stats (messages) or the highest acked offset. */
  private long[] finalOffsets(JsonNode stats) {
    long[] offsets = new long[c.topics];
    for (int i = 0; i < c.topics; i++) {
      long fromStats = stats.path("topics").path(topicNames[i]).path("messages").asLong(0);
      offsets[i] = Math.max(fromStats, maxAckedOffset.get(i));
    }
    return offsets;
  }

  private long expectedDeliveries(long[] finalOffsets) {
    long expected = 0;
    synchronized (subs) {
      for (Sub s : subs) {
        long base = s.base >= 0 ? s.base : finalOffsets[s.topic];
        expected += Math.max(0, finalOffsets[s.topic] - base);
      }
    }
    return expected;
  }

  // ---- helpers ----

  static ObjectNode latencyJson(Histogram h) {
    ObjectNode l = JsonCodec.mapper().createObjectNode();
    l.put("count", h.getTotalCount());
    if (h.getTotalCount() == 0) return l;
    l.put("p50", ms(h.getValueAtPercentile(50)));
    l.put("p95", ms(h.getValueAtPercentile(95)));
    l.put("p99", ms(h.getValueAtPercentile(99)));
    l.put("p999", ms(h.getValueAtPercentile(99.9)));
    l.put("max", ms(h.getMaxValue()));
    l.put("mean", Math.round(h.getMean() / 1e3) / 1e3);
    return l;
  }

  static double ms(long nanos) {
    return Math.round(nanos / 1e3) / 1e3;
  }

  private void sleepUntil(long deadline) {
    long wait;
    while ((wait = deadline - System.nanoTime()) > 0) LockSupport.parkNanos(wait);
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static boolean startsWith(byte[] a, int off, int len, byte[] prefix) {
    if (len < prefix.length) return false;
    for (int i = 0; i < prefix.length; i++) if (a[off + i] != prefix[i]) return false;
    return true;
  }

  static boolean endsWith(byte[] a, int off, int len, byte[] suffix) {
    if (len < suffix.length) return false;
    int s = off + len - suffix.length;
    for (int i = 0; i < suffix.length; i++) if (a[s + i] != suffix[i]) return false;
    return true;
  }

  static int indexOf(byte[] a, int off, int len, byte[] needle) {
    int end = off + len - needle.length;
    outer:
    for (int i = off; i <= end; i++) {
      if (a[i] != needle[0]) continue;
      for (int j = 1; j < needle.length; j++) if (a[i + j] != needle[j]) continue outer;
      return i;
    }
    return -1;
  }

  static int lastIndexOf(byte[] a, int off, int len, byte[] needle) {
    outer:
    for (int i = off + len - needle.length; i >= off; i--) {
      if (a[i] != needle[0]) continue;
      for (int j = 1; j < needle.length; j++) if (a[i + j] != needle[j]) continue outer;
      return i;
    }
    return -1;
  }

  /** A non-negative decimal at {@code a[from]}; -1 when there is none. */
  static long parseLong(byte[] a, int from, int to) {
    long v = 0;
    int i = from;
    for (; i < to; i++) {
      int d = a[i] - '0';
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
    }
    return i == from ? -1 : v;
  }

}
