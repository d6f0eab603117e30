package dev.sacrag.cli.warming;

import dev.sacrag.compressor.CompressorTopics;
import dev.sacrag.compressor.RecompressRequest;
import dev.sacrag.core.kv.AnchorKvCodec;
import dev.sacrag.core.kv.BlobException;
import dev.sacrag.kvstore.AnchorKvStore;
import dev.sacrag.query.catalog.CatalogEntry;
import dev.sacrag.schemas.DocumentLimits;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.zip.CRC32C;

/**
 * {@code sac warm --rebuild}: after Redis lost blobs (flush, eviction, a new empty Redis), asks
 * the compressor to rebuild every live document's blob that is missing for one model, and waits
 * until the catalog shows them compressed again.
 *
 * <ol>
 * <li>Read the documents topic (the source of truth) and the catalog to their end.</li>
 * <li>A live document is missing when the catalog has no entry for it and the model at its live
 * version, or the entry's blob does not EXIST in Redis; with {@code verify}, also when the blob
 * is there but unusable: its bytes fail the catalog's CRC32C or its header does not read for the
 * model (one GET per document instead of an EXISTS).</li>
 * <li>Publish one {@link RecompressRequest} per missing document to the recompress topic, keyed by
 * doc id with the default partitioner, so it reaches the task that owns the document.</li>
 * <li>Follow the catalog until each has a new entry at its live version, then check each blob
 * the same way.</li>
 * </ol>
 */
public final class BlobRebuild {

    /**
     * @param await false = publish the requests and return ({@code --no-wait})
     * @param verify read every blob and rebuild the unusable ones too ({@code --verify})
     */
    public record Settings(String bootstrapServers, CompressorTopics topics, DocumentLimits limits, String modelId,
                           boolean await, Duration timeout, boolean verify) {
    }

    /** @param notRestored documents still missing when waiting ended (timeout), sorted */
    public record Summary(String modelId, int checked, int missing, int requested, int restored,
                          List<String> notRestored, Duration elapsed, boolean verified) {

        public String line() {
            return String.format(Locale.ROOT, "warm --rebuild: model %s: checked %d live documents, %d missing%s, "
                    + "%d recompress requests, %d restored in %.1f s", modelId, checked, missing,
                    verified ? " or unusable" : "", requested, restored, elapsed.toMillis() / 1000.0);
        }
    }

    private BlobRebuild() {
    }

    public static Summary run(Settings s, AnchorKvStore redis, Progress progress)
            throws TimeoutException, InterruptedException {
        long start = System.nanoTime();
        CompressorTopics t = s.topics();
        Duration read = TopicScan.readTimeout(s.timeout());
        LiveDocuments live = LiveDocuments.readCompressible(s.bootstrapServers(), t.documents(), t.deadLetter(), s.limits(),
                s.modelId(), read);
        try (CatalogWatch catalog = CatalogWatch.open(s.bootstrapServers(), t.catalog(), read)) {
            Map<String, LiveDocuments.Doc> missing = new HashMap<>();
            for (LiveDocuments.Doc doc : live.byId().values()) {
                Optional<CatalogEntry> entry = catalog.catalog().find(doc.tenant(), doc.docId(), s.modelId());
                if (!catalog.isCompressed(doc, s.modelId()) || !blobServes(entry.get(), redis, s.verify())) {
                    missing.put(doc.docId(), doc);
                }
            }
            int requested = requestRecompression(s.bootstrapServers(), t.recompress(), missing.values(), s.modelId(),
                    "warm-rebuild");
            if (!s.await() || missing.isEmpty()) {
                return new Summary(s.modelId(), live.size(), missing.size(), requested, 0, List.of(), since(start), s.verify());
            }
            Map<String, LiveDocuments.Doc> waiting = awaitCatalog(s, catalog, new HashMap<>(missing), progress);
            // a document deleted while the others were awaited has no entry any more: nothing to restore
            List<String> notRestored = notRestored(missing.values(), waiting.keySet(), doc ->
                    catalog.catalog().find(doc.tenant(), doc.docId(), s.modelId())
                            .map(e -> blobServes(e, redis, s.verify())).orElse(true));
            return new Summary(s.modelId(), live.size(), missing.size(), requested, missing.size() - notRestored.size(),
                    notRestored, since(start), s.verify());
        }
    }

