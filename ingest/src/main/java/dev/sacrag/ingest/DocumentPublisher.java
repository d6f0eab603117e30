package dev.sacrag.ingest;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.sacrag.schemas.BadDocumentException;
import dev.sacrag.schemas.DocumentCodec;
import dev.sacrag.schemas.DocumentLimits;
import dev.sacrag.schemas.DocumentRules;
import dev.sacrag.schemas.avro.DocumentEvent;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.CompressionType;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Publishes documents to the documents topic: key = docId (UTF-8), value = Avro single-object
 * bytes or JSON with a matching {@code content-type} header, null value = delete. Thread-safe,
 * like the Kafka producer it wraps; one per application.
 */
public final class DocumentPublisher implements AutoCloseable {

    public static final String DEFAULT_TOPIC = "sac.documents";

    /** How a document's record value is written, with its {@code content-type} header. */
    public enum Format {
        AVRO(DocumentCodec.AVRO_CONTENT_TYPE),
        JSON(DocumentCodec.JSON_CONTENT_TYPE);

        private final String contentType;

        Format(String contentType) {
            this.contentType = contentType;
        }

        /** The record value that carries {@code event}. */
        public byte[] encode(DocumentEvent event) {
            return this == AVRO ? DocumentCodec.encodeAvro(event) : DocumentCodec.encodeJson(event).getBytes(UTF_8);
        }
    }

    /**
     * @param deliveryTimeout how long a document may take to be acknowledged, and how long a send
     *     may wait for the broker (metadata, buffer space) before it fails: a command's timeout
     * @param maxRequestBytes the producer's max.request.size: room for one document at
     *     {@code limits} ({@link #requestBytesFor}); documents above Kafka's default 1 MiB also need
     *     max.message.bytes raised on the topic
     * @param limits the compressors' document limits: a document over them is refused here
     *     rather than dead-lettered there
     */
    public record Options(String topic, Format format, Duration linger, int batchSizeBytes,
                          CompressionType compression, Duration deliveryTimeout, int maxRequestBytes,
                          DocumentLimits limits) {
        public Options {
            Objects.requireNonNull(topic, "topic");
            Objects.requireNonNull(format, "format");
            Objects.requireNonNull(compression, "compression");
            Objects.requireNonNull(limits, "limits");
            if (topic.isBlank()) {
                throw new IllegalArgumentException("the documents topic must be named (it is empty)");
            }
            if (linger.isNegative() || batchSizeBytes <= 0 || deliveryTimeout.compareTo(linger) <= 0
                    || maxRequestBytes <= 0) {
                throw new IllegalArgumentException("invalid publisher options: " + topic + ", linger " + linger
                        + ", batch " + batchSizeBytes + ", delivery timeout " + deliveryTimeout + " (must exceed the linger)"
                        + ", max request " + maxRequestBytes);
            }
        }

        /** Avro; 20 ms linger and 256 KiB batches because ingest sends many documents at once. */
        public static Options defaults() {
            return new Options(DEFAULT_TOPIC, Format.AVRO, Duration.ofMillis(20), 256 * 1024,
                    CompressionType.LZ4, Duration.ofMinutes(2), requestBytesFor(DocumentLimits.defaults()),
                    DocumentLimits.defaults());
        }

        /**
         * A request that holds one document at the value limit, with its key, headers and the
         * batch's own bytes (64 KiB of room), and never less than Kafka's default 1 MiB: a
         * document the compressor would take is never refused by this producer, only by a topic
         * whose max.message.bytes is smaller (then the failure says so).
         */
        public static int requestBytesFor(DocumentLimits limits) {
            return (int) Math.min(Integer.MAX_VALUE, Math.max(1L << 20, limits.maxValueBytes() + (64L << 10)));
        }

        public Options withTopic(String newTopic) {
            return new Options(newTopic, format, linger, batchSizeBytes, compression, deliveryTimeout, maxRequestBytes, limits);
        }

        public Options withFormat(Format newFormat) {
            return new Options(topic, newFormat, linger, batchSizeBytes, compression, deliveryTimeout, maxRequestBytes, limits);
        }

        public Options withDeliveryTimeout(Duration newTimeout) {
            return new Options(topic, format, linger, batchSizeBytes, compression, newTimeout, maxRequestBytes, limits);
        }

        /** These limits, and a request size that holds a document at them. */
        public Options withLimits(DocumentLimits newLimits) {
            return new Options(topic, format, linger, batchSizeBytes, compression, deliveryTimeout,
                    requestBytesFor(newLimits), newLimits);
        }
    }

