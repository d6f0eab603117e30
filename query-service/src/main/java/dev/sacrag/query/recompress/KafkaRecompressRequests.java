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
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Publishes recompress requests to the recompress topic: key = docId (UTF-8), value = JSON
 * {@code {"tenant": ..., "reason": ..., "modelId": ...}}, the format the compressor consumes,
 * on the partition its document is on in the documents topic where that is known.
 * Many questions about one missing blob send one request per {@code minInterval}, not one each.
 *
 * <p>Sends run on one background thread, never on the caller's: a send blocks while the
 * producer has no metadata for the topic (after start-up, after an idle spell, with no broker
 * reachable) for up to {@code max.block.ms}, and a question naming k missing documents would
 * hold its RPC thread k times that, past its deadline. The question fails at once with
 * "recompressing"; the requests follow. At most {@value #MAX_PENDING} wait; more are dropped
 * (logged) and asked for again by the next question after {@code minInterval}. A send that
 * could not even start is also retried only after {@code minInterval}.
 */
public final class KafkaRecompressRequests implements RecompressRequests, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(KafkaRecompressRequests.class);
    private static final String CONTENT_TYPE_HEADER = "content-type";
    private static final String JSON = "application/json";

    private final Producer<byte[], byte[]> producer;
    private final String topic;
    private final Duration minInterval;
    private final Clock clock;
    /** Requests dropped because the sender's queue was full. */
    private final java.util.concurrent.atomic.AtomicLong drops = new java.util.concurrent.atomic.AtomicLong();
    private final QueryMetrics metrics;
    private final Function<String, OptionalInt> partitionOf;
    private final Map<String, Long> lastSentMillis = new ConcurrentHashMap<>();
    /** Entries older than minInterval are dropped once this many documents were asked for. */
    private static final int PRUNE_AT = 10_000;
    /** Requests waiting for the sender thread; more are dropped. */
    static final int MAX_PENDING = 1_000;
    private final Executor sender;
    private final ExecutorService ownSender;

    /**
     * @param partitionOf the documents-topic partition of a document, where known: the request
     *                    goes to the same partition of the recompress topic (see
     *                    {@code DocumentPartitions}); otherwise to its key's hash
     */
    public KafkaRecompressRequests(Producer<byte[], byte[]> producer, String topic, Duration minInterval, Clock clock,
                                   QueryMetrics metrics, Function<String, OptionalInt> partitionOf) {
        this(producer, topic, minInterval, clock, metrics, partitionOf, null);
    }

    /** @param sender runs the sends (tests: {@code Runnable::run}); null = this object's own background thread */
    KafkaRecompressRequests(Producer<byte[], byte[]> producer, String topic, Duration minInterval, Clock clock,
                            QueryMetrics metrics, Function<String, OptionalInt> partitionOf,
                            Executor sender) {
        if (sender == null) {
            this.ownSender = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS,
                    new LinkedBlockingQueue<>(MAX_PENDING), r -> {
                        Thread t = new Thread(r, "sac-recompress-sender");
                        t.setDaemon(true);
                        return t;
                    }, (task, pool) -> dropped());
            this.sender = ownSender;
        } else {
            this.ownSender = null;
            this.sender = sender;
        }
        this.producer = producer;
        this.partitionOf = partitionOf;
        this.topic = topic;
        this.minInterval = minInterval;
        this.clock = clock;
        this.metrics = metrics;
    }

    /** Counted each time, logged the first time and every 100th (a burst drops many). */
    private void dropped() {
        metrics.recompressDropped();
        long n = drops.incrementAndGet();
        if (n % 100 == 1) {
            log.warn("{} recompress requests already wait to be sent; {} dropped so far (each asked for again by the next"
                    + " question about its document; metric sac_query_recompress_dropped_total)", MAX_PENDING, n);
        }
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
        if (lastSentMillis.size() >= PRUNE_AT) {
            lastSentMillis.values().removeIf(sent -> now - sent >= minInterval.toMillis());
        }
        // check and claim in one step: with a get, then a put, concurrent questions about the same
        // missing blob each saw no recent request and each sent one
        boolean[] claimed = {false};
        lastSentMillis.compute(dedupKey, (key, last) -> {
            if (last != null && now - last < minInterval.toMillis()) {
                return last;
            }
            claimed[0] = true;
            return now;
        });
        if (!claimed[0]) {
            return;
        }
        JsonObject value = new JsonObject();
        value.addProperty("tenant", tenant);
        value.addProperty("reason", reason);
        value.addProperty("modelId", modelId);
        metrics.recompressRequested();
        sender.execute(() -> send(tenant, docId, modelId, value, dedupKey, now));
    }

    private void send(String tenant, String docId, String modelId, JsonObject value, String dedupKey, long now) {
        try {
            ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(topic, partition(docId),
                    docId.getBytes(StandardCharsets.UTF_8), value.toString().getBytes(StandardCharsets.UTF_8),
                    new RecordHeaders().add(CONTENT_TYPE_HEADER, JSON.getBytes(StandardCharsets.UTF_8)));
            producer.send(record, (metadata, error) -> {
                if (error != null) {
                    if (!(error instanceof org.apache.kafka.common.errors.TimeoutException)) {
                        lastSentMillis.remove(dedupKey, now); // let the next question try again
                    }   // a timeout blocked an RPC thread already: as a send that could not start, retry after minInterval
                    log.warn("recompress request for doc {} (tenant {}, model {}) to {} failed: {}", docId, tenant,
                            modelId, topic, error.toString());
                }
            });
        } catch (RuntimeException e) {   // the timestamp stays: the next attempt comes after minInterval
            log.warn("recompress request for doc {} (tenant {}, model {}) to {} failed: {}", docId, tenant, modelId, topic,
                    e.toString());
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
        if (ownSender != null) {
            ownSender.shutdown();
            try {
                ownSender.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        producer.close(Duration.ofSeconds(5));
    }
}
