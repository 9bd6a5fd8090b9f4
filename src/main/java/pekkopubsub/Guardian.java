package pekkopubsub;

import static net.logstash.logback.argument.StructuredArguments.kv;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import pekkopubsub.config.Settings;
import pekkopubsub.connection.ConnectionRegistry;
import pekkopubsub.connection.HeapPressure;
import pekkopubsub.http.ApiKeys;
import pekkopubsub.http.CompletingThread;
import pekkopubsub.http.EndpointFile;
import pekkopubsub.http.FileDescriptorBudget;
import pekkopubsub.http.FrontDoor;
import pekkopubsub.http.HttpConnections;
import pekkopubsub.http.Routes;
import pekkopubsub.http.TlsFiles;
import pekkopubsub.http.WebSocketRoute;
import pekkopubsub.metrics.ServerMetrics;
import pekkopubsub.topic.FanOutBatch;
import pekkopubsub.topic.HistoryMemory;
import pekkopubsub.topic.TopicManager;

/** The root actor: spawns the topic manager and the connection registry, binds HTTP, wires shutdown. */
public final class Guardian {

  public sealed interface Command {}

  private record Bound(FrontDoor.Binding binding) implements Command {}

  private record BindFailed(Throwable cause) implements Command {}

  /** Why the server stopped when it could not serve its port (bind it, or read its TLS files); Main turns it into a non-zero exit code. */
  public enum BindFailure implements CoordinatedShutdown.Reason { INSTANCE }

  private Guardian() {}

  public static Behavior<Command> create(Settings settings) {
    return Behaviors.setup(context -> {
      ServerMetrics metrics = ServerMetrics.prometheus();
      HistoryMemory historyMemory = new HistoryMemory(settings.historyMemoryBytes());
      metrics.watchHistory(historyMemory.budgetBytes(), historyMemory::retainedBytes, historyMemory::evictedEvents);
      HeapPressure heapPressure = HeapPressure.watchingCollections(settings.heapHighWatermarkBytes());
      metrics.watchHeapPressure(heapPressure.highWatermarkBytes(), heapPressure::isHigh);
      context.getSystem().getWhenTerminated().thenRunAsync(heapPressure::close, CompletingThread.INSTANCE);
      ActorRef<TopicManager.Command> topics = context.spawn(TopicManager.create(settings.maxHistoryPerTopic(),
          historyMemory, settings.askTimeout().dividedBy(2), settings.limits().maxTopics(), settings.fanOutPacing(),
          FanOutBatch.fitting(settings.outboundQueueSize(), settings.outboundQueueBytes()), metrics),
          "topics");
      ActorRef<ConnectionRegistry.Command> registry = context.spawn(ConnectionRegistry.create(
          settings.limits().maxConnections(), settings.askTimeout().multipliedBy(3)), "connections");
      WebSocketRoute webSocket = new WebSocketRoute(topics, registry, settings, context.getSystem().scheduler(), metrics, heapPressure,
          () -> CoordinatedShutdown.get(context.getSystem()).getShutdownReason().isPresent());
      ApiKeys apiKeys = new ApiKeys(settings.apiKeys());
      Routes routes = new Routes(context.getSystem(), topics, webSocket, settings.askTimeout(), apiKeys, metrics, settings.limits());
      TlsFiles tls;
      try {
        tls = settings.tls().enabled() ? TlsFiles.load(Path.of(settings.tls().certificate()), Path.of(settings.tls().privateKey()),
            settings.tls().requiresClientCertificates() ? Path.of(settings.tls().clientCa()) : null, settings.tls().provider()) : null;
      } catch (IllegalArgumentException e) {
        return onBindFailed(context, settings, e);
      }
      if (tls != null) watchTlsFiles(context.getSystem(), tls, settings.tls().reloadInterval(), metrics);
      ActorRef<HttpConnections.Command> httpConnections = context.spawn(
          HttpConnections.create(settings.limits().maxHttpConnections(), metrics), "http-connections");
      FrontDoor frontDoor = new FrontDoor(context.getSystem(), settings.host(), settings.port(), routes.routes(), webSocket,
          httpConnections, settings.askTimeout(), apiKeys, tls, metrics);
      CompletionStage<FrontDoor.Binding> binding = frontDoor.bind();
      context.pipeToSelf(binding, (bound, failure) -> bound != null ? new Bound(bound) : new BindFailed(failure));
      return starting(context, settings, registry, frontDoor);
    });
  }

