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
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * On a real broker: a failure the follower cannot retry ends it loudly, and the replica is told.
 * On a {@link Refusing} consumer, a broker's ACLs refusing this service's principal the topic.
 */
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

    /** A one-time reader (sac docs list's catalog snapshot) fails at once, naming the permission, not "not found". */
    @Test
    void aOneTimeReaderOfARefusedTopicFailsAtOnceNamingThePermission() {
        AtomicInteger waits = new AtomicInteger();
        try (Refusing c = new Refusing("t.denied", "Describe", 1)) {
            IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                    () -> TopicFollower.assignFromBeginning(c, "t.denied", () -> {
                        if (waits.incrementAndGet() > 2) {
                            throw new IllegalStateException("gave up waiting");   // as sac docs list does at its deadline
                        }
                    }));
            assertTrue(e.getMessage().contains("refuses topic t.denied") && e.getMessage().contains("Describe and Read"),
                    e.getMessage());
        }
        assertEquals(0, waits.get(), "no wait for a topic that waiting would not bring");
    }

    /**
     * A consumer of one partition whose broker refuses the principal Describe on the topic (its
     * partitions cannot be looked up; no ACL at all) or only Read (each poll fails), until
     * {@link #allow}. It holds one record, polled once Read is allowed.
     */
    private static final class Refusing extends MockConsumer<byte[], byte[]> {
        private final String topic;
        private volatile boolean describe;
        private volatile boolean read;
        private final CountDownLatch tries;

        /** @param missing "Describe" or "Read" */
        Refusing(String topic, String missing, int triesToCount) {
            super("earliest");
            this.topic = topic;
            this.describe = missing.equals("Read");
            this.tries = new CountDownLatch(triesToCount);
            TopicPartition p0 = new TopicPartition(topic, 0);
            updatePartitions(topic, List.of(new PartitionInfo(topic, 0, null, null, null)));
            updateBeginningOffsets(Map.of(p0, 0L));
            updateEndOffsets(Map.of(p0, 1L));
            schedulePollTask(() -> new FeedRecords(topic).add("k", "v".getBytes(StandardCharsets.UTF_8)).batch()
                    .forEach(this::addRecord));
        }

        void allow() {
            describe = true;
            read = true;
        }

        /** Waits for the follower to have tried the refused topic as often as this consumer counts. */
        boolean awaitTries() throws InterruptedException {
            return tries.await(30, TimeUnit.SECONDS);
        }

        @Override
        public List<PartitionInfo> partitionsFor(String t, Duration timeout) {
            if (!describe) {
                tries.countDown();
                throw new TopicAuthorizationException(Set.of(topic));
            }
            return super.partitionsFor(t, timeout);
        }

        @Override
        public ConsumerRecords<byte[], byte[]> poll(Duration timeout) {
            if (!read) {
                tries.countDown();
                throw new TopicAuthorizationException(Set.of(topic));
            }
            ConsumerRecords<byte[], byte[]> records = super.poll(timeout);
            if (records.isEmpty()) {
                // a real poll waits for records this long; a MockConsumer's returns at once, and the
                // follower would spin on it
                LockSupport.parkNanos(timeout.toNanos());
            }
            return records;
        }
    }

    /** What the follower logged (slf4j-simple writes to System.err as it is when a line is written). */
    private static final class Logged implements AutoCloseable {
        private final PrintStream stderr = System.err;
        private final ByteArrayOutputStream lines = new ByteArrayOutputStream();

        Logged() {
            System.setErr(new PrintStream(lines, true, StandardCharsets.UTF_8));
        }

        /** The follower's lines at {@code level} that name {@code topic}. */
        List<String> at(String level, String topic) {
            return lines.toString(StandardCharsets.UTF_8).lines()
                    .filter(l -> l.startsWith(level + " " + TopicFollower.class.getName()) && l.contains("topic " + topic))
                    .toList();
        }

        @Override
        public void close() {
            System.setErr(stderr);
            stderr.print(lines.toString(StandardCharsets.UTF_8));
        }
    }

    @ParameterizedTest(name = "without {0}")
    @ValueSource(strings = {"Describe", "Read"})
    void aTopicTheReplicaDoesWithoutCountsAsReadWhenRefusedWarnsOnceAndIsReadOnceAllowed(String missing) throws Exception {
        Refusing consumer = new Refusing("t.dlq", missing, 4);
        CountDownLatch caughtUp = new CountDownLatch(1);
        CountDownLatch applied = new CountDownLatch(1);
        CountDownLatch stopped = new CountDownLatch(1);
        try (Logged log = new Logged()) {
            try (TopicFollower follower = TopicFollower.optional("unused:9", "t.dlq", records -> applied.countDown(),
                    caughtUp::countDown).consumer(() -> consumer)
                    .deniedMeansEmpty("--dead-letter-topic off stops following it").quietRetry(Duration.ofMillis(100))
                    .giveUpAfter(Duration.ofMillis(200)).onStopped(stopped::countDown).start()) {
                assertTrue(caughtUp.await(30, TimeUnit.SECONDS), "a refused topic the replica does without counts as read");
                assertTrue(consumer.awaitTries(), "tried again while refused");
                assertEquals(1, applied.getCount(), "nothing read while refused");
                consumer.allow();
                assertTrue(applied.await(30, TimeUnit.SECONDS), "read from its beginning once allowed");
                assertEquals(1, stopped.getCount(), "refused past the give-up time, and not stopped");
            }
            List<String> warnings = log.at("WARN", "t.dlq");
            assertEquals(1, warnings.size(), "one warning for the whole refusal: " + warnings);
            assertTrue(warnings.get(0).contains("may not read topic t.dlq") && warnings.get(0).contains("Describe and Read")
                    && warnings.get(0).endsWith("--dead-letter-topic off stops following it"), warnings.get(0));
            assertTrue(log.at("INFO", "t.dlq").stream().anyMatch(l -> l.contains("may read topic t.dlq now")),
                    "" + log.at("INFO", "t.dlq"));
        }
    }

    @ParameterizedTest(name = "without {0}")
    @ValueSource(strings = {"Describe", "Read"})
    void aTopicTheReplicaNeedsStopsItsFollowerOnceRefusedForTheGiveUpTimeWithOneWarning(String missing) throws Exception {
        Refusing consumer = new Refusing("t.control", missing, 1);
        CountDownLatch caughtUp = new CountDownLatch(1);
        CountDownLatch stopped = new CountDownLatch(1);
        long start = System.nanoTime();
        try (Logged log = new Logged()) {
            // optional, as the control topic: absent counts as read, refused does not (it may name a model)
            try (TopicFollower follower = TopicFollower.optional("unused:9", "t.control", records -> { },
                    caughtUp::countDown).consumer(() -> consumer).giveUpAfter(Duration.ofSeconds(3))
                    .onStopped(stopped::countDown).start()) {
                assertTrue(stopped.await(30, TimeUnit.SECONDS), "a refused topic the replica needs was tried for ever");
                assertTrue(System.nanoTime() - start >= TimeUnit.SECONDS.toNanos(3), "stopped before the give-up time");
                assertEquals(1, caughtUp.getCount(), "a refused control topic counted as read");
            }
            List<String> warnings = log.at("WARN", "t.control");
            assertEquals(1, warnings.size(), "one warning, not one a second: " + warnings);
            List<String> errors = log.at("ERROR", "t.control");
            assertEquals(1, errors.size(), "" + errors);
            assertTrue(errors.get(0).contains("topic t.control stopped") && errors.get(0).contains("Describe and Read"),
                    errors.get(0));
        }
    }

    @Test
    void closingEndsTheWaitBetweenTwoTriesOfARefusedTopic() throws Exception {
        Refusing consumer = new Refusing("t.dlq", "Describe", 1);
        CountDownLatch caughtUp = new CountDownLatch(1);
        try (TopicFollower follower = TopicFollower.optional("unused:9", "t.dlq", records -> { }, caughtUp::countDown)
                .consumer(() -> consumer).deniedMeansEmpty("--dead-letter-topic off stops following it").start()) {
            assertTrue(caughtUp.await(30, TimeUnit.SECONDS));
            follower.close();   // waits 10 s at most for the thread, which waits 30 s between tries
            assertTrue(consumer.closed(), "the follower's thread ended, closing its consumer, when the follower was closed");
        }
    }
}
