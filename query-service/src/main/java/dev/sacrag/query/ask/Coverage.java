package dev.sacrag.query.ask;

import dev.sacrag.query.catalog.Catalog;
import dev.sacrag.query.catalog.CatalogEntry;
import dev.sacrag.query.retrieval.DocumentIndex;
import dev.sacrag.query.retrieval.IndexedDoc;

import java.util.Optional;

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
 */
public record Coverage(int documents, int compressed, int stale) {

    /**
     * Reads the catalog's entries of the model against the index: one pass, for a scrape (through
     * a {@link Memo}) or a log line; the catalog's lock is held only to copy its entries.
     */
    public static Coverage of(DocumentIndex index, Catalog catalog, String modelId) {
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
        return new Coverage(index.size(), compressed, stale);
    }

    /** E.g. {@code 14 documents, 1 compressed for this model (13 not: NOT_FOUND until compressed), 0 stale}. */
    public String line() {
        int missing = documents - compressed;
        return documents + " documents, " + compressed + " compressed for this model"
                + (missing > 0 ? " (" + missing + " not: questions about them get NOT_FOUND until it compresses them)" : "")
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

    /** Fewer than nine in ten documents answerable: worth a WARN (is a compressor of the model running?). */
    public boolean poor() {
        return documents > 0 && compressed * 10L < documents * 9L;
    }
}