  /** Reads the TLS files again every {@code interval}, on the dispatcher for blocking work. */
  private static void watchTlsFiles(ActorSystem<?> system, TlsFiles tls, Duration interval, ServerMetrics metrics) {
    metrics.watchTls(() -> tls.certificate().getNotAfter().toInstant().getEpochSecond(), tls::refusals);
    if (interval.isZero()) return;
    system.scheduler().scheduleWithFixedDelay(interval, interval, tls::check,
        system.dispatchers().lookup(DispatcherSelector.blocking()));
  }

  private static Behavior<Command> starting(
      ActorContext<Command> context, Settings settings, ActorRef<ConnectionRegistry.Command> registry, FrontDoor frontDoor) {
    return Behaviors.receive(Command.class)
        .onMessage(Bound.class, bound -> onBound(context, settings, registry, frontDoor, bound.binding()))
        .onMessage(BindFailed.class, failed -> onBindFailed(context, settings, failed.cause()))
        .build();
  }

  private static Behavior<Command> onBound(
      ActorContext<Command> context,
      Settings settings,
      ActorRef<ConnectionRegistry.Command> registry,
      FrontDoor frontDoor,
      FrontDoor.Binding binding) {
    ActorSystem<Void> system = context.getSystem();
    CoordinatedShutdown shutdown = CoordinatedShutdown.get(system);
    // Still bound while draining, so /health can answer 503 and late upgrades get a clear refusal.
    Duration drainTimeout = settings.drainDeadline().plus(settings.closeTimeout()).plusSeconds(1);
    shutdown.addTask(CoordinatedShutdown.PhaseBeforeServiceUnbind(), "drain-websockets", () ->
        AskPattern.<ConnectionRegistry.Command, ConnectionRegistry.AllClosed>ask(
                registry, ConnectionRegistry.ShutDownAll::new, drainTimeout, system.scheduler())
            .handleAsync((allClosed, timeout) -> Done.done(), CompletingThread.INSTANCE));
    shutdown.addTask(CoordinatedShutdown.PhaseServiceUnbind(), "http-unbind", binding::unbind);
    shutdown.addTask(CoordinatedShutdown.PhaseServiceRequestsDone(), "http-terminate", frontDoor::closeHttpConnections);
    context.getLog().info("pekko-pubsub listening on {} ({}WebSocket at /ws)", binding.localAddress(),
        settings.tls().enabled() ? "TLS only: https and wss; " : "");
    if (!settings.endpointFile().isEmpty()) {
      EndpointFile endpoint = new EndpointFile(Path.of(settings.endpointFile()));
      Executor blocking = system.dispatchers().lookup(DispatcherSelector.blocking());
      CompletableFuture<Void> written = CompletableFuture.runAsync(() -> endpoint.write(binding.localAddress(),
          settings.tls().enabled(), settings.tls().requiresClientCertificates()), blocking);
      // Before the system terminates, so that the process exits with the file gone; after it was written.
      shutdown.addTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate(), "endpoint-file-remove",
          () -> written.handleAsync((done, failure) -> {
            endpoint.remove();
            return Done.done();
          }, blocking));
    }
    // "25%" becomes bytes here; the operator sees what the server will hold before it holds it.
    context.getLog().info("memory bounds {} {} {} {} {} {}", kv("max_heap_bytes", Runtime.getRuntime().maxMemory()),
        kv("history_memory_bytes", settings.historyMemoryBytes()), kv("outbound_queue_bytes", settings.outboundQueueBytes()),
        kv("heap_high_watermark_bytes", settings.heapHighWatermarkBytes()),
        kv("max_connections", settings.limits().maxConnections()),
        kv("max_http_connections", settings.limits().maxHttpConnections()));
    FileDescriptorBudget.maxOpenFiles().ifPresent(maxOpenFiles -> {
      String shortfall = FileDescriptorBudget.shortfall(settings, maxOpenFiles);
      if (shortfall != null) context.getLog().warn(shortfall);
    });
    return Behaviors.empty();
  }

  private static Behavior<Command> onBindFailed(ActorContext<Command> context, Settings settings, Throwable cause) {
    context.getLog().error("cannot serve {}:{}: {}", settings.host(), settings.port(), cause.getMessage());
    CoordinatedShutdown.get(context.getSystem()).run(BindFailure.INSTANCE);
    return Behaviors.empty();
  }
}
