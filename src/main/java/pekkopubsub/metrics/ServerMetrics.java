package pekkopubsub.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import pekkopubsub.protocol.ErrorCode;

/**
 * The server's Prometheus meters, one registry with JVM and process metrics beside them.
 *
 * <p>Meters are the one thing actors and stages share: Micrometer's counters and timers are
 * thread-safe accumulators written without coordination, and only the scrape reads them.
 * Nothing is labelled by topic: topic names are chosen by clients, so per-topic series would be
 * unbounded; per-topic figures are in {@code /stats}.
 */
public final class ServerMetrics {

  /** Why an event did not reach a subscriber's socket. */
  public enum DropReason {
    /** drop-oldest made room in a full outbound queue. */
    QUEUE_FULL,
    /** The disconnect policy closed a slow consumer; its queued events went with it. */
    SLOW_CONSUMER,
    /**
     * The connection was closing (client close, protocol error, shutdown) with events still queued
     * or on their way to it, or a subscription ended in the middle of its replay with events
     * published since unsent.
     */
    CLOSING,
    /** The heap was nearly full and the subscriber's queue held more than the bytes allowed then. */
    MEMORY_PRESSURE,
    /** The topic gave up events of a replay (for its history's bounds) before the subscriber read up to them. */
    REPLAY_EVICTED;

    String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** Deliveries per connection per publish-to-enqueue sample: recording every one costs more than the delivery. */
  public static final int LATENCY_SAMPLE_EVERY = 32;

  private final MeterRegistry registry;
  private final Counter published;
  private final Counter delivered;
  private final Counter framesIn;
  private final Counter framesOut;
  private final Counter unresponsiveClosed;
  private final Counter httpRefused;
  /** Registered by {@link #watchTls} before the port serves TLS: a server without TLS exports no TLS series. */
  private volatile Counter tlsFailedHandshakes;
  private volatile Counter tlsFailedSessions;
  private final Map<DropReason, Counter> dropped = new EnumMap<>(DropReason.class);
  private final Map<ErrorCode, Counter> errors = new EnumMap<>(ErrorCode.class);
  private final AtomicLong connections = new AtomicLong();
  private final AtomicLong httpConnections = new AtomicLong();
  private final AtomicLong subscriptions = new AtomicLong();
  private final AtomicLong topics = new AtomicLong();
  private final AtomicLong queuedEvents = new AtomicLong();
  private final Timer publishToEnqueue;
  private LongSupplier historyEvicted;
  private LongSupplier tlsRefusedReloads;

  /** The server's metrics: a Prometheus registry with JVM and process metrics bound. */
  public static ServerMetrics prometheus() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    new FileDescriptorMetrics().bindTo(registry);
    return new ServerMetrics(registry);
  }

  /** The pub/sub meters on any registry (tests read them back from a simple one). */
  public ServerMetrics(MeterRegistry registry) {
    this.registry = registry;
    published = Counter.builder("pubsub.messages.published")
        .description("Messages accepted by topics").register(registry);
    delivered = Counter.builder("pubsub.events.delivered")
        .description("Events written to subscribers' sockets (replays included)").register(registry);
    framesIn = Counter.builder("pubsub.websocket.frames").tag("direction", "in")
        .description("WebSocket messages and control frames received").register(registry);
    framesOut = Counter.builder("pubsub.websocket.frames").tag("direction", "out")
        .description("WebSocket frames sent").register(registry);
    unresponsiveClosed = Counter.builder("pubsub.connections.unresponsive")
        .description("Connections cut off after max-unanswered-pings WebSocket pings with nothing back").register(registry);
    for (DropReason reason : DropReason.values()) {
      dropped.put(reason, Counter.builder("pubsub.events.dropped").tag("reason", reason.label())
          .description("Events that did not reach a subscriber, by reason").register(registry));
    }
    for (ErrorCode code : ErrorCode.values()) {
      errors.put(code, Counter.builder("pubsub.errors").tag("code", code.name())
          .description("Error answers sent to clients (WebSocket error frames and HTTP error responses), by code").register(registry));
    }
    // Every code the frame decoder closes with, so that each series exists (at 0) from the start.
    for (int closeCode : new int[] {1002, 1007, 1009}) protocolErrorCounter(closeCode);
    Gauge.builder("pubsub.connections", connections, AtomicLong::get)
        .description("Open WebSocket connections").register(registry);
    Gauge.builder("pubsub.http.connections", httpConnections, AtomicLong::get)
        .description("Open connections served by Pekko HTTP (REST, docs, refused upgrades)").register(registry);
    httpRefused = Counter.builder("pubsub.http.connections.refused")
        .description("Connections answered 503 because pubsub.limits.max-http-connections were open").register(registry);
    Gauge.builder("pubsub.subscriptions", subscriptions, AtomicLong::get)
        .description("Subscriptions (one per connection and topic)").register(registry);
    Gauge.builder("pubsub.topics", topics, AtomicLong::get)
        .description("Existing topics").register(registry);
    Gauge.builder("pubsub.outbound.queue.events", queuedEvents, AtomicLong::get)
        .description("Events waiting in all outbound queues").register(registry);
    // Buckets only: client-side percentiles cost a synchronized window update on every record, and
    // Prometheus (and the dashboard) compute quantiles from the buckets.
    publishToEnqueue = Timer.builder("pubsub.publish.to.enqueue")
        .description("From a topic accepting a publish to the event entering a subscriber's outbound queue"
            + " (sampled: one delivery in " + LATENCY_SAMPLE_EVERY + " per connection)")
        .publishPercentileHistogram()
        .minimumExpectedValue(Duration.ofNanos(1_000))
        .maximumExpectedValue(Duration.ofSeconds(1))
        .register(registry);
  }

