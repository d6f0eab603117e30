package dev.sacrag.compressor;

import dev.sacrag.schemas.CatalogKey;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The four topics the compressor reads and writes (architecture.md "Contracts").
 *
 * @param documents  input, key = docId, compacted; a null value deletes the document
 * @param catalog    output, key = {@link CatalogKey}, value = AnchorCacheRecord, compacted
 * @param deadLetter output, the original bytes of records that can never be compressed
 * @param recompress input, key = docId, value = a {@link RecompressRequest}; must have as many
 *                   partitions as {@code documents}, because a request is served by the task that
 *                   owns the document's partition (default partitioner on the docId key)
 */
public record CompressorTopics(String documents, String catalog, String deadLetter, String recompress) {

    public static final String DOCUMENTS = "sac.documents";
    public static final String CATALOG = "sac.anchor-caches";
    public static final String DEAD_LETTER = "sac.documents.dlq";
    public static final String RECOMPRESS = "sac.recompress";

    public CompressorTopics {
        List<String> all = java.util.Arrays.asList(documents, catalog, deadLetter, recompress);
        for (String t : all) {
            Objects.requireNonNull(t, "topic name");
            if (t.isBlank()) {
                throw new IllegalArgumentException("topic names must not be blank: " + all);
            }
        }
        Set<String> distinct = new HashSet<>(all);
        if (distinct.size() != all.size()) {
            throw new IllegalArgumentException("the four compressor topics must differ, got " + all);
        }
    }

    public static CompressorTopics defaults() {
        return new CompressorTopics(DOCUMENTS, CATALOG, DEAD_LETTER, RECOMPRESS);
    }

    public List<String> all() {
        return List.of(documents, catalog, deadLetter, recompress);
    }
}
