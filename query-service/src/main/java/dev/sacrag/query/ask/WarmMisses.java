package dev.sacrag.query.ask;

import dev.sacrag.query.anchors.AnchorFetcher;
import dev.sacrag.query.ask.WarmReport.Miss;
import dev.sacrag.query.ask.WarmReport.Why;
import dev.sacrag.query.catalog.CatalogEntry;
import dev.sacrag.query.catalog.Refusals;

import java.util.Locale;

/**
 * Each way a Warm misses a document, in the words its caller reads beside the id: what to wait
 * for (a compressor, a rebuild) and what to change (the id, the tenant, the cache's size).
 */
final class WarmMisses {

    private WarmMisses() {
    }

    static Miss unknown(String tenant, String docId) {
        return new Miss(docId, Why.UNKNOWN_DOCUMENT, "unknown in tenant '" + tenant + "' (never published, deleted,"
                + " or another tenant's)");
    }

    static Miss uncompressed(QueryException.Uncompressed u) {
        return u.refusal().map(r -> new Miss(u.docId(), Why.REFUSED, "v" + u.version() + " was " + Refusals.why(r)
                        + "; it is not compressed for model " + u.modelId() + " until it is published again"))
                .orElseGet(() -> new Miss(u.docId(), Why.NOT_COMPRESSED, "v" + u.version() + " is not compressed for model "
                        + u.modelId() + " yet"));
    }

    /** A blob the catalog names that Redis lacks or that does not decode; recompression was requested. */
    static Miss unusable(AnchorFetcher.Miss m) {
        CatalogEntry e = m.entry();
        return new Miss(e.docId(), m.absent() ? Why.BLOB_MISSING : Why.BLOB_UNUSABLE, "v" + e.docVersion() + " of model "
                + e.modelId() + ": " + m.reason() + "; recompression requested, warm it again once it is rebuilt");
    }

    static Miss noRoom(String docId, long budget) {
        return new Miss(docId, Why.NO_ROOM, "not loaded: the request's other documents took the warm cache's "
                + bytes(budget) + " (--warm-cache-bytes)");
    }

    /**
     * In the cache during the request and not at its end, and still current: evicted for room, by the
     * request's own loads or by a question's or another Warm's meanwhile, which the cache does not tell apart.
     */
    static Miss evicted(String docId, long budget) {
        return new Miss(docId, Why.NO_ROOM, "evicted before the request ended, to make room in the warm cache's "
                + bytes(budget) + " (--warm-cache-bytes) for its other documents or for other calls' meanwhile");
    }

    static Miss largerThanCache(CatalogEntry e, long size, long budget) {
        return new Miss(e.docId(), Why.LARGER_THAN_CACHE, "v" + e.docVersion() + " takes " + bytes(size)
                + " decoded, more than the whole warm cache's " + bytes(budget) + " (--warm-cache-bytes)");
    }

    static Miss changed(CatalogEntry e) {
        return new Miss(e.docId(), Why.CHANGED, "v" + e.docVersion() + " of model " + e.modelId() + " was replaced (an"
                + " update, a delete, a model switch) while the request ran; warm it again");
    }

    private static String bytes(long n) {
        return String.format(Locale.ROOT, "%,d bytes", n);
    }
}
