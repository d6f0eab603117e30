package dev.sacrag.ingest;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sacrag.ingest.DocumentPublisher.Format;
import dev.sacrag.ingest.DocumentPublisher.Options;
import dev.sacrag.schemas.BadDocumentException;
import dev.sacrag.schemas.DocumentCodec;
import dev.sacrag.schemas.avro.DocumentEvent;
import dev.sacrag.schemas.DocumentLimits;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

class DocumentPublisherTest {

    private static final long NOW = 1_760_000_000_000L;
    private static final Clock CLOCK = Clock.fixed(Instant.ofEpochMilli(NOW), ZoneOffset.UTC);

    private final DocumentCodec codec = DocumentCodec.withDefaults();

    @Test
    void publishesAvroKeyedByDocIdWithContentType() throws Exception {
        MockProducer<byte[], byte[]> producer = producer(true);
        DocumentPublisher publisher = new DocumentPublisher(producer, Options.defaults(), CLOCK);
        DocumentEvent event = event("guides/intro", 7);

        RecordMetadata metadata = publisher.publish(event).get();

        ProducerRecord<byte[], byte[]> record = producer.history().get(0);
        assertEquals("sac.documents", record.topic());
        assertEquals("sac.documents", metadata.topic());
        assertArrayEquals("guides/intro".getBytes(UTF_8), record.key());
        assertEquals("application/avro", contentType(record));
        assertTrue(DocumentCodec.isAvroSingleObject(record.value()));
        assertEquals(event, codec.decode(record.value(), contentType(record)));
    }

    @Test
    void publishesJsonWhenAskedThatTheCompressorCodecReads() throws Exception {
        MockProducer<byte[], byte[]> producer = producer(true);
        Options json = Options.defaults().withFormat(Format.JSON).withTopic("docs.json");
        DocumentPublisher publisher = new DocumentPublisher(producer, json, CLOCK);
        DocumentEvent event = event("d1", 3);

        publisher.publish(event).get();

        ProducerRecord<byte[], byte[]> record = producer.history().get(0);
        assertEquals("docs.json", record.topic());
        assertEquals("application/json", contentType(record));
        assertEquals('{', record.value()[0]);
        assertEquals(event, codec.decode(record.value(), null));
    }

    @Test
    void draftWithoutVersionIsStampedWithPublishTime() throws Exception {
        MockProducer<byte[], byte[]> producer = producer(true);
        DocumentPublisher publisher = new DocumentPublisher(producer, Options.defaults(), CLOCK);

        publisher.publish(DocumentDraft.of("a", "text").withTitle("A")).get();

        DocumentEvent sent = codec.decode(producer.history().get(0).value(), null);
        assertEquals(NOW, sent.getVersion());
        assertEquals(Instant.ofEpochMilli(NOW), sent.getPublishedAt());
        assertEquals("A", sent.getTitle());
    }

    @Test
    void defaultVersionsStrictlyIncreaseWithinOneMillisecond() throws Exception {
        MockProducer<byte[], byte[]> producer = producer(true);
        DocumentPublisher publisher = new DocumentPublisher(producer, Options.defaults(), CLOCK);

        for (int i = 0; i < 3; i++) {
            publisher.publish(DocumentDraft.of("same", "text " + i)).get();
        }

        List<Long> versions = producer.history().stream().map(r -> decode(r).getVersion()).toList();
        assertEquals(List.of(NOW, NOW + 1, NOW + 2), versions);
    }

