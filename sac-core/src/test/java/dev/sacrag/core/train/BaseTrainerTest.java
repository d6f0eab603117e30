package dev.sacrag.core.train;

import dev.sacrag.core.model.Safetensors;
import dev.sacrag.core.text.TextTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BaseTrainerTest {
    @TempDir
    Path tmp;

    static BaseTrainer.Config config(Path out, long steps, boolean resume, Duration every) {
        return config(out, steps, resume, every, 0);
    }

    static BaseTrainer.Config config(Path out, long steps, boolean resume, Duration every, long stopAt) {
        return new BaseTrainer.Config(out, TinyTraining.CONFIG, 5, steps, Duration.ofMinutes(5), 768, 3e-3f, 5, 1.0,
                every, resume, null, stopAt);
    }

    @Test
    void lossFallsOnRepeatedData() throws Exception {
        Path tokFile = TinyTraining.tokenizer(tmp.resolve("tok"));
        List<Double> losses = new ArrayList<>();
        try (TextTokenizer tok = TextTokenizer.load(tmp.resolve("tok"))) {
            List<TokenSample> qa = TinyTraining.qaSamples(tok, 3);
            new BaseTrainer(config(tmp.resolve("m"), 40, false, Duration.ofHours(1)), step -> losses.add(step.loss()))
                    .train(qa, List.of(), tokFile);
        }
        double first = losses.subList(0, 5).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
        double last = losses.subList(35, 40).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
        assertTrue(last < 0.7 * first, "loss " + first + " -> " + last);
        assertTrue(java.nio.file.Files.exists(tmp.resolve("m/base/model.safetensors")));
    }

    @Test
    void resumingFromACheckpointGivesTheSameWeightsAsOneRun() throws Exception {
        Path tokFile = TinyTraining.tokenizer(tmp.resolve("tok"));
        try (TextTokenizer tok = TextTokenizer.load(tmp.resolve("tok"))) {
            List<TokenSample> qa = TinyTraining.qaSamples(tok, 4);
            new BaseTrainer(config(tmp.resolve("once"), 6, false, Duration.ofHours(1)), s -> { }).train(qa, List.of(), tokFile);
            // a run that ends after step 3 (as a killed process leaves its last checkpoint), then a new one resumes it
            new BaseTrainer(config(tmp.resolve("twice"), 6, false, Duration.ofHours(1), 3), s -> { })
                    .train(qa, List.of(), tokFile);
            List<Long> resumedSteps = new ArrayList<>();
            new BaseTrainer(config(tmp.resolve("twice"), 6, true, Duration.ofHours(1)), s -> resumedSteps.add(s.step()))
                    .train(qa, List.of(), tokFile);
            assertEquals(List.of(4L, 5L, 6L), resumedSteps, "the second run continues after step 3");
        }
        // Not bit-for-bit: about one CPU training run in ten (resumed or not) ends slightly off
        // the others, by an RMS weight difference of at most 1.5e-4 over 40 repeats (an ordinary
        // uninterrupted run shows it too, so it is not the checkpoint). A resume that loses the
        // optimiser moments lands at an RMS of 3.3e-3, one that replays or skips a step near the
        // learning rate (3e-3); the bound sits between.
        double rms = rmsDifference(tmp.resolve("once/base/model.safetensors"), tmp.resolve("twice/base/model.safetensors"));
        assertTrue(rms < 6e-4, "resumed weights are " + rms + " (RMS) away from the uninterrupted run's");
    }

    static double rmsDifference(Path fileA, Path fileB) throws java.io.IOException {
        double sq = 0;
        long n = 0;
        try (var a = Safetensors.open(fileA); var b = Safetensors.open(fileB)) {
            assertEquals(a.entries().keySet(), b.entries().keySet());
            for (String name : a.entries().keySet()) {
                float[] x = floats(a.readF32(name));
                float[] y = floats(b.readF32(name));
                assertEquals(x.length, y.length, name);
                for (int i = 0; i < x.length; i++) {
                    double d = x[i] - y[i];
                    sq += d * d;
                }
                n += x.length;
            }
        }
        return Math.sqrt(sq / n);
    }

    private static float[] floats(FloatBuffer b) {
        float[] a = new float[b.remaining()];
        b.get(a);
        return a;
    }
}
