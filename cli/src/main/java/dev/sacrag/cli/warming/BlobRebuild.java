package dev.sacrag.cli.warming;

import dev.sacrag.compressor.CompressorTopics;
import dev.sacrag.compressor.RecompressRequest;
import dev.sacrag.core.kv.AnchorKvCodec;
import dev.sacrag.ingest.ProgressLine;
import dev.sacrag.kvstore.AnchorKvStore;
import dev.sacrag.query.catalog.CatalogEntry;
import dev.sacrag.schemas.DocumentLimits;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsOptions;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

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
 * the same way. Meanwhile, every few seconds, ask whether the compressor's consumer group
 * ({@code compressorAppId}) has committed past every request: exactly-once commits a request's
 * offset with the catalog records it produced, so once it has, a document still waiting was
 * refused (a dead letter, e.g. over --max-doc-tokens, whose record may have expired from the
 * dead-letter topic) and waiting longer would not bring it.</li>
 * </ol>
 */
public final class BlobRebuild {

    /**
     * @param await false = publish the requests and return ({@code --no-wait})
     * @param verify read every blob and rebuild the unusable ones too ({@code --verify})
     * @param compressorAppId the application id of the compressors running {@code modelId}: their
     *     committed offsets on the recompress topic say when every request was processed
     * @param force rebuild for a model the catalog holds nothing of while it holds others (refused
     *     otherwise: a mistyped id would have every document compressed for a model nobody runs); the
     *     command passes true unless the id was typed ({@code --model-id})
     */
    public record Settings(String bootstrapServers, CompressorTopics topics, DocumentLimits limits, String modelId,
                           boolean await, Duration timeout, boolean verify, String compressorAppId, boolean force) {
    }

    /** How often the compressor group's committed offsets are asked for while waiting. */
    private static final Duration OFFSET_CHECK = Duration.ofSeconds(2);

    /** What was published: the request count, and per partition the offset after the last request. */
    record Sent(int count, Map<TopicPartition, Long> ends) {
    }

    /**
     * What a rebuild counted, as its line says it.
     *
     * @param checked live documents whose blob was checked
     * @param missing those whose blob was missing (with {@code verify}, or unusable): each got a request
     * @param requested recompress requests published
     * @param restored missing documents whose catalog record came back with their blob there at the end
     * @param deleted missing documents the documents topic deleted while this ran (nothing to restore:
     *     neither restored nor refused), counted where the compressor went past their requests
     * @param refusedBefore documents on the topic a compressor refused for the model or for all, every version
     *     ({@link LiveDocuments#refused}): not checked, as no request would bring them
     */
    public record Counts(int checked, int missing, int requested, int restored, int deleted, int refusedBefore) {
    }

    /**
     * The missing documents that did not come back, by why: what the command lists, a line per kind.
     *
     * @param notRestored documents whose catalog record did not come back by the time waiting ended, sorted
     * @param unexplained those of {@code notRestored} whose requests the compressor went past with no dead
     *     letter naming their version (one expired under the topic's retention, or its log says why), sorted
     * @param lostAgain documents whose catalog record came back but whose blob was gone again by the
     *     end (Redis evicted it, or lost its data while this ran), sorted
     * @param wentPast whether waiting ended because the compressor had processed every request (the
     *     documents not restored were refused), not because the timeout passed
     */
    public record Left(List<String> notRestored, List<String> unexplained, List<String> lostAgain, boolean wentPast) {

        /** Nothing left: every missing blob is back, or nothing was waited for. */
        public static final Left NONE = new Left(List.of(), List.of(), List.of(), false);
    }

    /**
     * What Redis said of its room, which tells blobs evicted again from blobs lost otherwise.
     *
     * @param evicted keys Redis evicted while this ran (to make room: the blobs do not all fit), when it says
     * @param catalogBytes the bytes of every live document's blob, as the catalog records them
     * @param maxMemory Redis's maxmemory (0 = no limit, or not known)
     */
    public record RedisRoom(long evicted, long catalogBytes, long maxMemory) {
    }

    /** @param verified blobs were read and checked ({@code --verify}), not only looked up */
    public record Summary(String modelId, Counts counts, Left left, RedisRoom room, Duration elapsed, boolean verified) {