    @Test
    void manyDocumentsInOneMillisecondDoNotPushVersionsAheadOfTheClock() throws Exception {
        MockProducer<byte[], byte[]> producer = producer(true);
        DocumentPublisher bulk = new DocumentPublisher(producer, Options.defaults(), CLOCK);
        for (int i = 0; i < 1000; i++) {
            bulk.publish(DocumentDraft.of("d" + i, "text " + i)).get();
        }
        assertEquals(NOW, decode(producer.history().get(999)).getVersion(), "each document at its publish time");

        // the last one edited and published again 10 ms later, by another run
        DocumentPublisher later = new DocumentPublisher(producer, Options.defaults(),
                java.time.Clock.offset(CLOCK, java.time.Duration.ofMillis(10)));
        later.publish(DocumentDraft.of("d999", "edited")).get();
        long edited = decode(producer.history().get(1000)).getVersion();
        assertTrue(edited > NOW, "the edit went backwards: v" + edited + " after v" + NOW);
    }

    @Test
    void draftWithItsOwnVersionKeepsIt() throws Exception {
        MockProducer<byte[], byte[]> producer = producer(true);
        DocumentPublisher publisher = new DocumentPublisher(producer, Options.defaults(), CLOCK);

        publisher.publish(DocumentDraft.of("a", "t").withVersion(42).withTenant("acme").withMetadata(Map.of("k", "v"))).get();

        DocumentEvent sent = decode(producer.history().get(0));
        assertEquals(42L, sent.getVersion());
        assertEquals("acme", sent.getTenant());
        assertEquals(Map.of("k", "v"), sent.getMetadata());
    }

    @Test
    void deletePublishesATombstoneKeyedByDocId() throws Exception {
        MockProducer<byte[], byte[]> producer = producer(true);
        DocumentPublisher publisher = new DocumentPublisher(producer, Options.defaults(), CLOCK);

        publisher.delete("gone").get();

        ProducerRecord<byte[], byte[]> record = producer.history().get(0);
        assertArrayEquals("gone".getBytes(UTF_8), record.key());
        assertNull(record.value());
        assertFalse(record.headers().iterator().hasNext(), "a tombstone has no content type");
    }

    @Test
    void invalidDocumentFailsItsFutureAndIsNotSent() {
        MockProducer<byte[], byte[]> producer = producer(true);
        DocumentPublisher publisher = new DocumentPublisher(producer, Options.defaults(), CLOCK);

        CompletableFuture<RecordMetadata> result = publisher.publish(DocumentDraft.of("a{b}", "text"));

        ExecutionException e = assertThrows(ExecutionException.class, result::get);
        assertInstanceOf(BadDocumentException.class, e.getCause());
        assertTrue(producer.history().isEmpty());
    }

    @Test
    void brokerErrorFailsTheFutureNamingTheDocument() {
        MockProducer<byte[], byte[]> producer = producer(false);
        DocumentPublisher publisher = new DocumentPublisher(producer, Options.defaults(), CLOCK);

        CompletableFuture<RecordMetadata> result = publisher.publish(event("big", 1));
        assertFalse(result.isDone(), "not acknowledged yet");
        producer.errorNext(new RecordTooLargeException("too large"));

        ExecutionException e = assertThrows(ExecutionException.class, result::get);
        assertInstanceOf(KafkaException.class, e.getCause());
        assertTrue(e.getCause().getMessage().contains("publishing document big v1 to sac.documents"), e.getCause().getMessage());
        assertInstanceOf(RecordTooLargeException.class, e.getCause().getCause());
        assertEquals(0, publisher.acknowledgedBytes());
    }

    @Test
    void flushCompletesPendingSendsAndCountsAcknowledgedBytes() {
        MockProducer<byte[], byte[]> producer = producer(false);
        DocumentPublisher publisher = new DocumentPublisher(producer, Options.defaults(), CLOCK);

        CompletableFuture<RecordMetadata> first = publisher.publish(event("a", 1));
        CompletableFuture<RecordMetadata> second = publisher.delete("b");
        publisher.flush();

        assertTrue(first.isDone() && second.isDone());
        long expected = producer.history().stream()
                .mapToLong(r -> r.key().length + (r.value() == null ? 0 : r.value().length)).sum();
        assertEquals(expected, publisher.acknowledgedBytes());
    }

