package dev.sacrag.schemas;

import java.util.Objects;

/**
 * Key of a catalog record (topic {@code sac.anchor-caches}, compacted): {@code <docId>|<modelId>},
 * e.g. {@code guides/setup.md|3f9a0c1d2e4b}. One entry per document and model, so a model rollout
 * adds entries beside the old model's instead of replacing them, and compaction keeps the latest
 * version of each. A null value (tombstone) under the key means the blob was deleted.
 *
 * <p>Model ids are hex digits and never contain {@code |}, so the key splits at its last
 * {@code |}: doc ids may contain the separator themselves.
 */
public record CatalogKey(String docId, String modelId) {

    public static final char SEPARATOR = '|';

    public CatalogKey {
        Objects.requireNonNull(docId, "docId");
        Objects.requireNonNull(modelId, "modelId");
        if (docId.isEmpty() || modelId.isEmpty() || modelId.indexOf(SEPARATOR) >= 0) {
            throw new IllegalArgumentException("catalog key needs a doc id and a model id without '" + SEPARATOR
                    + "', got '" + docId + "', '" + modelId + "'");
        }
    }

    public static String of(String docId, String modelId) {
        return new CatalogKey(docId, modelId).toString();
    }

    public static CatalogKey parse(String key) {
        int at = key.lastIndexOf(SEPARATOR);
        if (at <= 0 || at == key.length() - 1) {
            throw new IllegalArgumentException("'" + key + "' is not a catalog key <docId>" + SEPARATOR + "<modelId>");
        }
        return new CatalogKey(key.substring(0, at), key.substring(at + 1));
    }

    @Override
    public String toString() {
        return docId + SEPARATOR + modelId;
    }
}
