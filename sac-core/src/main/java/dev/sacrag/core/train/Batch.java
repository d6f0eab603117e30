package dev.sacrag.core.train;

import ai.djl.ndarray.NDArray;
import dev.sacrag.core.model.KvCache;
import dev.sacrag.core.model.Masks;
import dev.sacrag.core.model.Transformer;

import java.util.List;

/** Right-padded inputs, next-token targets and loss weights [B][T] for teacher forcing. */
record Batch(long[][] inputs, long[][] targets, float[][] weights, int tokens) {

    static Batch of(List<TokenSample> samples, long pad) {
        int t = samples.stream().mapToInt(s -> s.length() - 1).max().orElseThrow();
        int b = samples.size();
        long[][] in = new long[b][t];
        long[][] tg = new long[b][t];
        float[][] w = new float[b][t];
        int tokens = 0;
        for (int i = 0; i < b; i++) {
            TokenSample s = samples.get(i);
            java.util.Arrays.fill(in[i], pad);
            java.util.Arrays.fill(tg[i], pad);
            for (int j = 0; j < s.length() - 1; j++) {
                in[i][j] = s.tokens()[j];
                tg[i][j] = s.tokens()[j + 1];
                w[i][j] = s.weights()[j];
            }
            tokens += s.length() - 1;
        }
        return new Batch(in, tg, w, tokens);
    }

    int[][] positions() {
        int[][] p = new int[inputs.length][inputs[0].length];
        for (int[] row : p) {
            for (int j = 0; j < row.length; j++) {
                row[j] = j;
            }
        }
        return p;
    }

    /** Teacher-forced logits [B, T, V] of {@code model} on this batch (causal mask, positions 0..T-1). */
    NDArray logits(Transformer model, KvCache cache) {
        int t = inputs[0].length;
        return model.forward(new Transformer.Input(model.embed(inputs), positions(),
                Masks.causal(model.manager(), t, 0), Transformer.Logits.ALL), cache);
    }
}
