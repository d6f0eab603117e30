package dev.sacrag.core.train;

import dev.sacrag.core.model.Safetensors;
import dev.sacrag.core.model.Transformer;
import dev.sacrag.core.random.RandomModelWriter;
import dev.sacrag.core.sac.AnchorPositions;
import dev.sacrag.core.sac.SacSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SacTrainerTest {
    @TempDir
    Path tmp;

    /** The same two-document QA example every time: the adapter must learn to answer it. */
    static final class Fixed implements SacTrainer.Examples {
        final long[] docA = seq(1, 40, 7);
        final long[] docB = seq(2, 25, 11);

        static long[] seq(long bos, int n, int seed) {
            Random r = new Random(seed);
            long[] t = new long[n];
            t[0] = 0;
            for (int i = 1; i < n; i++) {
                t[i] = 3 + r.nextInt(250);
            }
            return t;
        }

        @Override
        public long[] continuation(Random rnd) {
            return java.util.Arrays.copyOfRange(docA, 1, docA.length);
        }

        @Override
        public SacTrainer.QaExample qa(Random rnd) {
            return new SacTrainer.QaExample(List.of(docB, docA), new long[] {60, 61, 62}, new long[] {docA[17], docA[18], 1});
        }
    }

    @Test
    void bothStagesLowerTheLossAndTrainEveryAdapterPart() throws Exception {
        Path base = tinyBase();
        SacSpec spec = new SacSpec(SacSpec.FORMAT, "sac", List.of(2, 4), 16, "### Context:\n", "\n### Question:\n",
                "\n### Answer:\n", true, true, List.of("q_proj", "v_proj"), 4, 8f, AnchorPositions.count(16, 2), 512, "test");
        Path adapter = tmp.resolve("adapters/sac");
        List<TrainingListener.Step> steps = new ArrayList<>();
        try (Transformer model = Transformer.load(base)) {
            SacTrainer.Config c = new SacTrainer.Config(adapter, spec, 1, 15, 25, 2, 1e-2f, 1e-2f, 2,
                    Duration.ofMinutes(5), Duration.ofHours(1), false);
            int arrays = model.manager().getManagedArrays().size();
            new SacTrainer(c, steps::add).train(model, new Fixed(), new long[] {0, 5, 6});
            assertEquals(arrays, model.manager().getManagedArrays().size(),
                    "the LoRA, its optimiser state and gradients are freed when training ends, not left on the base");
        }
        double s1First = mean(steps, 0, 3);
        double s1Last = mean(steps, 12, 15);
        double s2First = mean(steps, 15, 18);   // the ratio is drawn per step: average over a few
        double s2Last = mean(steps, 37, 40);
        assertTrue(s1Last < 0.95 * s1First, "stage 1 loss " + s1First + " -> " + s1Last);
        assertTrue(s2Last < 0.75 * s2First, "stage 2 loss " + s2First + " -> " + s2Last);
        try (var r = Safetensors.open(adapter.resolve("sac.safetensors"))) {
            assertTrue(maxAbs(r.readF32("lora.layers.0.q_proj.lora_B")) > 0, "LoRA B starts at zero and must move");
            assertTrue(maxAbs(r.readF32("lora.layers.1.v_proj.lora_B")) > 0);
        }
    }

    @Test
    void aResumedEveryLinearRunRestoresItsStateExactlyAndRefusesAnotherShape() throws Exception {
        Path base = tinyBase();
        List<String> all = List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");
        SacSpec spec = new SacSpec(SacSpec.FORMAT, "sac", List.of(4), 16, "### Context:\n", "\n### Question:\n",
                "\n### Answer:\n", true, true, all, 4, 8f, AnchorPositions.count(16, 4), 512, "test");
        Path adapter = tmp.resolve("adapters/sac");
        Path ckpt = adapter.resolve("checkpoint");
        try (Transformer model = Transformer.load(base)) {
            new SacTrainer(config(adapter, spec, 3, false), s -> { }).train(model, new Fixed(), new long[] {0, 5, 6});
            byte[] weights = Files.readAllBytes(ckpt.resolve(Checkpoints.WEIGHTS));
            byte[] moments = Files.readAllBytes(ckpt.resolve(Checkpoints.OPTIMIZER));
            try (var r = Safetensors.open(adapter.resolve("sac.safetensors"))) {
                // layer 0's every target shapes the anchors; the last layer's K/V see only its k and v
                for (String t : all) {
                    assertTrue(maxAbs(r.readF32("lora.layers.0." + t + ".lora_B")) > 0, t + " is trained");
                }
                assertTrue(maxAbs(r.readF32("lora.layers.1.k_proj.lora_B")) > 0);
            }

            // resumed at its end: nothing to do, and it writes back exactly what it read
            List<TrainingListener.Step> none = new ArrayList<>();
            new SacTrainer(config(adapter, spec, 3, true), none::add).train(model, new Fixed(), new long[] {0, 5, 6});
            assertEquals(List.of(), none);
            assertArrayEquals(weights, Files.readAllBytes(ckpt.resolve(Checkpoints.WEIGHTS)));
            assertArrayEquals(moments, Files.readAllBytes(ckpt.resolve(Checkpoints.OPTIMIZER)));

            // a resume that would train fewer targets would drop the others' factors: refused
            SacSpec qv = spec.withLoraTargets(List.of("q_proj", "v_proj"));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
                    new SacTrainer(config(adapter, qv, 5, true), s -> { }).train(model, new Fixed(), new long[] {0, 5, 6}));
            assertTrue(e.getMessage().contains("--lora-targets") && e.getMessage().contains("down_proj"), e.getMessage());
            assertArrayEquals(weights, Files.readAllBytes(ckpt.resolve(Checkpoints.WEIGHTS)), "the refused run wrote nothing");
        }
    }

    @Test
    void aRunFromInitStartsFromThatAdaptersWeightsAndRefusesAnotherShape() throws Exception {
        Path base = tinyBase();
        SacSpec spec = qv4("sac", 4);
        Path trained = tmp.resolve("adapters/sac");
        Path copy = tmp.resolve("adapters/copy");
        try (Transformer model = Transformer.load(base)) {
            new SacTrainer(config(trained, spec, 4, false), s -> { }).train(model, new Fixed(), new long[] {0, 5, 6});
            // no steps: what it writes is its starting point, which must be the trained adapter, not a fresh one
            new SacTrainer(fromInit(copy, spec, 0, trained), s -> { }).train(model, new Fixed(), new long[] {0, 5, 6});
            try (var a = Safetensors.open(trained.resolve("sac.safetensors"));
                 var b = Safetensors.open(copy.resolve("sac.safetensors"))) {
                assertEquals(a.entries().keySet(), b.entries().keySet());
                for (String name : a.entries().keySet()) {
                    assertEquals(a.readF32(name), b.readF32(name), name);
                }
                assertTrue(maxAbs(b.readF32("lora.layers.0.q_proj.lora_B")) > 0, "a fresh LoRA B would be zero");
            }

            SacTrainer.Config other = fromInit(tmp.resolve("adapters/r8"), qv4("sac", 8), 1, trained);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
                    new SacTrainer(other, s -> { }).train(model, new Fixed(), new long[] {0, 5, 6}));
            assertTrue(e.getMessage().contains("rank 4") && e.getMessage().contains("rank 8"), e.getMessage());

            // the same shapes, another function: a causal adapter does not start a bidirectional run
            SacTrainer.Config variant = fromInit(tmp.resolve("adapters/c"), qv4("sac-causal", 4), 1, trained);
            e = assertThrows(IllegalArgumentException.class, () ->
                    new SacTrainer(variant, s -> { }).train(model, new Fixed(), new long[] {0, 5, 6}));
            assertTrue(e.getMessage().contains("sac-causal"), e.getMessage());

            // a resumed run continues its checkpoint, whatever --init says
            List<String> messages = new ArrayList<>();
            SacTrainer.Config resumed = new SacTrainer.Config(trained, spec, 1, 1, 3, 2, 1e-2f, 1e-2f, 2,
                    Duration.ofMinutes(5), Duration.ofHours(1), true, copy, 0);
            byte[] before = Files.readAllBytes(trained.resolve("sac.safetensors"));
            new SacTrainer(resumed, listener(new ArrayList<>(), messages)).train(model, new Fixed(), new long[] {0, 5, 6});
            assertTrue(messages.stream().anyMatch(m -> m.contains("resumed SAC training at step 4")
                    && m.contains("--init is ignored")), messages.toString());
            assertArrayEquals(before, Files.readAllBytes(trained.resolve("sac.safetensors")),
                    "at its end already: it writes back what it had");
        }
    }

    @Test
    void theContinuationShareDrawsThatShareOfStageTwoExamplesAsContinuation() throws Exception {
        Path base = tinyBase();
        SacSpec spec = qv4("sac", 4);
        try (Transformer model = Transformer.load(base)) {
            for (double share : new double[] {0, 0.5, 1}) {
                int[] drawn = new int[2];   // continuation, qa
                Fixed fixed = new Fixed();
                SacTrainer.Examples counting = new SacTrainer.Examples() {
                    @Override
                    public long[] continuation(Random rnd) {
                        drawn[0]++;
                        return fixed.continuation(rnd);
                    }

                    @Override
                    public SacTrainer.QaExample qa(Random rnd) {
                        drawn[1]++;
                        return fixed.qa(rnd);
                    }
                };
                SacTrainer.Config c = new SacTrainer.Config(tmp.resolve("adapters/share" + share), spec, 1, 0, 20, 2,
                        1e-3f, 1e-3f, 2, Duration.ofMinutes(5), Duration.ofHours(1), false, null, share);
                new SacTrainer(c, s -> { }).train(model, counting, new long[] {0, 5, 6});
                assertEquals(40, drawn[0] + drawn[1]);
                if (share == 0) {
                    assertEquals(0, drawn[0], "the paper's stage 2 is QA only");
                } else if (share == 1) {
                    assertEquals(0, drawn[1]);
                } else {
                    assertTrue(drawn[0] >= 10 && drawn[0] <= 30, "about half of 40: " + drawn[0]);
                }
            }
        }
        assertThrows(IllegalArgumentException.class, () -> new SacTrainer.Config(tmp, spec, 1, 0, 1, 2, 1e-3f, 1e-3f, 2,
                Duration.ofMinutes(5), Duration.ofHours(1), false, null, 1.5));
    }

    @Test
    void stageTwoDecaysOnlyWhenAsked() throws Exception {
        Path base = tinyBase();
        SacSpec spec = qv4("sac", 4);
        try (Transformer model = Transformer.load(base)) {
            for (boolean decay : new boolean[] {false, true}) {
                List<TrainingListener.Step> steps = new ArrayList<>();
                SacTrainer.Config c = new SacTrainer.Config(tmp.resolve("adapters/decay" + decay), spec, 1, 2, 12, 2,
                        1e-2f, 1e-3f, 2, Duration.ofMinutes(5), Duration.ofHours(1), false, null, 0, decay);
                new SacTrainer(c, steps::add).train(model, new Fixed(), new long[] {0, 5, 6});
                assertEquals(14, steps.size());
                assertEquals(1e-2, steps.get(1).lr(), 1e-9, "stage 1 keeps its rate either way");
                assertEquals(1e-3, steps.get(4).lr(), 1e-9, "stage 2 after its warm-up");
                double last = steps.get(13).lr();
                if (decay) {
                    assertTrue(last < 0.13e-3 && last >= 0.1e-3 - 1e-9, "cosine towards 10% of lr2 (reached at step 12): " + last);
                    for (int i = 5; i < 14; i++) {
                        assertTrue(steps.get(i).lr() < steps.get(i - 1).lr(), "falls at step " + i);
                    }
                } else {
                    assertEquals(1e-3, last, 1e-9, "constant as the paper");
                }
            }
        }
    }

    @Test
    void theNamesExperimentStartsFromASacAdapterAndTrainsWithItsMarks() throws Exception {
        Path base = tinyBase();
        Path trained = tmp.resolve("adapters/sac");
        Path names = tmp.resolve("adapters/sac-names");
        SacSpec namesSpec = qv4(SacSpec.NAMES_VARIANT, 4);
        // marks on a run of tokens inside docA and docB's first chunk: more anchors than the uniform ones
        List<Integer> marked = new ArrayList<>();   // lengths of the inputs the trainer's compressions marked
        java.util.function.Function<long[], boolean[]> marks = ids -> {
            marked.add(ids.length);
            boolean[] m = new boolean[ids.length];
            java.util.Arrays.fill(m, 3, Math.min(ids.length, 9), true);
            return m;
        };
        try (Transformer model = Transformer.load(base)) {
            new SacTrainer(config(trained, qv4("sac", 4), 3, false), s -> { }).train(model, new Fixed(), new long[] {0, 5, 6});
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SacTrainer(
                    fromInit(names, namesSpec, 2, trained), s -> { }).train(model, new Fixed(), new long[] {0, 5, 6}));
            assertTrue(e.getMessage().contains("needs the marks"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> new SacTrainer(config(tmp.resolve("adapters/u"),
                    qv4("sac", 4), 2, false), s -> { }).train(model, new Fixed(), new long[] {0, 5, 6}, marks));
            assertTrue(e.getMessage().contains("uniformly"), e.getMessage());

            List<TrainingListener.Step> steps = new ArrayList<>();
            List<String> messages = new ArrayList<>();
            new SacTrainer(fromInit(names, namesSpec, 6, trained), listener(steps, messages))
                    .train(model, new Fixed(), new long[] {0, 5, 6}, marks);
            assertTrue(messages.stream().anyMatch(m -> m.contains("started from the weights of " + trained)), messages.toString());
            assertEquals(6, steps.size());
            // every QA example compresses docB and docA, each marked (no continuation examples at share 0)
            Fixed f = new Fixed();
            assertEquals(6 * 2 * 2, marked.size(), "each compression goes through the marks");
            assertTrue(marked.stream().allMatch(n -> n == f.docA.length || n == f.docB.length), marked.toString());
            assertTrue(steps.stream().allMatch(s -> Double.isFinite(s.loss())), steps.toString());
            assertEquals(SacSpec.NAMES_VARIANT, SacSpec.load(names).variant());
        }
    }

    @Test
    void aResumedRunKeepsItsCheckpointsStageTwoSchedule() throws Exception {
        Path base = tinyBase();
        SacSpec spec = qv4("sac", 4);
        Path adapter = tmp.resolve("adapters/scheduled");
        try (Transformer model = Transformer.load(base)) {
            new SacTrainer(decaying(adapter, spec, 4, false, true), s -> { }).train(model, new Fixed(), new long[] {0, 5, 6});
            for (SacTrainer.Config other : List.of(decaying(adapter, spec, 4, true, false), decaying(adapter, spec, 6, true, true))) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> new SacTrainer(other, s -> { }).train(model, new Fixed(), new long[] {0, 5, 6}));
                assertTrue(e.getMessage().contains("trained with the stage-2 rate decaying over 4 steps"), e.getMessage());
            }
            List<TrainingListener.Step> more = new ArrayList<>();
            new SacTrainer(decaying(adapter, spec, 4, true, true), more::add).train(model, new Fixed(), new long[] {0, 5, 6});
            assertEquals(List.of(), more, "the same schedule resumes (here: at its end)");
        }
    }

    @Test
    void aStopAtStepEndsTheRunThereOnItsScheduleAndAResumeFinishesIt() throws Exception {
        Path base = tinyBase();
        SacSpec spec = qv4("sac", 4);
        try (Transformer model = Transformer.load(base)) {
            List<TrainingListener.Step> whole = new ArrayList<>();
            new SacTrainer(decaying(tmp.resolve("adapters/whole"), spec, 6, false, true), whole::add)
                    .train(model, new Fixed(), new long[] {0, 5, 6});
            Path cut = tmp.resolve("adapters/cut");
            List<TrainingListener.Step> first = new ArrayList<>();
            List<String> messages = new ArrayList<>();
            SacTrainer.Config stopped = new SacTrainer.Config(cut, spec, 1, 0, 6, 2, 1e-2f, 1e-2f, 2, Duration.ofMinutes(5),
                    Duration.ofHours(1), false, null, 0, true, 3);
            new SacTrainer(stopped, listener(first, messages)).train(model, new Fixed(), new long[] {0, 5, 6});
            assertEquals(3, first.size(), "ends after step 3");
            assertTrue(messages.stream().anyMatch(m -> m.contains("stopped at step 3 of 6")), messages.toString());
            for (int i = 0; i < 3; i++) {
                assertEquals(whole.get(i).lr(), first.get(i).lr(), 1e-12, "the 6-step decay's rate at step " + (i + 1));
                assertEquals(whole.get(i).loss(), first.get(i).loss(), 1e-6);
            }
            List<TrainingListener.Step> rest = new ArrayList<>();
            new SacTrainer(decaying(cut, spec, 6, true, true), rest::add).train(model, new Fixed(), new long[] {0, 5, 6});
            assertEquals(3, rest.size(), "the resume runs steps 4 to 6");
            for (int i = 0; i < 3; i++) {
                assertEquals(whole.get(i + 3).lr(), rest.get(i).lr(), 1e-12);
                assertEquals(whole.get(i + 3).loss(), rest.get(i).loss(), 1e-6, "as the uninterrupted run at step " + (i + 4));
            }
        }
        assertThrows(IllegalArgumentException.class, () -> new SacTrainer.Config(tmp, spec, 1, 0, 6, 2, 1e-3f, 1e-3f, 2,
                Duration.ofMinutes(5), Duration.ofHours(1), false, null, 0, true, -1));
    }

    /** A listener that keeps the steps and messages of a run. */
    private static TrainingListener listener(List<TrainingListener.Step> steps, List<String> messages) {
        return new TrainingListener() {
            @Override
            public void onStep(Step step) {
                steps.add(step);
            }

            @Override
            public void onMessage(String message) {
                messages.add(message);
            }
        };
    }

    @Test
    void aResumeIsRefusedWithoutACheckpointOrWithAnotherRecipeAndASaveCutShortLeavesThePreviousOne() throws Exception {
        Path base = tinyBase();
        SacSpec spec = qv4("sac", 4);
        Path adapter = tmp.resolve("adapters/recipe");
        try (Transformer model = Transformer.load(base)) {
            // a finished adapter copied in without its checkpoint: starting over would overwrite it
            Files.createDirectories(adapter);
            IllegalArgumentException none = assertThrows(IllegalArgumentException.class, () ->
                    new SacTrainer(config(adapter, spec, 3, true), s -> { }).train(model, new Fixed(), new long[] {0, 5, 6}));
            assertTrue(none.getMessage().contains("holds no checkpoint to resume") && none.getMessage().contains("--init"),
                    none.getMessage());

            new SacTrainer(config(adapter, spec, 3, false), s -> { }).describingData(Map.of("--data", "data-x"))
                    .train(model, new Fixed(), new long[] {0, 5, 6});
            byte[] adapterBytes = Files.readAllBytes(adapter.resolve("sac.safetensors"));
            IllegalArgumentException seed = refusedResume(model, new SacTrainer.Config(adapter, spec, 7, 1, 2, 2, 1e-2f,
                    1e-2f, 2, Duration.ofMinutes(5), Duration.ofHours(1), true));
            assertTrue(seed.getMessage().contains("--seed 1 (now 7)"), seed.getMessage());
            IllegalArgumentException data = assertThrows(IllegalArgumentException.class, () ->
                    new SacTrainer(config(adapter, spec, 3, true), s -> { }).describingData(Map.of("--data", "data-y"))
                            .train(model, new Fixed(), new long[] {0, 5, 6}));
            assertTrue(data.getMessage().contains("--data data-x (now data-y)"), data.getMessage());
            IllegalArgumentException stage1 = refusedResume(model, new SacTrainer.Config(adapter, spec, 1, 5, 2, 2, 1e-2f,
                    1e-2f, 2, Duration.ofMinutes(5), Duration.ofHours(1), true));
            assertTrue(stage1.getMessage().contains("--stage1-steps 1 (now 5)"), stage1.getMessage());
            assertArrayEquals(adapterBytes, Files.readAllBytes(adapter.resolve("sac.safetensors")), "refused before any write");

            // a save cut between its two renames: the previous checkpoint is there to resume from
            Path ckpt = adapter.resolve("checkpoint");
            Files.move(ckpt, adapter.resolve("checkpoint.previous"));
            List<TrainingListener.Step> none2 = new ArrayList<>();
            new SacTrainer(config(adapter, spec, 3, true), none2::add).describingData(Map.of("--data", "data-x"))
                    .train(model, new Fixed(), new long[] {0, 5, 6});
            assertEquals(List.of(), none2, "resumed at its end from the previous checkpoint");
            assertTrue(Files.exists(ckpt.resolve(Checkpoints.STATE)) && !Files.exists(adapter.resolve("checkpoint.previous")));
        }
    }

    /** The refusal of a resume with {@code config} on data-x. */
    private static IllegalArgumentException refusedResume(Transformer model, SacTrainer.Config config) {
        return assertThrows(IllegalArgumentException.class, () -> new SacTrainer(config, s -> { })
                .describingData(Map.of("--data", "data-x")).train(model, new Fixed(), new long[] {0, 5, 6}));
    }

    /** A checkpoint of a build that did not record --stage1-steps and --warmup is resumed, not refused for them. */
    @Test
    void aCheckpointWithoutTheStageOneStepsInItsRecipeIsStillResumed() throws Exception {
        Path base = tinyBase();
        SacSpec spec = qv4("sac", 4);
        Path adapter = tmp.resolve("adapters/older");
        try (Transformer model = Transformer.load(base)) {
            new SacTrainer(config(adapter, spec, 3, false), s -> { }).train(model, new Fixed(), new long[] {0, 5, 6});
            Path state = adapter.resolve("checkpoint").resolve(Checkpoints.STATE);
            com.google.gson.JsonObject json = com.google.gson.JsonParser.parseString(Files.readString(state)).getAsJsonObject();
            json.getAsJsonObject("recipe").remove("--stage1-steps");
            json.getAsJsonObject("recipe").remove("--warmup");
            Files.writeString(state, json.toString());
            List<TrainingListener.Step> steps = new ArrayList<>();
            new SacTrainer(config(adapter, spec, 4, true), steps::add).train(model, new Fixed(), new long[] {0, 5, 6});
            assertEquals(1, steps.size(), "resumed for the one step added");
        }
    }

    private static SacTrainer.Config decaying(Path adapter, SacSpec spec, long stage2, boolean resume, boolean decay) {
        return new SacTrainer.Config(adapter, spec, 1, 0, stage2, 2, 1e-2f, 1e-2f, 2, Duration.ofMinutes(5),
                Duration.ofHours(1), resume, null, 0, decay);
    }

    /** The tiny training shape's random base, in tmp/base. */
    private Path tinyBase() throws java.io.IOException {
        Path base = tmp.resolve("base");
        RandomModelWriter.write(TinyTraining.CONFIG, base, new RandomModelWriter.Options(3, 0.1f, Safetensors.DType.F32, 1));
        return base;
    }

    /** A 4x adapter with LoRA rank {@code rank} on q/v; sac-causal has a causal compressor. */
    private static SacSpec qv4(String variant, int rank) {
        return new SacSpec(SacSpec.FORMAT, variant, List.of(4), 16, "### Context:\n", "\n### Question:\n",
                "\n### Answer:\n", !variant.equals("sac-causal"), true, List.of("q_proj", "v_proj"), rank, 8f,
                AnchorPositions.count(16, 4), 512, "test");
    }

    /** A fresh run of {@code stage2} QA steps starting from the weights of {@code init}. */
    private static SacTrainer.Config fromInit(Path adapter, SacSpec spec, long stage2, Path init) {
        return new SacTrainer.Config(adapter, spec, 7, 0, stage2, 2, 1e-2f, 1e-2f, 2, Duration.ofMinutes(5),
                Duration.ofHours(1), false, init, 0);
    }

    private static SacTrainer.Config config(Path adapter, SacSpec spec, long steps, boolean resume) {
        return new SacTrainer.Config(adapter, spec, 1, 1, steps - 1, 2, 1e-2f, 1e-2f, 2,
                Duration.ofMinutes(5), Duration.ofHours(1), resume);
    }

    private static double mean(List<TrainingListener.Step> steps, int from, int to) {
        return steps.subList(from, to).stream().mapToDouble(TrainingListener.Step::loss).average().orElseThrow();
    }

    private static float maxAbs(FloatBuffer b) {
        float m = 0;
        while (b.hasRemaining()) {
            m = Math.max(m, Math.abs(b.get()));
        }
        return m;
    }
}
