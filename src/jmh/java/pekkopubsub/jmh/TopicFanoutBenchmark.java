package pekkopubsub.jmh;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.util.ByteString;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import pekkopubsub.metrics.ServerMetrics;
import pekkopubsub.config.Settings.OverflowPolicy;
import pekkopubsub.connection.OutboundQueue;
import pekkopubsub.protocol.JsonCodec;
import pekkopubsub.protocol.RawJson;
import pekkopubsub.topic.Topic;

/**
 * One publish through a real Topic actor to N subscriber actors standing in for connection
 * stages (each offers the event to its own OutboundQueue and drains it with pollBatch, as a
 * stage does), measured until all N have it: the encode, the actor hops and mailbox scheduling
 * of the fan-out, without sockets. Runs on the server's own dispatcher settings.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class TopicFanoutBenchmark {

  @Param({"1", "100", "1000"})
  int subscribers;

  ActorSystem<Topic.Command> system;
  ActorRef<Topic.Command> topic;
  ActorRef<Topic.Reply> publisher;
  final AtomicInteger delivered = new AtomicInteger();
  RawJson payload;

  /** A connection stage's share of one event: its queue's offer and poll. */
  static Behavior<Topic.Reply> subscriber(AtomicInteger delivered) {
    return Behaviors.setup(ctx -> {
      OutboundQueue<Object> queue = new OutboundQueue<>(256, OverflowPolicy.DROP_OLDEST);
      return Behaviors.receive(Topic.Reply.class)
          .onMessage(Topic.Events.class, e -> {
            for (ByteString frame : e.frames()) queue.offerEvent(frame, e.from());
            queue.pollBatch(32 * 1024);
            delivered.addAndGet(e.frames().size());
            return Behaviors.same();
          })
          .onAnyMessage(m -> Behaviors.same())
          .build();
    });
  }

  @Setup(Level.Trial)
  public void setup() throws Exception {
    var config = pekkopubsub.config.Settings.withDefaults(com.typesafe.config.ConfigFactory.parseString(
        "pekko.loglevel = WARNING\npekko.log-dead-letters = off"));
    system = ActorSystem.create(Behaviors.empty(), "jmh-topic", config);
    topic = spawn(Topic.create("orders", "e1", 100, new ServerMetrics(new SimpleMeterRegistry())), "topic");
    publisher = spawn(Behaviors.ignore(), "publisher");
    for (int i = 0; i < subscribers; i++) {
      ActorRef<Topic.Reply> sub = spawn(subscriber(delivered), "sub-" + i);
      topic.tell(new Topic.Subscribe("orders", "s" + i, sub, null, 0, null, null));
    }
    payload = RawJson.of(CodecBenchmark.PAYLOAD);
    // the subscribes are asynchronous: publish until every subscriber gets the same event
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (true) {
      delivered.set(0);
      publishOnce();
      if (delivered.get() == subscribers) break;
      if (System.nanoTime() > deadline) throw new IllegalStateException("subscribers did not all register");
      Thread.sleep(10);
    }
  }

  private <T> ActorRef<T> spawn(Behavior<T> behavior, String name) {
    return system.systemActorOf(behavior, name, Props.empty());
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  /** One publish, until all N subscribers have had the event. */
  @Benchmark
  public int publishToAll() {
    return publishOnce();
  }

  private int publishOnce() {
    delivered.set(0);
    topic.tell(new Topic.Publish("orders", "p", publisher, null, payload));
    long spinUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (delivered.get() < subscribers && System.nanoTime() < spinUntil) Thread.onSpinWait();
    return delivered.get();
  }
}
