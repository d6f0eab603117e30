package dev.sacrag.cli.warming;

import dev.sacrag.kvstore.AnchorKvStore;
import dev.sacrag.schemas.DocumentLimits;

import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeoutException;

/**
 * How far a model id is from serving every document: live documents (documents topic, minus the
 * dead-lettered for every model or for this one) against those compressed for it at their live
 * version, which means a catalog entry and its blob in Redis (architecture.md): an entry whose
 * blob Redis lost or evicted since the rollout would have every question about its document wait
 * for a recompression once the model serves.
 *
 * @param ready live documents with an entry of this model and its blob
 * @param blobsMissing live documents with an entry of this model whose blob is not in Redis
 * @param catalogEntries every catalog entry of the model, including deleted or outdated documents'
 * @param refused documents on the topic that a compressor refused for this model or for all, every
 *     version ({@link LiveDocuments#refused}): not live, so not what activation waits for, but never
 *     answerable until published again
 * @param tombstones keys of the model whose last catalog record is a tombstone: with no entry, a
 *     model {@code sac model retire} removed or whose every document was deleted (the two leave the
 *     same), not a mistyped id, while the topic keeps them; compaction may have dropped some
 */
public record Readiness(String modelId, int live, int ready, int blobsMissing, int catalogEntries, int refused,
                        int tombstones) {

    /**
     * @param brokers where, and how long a broker's answer is waited for (each topic's reading: that or 2 minutes)
     * @param limits the compressors' document limits (a larger document is dead-lettered, not live)
     */
    public static Readiness of(Brokers brokers, TopicNames topics, DocumentLimits limits, String modelId,
                               AnchorKvStore blobs) throws TimeoutException {
        Duration timeout = TopicScan.readTimeout(brokers.timeout());
        LiveDocuments docs = LiveDocuments.readCompressible(brokers, topics.documents(), topics.deadLetter(), limits,
                modelId, timeout);
        try (CatalogWatch catalog = CatalogWatch.open(brokers, topics.catalog(), timeout)) {
            int inCatalog = (int) docs.byId().values().stream().filter(d -> catalog.isCompressed(d, modelId)).count();
            int ready = catalog.withBlob(docs.byId().values(), modelId, blobs).size();
            return new Readiness(modelId, docs.size(), ready, inCatalog - ready,
                    catalog.catalog().entries(java.util.Optional.of(modelId)).size(), docs.refused().size(),
                    catalog.tombstones(modelId));
        }
    }

    /** The topics readiness is read from. */
    public record TopicNames(String documents, String catalog, String deadLetter) {
    }

    public String line() {
        return String.format(Locale.ROOT, "%d/%d live documents are compressed for model %s (%s%s)%s",
                ready, live, modelId, Counted.of(catalogEntries, "catalog entry", "catalog entries"),
                blobsMissing == 0 ? "" : "; " + blobsMissing + " live document(s) in the catalog have no blob in Redis",
                LiveDocuments.refusedNote(refused, modelId));
    }
}