    /** Kafka's default request.timeout.ms, kept while the delivery timeout leaves room for it. */
    private static final int DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
    /** Kafka's default buffer.memory. */
    private static final long DEFAULT_BUFFER_MEMORY = 32L << 20;

    private final Producer<byte[], byte[]> producer;
    private final Options options;
    private final Clock clock;
    private final Map<String, Long> lastDefaultVersion = new ConcurrentHashMap<>();
    private static final int FORGET_VERSIONS_AT = 100_000;
    private final LongAdder acknowledgedBytes = new LongAdder();

    /** For tests and callers that own the producer (e.g. a MockProducer). */
    public DocumentPublisher(Producer<byte[], byte[]> producer, Options options, Clock clock) {
        this.producer = Objects.requireNonNull(producer, "producer");
        this.options = Objects.requireNonNull(options, "options");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    public static DocumentPublisher connect(String bootstrapServers, Options options) {
        return new DocumentPublisher(new KafkaProducer<>(producerConfig(bootstrapServers, options)), options, Clock.systemUTC());
    }

    /**
     * acks=all and idempotence: a document acknowledged once is on every in-sync replica, once.
     * One request in flight per connection: with several, a request that reaches a partition's
     * leader a moment before the broker has applied the partition's creation fails
     * (NOT_LEADER_OR_FOLLOWER) while the next one is appended, and the first then fails every
     * retry with OUT_OF_ORDER_SEQUENCE_NUMBER until its delivery timeout: its documents are lost
     * (KAFKA-15591, fixed in brokers after the 4.1 line this project runs). Publishing right after
     * the topics were created (compose's topics job, the demo, the tests) is exactly that moment.
     * Batches still carry many documents each, so bulk ingest keeps its throughput.
     */
    static Map<String, Object> producerConfig(String bootstrapServers, Options options) {
        Map<String, Object> config = new HashMap<>();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        config.put(ProducerConfig.CLIENT_ID_CONFIG, "sac-ingest");
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1);
        config.put(ProducerConfig.LINGER_MS_CONFIG, Math.toIntExact(options.linger().toMillis()));
        config.put(ProducerConfig.BATCH_SIZE_CONFIG, options.batchSizeBytes());
        config.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, options.compression().name);
        // The one timeout bounds every wait: send() blocking for metadata (an unreachable broker
        // blocks it for max.block.ms, 60 s by Kafka's default), and delivery, which must leave
        // room for the linger and one request (delivery.timeout.ms >= linger.ms + request.timeout.ms).
        int timeoutMs = Math.toIntExact(options.deliveryTimeout().toMillis());
        int lingerMs = Math.toIntExact(options.linger().toMillis());
        config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, (long) timeoutMs);
        config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, timeoutMs);
        config.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, Math.min(DEFAULT_REQUEST_TIMEOUT_MS, timeoutMs - lingerMs));
        config.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, options.maxRequestBytes());
        // The producer refuses a record larger than its whole buffer (32 MiB by Kafka's default) as it
        // refuses one over max.request.size: room for two of the largest documents --max-doc-bytes allows.
        config.put(ProducerConfig.BUFFER_MEMORY_CONFIG, Math.max(DEFAULT_BUFFER_MEMORY, 2L * options.maxRequestBytes()));
        config.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        config.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        return config;
    }

    public Options options() {
        return options;
    }

    /**
     * Publishes a complete event as is. Fails the future (never throws) with a
     * {@link BadDocumentException} for a document the compressor would dead-letter: against the
     * rules, or over {@link Options#limits()} in characters or in record value bytes.
     */
    public CompletableFuture<RecordMetadata> publish(DocumentEvent event) {
        byte[] value;
        try {
            value = checkedValue(event, options.format(), options.limits());
        } catch (BadDocumentException e) {
            return CompletableFuture.failedFuture(e);
        }
        RecordHeaders headers = new RecordHeaders();
        headers.add(DocumentCodec.CONTENT_TYPE_HEADER, options.format().contentType.getBytes(UTF_8));
        return send(new ProducerRecord<>(options.topic(), null, event.getDocId().getBytes(UTF_8), value, headers),
                "publishing document " + event.getDocId() + " v" + event.getVersion());
    }

    /** Publishes a draft, stamping the publish time as version when the draft has none. */
    public CompletableFuture<RecordMetadata> publish(DocumentDraft draft) {
        return publish(draft, java.util.OptionalLong.empty());
    }

    /**
     * Publishes a draft; one without a version is stamped the publish time, or {@code standing} + 1
     * where that is later: the topic's version of the document may be ahead of this host's clock (another
     * host's clock, a producer numbering its own versions), and a version at or below it is ignored by
     * every reader as older, while the run would count it published.
     */
    public CompletableFuture<RecordMetadata> publish(DocumentDraft draft, java.util.OptionalLong standing) {
        long now = clock.millis();
        long floor = standing.isPresent() && standing.getAsLong() >= now
                ? standing.getAsLong() + (standing.getAsLong() == Long.MAX_VALUE ? 0 : 1) : now;
        long version = draft.version().isPresent() ? draft.version().getAsLong() : nextDefaultVersion(draft.docId(), floor);
        return publish(draft.toEvent(version, Instant.ofEpochMilli(now)));
    }

    /** Publishes the tombstone of {@code docId}: the compressor deletes its blobs, compaction the record. */
    public CompletableFuture<RecordMetadata> delete(String docId) {
        Objects.requireNonNull(docId, "docId");
        return send(new ProducerRecord<>(options.topic(), docId.getBytes(UTF_8), null), "deleting document " + docId);
    }

    /**
     * The record value of {@code event} in {@code format}, if the compressor would accept it: the
     * document rules, then the value's size (as {@link DocumentCodec#decode} checks it), then the
     * size of the JSON form the compressor stores it in ({@link DocumentRules#checkStorable}).
     */
    static byte[] checkedValue(DocumentEvent event, Format format, DocumentLimits limits) throws BadDocumentException {
        DocumentRules.check(event, limits);
        byte[] value = format.encode(event);
        DocumentRules.checkValueSize("the value of document " + event.getDocId(), value.length, limits);
        DocumentRules.checkStorable(event, limits);
        return value;
    }

    /** Key and value bytes of every record the broker has acknowledged through this publisher. */
    public long acknowledgedBytes() {
        return acknowledgedBytes.sum();
    }

    /** Blocks until every record sent so far is acknowledged or has failed. */
    public void flush() {
        producer.flush();
    }

    @Override
    public void close() {
        producer.close(options.deliveryTimeout());
    }

    /**
     * Publish time, but strictly increasing per document within this publisher: two publishes of
     * one document in the same millisecond would otherwise carry equal versions, and the
     * compressor skips a version that is not newer than the one it has. Per document, not one
     * counter for all: with one counter, a run publishing thousands of documents a millisecond
     * pushed versions ahead of the clock, and a later run re-publishing one of them at its true
     * time went backwards and was skipped as older.
     */
    private long nextDefaultVersion(String docId, long nowMillis) {
        if (lastDefaultVersion.size() >= FORGET_VERSIONS_AT) {   // entries behind the clock constrain nothing
            lastDefaultVersion.values().removeIf(v -> v < nowMillis);
        }
        return lastDefaultVersion.merge(docId, nowMillis, (last, now) -> Math.max(last + 1, now));
    }

    private CompletableFuture<RecordMetadata> send(ProducerRecord<byte[], byte[]> record, String what) {
        CompletableFuture<RecordMetadata> result = new CompletableFuture<>();
        long size = record.key().length + (record.value() == null ? 0 : record.value().length);
        try {
            producer.send(record, (metadata, error) -> {
                if (error != null) {
                    result.completeExceptionally(new KafkaException(what + " to " + record.topic() + " failed", error));
                } else {
                    acknowledgedBytes.add(size);
                    result.complete(metadata);
                }
            });
        } catch (RuntimeException e) {
            // send() throws for some errors (closed producer, buffer full past max.block.ms).
            result.completeExceptionally(new KafkaException(what + " to " + record.topic() + " failed", e));
        }
        return result;
    }
}
