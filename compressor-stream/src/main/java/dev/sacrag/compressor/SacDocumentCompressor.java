package dev.sacrag.compressor;

import dev.sacrag.core.kv.AnchorKv;
import dev.sacrag.core.sac.SacEngine;

import java.util.Objects;

/**
 * {@link DocumentCompressor} over a loaded {@link SacEngine} at one ratio. The engine is owned
 * by the caller. Compression is serialised: the engine already uses every core for one
 * document (intra-op threads), and sharing one engine between stream threads must not
 * multiply native memory.
 */
public final class SacDocumentCompressor implements DocumentCompressor {

    private final SacEngine engine;
    private final int ratio;
    private final String modelId;

    public SacDocumentCompressor(SacEngine engine, int ratio) {
        this.engine = Objects.requireNonNull(engine, "engine");
        if (!engine.adapter().spec().supports(ratio)) {
            throw new IllegalArgumentException("--ratio " + ratio + " is not one of the adapter's ratios "
                    + engine.adapter().spec().ratios());
        }
        this.ratio = ratio;
        this.modelId = engine.modelId(ratio);
    }

    /** The adapter's smallest ratio: the most anchors, the best answers. */
    public static int defaultRatio(SacEngine engine) {
        return engine.adapter().spec().ratios().stream().mapToInt(Integer::intValue).min().orElseThrow();
    }

    @Override
    public String modelId() {
        return modelId;
    }

    @Override
    public int ratio() {
        return ratio;
    }

    @Override
    public long[] tokenize(String text) {
        return engine.contextTokens(text);
    }

    @Override
    public synchronized AnchorKv compress(long[] tokens) {
        return engine.compressTokens(tokens, ratio);   // the anchors the adapter was trained for
    }
}