    @Test
    void producerIsIdempotentWithAcksAllAndTheChosenBatching() {
        Map<String, Object> config = DocumentPublisher.producerConfig("127.0.0.1:9092", Options.defaults());

        assertEquals("all", config.get(ProducerConfig.ACKS_CONFIG));
        assertEquals(true, config.get(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG));
        assertEquals(20, config.get(ProducerConfig.LINGER_MS_CONFIG));
        assertEquals(256 * 1024, config.get(ProducerConfig.BATCH_SIZE_CONFIG));
        assertEquals("lz4", config.get(ProducerConfig.COMPRESSION_TYPE_CONFIG));
        assertEquals("127.0.0.1:9092", config.get(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG));
        assertEquals(1, config.get(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION),
                "more in flight can lose documents published right after a topic's creation (KAFKA-15591)");
    }

    @Test
    void theProducerTakesADocumentAtTheLimitsTheCompressorTakes() {
        Map<String, Object> defaults = DocumentPublisher.producerConfig("127.0.0.1:9092", Options.defaults());
        assertEquals((8 << 20) + (64 << 10), defaults.get(ProducerConfig.MAX_REQUEST_SIZE_CONFIG),
                "an 8 MiB document (the default --max-doc-bytes) and room for its key, headers and batch");
        Map<String, Object> small = DocumentPublisher.producerConfig("127.0.0.1:9092",
                Options.defaults().withLimits(new DocumentLimits(4096, 4096)));
        assertEquals(1 << 20, small.get(ProducerConfig.MAX_REQUEST_SIZE_CONFIG), "never below Kafka's default");
        assertEquals(32L << 20, small.get(ProducerConfig.BUFFER_MEMORY_CONFIG), "never below Kafka's default");
        Map<String, Object> large = DocumentPublisher.producerConfig("127.0.0.1:9092",
                Options.defaults().withLimits(new DocumentLimits(64 << 20, 64 << 20)));
        assertTrue((long) large.get(ProducerConfig.BUFFER_MEMORY_CONFIG)
                        >= 2L * (Integer) large.get(ProducerConfig.MAX_REQUEST_SIZE_CONFIG),
                "a 64 MiB document fits the producer's buffer (the producer refuses a record larger than it)");
        acceptedByKafka(large);
    }

