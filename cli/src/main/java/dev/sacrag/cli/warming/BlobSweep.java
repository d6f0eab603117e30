package dev.sacrag.cli.warming;

import dev.sacrag.kvstore.AnchorKvStore;
import dev.sacrag.kvstore.BlobKey;
import dev.sacrag.kvstore.RedisKeys;
import dev.sacrag.query.catalog.Catalog;
import dev.sacrag.query.catalog.CatalogEntry;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * {@code sac docs sweep}: finds the blobs in Redis that no catalog entry will point to again and
 * lets them expire after a grace period.
 *
 * <p>Why they exist: the compressor retires a replaced version's blob with an expiry and deletes
 * a deleted document's blobs, but a blob written outside a committed transaction escapes both. A
 * fenced zombie instance's SET that lands after the new owner retired the key, or an aborted
 * attempt whose record compaction removes before the retry, leaves a blob without expiry (blob TTL
 * is off by default). No reader is served one (keys carry the version, blobs a checksum the catalog
 * vouches for); they only take memory.
 *
 * <p>Safe against the compressors running meanwhile, by the order of its reads: Redis is scanned
 * first, the documents topic and the catalog are read after, to their ends at that time. A blob
 * the scan found was written before those reads began, so the record of its document and any
 * catalog entry committed for it are in what they read. A blob is then judged by
 * {@link #judge}: only a version older than the catalog's, or a document the documents topic no
 * longer holds, is swept; a version newer than the catalog's may be in a transaction not committed
 * yet, and a model the catalog does not know (another deployment's, sharing the Redis) is never
 * touched.
 */
public final class BlobSweep {

    /**
     * @param tenant only this tenant's blobs (every tenant's when empty)
     * @param grace how long a swept blob lives on (PEXPIRE ... LT: an earlier expiry stays), so a
     *     reader that resolved it before the sweep still finds it
     * @param dryRun judge and count, change nothing
     */
    public record Settings(String bootstrapServers, String documentsTopic, String catalogTopic, Optional<String> tenant,
                           Duration grace, boolean dryRun) {
    }

    /** What becomes of a blob. */
    public enum Verdict {
        /** the catalog's entry for its document and model names it */
        LIVE(false),
        /** the catalog holds a newer version of its document for its model */
        SUPERSEDED(true),
        /** the documents topic no longer holds its document (deleted, and its tombstone compacted, or never) */
        DOCUMENT_GONE(true),
        /** newer than the catalog's version, or no entry while the document is live: may be in flight */
        PENDING(false),
        /** its model has no entry in the catalog: not this deployment's to judge */
        UNKNOWN_MODEL(false);

        public final boolean swept;

        Verdict(boolean swept) {
            this.swept = swept;
        }
    }

    /**
     * @param counts blobs per verdict
     * @param notBlobKeys keys under the blob pattern that do not parse as a blob key (left alone)
     * @param expiring swept blobs that now expire within the grace ({@code dryRun}: would)
     */
    public record Summary(Map<Verdict, Long> counts, long notBlobKeys, long expiring, boolean dryRun) {

        public long scanned() {
            return counts.values().stream().mapToLong(Long::longValue).sum() + notBlobKeys;
        }

        public String line() {
            return String.format(Locale.ROOT, "docs sweep: scanned %d blob keys: %d live, %d superseded, %d of documents"
                            + " gone, %d pending, %d of models the catalog does not know, %d unparsable; %d %s",
                    scanned(), count(Verdict.LIVE), count(Verdict.SUPERSEDED), count(Verdict.DOCUMENT_GONE),
                    count(Verdict.PENDING), count(Verdict.UNKNOWN_MODEL), notBlobKeys, expiring,
                    dryRun ? "would be set to expire (--dry-run)" : "set to expire");
        }

        public long count(Verdict v) {
            return counts.getOrDefault(v, 0L);
        }
    }

    private BlobSweep() {
    }

    /**
     * The verdict on one blob.
     *
     * @param catalogVersion the catalog's version of the blob's document for its model, if any
     * @param modelKnown whether the catalog has any entry of the blob's model
     * @param documentHeld whether the documents topic holds the document (a record after its last tombstone)
     */
    static Verdict judge(BlobKey blob, Optional<Long> catalogVersion, boolean modelKnown, boolean documentHeld) {
        if (!modelKnown) {
            return Verdict.UNKNOWN_MODEL;
        }
        if (!documentHeld) {
            return Verdict.DOCUMENT_GONE;
        }
        if (catalogVersion.isEmpty() || blob.docVersion() > catalogVersion.get()) {
            return Verdict.PENDING;
        }
        return blob.docVersion() == catalogVersion.get() ? Verdict.LIVE : Verdict.SUPERSEDED;
    }

    /** @param swept called with each swept key and its verdict (the dry run's listing) */
    public static Summary run(Settings s, AnchorKvStore redis, Duration readTimeout, SweptListener swept)
            throws TimeoutException {
        List<String> keys = new ArrayList<>();
        redis.scan(RedisKeys.blobPattern(s.tenant()), keys::add);   // first: see the class comment
        Set<String> held = documentsHeld(s.bootstrapServers(), s.documentsTopic(), readTimeout);
        Map<Verdict, Long> counts = new EnumMap<>(Verdict.class);
        long unparsable = 0;
        long expiring = 0;
        try (CatalogWatch watch = CatalogWatch.open(s.bootstrapServers(), s.catalogTopic(), readTimeout)) {
            Catalog catalog = watch.catalog();
            Set<String> models = new HashSet<>();
            for (CatalogEntry e : catalog.entries(Optional.empty())) {
                models.add(e.modelId());
            }
            for (String key : keys) {
                BlobKey blob;
                try {
                    blob = RedisKeys.parse(key);
                } catch (IllegalArgumentException e) {
                    unparsable++;
                    continue;
                }
                Verdict v = judge(blob, catalog.find(blob.tenant(), blob.docId(), blob.modelId()).map(CatalogEntry::docVersion),
                        models.contains(blob.modelId()), held.contains(blob.docId()));
                counts.merge(v, 1L, Long::sum);
                if (v.swept) {
                    swept.onSwept(key, v);
                    if (s.dryRun() || redis.expireWithin(key, s.grace())) {   // false: it went meanwhile
                        expiring++;
                    }
                }
            }
        }
        return new Summary(counts, unparsable, expiring, s.dryRun());
    }

    /** Told of each blob swept. */
    @FunctionalInterface
    public interface SweptListener {
        void onSwept(String key, Verdict verdict);
    }

    /** The doc ids the documents topic holds: those whose last record, read to its end, is not a tombstone. */
    static Set<String> documentsHeld(String bootstrapServers, String topic, Duration timeout) throws TimeoutException {
        Set<String> held = new HashSet<>();
        Consumer<org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]>> apply = r -> {
            if (r.key() == null) {
                return;
            }
            String docId = new String(r.key(), StandardCharsets.UTF_8);
            if (r.value() == null) {
                held.remove(docId);
            } else {
                held.add(docId);
            }
        };
        try (TopicScan scan = new TopicScan(bootstrapServers, topic, "sac-docs-sweep")) {
            scan.readToEnd(apply, timeout);
        }
        return held;
    }
}
