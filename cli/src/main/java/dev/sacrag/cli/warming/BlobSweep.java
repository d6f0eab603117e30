package dev.sacrag.cli.warming;

import dev.sacrag.kvstore.AnchorKvStore;
import dev.sacrag.kvstore.BlobKey;
import dev.sacrag.kvstore.RedisKeys;
import dev.sacrag.query.catalog.Catalog;
import dev.sacrag.query.catalog.CatalogEntry;
import dev.sacrag.schemas.BadDocumentException;
import dev.sacrag.schemas.DocumentCodec;
import dev.sacrag.schemas.DocumentLimits;
import dev.sacrag.schemas.avro.DocumentEvent;
import org.apache.kafka.clients.consumer.ConsumerRecord;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeoutException;

/**
 * {@code sac docs sweep}: finds the blobs in Redis that no catalog entry will name again and lets
 * them expire after a grace period.
 *
 * <p>Why they exist: the compressor retires a replaced version's blob with an expiry and deletes
 * a deleted document's blobs, but a blob written outside a committed transaction escapes both: a
 * fenced zombie instance's SET that lands after the new owner retired the key, or an aborted
 * attempt whose record compaction removes before the retry. With blob TTL off (the default) they
 * stay for ever. No reader is served one (keys carry the version, blobs a checksum the catalog
 * vouches for); they only take memory.
 *
 * <p>How it stays safe while compressors run: each blob the SCAN finds was written before the
 * scan returned it, so the record of its document, and any catalog entry committed for it, is in
 * the topics as read after that. The topics are read to their end first, the keys judged as the
 * scan streams them ({@link #judge}), and each batch of candidates is judged again after both
 * topics are caught up to their ends at that moment, just before it is set to expire. The
 * verdict that counts is therefore always made on topics read after the key was scanned. A
 * version newer than the catalog's, an older one while the catalog's entry belongs to an earlier
 * life of the document (deleted and published again at a lower version, in a transaction not
 * committed yet), and a live document without an entry yet are all left alone. What remains is
 * the moment between the last catch-up and the PEXPIRE: a document deleted and then published
 * again at the very version of a swept blob, compressed and written within it, would get an
 * expiry (the compressor's SET clears any expiry set before it).
 *
 * <p>Another deployment sharing the Redis is left alone by model and tenant: blobs of a model the
 * catalog has no entry of, or of a tenant that neither topic names, are not judged. Two
 * deployments with the same model and tenant names in one Redis already overwrite each other's
 * keys; that is not supported.
 */
public final class BlobSweep {

    /** PEXPIREs pipelined per round trip, and candidates judged again per catch-up. */
    static final int BATCH = 500;

    /**
     * @param brokers where the topics are, and how long a broker's answer about each is waited for
     * @param tenant only this tenant's blobs (every tenant's when empty)
     * @param grace how long a swept blob lives on (PEXPIRE ... LT: an earlier expiry stays), so a
     *     reader that resolved it before the sweep still finds it
     * @param dryRun judge and count, change nothing
     */
    public record Settings(Brokers brokers, String documentsTopic, String catalogTopic, Optional<String> tenant,
                           Duration grace, boolean dryRun) {
    }

    /** What becomes of a blob. */
    public enum Verdict {
        /** the catalog's entry for its document and model names it */
        LIVE(false),
        /** the catalog's entry, of the document's present life, names a newer version */
        SUPERSEDED(true),
        /** no catalog entry, and the documents topic holds no record of its document since its last tombstone */
        DOCUMENT_GONE(true),
        /** may yet be named: newer than the catalog's, or its document is live without an entry of this version */
        PENDING(false),
        /** a model the catalog has no entry of, or a tenant neither topic names: not this deployment's to judge */
        NOT_OURS(false);

        public final boolean swept;

        Verdict(boolean swept) {
            this.swept = swept;
        }
    }

