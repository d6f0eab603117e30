package dev.sacrag.core.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.sacrag.core.io.AtomicFiles;
import dev.sacrag.core.model.KvCache;
import dev.sacrag.core.model.ModelConfig;
import dev.sacrag.core.model.Safetensors;
import dev.sacrag.core.model.Transformer;
import dev.sacrag.core.model.Weights;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Trains a small Llama-architecture base model from scratch with DJL autograd: next-token
 * loss on a mixture of QA prompts (full context in the prompt, answer tokens weighted up)
 * and plain text. Deterministic for a seed (batch i is drawn from a generator seeded by
 * (seed, i)), resumable from the last checkpoint, and bounded by a time budget.
 */
public final class BaseTrainer {
    /** Longer training samples are left out (and counted in the log). */
    public static final int MAX_SAMPLE_TOKENS = LengthBuckets.MAX_LENGTH;

    /**
     * {@code initFrom}: optional safetensors file of weights to start from (a second phase on
     * new data with a fresh optimiser and schedule); ignored when resuming. {@code stopAt}: end
     * this run after that step (0 = run to {@code steps}), keeping the schedule of {@code steps}.
     */
    public record Config(Path out, ModelConfig model, long seed, long steps, Duration timeBudget,
                         int batchTokens, float peakLr, int warmup, double qaShare, Duration checkpointEvery,
                         boolean resume, Path initFrom, long stopAt) { }

    private final Config c;
    private final TrainingListener listener;

    public BaseTrainer(Config config, TrainingListener listener) {
        this.c = config;
        this.listener = listener;
    }

    private Map<String, String> data = Map.of();
    private Map<String, String> beside = Map.of();

    /**
     * The data the samples come from, by the flags that choose it: part of the recipe a resume
     * must keep (with the model's shape, the seed and the rates; not --steps, which a resume may
     * stretch). Set before {@link #train}.
     */
    public BaseTrainer describingData(Map<String, String> data) {
        this.data = Map.copyOf(data);
        return this;
    }

    /**
     * Small text files the exported folder holds beside the model (name -> content), written with
     * it and before its config.json, so a folder with a config has them too. Set before {@link #train}.
     */
    public BaseTrainer writingBeside(Map<String, String> files) {
        this.beside = Map.copyOf(files);
        return this;
    }

    private Map<String, String> recipe() {
        Map<String, String> r = new java.util.TreeMap<>(data);
        ModelConfig m = c.model();
        r.put("model shape", m.layers() + " layers, hidden " + m.hiddenSize() + ", " + m.heads() + " heads, "
                + m.kvHeads() + " KV heads, MLP " + m.intermediateSize() + ", vocabulary " + m.vocabSize());
        r.put("--seed", Long.toString(c.seed()));
        r.put("--batch-tokens", Integer.toString(c.batchTokens()));
        r.put("--lr", Float.toString(c.peakLr()));
        r.put("--warmup", Integer.toString(c.warmup()));
        r.put("--qa-share", Double.toString(c.qaShare()));
        return r;
    }

    /** Held-out samples scored every {@code every} steps (see {@link Validation}); none when empty. */
    public record Validation(List<TokenSample> samples, int every) {
        public static Validation none() {
            return new Validation(List.of(), 0);
        }
    }

    /** Trains, checkpoints, and writes {@code out/base} (config, weights); returns the steps done. */
    public long train(List<TokenSample> qa, List<TokenSample> text, Path tokenizerJson) throws IOException {
        return train(qa, text, tokenizerJson, Validation.none());
    }

