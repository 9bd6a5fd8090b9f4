package pekkopubsub.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static pekkopubsub.e2e.Wire.ack;
import static pekkopubsub.e2e.Wire.assertNothingBuffered;
import static pekkopubsub.e2e.Wire.assertTs;
import static pekkopubsub.e2e.Wire.assertUsable;
import static pekkopubsub.e2e.Wire.await;
import static pekkopubsub.e2e.Wire.error;
import static pekkopubsub.e2e.Wire.events;
import static pekkopubsub.e2e.Wire.next;
import static pekkopubsub.e2e.Wire.offsets;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import pekkopubsub.client.AdminClient;
import pekkopubsub.client.PubSubClient;

/** Subscriptions over a topic's and a connection's life: double subscribe, topic deletion, counts after close. */
class TopicLifecycleE2ETest {
  private static final Duration COUNTS_SETTLE = Duration.ofSeconds(1);
  private static TestServer server;

  @BeforeAll
  static void start() {
    server = TestServer.start();
  }

  @AfterAll
  static void stop() {
    if (server != null) server.close();
  }

  @Test
  void subscribingTwiceIsOneSubscription() {
    String topic = server.createTopic("twice");
    try (PubSubClient client = server.connect()) {
      JsonNode first = ack(client.subscribe(topic), topic);
      JsonNode second = ack(client.subscribe(topic), topic);
      assertEquals(first.path("epoch").asText(), second.path("epoch").asText());
      assertEquals(1, server.topicStats(topic).path("subscribers").asInt(-1));

      for (int i = 1; i <= 3; i++) {
        // The event reaches this connection before the publish ack does.
        assertEquals(i, ack(client.publish(topic, Wire.payload(i)), topic).path("offset").asLong());
        assertEquals(List.of((long) i), offsets(events(client, topic, 1)));
        assertNothingBuffered(client);
      }

      ack(client.unsubscribe(topic), topic);
      error(await(client.unsubscribe(topic)), "NOT_SUBSCRIBED");
      assertEquals(0, server.topicStats(topic).path("subscribers").asInt(-1));
    }
  }

  @Test
  void subscribingTwiceWithReplayDoesNotReplayAgain() {
    String topic = server.createTopic("twice-replay");
    try (PubSubClient client = server.connect()) {
      for (int i = 1; i <= 3; i++) ack(client.publish(topic, Wire.payload(i)), topic);
      assertEquals(3, ack(client.subscribeLast(topic, 10), topic).path("replayed").asInt(-1));
      assertEquals(List.of(1L, 2L, 3L), offsets(events(client, topic, 3)));

      JsonNode again = ack(client.subscribeLast(topic, 10), topic);
      assertEquals(4, ack(client.publish(topic, Wire.payload(4)), topic).path("offset").asLong());
      List<JsonNode> after = events(client, topic, again.path("replayed").asInt(0) + 1);
      assertEquals(4L, after.get(after.size() - 1).path("offset").asLong(), "each live event once");
      assertNothingBuffered(client);
    }
  }

  @Test
  void deletingATopicTellsItsSubscribersAndEndsTheirSubscriptions() {
    String topic = server.createTopic("deleted");
    try (PubSubClient first = server.connect(); PubSubClient second = server.connect();
         PubSubClient outsider = server.connect()) {
      String oldEpoch = ack(first.subscribe(topic), topic).path("epoch").asText();
      ack(second.subscribe(topic), topic);
      ack(first.publish(topic, Wire.payload(1)), topic);
      ack(first.publish(topic, Wire.payload(2)), topic);
      events(first, topic, 2);
      events(second, topic, 2);

      AdminClient.Answer deleted = server.admin().deleteTopic(topic);
      assertEquals(200, deleted.status());
      assertEquals("deleted", deleted.body().path("status").asText());
      assertEquals(topic, deleted.body().path("topic").asText());

      for (PubSubClient subscriber : List.of(first, second)) {
        JsonNode info = next(subscriber);
        assertEquals("info", info.path("type").asText(), info::toString);
        assertEquals(topic, info.path("topic").asText(), info::toString);
        assertEquals("topic_deleted", info.path("msg").asText(), info::toString);
        assertTs(info);
      }
      assertNothingBuffered(outsider);

      error(await(first.publish(topic, Wire.payload(3))), "TOPIC_NOT_FOUND");
      error(await(outsider.subscribe(topic)), "TOPIC_NOT_FOUND");
      error(await(second.unsubscribe(topic)), "TOPIC_NOT_FOUND");
      assertTrue(server.topicStats(topic).isMissingNode(), "gone from /stats");
      assertFalse(server.admin().listTopics().body().path("topics").toString().contains("\"" + topic + "\""));

      // Created again: a new epoch, offsets from 1, and the old subscriptions stay ended.
      assertEquals(201, server.admin().createTopic(topic).status());
      assertEquals(0, server.topicStats(topic).path("subscribers").asInt(-1));
      JsonNode resubscribed = ack(outsider.subscribe(topic), topic);
      assertNotEquals(oldEpoch, resubscribed.path("epoch").asText());
      assertEquals(1, ack(first.publish(topic, Wire.payload(1)), topic).path("offset").asLong());
      assertNothingBuffered(first);
      assertEquals(List.of(1L), offsets(events(outsider, topic, 1)));
      error(await(second.unsubscribe(topic)), "NOT_SUBSCRIBED");
      assertNothingBuffered(second);

      JsonNode stale = ack(first.subscribeSince(topic, 2, oldEpoch), topic);
      assertFalse(stale.path("recovered").asBoolean(true), "no recovery across epochs: " + stale);
      assertEquals(List.of(1L), offsets(events(first, topic, stale.path("replayed").asInt(-1))));
      for (PubSubClient c : List.of(first, second, outsider)) assertUsable(c);
    }
  }