    /**
     * @param counts blobs per final verdict (a key SCAN returned twice counts twice; it is expired once)
     * @param notBlobKeys keys under the blob pattern that do not parse as a blob key (left alone)
     * @param expiring swept blobs that now expire within the grace ({@code dryRun}: would)
     * @param missing per model id, the catalog entries of live documents whose blob the scan did not
     *     find ({@link #missingBlobs})
     */
    public record Summary(Map<Verdict, Long> counts, long notBlobKeys, long expiring, boolean dryRun,
                          Map<String, Long> missing) {

        public long scanned() {
            return counts.values().stream().mapToLong(Long::longValue).sum() + notBlobKeys;
        }

        public String line() {
            return String.format(Locale.ROOT, "docs sweep: scanned %d blob keys: %d live, %d superseded, %d of documents"
                            + " gone, %d pending, %d not this deployment's, %d unparsable; %d %s",
                    scanned(), count(Verdict.LIVE), count(Verdict.SUPERSEDED), count(Verdict.DOCUMENT_GONE),
                    count(Verdict.PENDING), count(Verdict.NOT_OURS), notBlobKeys, expiring,
                    dryRun ? "would be set to expire (--dry-run)" : "set to expire");
        }

        public long count(Verdict v) {
            return counts.getOrDefault(v, 0L);
        }

        /**
         * Where catalog entries name blobs Redis does not hold (it restarted without persistence, was
         * flushed, or evicted them), what to run: nothing else says so until a question waits for a
         * recompression, and a sweep has just looked at every blob.
         */
        public Optional<String> missingNote() {
            if (missing.isEmpty()) {
                return Optional.empty();
            }
            long all = missing.values().stream().mapToLong(Long::longValue).sum();
            String perModel = missing.entrySet().stream().map(m -> m.getValue() + " of model " + m.getKey())
                    .collect(java.util.stream.Collectors.joining(", "));
            String rebuild = missing.size() == 1 ? "'sac warm --rebuild --model-id " + missing.keySet().iterator().next() + "'"
                    : "'sac warm --rebuild --model-id ID' for each";
            return Optional.of(String.format(Locale.ROOT, "docs sweep: note: %s of live documents name%s a"
                    + " blob Redis does not hold (%s): questions about them wait for a recompression (Redis restarted"
                    + " without persistence, was flushed, or evicted them?); %s compresses them again",
                    Counted.of(all, "catalog entry", "catalog entries"), all == 1 ? "s" : "", perModel, rebuild));
        }
    }

    /** The sweep would judge against topics that do not look like the compressors'; nothing was changed. */
    public static final class Refused extends RuntimeException {
        Refused(String message) {
            super(message);
        }
    }

    /** Told of each blob swept (or, in a dry run, that would be). */
    @FunctionalInterface
    public interface SweptListener {
        void onSwept(String key, Verdict verdict);
    }

    /**
     * A document as the documents topic has it since its last tombstone.
     *
     * @param afterTombstone whether the topic still holds a tombstone of the document before these
     *     records (it was deleted and published again, and compaction has not removed the tombstone)
     */
    record DocLife(Set<Long> versions, Set<String> tenants, boolean afterTombstone) {
    }

    /**
     * The documents topic by doc id: for each document with a record since its last tombstone,
     * the versions and tenants of those records that decode (a record that does not still makes
     * its document held). Decoded without size limits: only the version and tenant are needed.
     */
    static final class Documents {
        private final DocumentCodec codec = DocumentCodec.withLimits(new DocumentLimits(Integer.MAX_VALUE, Integer.MAX_VALUE));
        private final Map<String, DocLife> lives = new HashMap<>();
        private final Set<String> tombstoned = new HashSet<>();
        private final Set<String> tenants = new HashSet<>();

        void apply(ConsumerRecord<byte[], byte[]> r) {
            if (r.key() == null) {
                return;
            }
            String docId = new String(r.key(), StandardCharsets.UTF_8);
            if (r.value() == null) {
                lives.remove(docId);
                tombstoned.add(docId);
                return;
            }
            DocLife life = lives.computeIfAbsent(docId,
                    k -> new DocLife(new HashSet<>(), new HashSet<>(), tombstoned.contains(docId)));
            try {
                DocumentEvent doc = LiveDocuments.decode(codec, docId, r);
                life.versions().add(doc.getVersion());
                life.tenants().add(doc.getTenant());
                tenants.add(doc.getTenant());
            } catch (BadDocumentException e) {
                // held all the same: the document was not deleted
            }
        }

