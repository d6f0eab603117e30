package dev.sacrag.cli.warming;

import dev.sacrag.kvstore.AnchorKvStore;
import dev.sacrag.query.catalog.Catalog;
import dev.sacrag.query.catalog.CatalogEntry;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.errors.GroupIdNotFoundException;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Removing a model that traffic has left (after {@code sac model activate} moved it to another):
 * a tombstone on the catalog topic for each of its entries, then every blob of it in Redis.
 *
 * <p>Why it is needed: a delete on the documents topic reaches only the compressors that are
 * running, and each deletes its own model's blob and catalog entry. Once a model's compressors are
 * stopped, its entries and blobs of documents deleted since stay, and all its blobs take Redis
 * memory no query service reads. Both steps can be run again: the catalog is read afresh and the
 * blobs are found by SCAN, so an interrupted run is finished by the next.
 *
 * <p>Only the caller can know that no query service still serves the model: the control topic
 * says which model they were told to use, not that every replica switched (one without the
 * adapter stays on the old model; see {@code sac_query_model_mismatch}).
 */
public final class ModelRetirement {

    private ModelRetirement() {
    }

    /**
     * What the catalog holds for the model (read to its end), which other models it names, and the
     * tenants its records name (of any model, entries tombstoned since included while the topic
     * still holds them): this deployment's, whose blobs of the model a retire deletes.
     * {@code tombstones} counts the model's keys whose last record is a tombstone: with no entry
     * left, a retire that ran already, or the deletes of every document of the model (the two leave
     * the same), not a mistyped id, while the topic keeps them.
     */
    public record Found(String modelId, List<String> recordKeys, long catalogBytes, List<String> otherModels,
                        List<String> tenants, int tombstones) {

        /** Nothing of the model in the catalog but its tombstones. */
        public boolean retiredAlready() {
            return recordKeys.isEmpty() && tombstones > 0;
        }
    }

    /** What a run did. */
    public record Summary(String modelId, int tombstones, long blobsDeleted) {
        public String line() {
            return "model " + modelId + ": " + Counted.of(tombstones, "catalog entry", "catalog entries") + " removed, "
                    + Counted.of(blobsDeleted, "blob", "blobs") + " deleted";
        }
    }

    /** Reads the catalog topic to its end (within {@code brokers.timeout()}, or 2 minutes when that is shorter). */
    public static Found find(Brokers brokers, String catalogTopic, String modelId) throws TimeoutException {
        try (CatalogWatch watch = CatalogWatch.open(brokers, catalogTopic, TopicScan.readTimeout(brokers.timeout()))) {
            Catalog catalog = watch.catalog();
            long bytes = catalog.entries(Optional.of(modelId)).stream().mapToLong(CatalogEntry::bytes).sum();
            List<CatalogEntry> all = catalog.entries(Optional.empty());
            List<String> others = all.stream().map(CatalogEntry::modelId).filter(m -> !m.equals(modelId)).distinct()
                    .sorted().toList();
            // not only the tenants of the entries there now: a run again of a retire stopped after its
            // tombstones finds the tenants that held only the model's entries in the records they removed
            List<String> tenants = watch.tenantsNamed().stream().sorted().toList();
            return new Found(modelId, catalog.recordKeys(modelId), bytes, others, tenants, watch.tombstones(modelId));
        }
    }

    /**
     * The consumer groups among {@code groupIds} that have members, with how many: a Kafka Streams
     * application still running (a compressor of the model would write its documents again).
     */
    public static Map<String, Integer> runningGroups(Brokers brokers, List<String> groupIds) throws InterruptedException {
        Map<String, Integer> running = new java.util.TreeMap<>();
        try (Admin admin = BoundedClients.admin(brokers.bootstrapServers(), brokers.timeout())) {
            for (Map.Entry<String, KafkaFuture<ConsumerGroupDescription>> g
                    : admin.describeConsumerGroups(groupIds).describedGroups().entrySet()) {
                try {
                    int members = brokers.await(g.getValue(), "when asked for the members of consumer group " + g.getKey())
                            .members().size();
                    if (members > 0) {
                        running.put(g.getKey(), members);
                    }
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof GroupIdNotFoundException)) {   // no such group: nothing runs under it
                        throw new IllegalStateException("describing consumer group " + g.getKey() + " failed", e.getCause());
                    }
                }
            }
        }
        return running;
    }

    /**
     * Tombstones {@code found}'s catalog entries (readers stop seeing the model first), then deletes
     * the model's blobs in the tenants this deployment's catalog names, including blobs no catalog
     * entry names any more (an expiring replaced version). Another deployment sharing the Redis, with
     * tenants of its own, keeps its blobs of the same model (the demo model's id is the same
     * everywhere); {@code allTenants} deletes the model's blobs in every tenant (a catalog lost with
     * its topic names none).
     */
    public static Summary retire(Brokers brokers, String catalogTopic, AnchorKvStore blobs, Found found,
                                 boolean allTenants) throws InterruptedException, TimeoutException {
        tombstone(brokers, catalogTopic, found.recordKeys());
        long deleted = allTenants ? blobs.deleteModel(found.modelId())
                : blobs.deleteModel(java.util.Set.copyOf(found.tenants()), found.modelId());
        return new Summary(found.modelId(), found.recordKeys().size(), deleted);
    }

    private static void tombstone(Brokers brokers, String topic, List<String> keys)
            throws InterruptedException, TimeoutException {
        if (keys.isEmpty()) {
            return;
        }
        try (KafkaProducer<String, byte[]> producer = BoundedClients.producer(brokers.bootstrapServers(), "sac-model-retire",
                brokers.timeout())) {
            List<Future<RecordMetadata>> sent = new ArrayList<>(keys.size());
            for (String key : keys) {
                sent.add(producer.send(new ProducerRecord<>(topic, key, null)));
            }
            producer.flush();
            for (int i = 0; i < sent.size(); i++) {
                try {
                    sent.get(i).get(brokers.timeout().toMillis(), TimeUnit.MILLISECONDS);
                } catch (ExecutionException e) {
                    throw new IllegalStateException("removing catalog entry " + keys.get(i) + " from " + topic
                            + " failed (run the command again to finish)", e.getCause());
                }
            }
        }
    }
}