  @Test
  void aPublishRightAfterItsTopicIsDeletedAndCreatedAgainReachesTheNewTopic() {
    String topic = server.createTopic("recreated");
    try (PubSubClient publisher = server.connect(); PubSubClient subscriber = server.connect()) {
      // Enough publishes that the connection sends straight to the topic's actor.
      for (int i = 1; i <= 5; i++) {
        assertEquals(i, ack(publisher.publish(topic, Wire.payload(i)), topic).path("offset").asLong());
      }

      assertEquals(200, server.admin().deleteTopic(topic).status());
      assertEquals(201, server.admin().createTopic(topic).status());
      ack(subscriber.subscribe(topic), topic);
      assertEquals(1, ack(publisher.publish(topic, Wire.payload(6)), topic).path("offset").asLong());
      assertEquals(List.of(1L), offsets(events(subscriber, topic, 1)));
      assertNothingBuffered(publisher);
    }
  }

  @Test
  void everyPublishInFlightWhileItsTopicIsDeletedAndCreatedAgainGetsOneAnswerInOrder() {
    String topic = server.createTopic("churn");
    int rounds = 10;
    int perRound = 40;
    // Under the default publish burst of 500, so that no publish is refused for its rate.
    int maxDuringChurn = 400;
    try (PubSubClient publisher = server.connect()) {
      ack(publisher.publish(topic, Wire.payload(0)), topic);
      CompletableFuture<Void> churn = CompletableFuture.runAsync(() -> {
        for (int round = 0; round < rounds; round++) {
          assertEquals(200, server.admin().deleteTopic(topic).status());
          assertEquals(201, server.admin().createTopic(topic).status());
        }
      });
      List<CompletableFuture<JsonNode>> answers = new ArrayList<>();
      while (!churn.isDone() && answers.size() < maxDuringChurn) {
        // A window of 10 in flight keeps requests arriving all through the churn.
        for (int i = 0; i < 10; i++) answers.add(publisher.publish(topic, Wire.payload(i)));
        await(answers.get(answers.size() - 1));
      }
      await(churn, Wire.WAIT);
      List<CompletableFuture<JsonNode>> afterLastCreate = new ArrayList<>();
      for (int i = 0; i < perRound; i++) afterLastCreate.add(publisher.publish(topic, Wire.payload(i)));

      // Within one incarnation of the topic, offsets follow the order of sending; each new one starts at 1.
      long previous = 1;
      int restarts = 0;
      for (CompletableFuture<JsonNode> answer : answers) {
        JsonNode frame = await(answer);
        if ("error".equals(frame.path("type").asText())) {
          error(frame, "TOPIC_NOT_FOUND");
          continue;
        }
        long offset = ack(answer, topic).path("offset").asLong();
        if (offset != previous + 1) {
          assertEquals(1, offset, "after offset " + previous + ": " + frame);
          restarts++;
        }
        previous = offset;
      }
      assertTrue(restarts <= rounds, "restarts: " + restarts);
      long first = ack(afterLastCreate.get(0), topic).path("offset").asLong();
      for (int i = 1; i < perRound; i++) {
        long offset = ack(afterLastCreate.get(i), topic).path("offset").asLong();
        assertEquals(first + i, offset, "sent after the last create");
      }
      assertNothingBuffered(publisher);
      assertUsable(publisher);
    }
  }

  @Test
  void subscriberCountsDropToZeroAfterACleanClose() {
    try (TestServer own = TestServer.start()) {
      String a = own.createTopic("close-a");
      String b = own.createTopic("close-b");
      PubSubClient client = own.connect();
      ack(client.subscribe(a), a);
      ack(client.subscribe(b), b);
      assertEquals(2, own.admin().health().body().path("subscribers").asInt(-1));
      assertEquals(1, own.topicStats(a).path("subscribers").asInt(-1));

      client.close();
      assertEquals(1000, await(client.closed(), Wire.WAIT).code());
      assertCountsReachZero(own, a, b);
    }
  }

  @Test
  void subscriberCountsDropToZeroAfterAnAbruptAbort() {
    try (TestServer own = TestServer.start()) {
      String a = own.createTopic("abort-a");
      String b = own.createTopic("abort-b");
      PubSubClient client = own.connect();
      PubSubClient other = own.connect();
      ack(client.subscribe(a), a);
      ack(client.subscribe(b), b);
      ack(other.subscribe(a), a);
      assertEquals(3, own.admin().health().body().path("subscribers").asInt(-1));

      client.abort();
      Wire.eventually(COUNTS_SETTLE, () -> own.admin().health().body().path("subscribers").asInt(-1),
          n -> n == 1, "/health subscribers back to the one left");
      other.close();
      assertCountsReachZero(own, a, b);
    }
  }

  private static void assertCountsReachZero(TestServer own, String... topics) {
    Wire.eventually(COUNTS_SETTLE, () -> own.admin().health().body(),
        h -> h.path("subscribers").asInt(-1) == 0, "/health subscribers 0");
    for (String topic : topics) {
      Wire.eventually(COUNTS_SETTLE, () -> own.topicStats(topic),
          s -> s.path("subscribers").asInt(-1) == 0, "/stats subscribers of " + topic + " 0");
    }
    JsonNode listed = own.admin().listTopics().body().path("topics");
    for (JsonNode t : listed) assertEquals(0, t.path("subscribers").asInt(-1), listed::toString);
  }
}
