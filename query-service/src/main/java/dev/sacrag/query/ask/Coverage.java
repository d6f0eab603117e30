package dev.sacrag.query.ask;

import dev.sacrag.query.catalog.Catalog;
import dev.sacrag.query.catalog.CatalogEntry;
import dev.sacrag.query.catalog.Refusals;
import dev.sacrag.query.retrieval.DocumentIndex;
import dev.sacrag.query.retrieval.IndexedDoc;

import dev.sacrag.schemas.DeadLetter;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

/**
 * How much of the live documents the active model can answer about: those with a catalog entry
 * of it (the rest get NOT_FOUND "not compressed"), and among them those answered from an older
 * version than the newest published (the model has not compressed the newest: a compressor
 * behind, stopped, or running another model, or the newest refused). Health cannot show these:
 * a replica serving a model that no compressor runs any more answers less and less, SERVING.
 *
 * @param documents live documents in the index
 * @param compressed live documents with an entry of the model (any version they may be answered from)
 * @param stale of those, the ones whose entry is older than the live version
 * @param refused live documents without an entry of the model whose live version a compressor
 *     refused for it (or for every model): they stay uncompressed until published again, whatever
 *     the compressors do, so they do not make the coverage {@link #poor()}
 */
public record Coverage(int documents, int compressed, int stale, int refused) {

    /**
     * Reads the catalog's entries of the model against the index: one pass, for a scrape (through
     * a {@link Memo}) or a log line; the catalog's lock is held only to copy its entries. Then the
     * refusals (few) against the index and the catalog; those of versions the index has passed
     * since are dropped on the way.
     */
    public static Coverage of(DocumentIndex index, Catalog catalog, Refusals refusals, String modelId) {
        Coverage c = of(index, catalog, modelId);
        Set<String> refused = new HashSet<>();
        for (DeadLetter r : refusals.all()) {
            Optional<IndexedDoc> live = index.find(r.docId());
            if (live.isPresent() && live.get().version() > r.version()) {
                refusals.forgetBefore(r.docId(), live.get().version());
                continue;
            }
            if (!r.standsFor(modelId) || refused.contains(r.docId())) {
                continue;
            }
            Optional<IndexedDoc> doc = live.filter(d -> d.version() == r.version()
                    && index.contentHash(d).filter(r.contentHash()::equals).isPresent());
            if (doc.isPresent() && catalog.find(doc.get().tenant(), r.docId(), modelId)
                    .filter(e -> doc.get().mayBeCompressionOf(e.docVersion())).isEmpty()) {
                refused.add(r.docId());
            }
        }
        return new Coverage(c.documents(), c.compressed(), c.stale(), refused.size());
    }

    /** The catalog's pass: documents, compressed and stale. */
    private static Coverage of(DocumentIndex index, Catalog catalog, String modelId) {
        int compressed = 0;
        int stale = 0;
        for (CatalogEntry e : catalog.snapshot()) {   // the current entries: no lookup in the catalog again
            if (!e.modelId().equals(modelId)) {
                continue;
            }
            Optional<IndexedDoc> doc = DocumentChooser.answeredBy(e, index);
            if (doc.isPresent()) {
                compressed++;
                if (doc.get().version() > e.docVersion()) {
                    stale++;
                }
            }
        }
        return new Coverage(index.size(), compressed, stale, 0);
    }

    /**
     * E.g. {@code 14 documents, 10 compressed for this model (4 not: 1 refused by a compressor, see 'sac docs
     * refused', until published again; questions about the others get NOT_FOUND until it compresses them)}.
     */
    public String line() {
        int missing = documents - compressed;
        return documents + " documents, " + compressed + " compressed for this model"
                + (missing > 0 ? " (" + missing + " not: " + (refused > 0 ? refused + " refused by a compressor, see"
                + " 'sac docs refused', until published again; questions about the others" : "questions about them")
                + " get NOT_FOUND until it compresses them)" : "")
                + (stale > 0 ? ", " + stale + " answered from an older version than the newest published" : "");
    }

    /**
     * The last coverage computed, for at most {@code fresh}: the gauges read it on each scrape, and
     * each reading is a pass over the active model's catalog entries.
     */
    public static final class Memo {
        private final java.util.function.Supplier<Coverage> compute;
        private final long freshNanos;
        private Coverage last;
        private long at;

        public Memo(java.util.function.Supplier<Coverage> compute, java.time.Duration fresh) {
            this.compute = compute;
            this.freshNanos = fresh.toNanos();
        }

        public synchronized Coverage get() {
            long now = System.nanoTime();
            if (last == null || now - at >= freshNanos) {
                last = compute.get();
                at = now;
            }
            return last;
        }
    }

    /**
     * Fewer than nine in ten of the documents a compressor has not refused answerable: worth a
     * WARN (is a compressor of the model running?).
     */
    public boolean poor() {
        long expected = (long) documents - refused;
        return expected > 0 && compressed * 10L < expected * 9L;
    }
}