    /**
     * As {@link #train(List, List, Path)}, scoring {@code validation} every so many steps and at
     * the end: the answer loss and the share of answers whose every token is the argmax.
     */
    public long train(List<TokenSample> qa, List<TokenSample> text, Path tokenizerJson, Validation validation)
            throws IOException {
        LengthBuckets qaBuckets = new LengthBuckets(qa, c.model().maxPositions());
        LengthBuckets textBuckets = new LengthBuckets(text, c.model().maxPositions());
        if (qaBuckets.dropped() + textBuckets.dropped() > 0) {
            listener.onMessage(String.format("left out for their length: %,d QA and %,d text samples (longest kept: %d tokens)",
                    qaBuckets.dropped(), textBuckets.dropped(), Math.min(LengthBuckets.MAX_LENGTH, c.model().maxPositions())));
        }
        listener.onMessage(String.format("base training data: %,d QA tokens, %,d text tokens",
                qaBuckets.totalTokens(), textBuckets.totalTokens()));
        Path ckpt = c.out().resolve("train").resolve("checkpoint");
        try (NDManager manager = NDManager.newBaseManager()) {
            Map<String, NDArray> params = new LinkedHashMap<>();
            Weights w = Weights.build(c.model(), init(manager, params), c.model().tieWordEmbeddings());
            Transformer model = Transformer.of(c.model(), w, manager);
            Set<String> noDecay = new HashSet<>();
            params.keySet().stream().filter(n -> n.endsWith("norm.weight")).forEach(noDecay::add);
            AdamW adam = new AdamW(params, AdamW.Settings.paper(), manager, noDecay);
            long step = 0;
            long tokens = 0;
            double elapsedBefore = 0;
            if (c.resume() && !Checkpoints.exists(ckpt)) {
                throw new IllegalArgumentException("--resume: " + ckpt + " holds no checkpoint (a finished run keeps its"
                        + " last one; this folder has none): leave out --resume to start a run, or --init-from to start"
                        + " from a model's weights");
            }
            if (c.resume()) {
                Checkpoints.requireSameRecipe(c.out(), Checkpoints.state(ckpt), recipe(), "train into another --out");
                Checkpoints.State s = Checkpoints.load(ckpt, params, adam);
                step = s.step();
                tokens = s.tokens();
                elapsedBefore = s.elapsedSeconds();
                listener.onMessage("resumed base training at step " + step
                        + (c.initFrom() != null ? " (--init-from is ignored: the checkpoint holds the weights)" : ""));
            } else if (c.initFrom() != null) {
                Checkpoints.loadWeights(c.initFrom(), params);
                listener.onMessage("starting from the weights in " + c.initFrom());
            }
            Schedule lr = new Schedule(c.peakLr(), c.warmup(), c.steps(), true);
            long start = System.nanoTime();
            long lastSave = start;
            long tokensAtStart = tokens;
            long stepAtStart = step;
            long end = c.stopAt() > 0 ? Math.min(c.steps(), c.stopAt()) : c.steps();
            while (step < end) {
                double elapsed = elapsedBefore + (System.nanoTime() - start) / 1e9;
                if (elapsed > c.timeBudget().toSeconds()) {
                    listener.onMessage("time budget reached at step " + step);
                    break;
                }
                Random rnd = StepRandom.of(c.seed(), step);
                LengthBuckets source = rnd.nextDouble() < c.qaShare() ? qaBuckets : textBuckets;
                Batch batch = Batch.of(source.draw(rnd, c.batchTokens()), 2);
                double loss = trainStep(model, batch);
                if (!Float.isFinite(adam.step(lr.at(step)))) {
                    listener.onMessage("step " + (step + 1) + ": " + adam.skipReason());
                }
                step++;
                tokens += batch.tokens();
                double now = (System.nanoTime() - start) / 1e9;
                double tps = (tokens - tokensAtStart) / Math.max(now, 1e-9);
                double eta = Math.min((c.steps() - step) * now / (step - stepAtStart),
                        c.timeBudget().toSeconds() - elapsedBefore - now);
                listener.onStep(new TrainingListener.Step("base", step, c.steps(), loss, tps, elapsedBefore + now,
                        eta, lr.at(step)));
                if (validation.every() > 0 && step % validation.every() == 0) {
                    report(model, validation, step);
                }
                if (System.nanoTime() - lastSave > c.checkpointEvery().toNanos()) {
                    Checkpoints.save(ckpt, params, adam, new Checkpoints.State(step, tokens, elapsedBefore + now, c.seed(), "base",
                            null, recipe()));
                    lastSave = System.nanoTime();
                }
            }
            double total = elapsedBefore + (System.nanoTime() - start) / 1e9;
            Checkpoints.save(ckpt, params, adam, new Checkpoints.State(step, tokens, total, c.seed(), "base", null, recipe()));
            boolean scoredThisStep = validation.every() > 0 && step % validation.every() == 0 && step > stepAtStart;
            if (!validation.samples().isEmpty() && !scoredThisStep) {
                report(model, validation, step);
            }
            export(c.out().resolve("base"), params, tokenizerJson);
            listener.onMessage(String.format("base model written to %s (%d steps, %,d tokens, %.1f min)",
                    c.out().resolve("base"), step, tokens, total / 60));
            return step;
        }
    }

