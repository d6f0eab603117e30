package dev.sacrag.compressor;

import dev.sacrag.core.kv.AnchorKv;

/**
 * The model seen by the stream: tokenize a document, compress its tokens into anchor KV.
 * Production wraps the SAC engine ({@link SacDocumentCompressor}); topology tests use a fake.
 * Split in two steps so the token limit is checked (and a too-long document dead-lettered)
 * before any compression time is spent.
 */
public interface DocumentCompressor {

    /** Names (base weights, adapter, ratio): part of every Redis key, blob header and catalog key. */
    String modelId();

    int ratio();

    /** The tokens the compressor reads for {@code text} (for SAC: BOS, the context prompt, the text). */
    long[] tokenize(String text);

    /** Compresses what {@link #tokenize} returned; the result carries {@link #modelId()}. */
    AnchorKv compress(long[] tokens);
}
