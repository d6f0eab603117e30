package dev.sacrag.core.model;

import ai.djl.ndarray.NDArray;

import java.util.List;

/**
 * Low-rank (LoRA) deltas on the q and v projections of every layer:
 * {@code W' = W + scale * B @ A}, A [r, in] and B [out, r]. The forward either adds
 * {@code scale * (x @ A^T) @ B^T} (training: A and B get gradients) or uses weights with the
 * delta merged in (inference: no extra cost; see {@link Transformer#withMerged}).
 */
public record LowRank(List<Pair> layers, float scale) {

    /** The LoRA factors of one layer. */
    public record Pair(NDArray qA, NDArray qB, NDArray vA, NDArray vB) { }

    public LowRank {
        layers = List.copyOf(layers);
    }
}
