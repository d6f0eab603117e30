package dev.sacrag.query.feed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sacrag.stack.EmbeddedKafka;
import dev.sacrag.stack.TopicSpec;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/** On a real broker: a failure the follower cannot retry ends it loudly, and the replica is told. */
class TopicFollowerTest {

    @Test
    void aHandlerErrorStopsTheFollowerAndRunsOnStoppedNotOnClose() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            kafka.createTopics(TopicSpec.plain("t.follow").withPartitions(1));
            produceOne(kafka, "t.follow");
            CountDownLatch stopped = new CountDownLatch(1);
            AtomicInteger batches = new AtomicInteger();
            // an Error the handler guard does not take (it takes OutOfMemoryError and LinkageError)
            TopicFollower failing = new TopicFollower(kafka.bootstrapServers(), "t.follow", records -> {
                batches.incrementAndGet();
                throw new AssertionError("a bug in a handler");
            }, () -> { }).onStopped(stopped::countDown).start();
            try (failing) {
                assertTrue(stopped.await(60, TimeUnit.SECONDS), "onStopped ran when the follower's thread ended");
                assertEquals(1, batches.get());
            }

            CountDownLatch notStopped = new CountDownLatch(1);
            CountDownLatch caughtUp = new CountDownLatch(1);
            TopicFollower healthy = new TopicFollower(kafka.bootstrapServers(), "t.follow", records -> { },
                    caughtUp::countDown).onStopped(notStopped::countDown).start();
            assertTrue(caughtUp.await(60, TimeUnit.SECONDS));
            healthy.close();
            assertEquals(1, notStopped.getCount(), "closing is not stopping by itself");
        }
    }

    private static void produceOne(EmbeddedKafka kafka, String topic) throws Exception {
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
                new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topic, "k".getBytes(StandardCharsets.UTF_8),
                    "v".getBytes(StandardCharsets.UTF_8))).get(30, TimeUnit.SECONDS);
        }
    }

    /** Fails every record, as a corrupt batch or a revoked ACL fails every poll: an error Kafka does not retry. */
    public static final class Unreadable implements org.apache.kafka.common.serialization.Deserializer<byte[]> {
        @Override
        public byte[] deserialize(String topic, byte[] data) {
            throw new org.apache.kafka.common.errors.SerializationException("unreadable record");
        }
    }

    @Test
    void aFailureKafkaDoesNotRetryStopsTheFollowerOnceItHasLastedTheGiveUpTime() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            kafka.createTopics(TopicSpec.plain("t.stuck").withPartitions(1));
            produceOne(kafka, "t.stuck");
            CountDownLatch stopped = new CountDownLatch(1);
            long start = System.nanoTime();
            try (TopicFollower stuck = new TopicFollower(kafka.bootstrapServers(), "t.stuck", records -> { }, () -> { })
                    .consumerSetting(org.apache.kafka.clients.consumer.ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
                            Unreadable.class)
                    .giveUpAfter(java.time.Duration.ofSeconds(3)).onStopped(stopped::countDown).start()) {
                assertTrue(stopped.await(60, TimeUnit.SECONDS), "a poll that can never succeed was retried for ever");
                assertTrue(System.nanoTime() - start >= TimeUnit.SECONDS.toNanos(3), "stopped before the give-up time");
            }
        }
    }

    @Test
    void anOptionalTopicThatCannotBeLookedUpDoesNotCountAsRead() throws Exception {
        CountDownLatch caughtUp = new CountDownLatch(1);
        io.micrometer.core.instrument.simple.SimpleMeterRegistry registry = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
        // no broker answers on port 9: partitionsFor times out (5 s), which is not "the topic does not exist"
        try (TopicFollower follower = TopicFollower.optional("127.0.0.1:9", "t.control", records -> { },
                caughtUp::countDown).metrics(registry).start()) {
            assertFalse(caughtUp.await(8, TimeUnit.SECONDS),
                    "an unreachable broker's control topic counted as read: the start-up model would serve first");
            assertEquals(0.0, connections(registry, "sac-query-t.control"), "the metrics show no broker connection");
        }
    }

    /** The follower consumer's open broker connections, from Kafka's own metrics as the service publishes them. */
    private static double connections(io.micrometer.core.instrument.MeterRegistry registry, String clientId) {
        io.micrometer.core.instrument.Gauge g = registry.find("kafka.consumer.connection.count").tag("client.id", clientId).gauge();
        org.junit.jupiter.api.Assertions.assertNotNull(g, "no kafka.consumer.connection.count for " + clientId + " in "
                + registry.getMeters().stream().map(m -> m.getId().getName()).distinct().sorted().toList());
        return g.value();
    }

    @Test
    void partitionsAddedAfterTheStartAreReadFromTheirBeginning() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            kafka.createTopics(TopicSpec.plain("t.grow").withPartitions(1));
            java.util.List<Integer> partitions = new java.util.concurrent.CopyOnWriteArrayList<>();
            CountDownLatch caughtUp = new CountDownLatch(1);
            io.micrometer.core.instrument.simple.SimpleMeterRegistry registry = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
            try (TopicFollower follower = new TopicFollower(kafka.bootstrapServers(), "t.grow",
                    records -> records.forEach(r -> partitions.add(r.partition())), caughtUp::countDown)
                    .partitionRecheck(java.time.Duration.ofMillis(300)).metrics(registry).start();
                 KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                         ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
                         new ByteArraySerializer(), new ByteArraySerializer());
                 org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(Map.of(
                         org.apache.kafka.clients.admin.AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
                assertTrue(caughtUp.await(60, TimeUnit.SECONDS));
                admin.createPartitions(Map.of("t.grow", org.apache.kafka.clients.admin.NewPartitions.increaseTo(2)))
                        .all().get(30, TimeUnit.SECONDS);
                producer.send(new ProducerRecord<>("t.grow", 1, "k".getBytes(StandardCharsets.UTF_8),
                        "v".getBytes(StandardCharsets.UTF_8))).get(30, TimeUnit.SECONDS);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (partitions.isEmpty() && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
                assertEquals(java.util.List.of(1), partitions, "the record on the added partition was applied");
                assertTrue(connections(registry, "sac-query-t.grow") >= 1, "connected to the broker");
            }
        }
    }

    @Test
    void aBatchWhoseHandlerThrowsIsAppliedAgainKeyByKeySoTheRecordsAfterTheBadOneAreKept() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            kafka.createTopics(TopicSpec.plain("t.batch").withPartitions(1));
            // one producer batch, so one fetch returns all four records in one poll
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(), ProducerConfig.LINGER_MS_CONFIG, 5000),
                    new ByteArraySerializer(), new ByteArraySerializer())) {
                for (String[] kv : new String[][] {{"a", "v1"}, {"b", "x"}, {"a", "v2"}, {"c", "y"}}) {
                    producer.send(new ProducerRecord<>("t.batch", kv[0].getBytes(StandardCharsets.UTF_8),
                            kv[1].getBytes(StandardCharsets.UTF_8)));
                }
                producer.flush();
            }
            java.util.List<String> applied = new java.util.concurrent.CopyOnWriteArrayList<>();
            java.util.List<Integer> batchSizes = new java.util.concurrent.CopyOnWriteArrayList<>();
            CountDownLatch caughtUp = new CountDownLatch(1);
            try (TopicFollower follower = new TopicFollower(kafka.bootstrapServers(), "t.batch", records -> {
                batchSizes.add(records.count());
                for (var r : records) {
                    String key = new String(r.key(), StandardCharsets.UTF_8);
                    if (key.equals("b")) {
                        throw new IllegalStateException("a bug in a handler, on record b");
                    }
                    applied.add(key + ":" + new String(r.value(), StandardCharsets.UTF_8));
                }
            }, caughtUp::countDown).start()) {
                assertTrue(caughtUp.await(60, TimeUnit.SECONDS));
            }
            assertEquals(4, batchSizes.get(0), "the four came in one batch: " + batchSizes);
            // the first attempt applied a:v1, then failed on b; again key by key, each key's last record:
            // b (fails again), a:v2 (a is not taken back to v1), c:y (not lost after b)
            assertEquals(java.util.List.of("a:v1", "a:v2", "c:y"), applied);
        }
    }
}
