package dev.sacrag.cli;

import dev.sacrag.core.kv.AnchorKvCodec;
import dev.sacrag.core.kv.KvDtype;
import dev.sacrag.core.model.ModelConfig;
import dev.sacrag.query.catalog.CatalogEntry;

import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Locale;

/**
 * What the compressed documents cost in Redis, against a full KV cache of the same documents
 * (TurboRAG / LMCache style: K and V of every token). Both sizes come from the same codec and
 * dtype, so the comparison is the anchor count against the token count and nothing else:
 * a full cache is {@link AnchorKvCodec#encodedSize} with anchors = tokens.
 *
 * @param bytes the blobs in Redis, as the catalog records them
 * @param fullBytes the same documents as full KV blobs
 */
record DemoFootprint(int docs, long tokens, long anchors, long bytes, long fullBytes, String dtype) {

    static DemoFootprint of(Collection<CatalogEntry> entries, ModelConfig model) {
        long tokens = 0;
        long anchors = 0;
        long bytes = 0;
        long full = 0;
        String dtype = "";
        for (CatalogEntry e : entries) {
            KvDtype type = KvDtype.valueOf(e.dtype().toUpperCase(Locale.ROOT));
            tokens += e.tokenCount();
            anchors += e.anchorCount();
            bytes += e.bytes();
            full += AnchorKvCodec.encodedSize(model.layers(), model.kvHeads(), model.headDim(), e.tokenCount(),
                    e.chunkCount(), e.modelId().getBytes(StandardCharsets.UTF_8).length, type);
            dtype = e.dtype();
        }
        return new DemoFootprint(entries.size(), tokens, anchors, bytes, full, dtype);
    }

    long bytesPerDoc() {
        return Math.round(bytes / (double) Math.max(1, docs));
    }

    long fullBytesPerDoc() {
        return Math.round(fullBytes / (double) Math.max(1, docs));
    }

    /** Tokens per anchor: the ratio actually achieved (a partial last group still gets an anchor). */
    double entryRatio() {
        return tokens / (double) Math.max(1, anchors);
    }

    double byteRatio() {
        return fullBytes / (double) Math.max(1, bytes);
    }
}
