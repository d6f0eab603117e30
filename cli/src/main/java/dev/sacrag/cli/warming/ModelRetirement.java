package dev.sacrag.cli.warming;

import dev.sacrag.kvstore.AnchorKvStore;
import dev.sacrag.query.catalog.Catalog;
import dev.sacrag.query.catalog.CatalogEntry;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Removing a model that traffic has left (after {@code sac model activate} moved it to another):
 * a tombstone on the catalog topic for each of its entries, then every blob of it in Redis.
 *
 * <p>Why it is needed: a delete on the documents topic reaches only the compressors that are
 * running. Their tombstone handling deletes every blob of the document, whatever its model, but
 * writes a catalog tombstone for their own model only, so once a model's compressors are
 * stopped its catalog entries outlive the documents they describe, and its blobs take Redis
 * memory no query service reads. Both steps can be run again: the catalog is read afresh and the
 * blobs are found by SCAN, so an interrupted run is finished by the next.
 */
public final class ModelRetirement {

    private static final Duration SEND_TIMEOUT = Duration.ofSeconds(30);

    private ModelRetirement() {
    }

    /** What the catalog holds for the model (read to its end), and which other models it names. */
    public record Found(String modelId, List<String> recordKeys, long catalogBytes, List<String> otherModels) {
    }

    /** What a run did. */
    public record Summary(String modelId, int tombstones, long blobsDeleted) {
        public String line() {
            return String.format(Locale.ROOT, "model %s: %d catalog entries removed, %d blobs deleted", modelId, tombstones,
                    blobsDeleted);
        }
    }

    /** Reads the catalog topic to its end. */
    public static Found find(String bootstrapServers, String catalogTopic, String modelId) throws TimeoutException {
        try (CatalogWatch watch = CatalogWatch.open(bootstrapServers, catalogTopic, TopicScan.READ_TIMEOUT)) {
            Catalog catalog = watch.catalog();
            long bytes = catalog.entries(Optional.of(modelId)).stream().mapToLong(CatalogEntry::bytes).sum();
            List<String> others = new ArrayList<>(new TreeSet<>(catalog.entries(Optional.empty()).stream()
                    .map(CatalogEntry::modelId).filter(m -> !m.equals(modelId)).toList()));
            return new Found(modelId, catalog.recordKeys(modelId), bytes, others);
        }
    }

    /**
     * Tombstones {@code found}'s catalog entries (readers stop seeing the model first), then deletes
     * every blob of the model, including blobs no catalog entry names any more (an expiring
     * replaced version, an entry lost with the topic).
     */
    public static Summary retire(String bootstrapServers, String catalogTopic, AnchorKvStore blobs, Found found)
            throws InterruptedException, TimeoutException {
        tombstone(bootstrapServers, catalogTopic, found.recordKeys());
        return new Summary(found.modelId(), found.recordKeys().size(), blobs.deleteModel(found.modelId()));
    }

    private static void tombstone(String bootstrapServers, String topic, List<String> keys)
            throws InterruptedException, TimeoutException {
        if (keys.isEmpty()) {
            return;
        }
        int timeoutMs = (int) SEND_TIMEOUT.toMillis();
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.CLIENT_ID_CONFIG, "sac-model-retire",
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.MAX_BLOCK_MS_CONFIG, timeoutMs,
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, timeoutMs / 2,
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, timeoutMs),
                new StringSerializer(), new ByteArraySerializer())) {
            List<Future<RecordMetadata>> sent = new ArrayList<>(keys.size());
            for (String key : keys) {
                sent.add(producer.send(new ProducerRecord<>(topic, key, null)));
            }
            producer.flush();
            for (int i = 0; i < sent.size(); i++) {
                try {
                    sent.get(i).get(timeoutMs, TimeUnit.MILLISECONDS);
                } catch (ExecutionException e) {
                    throw new IllegalStateException("removing catalog entry " + keys.get(i) + " from " + topic
                            + " failed (run the command again to finish)", e.getCause());
                }
            }
        }
    }
}