        public String line() {
            return String.format(Locale.ROOT, "warm --rebuild: model %s: checked %d live documents, %d missing%s, "
                    + "%d recompress requests, %d restored%s in %.1f s%s", modelId, counts.checked(), counts.missing(),
                    verified ? " or unusable" : "", counts.requested(), counts.restored(),
                    counts.deleted() == 0 ? "" : ", " + counts.deleted() + " deleted while this ran",
                    elapsed.toMillis() / 1000.0, LiveDocuments.refusedNote(counts.refusedBefore(), modelId));
        }
    }

    private BlobRebuild() {
    }

    /**
     * @param started called once the run is known to go ahead (the model is not refused as
     *     mistyped), before anything is requested: where the command says what it starts, so that
     *     a refused run prints no start line before its refusal
     */
    public static Summary run(Settings s, AnchorKvStore redis, ProgressLine progress, Runnable started)
            throws TimeoutException, InterruptedException {
        long start = System.nanoTime();
        CompressorTopics t = s.topics();
        Duration read = TopicScan.readTimeout(s.timeout());
        Brokers brokers = Brokers.within(s.bootstrapServers(), s.timeout());
        LiveDocuments live = LiveDocuments.readCompressible(brokers, t.documents(), t.deadLetter(), s.limits(),
                s.modelId(), read);
        java.util.OptionalLong evictedBefore = redis.evictedKeys();
        long maxMemory = redis.memoryPolicy().map(AnchorKvStore.MemoryPolicy::maxMemory).orElse(0L);
        try (CatalogWatch catalog = CatalogWatch.open(brokers, t.catalog(), read)) {
            if (!s.force() && live.size() > 0) {
                // only where the catalog holds other models: an empty one (a new deployment, a catalog
                // topic lost) is what a rebuild is for
                List<String> models = catalog.catalog().snapshot().stream().map(CatalogEntry::modelId)
                        .distinct().sorted().toList();
                if (!models.isEmpty() && !models.contains(s.modelId())) {
                    throw new IllegalStateException("the catalog holds no entry of model " + s.modelId() + " but does of "
                            + String.join(", ", models) + ": a mistyped --model-id? A model not rolled out yet is"
                            + " compressed with 'sac warm --model ADAPTER_DIR'; --force requests every live document for"
                            + " it all the same");
                }
            }
            started.run();
            long catalogBytes = 0;
            Map<String, LiveDocuments.Doc> missing = new HashMap<>();
            for (LiveDocuments.Doc doc : live.byId().values()) {
                Optional<CatalogEntry> entry = catalog.catalog().find(doc.tenant(), doc.docId(), s.modelId());
                catalogBytes += entry.map(CatalogEntry::bytes).orElse(0L);
                if (!catalog.isCompressed(doc, s.modelId()) || !blobServes(entry.get(), redis, s.verify())) {
                    missing.put(doc.docId(), doc);
                }
            }
            Sent sent = requestRecompression(s.bootstrapServers(), t.recompress(), missing.values(), s.modelId(),
                    "warm-rebuild", read);
            int requested = sent.count();
            if (!s.await() || missing.isEmpty()) {
                return new Summary(s.modelId(), new Counts(live.size(), missing.size(), requested, 0, 0, live.refused().size()),
                        Left.NONE, new RedisRoom(0, catalogBytes, maxMemory), since(start), s.verify());
            }
            Map<String, LiveDocuments.Doc> waiting = new HashMap<>(missing);
            boolean processed = awaitCatalog(s, catalog, waiting, sent.ends(), progress);
            // a document deleted while the others were awaited has no entry any more: nothing to restore
            List<String> gone = notRestored(missing.values(), waiting.keySet(), doc ->
                    catalog.catalog().find(doc.tenant(), doc.docId(), s.modelId())
                            .map(e -> blobServes(e, redis, s.verify())).orElse(true));
            List<String> notRestored = gone.stream().filter(waiting::containsKey).toList();
            List<String> lostAgain = lostAgain(gone, waiting.keySet());
            int deleted = 0;
            List<String> unexplained = List.of();
            if (processed && !notRestored.isEmpty()) {
                // the compressor went past their requests: a document deleted since was not refused
                Unfinished left = Unfinished.explain(brokers, t, s.limits(), s.modelId(),
                        notRestored.stream().map(waiting::get).toList(), read);
                deleted = left.deleted().size();
                notRestored = left.live();
                unexplained = left.unexplained();
            }
            java.util.OptionalLong evictedAfter = redis.evictedKeys();
            long evicted = evictedBefore.isPresent() && evictedAfter.isPresent()
                    ? Math.max(0, evictedAfter.getAsLong() - evictedBefore.getAsLong()) : 0;
            return new Summary(s.modelId(),
                    new Counts(live.size(), missing.size(), requested, missing.size() - gone.size(), deleted, live.refused().size()),
                    new Left(notRestored, unexplained, lostAgain, processed && !notRestored.isEmpty()),
                    new RedisRoom(evicted, catalogBytes, maxMemory), since(start), s.verify());
        }
    }

