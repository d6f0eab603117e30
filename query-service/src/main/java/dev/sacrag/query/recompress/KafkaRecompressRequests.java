package dev.sacrag.query.recompress;

import com.google.gson.JsonObject;
import dev.sacrag.query.metrics.QueryMetrics;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Publishes recompress requests to the recompress topic: key = docId (UTF-8), value = JSON
 * {@code {"tenant": ..., "reason": ..., "modelId": ...}}, the format the compressor consumes,
 * on the partition its document is on in the documents topic where that is known.
 * Many questions about one missing blob send one request per {@code minInterval}, not one each.
 * A send that could not even start (no broker reachable: it blocked the calling RPC thread for
 * up to two seconds) is also retried only after {@code minInterval}, so an outage does not cost
 * every question those seconds.
 */
public final class KafkaRecompressRequests implements RecompressRequests, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(KafkaRecompressRequests.class);
    private static final String CONTENT_TYPE_HEADER = "content-type";
    private static final String JSON = "application/json";

    private final Producer<byte[], byte[]> producer;
    private final String topic;
    private final Duration minInterval;
    private final Clock clock;
    private final QueryMetrics metrics;
    private final Function<String, OptionalInt> partitionOf;
    private final Map<String, Long> lastSentMillis = new ConcurrentHashMap<>();
    /** Entries older than minInterval are dropped once this many documents were asked for. */
    private static final int PRUNE_AT = 10_000;

    /**
     * @param partitionOf the documents-topic partition of a document, where known: the request
     *                    goes to the same partition of the recompress topic (see
     *                    {@code DocumentPartitions}); otherwise to its key's hash
     */
    public KafkaRecompressRequests(Producer<byte[], byte[]> producer, String topic, Duration minInterval, Clock clock,
                                   QueryMetrics metrics, Function<String, OptionalInt> partitionOf) {
        this.producer = producer;
        this.partitionOf = partitionOf;
        this.topic = topic;
        this.minInterval = minInterval;
        this.clock = clock;
        this.metrics = metrics;
    }

    public static KafkaRecompressRequests connect(String bootstrapServers, String topic, Duration minInterval,
                                                  QueryMetrics metrics, Function<String, OptionalInt> partitionOf) {
        Map<String, Object> config = Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.CLIENT_ID_CONFIG, "sac-query-recompress",
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                // A question waits for nothing here; a broker outage must not block the RPC thread for long.
                ProducerConfig.MAX_BLOCK_MS_CONFIG, 2000,
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
        return new KafkaRecompressRequests(new KafkaProducer<>(config), topic, minInterval, Clock.systemUTC(), metrics, partitionOf);
    }

    @Override
    public void request(String tenant, String docId, String modelId, String reason) {
        long now = clock.millis();
        String dedupKey = tenant + '\u0000' + docId + '\u0000' + modelId;
        Long last = lastSentMillis.get(dedupKey);
        if (last != null && now - last < minInterval.toMillis()) {
            return;
        }
        if (lastSentMillis.size() >= PRUNE_AT) {
            lastSentMillis.values().removeIf(sent -> now - sent >= minInterval.toMillis());
        }
        lastSentMillis.put(dedupKey, now);
        JsonObject value = new JsonObject();
        value.addProperty("tenant", tenant);
        value.addProperty("reason", reason);
        value.addProperty("modelId", modelId);
        metrics.recompressRequested();
        try {
            ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(topic, partition(docId),
                    docId.getBytes(StandardCharsets.UTF_8), value.toString().getBytes(StandardCharsets.UTF_8),
                    new RecordHeaders().add(CONTENT_TYPE_HEADER, JSON.getBytes(StandardCharsets.UTF_8)));
            producer.send(record, (metadata, error) -> {
                if (error != null) {
                    if (!(error instanceof org.apache.kafka.common.errors.TimeoutException)) {
                        lastSentMillis.remove(dedupKey, now); // let the next question try again
                    }   // a timeout blocked an RPC thread already: as a send that could not start, retry after minInterval
                    log.warn("recompress request for doc {} (tenant {}, model {}) to {} failed", docId, tenant, modelId,
                            topic, error);
                }
            });
        } catch (RuntimeException e) {   // the timestamp stays: the next attempt comes after minInterval
            log.warn("recompress request for doc {} (tenant {}, model {}) to {} failed", docId, tenant, modelId, topic, e);
        }
    }

    /**
     * The document's partition when known and the recompress topic has it, else null (the key's
     * hash decides). A recompress topic with fewer partitions than the documents topic is
     * misconfigured (the compressor refuses to start on it); naming a partition it lacks would
     * block every send for max.block.ms. partitionsFor reads the producer's cached metadata
     * after the first request.
     */
    private Integer partition(String docId) {
        OptionalInt known = partitionOf.apply(docId);
        if (known.isEmpty()) {
            return null;
        }
        return known.getAsInt() < producer.partitionsFor(topic).size() ? known.getAsInt() : null;
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(5));
    }
}