    /** The entry's blob is in Redis; with {@code verify}, also the bytes the catalog vouches for, readable for its model. */
    static boolean blobServes(CatalogEntry entry, AnchorKvStore redis, boolean verify) {
        if (!verify) {
            return redis.exists(entry.redisKey());
        }
        return redis.get(entry.redisKey()).filter(blob -> usable(blob, entry)).isPresent();
    }

    /** The catalog's CRC32C over the whole blob, and a header this build reads, for the entry's model. */
    static boolean usable(byte[] blob, CatalogEntry entry) {
        CRC32C crc = new CRC32C();
        crc.update(blob);
        if (crc.getValue() != entry.checksum()) {
            return false;
        }
        try {
            return AnchorKvCodec.readHeader(blob).modelId().equals(entry.modelId());
        } catch (BlobException e) {
            return false;
        }
    }

    /**
     * The missing documents not restored, sorted: restored means its catalog record came back and
     * its blob is there now, so a record that came back for a blob evicted again since counts as
     * not restored (and fails the run) instead of as neither.
     */
    static List<String> notRestored(java.util.Collection<LiveDocuments.Doc> missing, java.util.Set<String> waiting,
                                    java.util.function.Predicate<LiveDocuments.Doc> blobThere) {
        List<String> out = new ArrayList<>();
        for (LiveDocuments.Doc doc : missing) {
            if (waiting.contains(doc.docId()) || !blobThere.test(doc)) {
                out.add(doc.docId());
            }
        }
        out.sort(null);
        return out;
    }

    /**
     * Publishes one recompress request per document for {@code modelId}, in doc id order, each on
     * the partition its document has in the documents topic; waits for the acks.
     */
    static int requestRecompression(String bootstrapServers, String topic, java.util.Collection<LiveDocuments.Doc> missing,
                                    String modelId, String reason) throws InterruptedException {
        List<LiveDocuments.Doc> docs = new ArrayList<>(missing);
        docs.sort(Comparator.comparing(LiveDocuments.Doc::docId));
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.CLIENT_ID_CONFIG, "sac-" + reason,
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                ProducerConfig.LINGER_MS_CONFIG, 20), new StringSerializer(), new ByteArraySerializer())) {
            // a document on a partition the recompress topic lacks would block each send for max.block.ms
            int partitions = producer.partitionsFor(topic).size();
            docs.stream().filter(d -> d.position().partition() >= partitions).findFirst().ifPresent(d -> {
                throw new IllegalStateException(topic + " has " + partitions + " partitions, but document " + d.docId()
                        + " is on partition " + d.position().partition() + " of the documents topic: the two must have as"
                        + " many partitions (the compressor checks this at start)");
            });
            List<java.util.concurrent.Future<?>> sent = new ArrayList<>();
            for (LiveDocuments.Doc doc : docs) {
                RecompressRequest r = new RecompressRequest(doc.docId(), Optional.of(doc.tenant()),
                        Optional.of(reason), Optional.of(modelId));
                // on its document's partition, not the key's murmur2 hash: a non-Java producer may have
                // partitioned the document otherwise, and only the task holding it can recompress it
                sent.add(producer.send(new ProducerRecord<>(topic, doc.position().partition(), doc.docId(), r.toJson())));
            }
            producer.flush();
            for (java.util.concurrent.Future<?> f : sent) {
                f.get();
            }
            return sent.size();
        } catch (ExecutionException e) {
            throw new IllegalStateException("publishing recompress requests to " + topic + " failed", e.getCause());
        }
    }

    /** @return the documents still waiting when all arrived or the timeout passed */
    private static Map<String, LiveDocuments.Doc> awaitCatalog(Settings s, CatalogWatch catalog,
                                                               Map<String, LiveDocuments.Doc> waiting, Progress progress) {
        int total = waiting.size();
        long deadline = System.nanoTime() + s.timeout().toNanos();
        progress.update(0, total);
        while (!waiting.isEmpty() && System.nanoTime() < deadline) {
            catalog.poll(change -> change.current().ifPresent(e -> {
                LiveDocuments.Doc doc = waiting.get(e.docId());
                if (doc != null && e.modelId().equals(s.modelId()) && catalog.isCompressed(doc, s.modelId())) {
                    waiting.remove(e.docId());
                }
            }));
            progress.update(total - waiting.size(), total);
        }
        progress.finish();
        return waiting;
    }

    private static Duration since(long startNanos) {
        return Duration.ofNanos(System.nanoTime() - startNanos);
    }
}