    /** The entry's blob is in Redis; with {@code verify}, also the bytes the catalog vouches for, readable for its model. */
    static boolean blobServes(CatalogEntry entry, AnchorKvStore redis, boolean verify) {
        if (!verify) {
            return redis.exists(entry.redisKey());
        }
        return redis.get(entry.redisKey())
                .flatMap(blob -> AnchorKvCodec.headerIfDescribed(blob, entry.checksum(), entry.modelId())).isPresent();
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

    /** Of the documents not restored, those whose catalog record came back (no longer waited for): their blob went again. */
    static List<String> lostAgain(List<String> notRestored, java.util.Set<String> waiting) {
        return notRestored.stream().filter(id -> !waiting.contains(id)).toList();
    }

    /**
     * Publishes one recompress request per document for {@code modelId}, in doc id order, each on
     * the partition its document has in the documents topic; waits for the acks, each wait (the
     * topic's metadata, a send, the acks) bounded by {@code timeout}.
     */
    static Sent requestRecompression(String bootstrapServers, String topic, java.util.Collection<LiveDocuments.Doc> missing,
                                     String modelId, String reason, Duration timeout)
            throws InterruptedException, TimeoutException {
        List<LiveDocuments.Doc> docs = new ArrayList<>(missing);
        docs.sort(Comparator.comparing(LiveDocuments.Doc::docId));
        try (KafkaProducer<String, byte[]> producer = BoundedClients.producer(bootstrapServers, "sac-" + reason, timeout)) {
            // a document on a partition the recompress topic lacks would block each send for max.block.ms
            int partitions = producer.partitionsFor(topic).size();
            docs.stream().filter(d -> d.position().partition() >= partitions).findFirst().ifPresent(d -> {
                throw new IllegalStateException(topic + " has " + partitions + " partitions, but document " + d.docId()
                        + " is on partition " + d.position().partition() + " of the documents topic: the two must have as"
                        + " many partitions (the compressor checks this at start)");
            });
            List<java.util.concurrent.Future<RecordMetadata>> sent = new ArrayList<>();
            for (LiveDocuments.Doc doc : docs) {
                RecompressRequest r = new RecompressRequest(doc.docId(), Optional.of(doc.tenant()),
                        Optional.of(reason), Optional.of(modelId));
                // on its document's partition, not the key's murmur2 hash: a non-Java producer may have
                // partitioned the document otherwise, and only the task holding it can recompress it
                sent.add(producer.send(new ProducerRecord<>(topic, doc.position().partition(), doc.docId(), r.toJson())));
            }
            producer.flush();
            long deadline = System.nanoTime() + timeout.toNanos();
            Map<TopicPartition, Long> ends = new HashMap<>();
            for (java.util.concurrent.Future<RecordMetadata> f : sent) {
                RecordMetadata m = f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                ends.merge(new TopicPartition(m.topic(), m.partition()), m.offset() + 1, Math::max);
            }
            return new Sent(sent.size(), ends);
        } catch (ExecutionException e) {
            throw new IllegalStateException("publishing recompress requests to " + topic + " failed", e.getCause());
        }
    }

    /**
     * Removes from {@code waiting} each document whose catalog entry comes back, until none is left,
     * the compressor group has committed past every request ({@code ends}), or the timeout passes.
     *
     * @return true when the compressor had processed every request (what still waits was refused)
     */
    private static boolean awaitCatalog(Settings s, CatalogWatch catalog, Map<String, LiveDocuments.Doc> waiting,
                                        Map<TopicPartition, Long> ends, ProgressLine progress)
            throws TimeoutException, InterruptedException {
        int total = waiting.size();
        long deadline = System.nanoTime() + s.timeout().toNanos();
        java.util.function.Consumer<dev.sacrag.query.catalog.CatalogChange> applied = change -> change.current().ifPresent(e -> {
            LiveDocuments.Doc doc = waiting.get(e.docId());
            if (doc != null && e.modelId().equals(s.modelId()) && catalog.isCompressed(doc, s.modelId())) {
                waiting.remove(e.docId());
            }
        });
        progress.update(0, total);
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, s.bootstrapServers()))) {
            long nextCheck = System.nanoTime() + OFFSET_CHECK.toNanos();
            while (!waiting.isEmpty() && System.nanoTime() < deadline) {
                catalog.poll(applied);
                progress.update(total - waiting.size(), total);
                if (!waiting.isEmpty() && System.nanoTime() > nextCheck) {
                    if (committedPast(admin, s.compressorAppId(), ends)) {
                        catalog.catchUp(applied, TopicScan.READ_TIMEOUT);   // the catalog records of that commit
                        settle(catalog, applied, waiting);
                        progress.update(total - waiting.size(), total);
                        return true;
                    }
                    nextCheck = System.nanoTime() + OFFSET_CHECK.toNanos();
                }
            }
            return false;
        } finally {
            progress.finish();
        }
    }

    /**
     * The commit's offsets become visible when its marker lands on the offsets topic, its catalog
     * records when theirs lands on the catalog partition, which may be a moment later (another
     * broker): before calling what still waits refused, the catalog is followed a little longer.
     */
    static void settle(CatalogWatch catalog, java.util.function.Consumer<dev.sacrag.query.catalog.CatalogChange> applied,
                       Map<String, LiveDocuments.Doc> waiting) {
        long until = System.nanoTime() + SETTLE.toNanos();
        while (!waiting.isEmpty() && System.nanoTime() < until) {
            catalog.poll(applied);
        }
    }

    private static final Duration SETTLE = Duration.ofSeconds(2);

    /** Whether the consumer group has committed offsets (it exists and has run). */
    public static boolean hasCommitted(Brokers brokers, String groupId) throws InterruptedException {
        return !committedOffsets(brokers, groupId).isEmpty();
    }

    /** The group's committed offsets; none for a group that never committed. */
    static Map<TopicPartition, OffsetAndMetadata> committedOffsets(Brokers brokers, String groupId)
            throws InterruptedException {
        try (Admin admin = BoundedClients.admin(brokers.bootstrapServers(), brokers.timeout())) {
            return brokers.await(admin.listConsumerGroupOffsets(groupId).partitionsToOffsetAndMetadata(),
                    "when asked for the committed offsets of " + groupId);
        } catch (ExecutionException e) {
            throw new IllegalStateException("reading the committed offsets of " + groupId + " failed: " + e.getCause(), e);
        }
    }

    /** Whether the group committed (exactly-once: with its catalog records) past every given end offset (ModelRollout too). */
    static boolean committedPast(Admin admin, String groupId, Map<TopicPartition, Long> ends) throws InterruptedException {
        try {
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(groupId,
                            new ListConsumerGroupOffsetsOptions().requireStable(true))
                    .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
            for (Map.Entry<TopicPartition, Long> end : ends.entrySet()) {
                OffsetAndMetadata at = committed.get(end.getKey());
                if (end.getValue() > 0 && (at == null || at.offset() < end.getValue())) {   // an empty partition: nothing to commit
                    return false;
                }
            }
            return true;
        } catch (ExecutionException | TimeoutException e) {
            return false;   // asked again at the next check
        }
    }

    private static Duration since(long startNanos) {
        return Duration.ofNanos(System.nanoTime() - startNanos);
    }
}
