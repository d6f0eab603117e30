package dev.sacrag.core.sac;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.sacrag.core.model.LowRank;
import dev.sacrag.core.model.ModelConfig;
import dev.sacrag.core.model.Transformer;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Builds in-memory adapters (zero or seeded random) and compressors over a tiny model. */
final class SacTestRig {

    static SacSpec spec(int chunkSize, boolean bidirectional, boolean anchorEmbedding, int... ratios) {
        List<Integer> r = new ArrayList<>();
        for (int x : ratios) {
            r.add(x);
        }
        int min = r.stream().mapToInt(Integer::intValue).min().orElseThrow();
        return new SacSpec(SacSpec.FORMAT, "test", r, chunkSize, "### Context:\n", "\n### Question:\n",
                "\n### Answer:\n", bidirectional, anchorEmbedding, List.of("q_proj", "v_proj"), 4, 8f,
                AnchorPositions.count(chunkSize, min), 4096, "test");
    }

    /** An adapter whose LoRA, anchor table and [LM] are all zero (std 0) or seeded random. */
    static SacAdapter adapter(SacSpec spec, ModelConfig c, NDManager m, float std, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int e = c.hiddenSize();
        int rank = spec.loraRank();
        LowRank lora = LowRank.build(c.layers(), spec.targets(), spec.loraScale(),
                (i, t) -> new LowRank.Pair(rand(m, rnd, std, rank, t.in(c)), rand(m, rnd, std, t.out(c), rank)));
        return new SacAdapter(spec, lora, rand(m, rnd, std, spec.anchorSlots(), e),
                rand(m, rnd, std, e), m.newSubManager(), "adapter-" + seed);
    }

    static SacCompressor compressor(Transformer base, SacAdapter adapter, int batchChunks) {
        return new SacCompressor(base.withMerged(adapter.lora()), adapter, batchChunks);
    }

    private static NDArray rand(NDManager m, SplittableRandom rnd, float std, int... shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (rnd.nextDouble(-1, 1) * std);
        }
        long[] s = new long[shape.length];
        for (int i = 0; i < s.length; i++) {
            s[i] = shape[i];
        }
        return m.create(v, new Shape(s));
    }

    private SacTestRig() {
    }
}
