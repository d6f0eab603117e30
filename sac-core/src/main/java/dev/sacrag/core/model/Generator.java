package dev.sacrag.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.LongConsumer;

/**
 * The decode loop: one forward over the prompt embeddings, then one token at a time against
 * the caller's KV cache. Each step runs in its own NDScope, so native memory stays flat however
 * long the generation (only the cache grows).
 */
public final class Generator {

    /** What was generated (stop token excluded) and whether a stop token ended it. */
    public record Result(long[] tokens, boolean stopped) { }

    private Generator() {
    }

    /**
     * @param prompt    embeddings [1, T, E] of the tokens not yet in the cache
     * @param positions their RoPE positions; generated tokens continue after the last one
     * @param onToken   called with each new token as soon as it is chosen (streaming)
     */
    public static Result generate(Transformer model, KvCache cache, NDArray prompt, int[] positions,
                                  GenerationOptions options, LongConsumer onToken) {
        Random random = new Random(options.seed());
        List<Long> out = new ArrayList<>();
        int past = cache.length();
        float[] logits;
        try (NDScope scope = new NDScope()) {
            NDArray mask = Masks.causal(model.manager(), positions.length, past);
            logits = model.forward(new Transformer.Input(prompt, new int[][] {positions}, mask,
                    Transformer.Logits.LAST), cache).toFloatArray();
        }
        int nextPos = positions[positions.length - 1] + 1;
        while (true) {
            long token = pick(logits, options, random);
            if (options.stopTokens().contains(token)) {
                return new Result(toArray(out), true);
            }
            out.add(token);
            onToken.accept(token);
            if (out.size() >= options.maxNewTokens()) {
                return new Result(toArray(out), false);
            }
            try (NDScope scope = new NDScope()) {
                NDArray embeds = model.embed(new long[][] {{token}});
                NDArray mask = Masks.causal(model.manager(), 1, cache.length());
                logits = model.forward(new Transformer.Input(embeds, new int[][] {{nextPos}}, mask,
                        Transformer.Logits.LAST), cache).toFloatArray();
            }
            nextPos++;
        }
    }

    /**
     * The logits of a step hold NaN or infinity: the weights or the anchor KV are corrupt. Picking
     * from them anyway answers with token 0 (every comparison with NaN is false) until the length
     * limit, which reads as an answer; this ends the sequence with an error instead.
     */
    public static final class NonFiniteLogitsException extends IllegalStateException {
        NonFiniteLogitsException(float best) {
            super("the model's logits are not finite (" + best + "): its weights or the anchor KV it reads are corrupt");
        }
    }

    static long pick(float[] logits, GenerationOptions o, Random random) {
        int best = argmax(logits);
        if (!Float.isFinite(logits[best])) {
            throw new NonFiniteLogitsException(logits[best]);
        }
        if (o.temperature() == 0f) {
            return best;
        }
        double max = logits[best];
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < p.length; i++) {
            p[i] = StrictMath.exp((logits[i] - max) / o.temperature());
            sum += p[i];
        }
        Integer[] order = new Integer[p.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        double[] probs = p;
        Arrays.sort(order, (a, b) -> Double.compare(probs[b], probs[a]));
        double kept = 0;
        int n = 0;
        while (n < order.length && (n == 0 || kept < o.topP() * sum)) {
            kept += p[order[n++]];
        }
        double r = random.nextDouble() * kept;
        for (int i = 0; i < n; i++) {
            r -= p[order[i]];
            if (r <= 0) {
                return order[i];
            }
        }
        return order[n - 1];
    }

    public static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }

    private static long[] toArray(List<Long> l) {
        return l.stream().mapToLong(Long::longValue).toArray();
    }
}
