package dev.sacrag.core.train;

import dev.sacrag.core.model.ModelConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The trainer grows an induction circuit (find the earlier occurrence of the current token,
 * copy what followed it), the mechanism a model needs to copy an answer out of its context:
 * a 2-layer model learns to repeat random sequences of random length after a random lead, so
 * no fixed offset solves it, and does so on held-out sequences.
 */
class InductionTest {
    @TempDir
    Path tmp;

    static final ModelConfig CONFIG = new ModelConfig(ModelConfig.Architecture.LLAMA, 128, 64, 2, 4, 4, 16, 128,
            10000, null, 1e-5, true, 128, 0, List.of(1));

    /** BOS, a random lead of 0-9 tokens, a random sequence of 8-32 tokens, the sequence again. */
    static List<TokenSample> repeats(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        List<TokenSample> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int len = 8 + r.nextInt(25);
            int lead = r.nextInt(10);
            long[] t = new long[1 + lead + 2 * len];
            float[] w = new float[t.length];
            for (int j = 1; j < 1 + lead + len; j++) {
                t[j] = 4 + r.nextInt(124);
            }
            for (int j = 0; j < len; j++) {
                t[1 + lead + len + j] = t[1 + lead + j];
                if (j > 0) {
                    w[lead + len + j] = 1f; // predicting copied token j (the first one cannot be known)
                }
            }
            out.add(new TokenSample(t, w));
        }
        return out;
    }

    @Test
    void learnsToRepeatSequencesItHasNotSeen() throws Exception {
        Path tok = TinyTraining.tokenizer(tmp.resolve("tok"));
        List<Validator.Score> scores = new ArrayList<>();
        BaseTrainer.Config c = new BaseTrainer.Config(tmp.resolve("m"), CONFIG, 3, 700, Duration.ofMinutes(10), 2048,
                3e-3f, 50, 1.0, Duration.ofHours(1), false, null, 0);
        new BaseTrainer(c, new TrainingListener() {
            @Override
            public void onStep(Step step) {
            }

            @Override
            public void onValidation(long step, Validator.Score score) {
                scores.add(score);
            }
        }).train(repeats(1, 20000), List.of(), tok, new BaseTrainer.Validation(repeats(99, 64), 100));
        // chance is ln(124) = 4.8 nats a token; a long plateau, then an abrupt drop (the circuit forms)
        assertTrue(scores.get(0).loss() > 3.5, "after 100 steps: " + scores.get(0));
        Validator.Score last = scores.get(scores.size() - 1);
        assertTrue(last.loss() < 0.5 && last.exact() > 0.3, "held-out repeats at the end: " + scores);
    }
}