        Optional<DocLife> life(String docId) {
            return Optional.ofNullable(lives.get(docId));
        }

        boolean namesTenant(String tenant) {
            return tenants.contains(tenant);
        }
    }

    private BlobSweep() {
    }

    /**
     * The verdict on one blob.
     *
     * @param catalogVersion the catalog's version of the blob's document for its model, if any
     * @param ours whether the catalog has an entry of the blob's model and a topic names its tenant
     * @param life the documents topic's records of the document since its last tombstone, if any
     */
    static Verdict judge(BlobKey blob, Optional<Long> catalogVersion, boolean ours, Optional<DocLife> life) {
        if (!ours) {
            return Verdict.NOT_OURS;
        }
        if (catalogVersion.isEmpty()) {
            return life.isPresent() ? Verdict.PENDING : Verdict.DOCUMENT_GONE;
        }
        long cv = catalogVersion.get();
        if (blob.docVersion() == cv) {
            return Verdict.LIVE;
        }
        if (blob.docVersion() > cv) {
            return Verdict.PENDING;
        }
        // Older than the catalog's: superseded, unless the entry may be of an earlier life of the
        // document (deleted, then published again below it: the new life's blobs may not be in the
        // catalog yet). An entry's version missing from this life shows that; after a tombstone the
        // topic still holds, a version in both lives does not: deleted at v2, published again at v1,
        // then at a v2 the model refuses, the old v2 entry is not this life's, and the v1 blob its
        // compressor has written (its catalog entry not committed yet) will be the one served. Such
        // a blob waits (PENDING) until compaction removes the tombstone.
        boolean entryOfThisLife = life.map(l -> l.versions().contains(cv)
                && !(l.afterTombstone() && l.versions().contains(blob.docVersion()))).orElse(true);
        return entryOfThisLife ? Verdict.SUPERSEDED : Verdict.PENDING;
    }

    public static Summary run(Settings s, AnchorKvStore redis, Duration readTimeout, SweptListener swept)
            throws TimeoutException {
        Documents docs = new Documents();
        Map<Verdict, Long> counts = new EnumMap<>(Verdict.class);
        long[] unparsable = {0};
        long expiring = 0;
        Map<String, Long> missing;
        try (TopicScan documents = new TopicScan(s.brokers(), s.documentsTopic(), "sac-docs-sweep");
             CatalogWatch watch = CatalogWatch.open(s.brokers(), s.catalogTopic(), readTimeout)) {
            documents.readToEnd(docs::apply, readTimeout);
            Catalog catalog = watch.catalog();
            List<CatalogEntry> entries = catalog.entries(Optional.empty());
            requireTheCompressorsDocuments(entries, docs, s);
            CatalogNames names = new CatalogNames(entries);
            Map<String, Verdict> candidates = new LinkedHashMap<>();
            Set<BlobKey> named = new HashSet<>();   // the blobs of catalog entries the scan found
            redis.scan(RedisKeys.blobPattern(s.tenant()), key -> {
                BlobKey blob;
                try {
                    blob = RedisKeys.parse(key);
                } catch (IllegalArgumentException e) {
                    unparsable[0]++;
                    return;
                }
                Verdict v = judge(blob, catalog, names, docs);
                counts.merge(v, 1L, Long::sum);
                if (v.swept) {
                    candidates.put(key, v);
                } else if (v == Verdict.LIVE) {
                    named.add(blob);
                }
            });
            missing = missingBlobs(entries, named, docs, s.tenant());
            List<String> batch = new ArrayList<>(BATCH);
            for (String key : candidates.keySet()) {
                batch.add(key);
                if (batch.size() == BATCH) {
                    expiring += sweep(batch, candidates, s, redis, documents, docs, watch, names, counts,
                            readTimeout, swept);
                    batch.clear();
                }
            }
            if (!batch.isEmpty()) {
                expiring += sweep(batch, candidates, s, redis, documents, docs, watch, names, counts,
                            readTimeout, swept);
            }
        }
        return new Summary(counts, unparsable[0], expiring, s.dryRun(), missing);
    }