    /**
     * Builds (and closes) a producer from {@code config}: its constructor, not ProducerConfig's, checks
     * the combination (delivery.timeout.ms >= linger.ms + request.timeout.ms). No broker is contacted.
     */
    private static void acceptedByKafka(Map<String, Object> config) {
        Map<String, Object> withSerializers = new java.util.HashMap<>(config);
        withSerializers.putIfAbsent(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG,
                org.apache.kafka.common.serialization.ByteArraySerializer.class);
        withSerializers.putIfAbsent(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG,
                org.apache.kafka.common.serialization.ByteArraySerializer.class);
        new org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]>(withSerializers).close(Duration.ZERO);
    }

    @Test
    void producerConfigIsAcceptedByKafka() {
        acceptedByKafka(DocumentPublisher.producerConfig("127.0.0.1:9092", Options.defaults()));
    }

    @Test
    void everyWaitOfTheProducerFollowsTheDeliveryTimeout() {
        Map<String, Object> config = DocumentPublisher.producerConfig("127.0.0.1:1",
                Options.defaults().withDeliveryTimeout(Duration.ofSeconds(5)));

        assertEquals(5_000L, config.get(ProducerConfig.MAX_BLOCK_MS_CONFIG),
                "send() waits for an unreachable broker's metadata this long, not Kafka's 60 s");
        assertEquals(5_000, config.get(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG));
        assertEquals(5_000 - 20, config.get(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG), "delivery >= linger + request");
        acceptedByKafka(config);

        Map<String, Object> defaults = DocumentPublisher.producerConfig("127.0.0.1:1", Options.defaults());
        assertEquals(120_000L, defaults.get(ProducerConfig.MAX_BLOCK_MS_CONFIG));
        assertEquals(30_000, defaults.get(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG), "Kafka's default while there is room");
        assertThrows(IllegalArgumentException.class, () -> Options.defaults().withDeliveryTimeout(Duration.ofMillis(20)),
                "no time left for a request after the linger");
    }

    @Test
    void documentOverTheConfiguredLimitsIsRefusedAndNotSent() {
        MockProducer<byte[], byte[]> producer = producer(true);
        Options limited = Options.defaults().withLimits(new DocumentLimits(100, 1000));
        DocumentPublisher publisher = new DocumentPublisher(producer, limited, CLOCK);

        ExecutionException bytes = assertThrows(ExecutionException.class,
                () -> publisher.publish(DocumentDraft.of("big", "x".repeat(200))).get());
        BadDocumentException e = assertInstanceOf(BadDocumentException.class, bytes.getCause());
        assertEquals(BadDocumentException.Reason.TOO_LARGE, e.reason());
        assertTrue(e.getMessage().contains("limit 100"), e.getMessage());

        DocumentPublisher fewChars = new DocumentPublisher(producer,
                Options.defaults().withLimits(new DocumentLimits(1 << 20, 10)), CLOCK);
        ExecutionException chars = assertThrows(ExecutionException.class,
                () -> fewChars.publish(DocumentDraft.of("long", "x".repeat(11))).get());
        assertEquals(BadDocumentException.Reason.TOO_LARGE, ((BadDocumentException) chars.getCause()).reason());
        assertTrue(producer.history().isEmpty());
    }

    /**
     * A value within the byte limit whose JSON form, the one the compressor stores, is over its store's
     * record limit (control characters take six bytes each in JSON): refused here, not published only
     * to be dead-lettered TOO_LARGE by every compressor.
     */
    @Test
    void aDocumentTooLargeForTheCompressorsStoredFormIsRefusedAndNotSent() {
        MockProducer<byte[], byte[]> producer = producer(true);
        DocumentLimits limits = new DocumentLimits(1 << 20, 4_000_000);
        DocumentPublisher publisher = new DocumentPublisher(producer, Options.defaults().withLimits(limits), CLOCK);
        DocumentDraft controls = DocumentDraft.of("ctl", "short text").withTitle("\u0001".repeat(600_000));

        ExecutionException sent = assertThrows(ExecutionException.class, () -> publisher.publish(controls).get());
        BadDocumentException e = assertInstanceOf(BadDocumentException.class, sent.getCause());
        assertEquals(BadDocumentException.Reason.TOO_LARGE, e.reason());
        assertTrue(e.getMessage().contains("as the JSON the compressor stores") && e.getMessage().contains("over its limit of "
                + limits.maxStoredBytes()), e.getMessage());
        assertTrue(producer.history().isEmpty());

        publisher.publish(DocumentDraft.of("ok", "short text").withTitle("\u0001".repeat(1_000)));
        assertEquals(1, producer.history().size(), "a few control characters are fine");
    }

    static MockProducer<byte[], byte[]> producer(boolean autoComplete) {
        return new MockProducer<>(autoComplete, null, new ByteArraySerializer(), new ByteArraySerializer());
    }

    private DocumentEvent decode(ProducerRecord<byte[], byte[]> record) {
        try {
            return codec.decode(record.value(), contentType(record));
        } catch (BadDocumentException e) {
            throw new AssertionError(e);
        }
    }

    private static String contentType(ProducerRecord<byte[], byte[]> record) {
        Header header = record.headers().lastHeader(DocumentCodec.CONTENT_TYPE_HEADER);
        return header == null ? null : new String(header.value(), UTF_8);
    }

    private static DocumentEvent event(String docId, long version) {
        return DocumentEvent.newBuilder().setDocId(docId).setVersion(version).setTitle("T").setText("Body of " + docId)
                .setSource("src").setMetadata(Map.of("lang", "en")).setPublishedAt(Instant.ofEpochMilli(NOW - 5)).build();
    }
}