    private double trainStep(Transformer model, Batch batch) {
        try (NDScope scope = new NDScope();
             GradientCollector gc = Engine.getInstance().newGradientCollector();
             KvCache cache = new KvCache(model.manager(), model.config().layers())) {
            NDArray logits = batch.logits(model, cache);
            NDArray loss = Losses.crossEntropy(logits, batch.targets(), batch.weights());
            gc.backward(loss);
            return loss.getFloat();
        }
    }

    private void report(Transformer model, Validation v, long step) {
        listener.onValidation(step, Validator.score(model, v.samples()));
    }

    /** GPT-2 style init: N(0, 0.02), residual projections scaled by 1/sqrt(2 L), norms 1. */
    private Weights.Source init(NDManager m, Map<String, NDArray> params) {
        SplittableRandom root = new SplittableRandom(c.seed());
        double residual = 0.02 / Math.sqrt(2.0 * c.model().layers());
        return (name, shape) -> {
            SplittableRandom rnd = root.split();
            int n = 1;
            for (long d : shape) {
                n *= (int) d;
            }
            float[] v = new float[n];
            boolean norm = name.endsWith("norm.weight");
            double std = name.endsWith("o_proj.weight") || name.endsWith("down_proj.weight") ? residual : 0.02;
            for (int i = 0; i < n; i++) {
                v[i] = norm ? 1f : (float) (gaussian(rnd) * std);
            }
            NDArray a = m.create(v, new Shape(shape));
            params.put(name, a);
            return a;
        };
    }

    /** A standard normal draw (Box-Muller), so initialisation depends only on the seed. */
    static double gaussian(SplittableRandom r) {
        double u = Math.max(r.nextDouble(), 1e-12);
        return StrictMath.sqrt(-2 * StrictMath.log(u)) * StrictMath.cos(2 * Math.PI * r.nextDouble());
    }

    /**
     * Writes a Hugging Face style folder: model.safetensors (f32), tokenizer.json, the files set by
     * {@link #writingBeside}, then config.json, each through a temporary file, config last (a crash
     * part way leaves the earlier config, not new weights beside a half-copied tokenizer).
     */
    void export(Path dir, Map<String, NDArray> params, Path tokenizerJson) throws IOException {
        Files.createDirectories(dir);
        Map<String, Safetensors.Tensor> t = new LinkedHashMap<>();
        params.forEach((name, a) -> t.put(name,
                new Safetensors.Tensor(a.toFloatArray(), a.getShape().getShape(), Safetensors.DType.F32)));
        Safetensors.write(dir.resolve("model.safetensors"), t);
        AtomicFiles.write(dir.resolve("tokenizer.json"),
                tmp -> Files.copy(tokenizerJson, tmp, java.nio.file.StandardCopyOption.REPLACE_EXISTING));
        for (Map.Entry<String, String> f : beside.entrySet()) {
            AtomicFiles.writeString(dir.resolve(f.getKey()), f.getValue());
        }
        AtomicFiles.writeString(dir.resolve("config.json"), c.model().toJson());
    }
}