    /** Catches both topics up, judges the batch again, expires what is still swept; returns how many. */
    private static long sweep(List<String> batch, Map<String, Verdict> first, Settings s, AnchorKvStore redis,
                              TopicScan documents, Documents docs, CatalogWatch watch, CatalogNames names,
                              Map<Verdict, Long> counts, Duration readTimeout, SweptListener swept) throws TimeoutException {
        documents.readToCurrentEnd(docs::apply, readTimeout);
        watch.catchUp(change -> change.current().ifPresent(names::add), readTimeout);
        List<String> expire = new ArrayList<>(batch.size());
        for (String key : batch) {
            Verdict now = judge(RedisKeys.parse(key), watch.catalog(), names, docs);
            if (now != first.get(key)) {   // the topics moved on since the scan
                counts.merge(first.get(key), -1L, Long::sum);
                counts.merge(now, 1L, Long::sum);
            }
            if (now.swept) {
                swept.onSwept(key, now);
                expire.add(key);
            }
        }
        return s.dryRun() ? expire.size() : redis.expireAllWithin(expire, s.grace());
    }

    /**
     * Per model id (sorted), how many of the catalog's entries (of {@code tenant}, when given) of a
     * document the documents topic holds name a blob that is not among {@code found}, the blobs the
     * scan judged live: the scan has seen every blob, so this costs no lookup. The entries are those
     * read before the scan, so a blob is missing only where it was gone for some of the scan (a
     * rebuild may be writing it again). A deleted document's entry is left out: its compressor
     * removes the entry, and nothing would rebuild it.
     */
    static Map<String, Long> missingBlobs(List<CatalogEntry> entries, Set<BlobKey> found, Documents docs,
                                          Optional<String> tenant) {
        Map<String, Long> missing = new java.util.TreeMap<>();
        for (CatalogEntry e : entries) {
            if (tenant.map(e.tenant()::equals).orElse(true) && docs.life(e.docId()).isPresent()
                    && !found.contains(BlobKey.of(e.tenant(), e.modelId(), e.docId(), e.docVersion()))) {
                missing.merge(e.modelId(), 1L, Long::sum);
            }
        }
        return missing;
    }

    /**
     * The models and tenants the catalog has entries of, as read and as added since (one that
     * went since is still named: its blobs are judged, which is what retiring it does anyway).
     */
    static final class CatalogNames {
        private final Set<String> models = new HashSet<>();
        private final Set<String> tenants = new HashSet<>();

        CatalogNames(List<CatalogEntry> entries) {
            entries.forEach(this::add);
        }

        void add(CatalogEntry e) {
            models.add(e.modelId());
            tenants.add(e.tenant());
        }
    }

    private static Verdict judge(BlobKey blob, Catalog catalog, CatalogNames names, Documents docs) {
        boolean ours = names.models.contains(blob.modelId())
                && (names.tenants.contains(blob.tenant()) || docs.namesTenant(blob.tenant()));
        return judge(blob, catalog.find(blob.tenant(), blob.docId(), blob.modelId()).map(CatalogEntry::docVersion), ours,
                docs.life(blob.docId()));
    }

    /**
     * Refuses to judge against a documents topic that holds few of the catalog's documents: most
     * likely not the one the compressors read (a wrong --documents-topic), against which every
     * blob whose entry is gone would look like a deleted document's.
     */
    static void requireTheCompressorsDocuments(List<CatalogEntry> catalog, Documents docs, Settings s) {
        List<CatalogEntry> entries = catalog.stream()
                .filter(e -> s.tenant().map(e.tenant()::equals).orElse(true)).toList();
        long unheld = entries.stream().filter(e -> docs.life(e.docId()).isEmpty()).count();
        if (!entries.isEmpty() && unheld * 2 > entries.size()) {
            throw new Refused(String.format(Locale.ROOT, "%d of the %d catalog entries in %s name documents"
                    + " that %s does not hold: is it the topic the compressors read (--documents-topic)? Nothing was"
                    + " changed", unheld, entries.size(), s.catalogTopic(), s.documentsTopic()));
        }
    }
}
