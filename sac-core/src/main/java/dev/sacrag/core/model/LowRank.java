package dev.sacrag.core.model;

import ai.djl.ndarray.NDArray;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Low-rank (LoRA) deltas on some linear projections of every layer:
 * {@code W' = W + scale * B @ A}, A [r, in] and B [out, r]. The forward either adds
 * {@code scale * (x @ A^T) @ B^T} (training: A and B get gradients) or uses weights with the
 * delta merged in (inference: no extra cost; see {@link Transformer#withMerged}).
 * The paper puts LoRA on q_proj and v_proj only (rank 128 on a 1B model); the other targets exist
 * because an adapter's targets are its configuration (sac.json), not the engine's. The project's
 * demo adapter deviates on purpose since session 16: on its 6.4 M-parameter base, q/v at rank 16
 * stayed at about 20 % held-out exact over four GPU runs, and the same adapter widened to all
 * seven projections at rank 64 left that plateau within two minutes (models/sac-demo/MODEL_CARD.md,
 * "Adapter capacity"): a small base needs its compressor's MLPs adapted as well.
 */
public record LowRank(List<Map<Target, Pair>> layers, float scale) {

    /** The projections LoRA may target, by their Hugging Face names. */
    public enum Target {
        Q_PROJ("q_proj"), K_PROJ("k_proj"), V_PROJ("v_proj"), O_PROJ("o_proj"),
        GATE_PROJ("gate_proj"), UP_PROJ("up_proj"), DOWN_PROJ("down_proj");

        private final String hfName;

        Target(String hfName) {
            this.hfName = hfName;
        }

        public String hfName() {
            return hfName;
        }

        /** Input width of this projection in {@code c}. */
        public int in(ModelConfig c) {
            return switch (this) {
                case O_PROJ -> c.queryDim();
                case DOWN_PROJ -> c.intermediateSize();
                default -> c.hiddenSize();
            };
        }

        /** Output width of this projection in {@code c}. */
        public int out(ModelConfig c) {
            return switch (this) {
                case Q_PROJ -> c.queryDim();
                case K_PROJ, V_PROJ -> c.kvDim();
                case GATE_PROJ, UP_PROJ -> c.intermediateSize();
                case O_PROJ, DOWN_PROJ -> c.hiddenSize();
            };
        }

        public static Target of(String hfName) {
            for (Target t : values()) {
                if (t.hfName.equals(hfName)) {
                    return t;
                }
            }
            throw new IllegalArgumentException("unknown LoRA target " + hfName + "; known: "
                    + java.util.Arrays.stream(values()).map(Target::hfName).toList());
        }
    }

    /** The LoRA factors of one projection: A [r, in], B [out, r]. */
    public record Pair(NDArray a, NDArray b) { }

    /** Makes (reads, draws) the factors of one target in one layer; E: what reading may throw. */
    @FunctionalInterface
    public interface Factors<E extends Exception> {
        Pair make(int layer, Target target) throws E;
    }

    /**
     * Factors for every target in every layer, made in that order (layer by layer, the targets
     * as listed), so seeded draws stay the same whoever builds them.
     */
    public static <E extends Exception> LowRank build(int layers, List<Target> targets, float scale, Factors<E> factors)
            throws E {
        List<Map<Target, Pair>> out = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
            Map<Target, Pair> layer = new EnumMap<>(Target.class);
            for (Target t : targets) {
                layer.put(t, factors.make(i, t));
            }
            out.add(layer);
        }
        return new LowRank(out, scale);
    }

    public LowRank {
        layers = layers.stream().map(m -> {
            Map<Target, Pair> copy = new EnumMap<>(Target.class);
            copy.putAll(m);
            return Collections.unmodifiableMap(copy);
        }).toList();
    }

    /** The factors on {@code target} in layer {@code layer}, or null when it has none. */
    public Pair at(int layer, Target target) {
        return layers.get(layer).get(target);
    }
}
