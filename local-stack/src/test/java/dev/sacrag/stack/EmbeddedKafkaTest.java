package dev.sacrag.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class EmbeddedKafkaTest {

    private static EmbeddedKafka kafka;
    private static Admin admin;

    @BeforeAll
    static void startBroker() {
        kafka = EmbeddedKafka.start();
        admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()));
    }

    @AfterAll
    static void stopBroker() {
        admin.close();
        kafka.close();
    }

    @Test
    void listensOnLoopbackOnlyAndStartsWithinSeconds() {
        assertTrue(kafka.bootstrapServers().startsWith("127.0.0.1:"), kafka.bootstrapServers());
        assertTrue(kafka.startDuration().compareTo(Duration.ofSeconds(30)) < 0, "start took " + kafka.startDuration());
    }

    @Test
    void createsCompactedAndPlainTopicsWithDefaultAndExplicitPartitions() throws Exception {
        kafka.createTopics(TopicSpec.compacted("t.compacted"), TopicSpec.plain("t.plain").withPartitions(2));

        Map<String, TopicDescription> topics = admin.describeTopics(List.of("t.compacted", "t.plain"))
                .allTopicNames().get(10, TimeUnit.SECONDS);
        assertEquals(6, topics.get("t.compacted").partitions().size());
        assertEquals(2, topics.get("t.plain").partitions().size());
        assertEquals(TopicConfig.CLEANUP_POLICY_COMPACT, cleanupPolicy("t.compacted"));
        assertEquals(TopicConfig.CLEANUP_POLICY_DELETE, cleanupPolicy("t.plain"));
    }

    @Test
    void aTopicWithRaisedMaxMessageBytesTakesARecordOverTheBrokerDefault() throws Exception {
        kafka.createTopics(TopicSpec.compacted("t.large").withPartitions(1).withMaxMessageBytes(3 << 20),
                TopicSpec.plain("t.default").withPartitions(1));
        assertEquals(Integer.toString(3 << 20), topicConfig("t.large", TopicConfig.MAX_MESSAGE_BYTES_CONFIG));
        assertEquals(TopicConfig.CLEANUP_POLICY_COMPACT, cleanupPolicy("t.large"), "both settings kept");

        String twoMiB = "x".repeat(2 << 20);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 4 << 20), new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>("t.large", "doc", twoMiB)).get(30, TimeUnit.SECONDS);
            java.util.concurrent.ExecutionException refused = org.junit.jupiter.api.Assertions.assertThrows(
                    java.util.concurrent.ExecutionException.class,
                    () -> producer.send(new ProducerRecord<>("t.default", "doc", twoMiB)).get(30, TimeUnit.SECONDS));
            assertTrue(refused.getCause() instanceof org.apache.kafka.common.errors.RecordTooLargeException,
                    String.valueOf(refused.getCause()));
        }
    }

    @Test
    void producedRecordIsConsumedBack() throws Exception {
        kafka.createTopics(TopicSpec.plain("t.roundtrip").withPartitions(1));
        RecordMetadata written;
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new StringSerializer())) {
            written = producer.send(new ProducerRecord<>("t.roundtrip", "doc-1", "hello anchors")).get(30, TimeUnit.SECONDS);
        }
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, "embedded-kafka-test",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"), new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of("t.roundtrip"));
            ConsumerRecord<String, String> read = pollOne(consumer, Duration.ofSeconds(30));
            assertEquals("doc-1", read.key());
            assertEquals("hello anchors", read.value());
            assertEquals(written.offset(), read.offset());
        }
    }

    @Test
    void doesNotAutoCreateTopics() throws Exception {
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, true), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.partitionsFor("t.never-created", Duration.ofSeconds(2));
        }
        Set<String> names = admin.listTopics().names().get(10, TimeUnit.SECONDS);
        assertFalse(names.contains("t.never-created"), names.toString());
    }

    @Test
    void closeDeletesTheDataDirectory() {
        EmbeddedKafka second = EmbeddedKafka.start();
        Path dataDir = second.directory();
        assertTrue(Files.isDirectory(dataDir.resolve("data")));
        second.close();
        assertFalse(Files.exists(dataDir), dataDir + " still exists");
    }

    private static String cleanupPolicy(String topic) throws Exception {
        return topicConfig(topic, TopicConfig.CLEANUP_POLICY_CONFIG);
    }

    private static String topicConfig(String topic, String name) throws Exception {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        Config config = admin.describeConfigs(List.of(resource)).all().get(10, TimeUnit.SECONDS).get(resource);
        return config.get(name).value();
    }

    private static <K, V> ConsumerRecord<K, V> pollOne(KafkaConsumer<K, V> consumer, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            for (ConsumerRecord<K, V> r : consumer.poll(Duration.ofMillis(200))) {
                return r;
            }
        }
        throw new AssertionError("no record within " + timeout);
    }

    /**
     * The controller's port taken between picking it and binding it: Kafka halts the JVM on that
     * fault while it starts (the whole test run died, leaving its folders); the start retries instead.
     */
    @Test
    void aControllerPortTakenBeforeTheBrokerBindsItIsRetriedNotFatal() throws Exception {
        List<java.nio.file.Path> attempts = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1"))) {
            java.util.concurrent.atomic.AtomicInteger picks = new java.util.concurrent.atomic.AtomicInteger();
            EmbeddedKafka.portPicker = () -> picks.incrementAndGet() == 2 ? taken.getLocalPort() : FreePort.pick();
            EmbeddedKafka.attemptFolders = attempts::add;
            try (EmbeddedKafka second = EmbeddedKafka.start(new EmbeddedKafka.Options(1, Duration.ofSeconds(60)))) {
                assertTrue(attempts.size() >= 2, "another attempt, on new ports: " + attempts);
                for (java.nio.file.Path failed : attempts.subList(0, attempts.size() - 1)) {
                    assertFalse(java.nio.file.Files.exists(failed), "a failed attempt's folder is gone: " + failed);
                }
                assertEquals(attempts.get(attempts.size() - 1), second.directory());
                try (Admin a = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, second.bootstrapServers()))) {
                    assertEquals(1, a.describeCluster().nodes().get(30, java.util.concurrent.TimeUnit.SECONDS).size());
                }
            } finally {
                EmbeddedKafka.portPicker = FreePort::pick;
                EmbeddedKafka.attemptFolders = dir -> { };
            }
        }
        assertFalse(java.nio.file.Files.exists(attempts.get(attempts.size() - 1)), "and the last one's after close");
    }
}