  /** Exposes the bytes the topics' replay buffers hold against their budget, and the events given up for it. */
  public void watchHistory(long budgetBytes, LongSupplier retainedBytes, LongSupplier evictedEvents) {
    Gauge.builder("pubsub.history.retained", retainedBytes::getAsLong).baseUnit("bytes")
        .description("Bytes the topics' replay buffers hold (an estimate per event)").register(registry);
    Gauge.builder("pubsub.history.budget", () -> budgetBytes).baseUnit("bytes")
        .description("pubsub.topic.history-memory: what the replay buffers may hold together (0: no budget)")
        .register(registry);
    // A function counter holds what it reads weakly (a supplier gauge, above, holds it strongly).
    historyEvicted = evictedEvents;
    FunctionCounter.builder("pubsub.history.evicted", evictedEvents, LongSupplier::getAsLong)
        .description("Events topics gave up before max-history pushed them out, to stay within the budget")
        .register(registry);
  }

  private static Counter tlsFailures(MeterRegistry registry, String during) {
    return Counter.builder("pubsub.tls.failures").tag("during", during)
        .description("TLS connections the engine ended with an alert: no common protocol or cipher, a client that"
            + " refused the certificate, plaintext on the TLS port (handshake), or a record that did not decrypt (session)")
        .register(registry);
  }

  /** Meters the heap pressure under which outbound queues hold less (watermark 0: never). */
  public void watchHeapPressure(long highWatermarkBytes, BooleanSupplier high) {
    Gauge.builder("pubsub.heap.pressure", () -> high.getAsBoolean() ? 1 : 0)
        .description("1 while the last collection left the heap over pubsub.connection.heap-high-watermark").register(registry);
    Gauge.builder("pubsub.heap.high.watermark", () -> highWatermarkBytes).baseUnit("bytes")
        .description("pubsub.connection.heap-high-watermark in bytes (0: off)").register(registry);
  }

  /**
   * Meters TLS, for a port that serves it (before it does): connections that failed, when the
   * certificate served expires, and renewals that were not served.
   */
  public void watchTls(LongSupplier expiresEpochSecond, LongSupplier refusedReloads) {
    tlsFailedHandshakes = tlsFailures(registry, "handshake");
    tlsFailedSessions = tlsFailures(registry, "session");
    Gauge.builder("pubsub.tls.certificate.expiry", expiresEpochSecond::getAsLong).baseUnit("seconds")
        .description("When the certificate served now expires, in seconds since the epoch").register(registry);
    tlsRefusedReloads = refusedReloads;
    FunctionCounter.builder("pubsub.tls.reload.refused", refusedReloads, LongSupplier::getAsLong)
        .description("Checks that found the TLS files changed into a pair that could not be served").register(registry);
  }

  /** The Prometheus text exposition of every meter; empty when the registry is not a Prometheus one. */
  public String scrape() {
    return registry instanceof PrometheusMeterRegistry prometheus ? prometheus.scrape() : "";
  }

  public MeterRegistry registry() {
    return registry;
  }

  public void published() {
    published.increment();
  }

  public void delivered(long events) {
    if (events > 0) delivered.increment(events);
  }

  public void framesIn(long frames) {
    framesIn.increment(frames);
  }

  public void framesOut(long frames) {
    if (frames > 0) framesOut.increment(frames);
  }

  public void dropped(DropReason reason, long events) {
    if (events > 0) dropped.get(reason).increment(events);
  }

  public void error(ErrorCode code) {
    errors.get(code).increment();
  }

  /** A TLS connection that failed, during its handshake or after it (on a port {@link #watchTls} metered). */
  public void tlsFailed(boolean duringHandshake) {
    (duringHandshake ? tlsFailedHandshakes : tlsFailedSessions).increment();
  }

  /** A WebSocket connection the server closed with {@code closeCode} because its client broke the protocol (a decoder's verdict). */
  public void protocolError(int closeCode) {
    protocolErrorCounter(closeCode).increment();
  }

  private Counter protocolErrorCounter(int closeCode) {
    // Micrometer hands back the counter already registered for the code; an error is rare enough for the lookup.
    return Counter.builder("pubsub.websocket.protocol.errors").tag("close_code", Integer.toString(closeCode))
        .description("WebSocket connections closed because the client broke the protocol, by close code").register(registry);
  }

  public void unresponsiveClosed() {
    unresponsiveClosed.increment();
  }

  public void connectionOpened() {
    connections.incrementAndGet();
  }

  public void connectionClosed() {
    connections.decrementAndGet();
  }

  public void httpConnectionsChanged(long delta) {
    httpConnections.addAndGet(delta);
  }

  public void httpConnectionRefused() {
    httpRefused.increment();
  }

  public void subscriptionsChanged(long delta) {
    subscriptions.addAndGet(delta);
  }

  public void topicsChanged(long delta) {
    topics.addAndGet(delta);
  }

  public void queuedEventsChanged(long delta) {
    if (delta != 0) queuedEvents.addAndGet(delta);
  }

  public void publishToEnqueue(long publishedAtNanos) {
    publishToEnqueue.record(System.nanoTime() - publishedAtNanos, TimeUnit.NANOSECONDS);
  }
}
