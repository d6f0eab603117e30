package dev.sacrag.cli.warming;

import dev.sacrag.schemas.DocumentLimits;

import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeoutException;

/**
 * How far a model id is from serving every document: live documents (documents topic, minus the
 * dead-lettered for every model or for this one) against those the catalog has compressed for it at their live version.
 *
 * @param catalogEntries every catalog entry of the model, including deleted or outdated documents'
 */
public record Readiness(String modelId, int live, int ready, int catalogEntries) {

    /** @param limits the compressors' document limits (a larger document is dead-lettered, not live) */
    public static Readiness of(String bootstrapServers, TopicNames topics, DocumentLimits limits, String modelId)
            throws TimeoutException {
        Duration timeout = TopicScan.READ_TIMEOUT;
        LiveDocuments docs = LiveDocuments.readCompressible(bootstrapServers, topics.documents(), topics.deadLetter(), limits,
                modelId, timeout);
        try (CatalogWatch catalog = CatalogWatch.open(bootstrapServers, topics.catalog(), timeout)) {
            int ready = (int) docs.byId().values().stream().filter(d -> catalog.isCompressed(d, modelId)).count();
            return new Readiness(modelId, docs.size(), ready,
                    catalog.catalog().entries(java.util.Optional.of(modelId)).size());
        }
    }

    /** The topics readiness is read from. */
    public record TopicNames(String documents, String catalog, String deadLetter) {
    }

    public String line() {
        return String.format(Locale.ROOT, "%d/%d live documents are compressed for model %s (%d catalog entries)",
                ready, live, modelId, catalogEntries);
    }
}
