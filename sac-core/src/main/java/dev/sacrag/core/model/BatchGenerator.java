package dev.sacrag.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.LongConsumer;

/**
 * Decodes several independent sequences together: each prompt is prefilled against its own
 * cache, then the caches are padded to one length and every decode step runs all live
 * sequences as one batch (padded cache slots masked). On a CPU the decode step is bound by
 * reading the weights and by per-op overhead, both shared by the batch, so B sequences cost
 * far less than B separate loops.
 *
 * <p>A callback that throws stops only its own sequence (a cancelled request); the error is
 * returned in that sequence's result.
 */
public final class BatchGenerator {

    /** One sequence: its own cache (e.g. composed anchors), prompt embeddings [1, T, E] and positions. */
    public record Sequence(KvCache cache, NDArray prompt, int[] positions, GenerationOptions options,
                           LongConsumer onToken) { }

    /** What a sequence produced; {@code error} is set when its callback threw. */
    public record Outcome(Generator.Result result, RuntimeException error) { }

    private BatchGenerator() {
    }

    public static List<Outcome> generate(Transformer model, List<Sequence> seqs) {
        int b = seqs.size();
        List<List<Long>> out = new ArrayList<>();
        boolean[] done = new boolean[b];
        boolean[] stopped = new boolean[b];
        RuntimeException[] errors = new RuntimeException[b];
        long[] last = new long[b];
        int[] nextPos = new int[b];
        Random[] random = new Random[b];
        for (int i = 0; i < b; i++) {
            Sequence s = seqs.get(i);
            out.add(new ArrayList<>());
            random[i] = new Random(s.options().seed());
            float[] logits;
            try (NDScope scope = new NDScope()) {
                NDArray mask = Masks.causal(model.manager(), s.positions().length, s.cache().length());
                logits = model.forward(new Transformer.Input(s.prompt(), new int[][] {s.positions()}, mask,
                        Transformer.Logits.LAST), s.cache()).toFloatArray();
            }
            nextPos[i] = s.positions()[s.positions().length - 1] + 1;
            accept(i, Generator.pick(logits, s.options(), random[i]), seqs, out, done, stopped, errors, last);
        }
        if (!allDone(done)) {
            decodeTogether(model, seqs, out, done, stopped, errors, last, nextPos, random);
        }
        List<Outcome> outcomes = new ArrayList<>();
        for (int i = 0; i < b; i++) {
            long[] tokens = out.get(i).stream().mapToLong(Long::longValue).toArray();
            outcomes.add(new Outcome(new Generator.Result(tokens, stopped[i]), errors[i]));
        }
        return outcomes;
    }

    private static void decodeTogether(Transformer model, List<Sequence> seqs, List<List<Long>> out, boolean[] done,
                                       boolean[] stopped, RuntimeException[] errors, long[] last, int[] nextPos,
                                       Random[] random) {
        NDManager m = model.manager();
        ModelConfig c = model.config();
        int b = seqs.size();
        int maxLen = seqs.stream().mapToInt(s -> s.cache().length()).max().orElseThrow();
        // mask of the padded prefix: real slots 0, padding blocked; grows by one open slot a step
        List<float[]> rows = new ArrayList<>();
        for (Sequence s : seqs) {
            float[] row = new float[maxLen];
            Arrays.fill(row, s.cache().length(), maxLen, Masks.BLOCKED);
            rows.add(row);
        }
        NDArray[] keys = new NDArray[c.layers()];
        NDArray[] values = new NDArray[c.layers()];
        try (NDScope scope = new NDScope()) {
            for (int l = 0; l < c.layers(); l++) {
                keys[l] = padAndStack(m, seqs, l, true, maxLen);     // [B, Hkv, maxLen, D]
                values[l] = padAndStack(m, seqs, l, false, maxLen);
            }
            try (KvCache batch = KvCache.of(m, keys, values)) {
                int step = 0;
                while (!allDone(done)) {
                    step++;
                    float[] mask = new float[b * (maxLen + step)];
                    long[][] tokens = new long[b][1];
                    int[][] positions = new int[b][1];
                    for (int i = 0; i < b; i++) {
                        System.arraycopy(rows.get(i), 0, mask, i * (maxLen + step), maxLen);
                        tokens[i][0] = done[i] ? 0 : last[i];
                        positions[i][0] = nextPos[i]++;
                    }
                    float[] logits;
                    try (NDScope stepScope = new NDScope()) {
                        logits = model.forward(new Transformer.Input(model.embed(tokens), positions,
                                m.create(mask, new Shape(b, 1, maxLen + step)), Transformer.Logits.LAST), batch)
                                .toFloatArray();                          // [B, 1, V]
                    }
                    int v = c.vocabSize();
                    for (int i = 0; i < b; i++) {
                        if (!done[i]) {
                            float[] row = Arrays.copyOfRange(logits, i * v, (i + 1) * v);
                            accept(i, Generator.pick(row, seqs.get(i).options(), random[i]), seqs, out, done, stopped,
                                    errors, last);
                        }
                    }
                }
            }
        }
    }

    private static NDArray padAndStack(NDManager m, List<Sequence> seqs, int layer, boolean key, int maxLen) {
        List<NDArray> parts = new ArrayList<>();
        for (Sequence s : seqs) {
            NDArray x = key ? s.cache().keys(layer) : s.cache().values(layer);   // [1, Hkv, S_i, D]
            long len = x.getShape().get(2);
            if (len < maxLen) {
                Shape pad = new Shape(1, x.getShape().get(1), maxLen - len, x.getShape().get(3));
                x = x.concat(m.zeros(pad), 2);
            }
            parts.add(x);
        }
        NDArray stacked = parts.get(0);
        for (int i = 1; i < parts.size(); i++) {
            stacked = stacked.concat(parts.get(i), 0);
        }
        return stacked;
    }

    private static void accept(int i, long token, List<Sequence> seqs, List<List<Long>> out, boolean[] done,
                               boolean[] stopped, RuntimeException[] errors, long[] last) {
        GenerationOptions o = seqs.get(i).options();
        if (o.stopTokens().contains(token)) {
            done[i] = true;
            stopped[i] = true;
            return;
        }
        out.get(i).add(token);
        last[i] = token;
        try {
            seqs.get(i).onToken().accept(token);
        } catch (RuntimeException e) {
            errors[i] = e;
            done[i] = true;
            return;
        }
        if (out.get(i).size() >= o.maxNewTokens()) {
            done[i] = true;
        }
    }

    private static boolean allDone(boolean[] done) {
        for (boolean d : done) {
            if (!d) {
                return false;
            }
        }
        return true;
    }
}
