package dev.sacrag.query.decode;

import dev.sacrag.core.kv.AnchorKv;

import java.util.List;
import java.util.Objects;

/**
 * One question to answer from the anchor KV of its documents, composed in the given order.
 * {@code contextKey} names that composition for the engine's prompt cache (the same documents,
 * versions and blobs in the same order give the same key); null = not cached.
 */
public record DecodeRequest(List<AnchorKv> docs, String contextKey, String question, int maxNewTokens, TokenSink sink) {

    public DecodeRequest(List<AnchorKv> docs, String question, int maxNewTokens, TokenSink sink) {
        this(docs, null, question, maxNewTokens, sink);
    }

    public DecodeRequest {
        docs = List.copyOf(docs);
        Objects.requireNonNull(question, "question");
        Objects.requireNonNull(sink, "sink");
        if (docs.isEmpty()) {
            throw new IllegalArgumentException("a question needs at least one document");
        }
        if (maxNewTokens < 1) {
            throw new IllegalArgumentException("maxNewTokens must be >= 1, got " + maxNewTokens);
        }
    }
}
