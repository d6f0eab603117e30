package dev.sacrag.core.kv;

import java.util.Arrays;

/**
 * The compressed form of one document: K and V of its anchor tokens at every layer.
 *
 * <p>{@code keys[l]} and {@code values[l]} hold layer l as row-major [Hkv, N, D] floats,
 * N = {@link #anchorCount()}. Keys are post-RoPE at the document's own positions 1..T, with
 * T = {@code tokenCount} (the compressed token count incl. BOS and the context prompt); a
 * query that composes several documents rotates them by the lengths before them.
 * {@code chunkAnchors[c]} anchors came from chunk c, in order.
 */
public record AnchorKv(
        String modelId,
        int layers,
        int kvHeads,
        int headDim,
        int tokenCount,
        int[] chunkAnchors,
        float[][] keys,
        float[][] values) {

    public AnchorKv {
        int n = Arrays.stream(chunkAnchors).sum();
        if (keys.length != layers || values.length != layers) {
            throw new IllegalArgumentException("expected " + layers + " layers of K and V");
        }
        long per = (long) kvHeads * n * headDim;
        for (int l = 0; l < layers; l++) {
            if (keys[l].length != per || values[l].length != per) {
                throw new IllegalArgumentException("layer " + l + " holds " + keys[l].length + "/" + values[l].length
                        + " values, expected " + per + " (" + kvHeads + " heads x " + n + " anchors x " + headDim + ")");
            }
        }
    }

    public int anchorCount() {
        return Arrays.stream(chunkAnchors).sum();
    }

    /** Number of f32 values over all layers, K and V. */
    public long valueCount() {
        return 2L * layers * kvHeads * anchorCount() * headDim;
    }
}
