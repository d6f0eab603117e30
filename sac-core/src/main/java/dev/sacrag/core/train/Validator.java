package dev.sacrag.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import dev.sacrag.core.model.KvCache;
import dev.sacrag.core.model.Transformer;

import java.util.List;

/**
 * Teacher-forced scoring of held-out samples whose weights mark the tokens to score (e.g.
 * {@link TrainingSamples#qaAnswers}): the mean loss over those tokens, and the share of
 * samples whose every scored token is the model's argmax, a cheap stand-in for greedy exact
 * match that training can afford every few hundred steps.
 */
public final class Validator {
    public record Score(double loss, double exact, int n) { }

    private static final int ROWS = 8;

    public static Score score(Transformer model, List<TokenSample> samples) {
        double lossSum = 0;
        double weightSum = 0;
        int exact = 0;
        for (int from = 0; from < samples.size(); from += ROWS) {
            List<TokenSample> part = samples.subList(from, Math.min(samples.size(), from + ROWS));
            Batch batch = Batch.of(part, 2);
            try (NDScope scope = new NDScope();
                 KvCache cache = new KvCache(model.manager(), model.config().layers())) {
                NDArray logits = batch.logits(model, cache);
                int t = batch.inputs()[0].length;
                float[] logp = logits.logSoftmax(-1).toFloatArray();
                long[] argmax = logits.argMax(-1).toLongArray();
                int v = (int) logits.getShape().get(2);
                for (int b = 0; b < part.size(); b++) {
                    boolean all = true;
                    for (int j = 0; j < t; j++) {
                        float w = batch.weights()[b][j];
                        if (w <= 0) {
                            continue;
                        }
                        long target = batch.targets()[b][j];
                        lossSum -= w * logp[(b * t + j) * v + (int) target];
                        weightSum += w;
                        all &= argmax[b * t + j] == target;
                    }
                    exact += all ? 1 : 0;
                }
            }
        }
        return new Score(lossSum / Math.max(weightSum, 1e-9), samples.isEmpty() ? 0 : (double) exact / samples.size(),
                samples.size());
    }

    private Validator() {
    }
}
