package dev.sacrag.core.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.sacrag.core.model.LowRank;
import dev.sacrag.core.model.ModelConfig;
import dev.sacrag.core.model.Owned;
import dev.sacrag.core.model.Transformer;
import dev.sacrag.core.sac.SacAdapter;
import dev.sacrag.core.sac.SacSpec;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;

/**
 * Trains a SAC adapter on a frozen base model with the paper's two stages (no autoencoding):
 * stage 1 continuation LM (compress the first half of a text, predict the second half),
 * stage 2 QA with loss on the answer and EOS only, on composed inputs of 1-4 documents.
 * Trainable: LoRA on the compressor (sac.json loraTargets; the paper: q/v), the anchor table
 * and the [LM] token.
 */
public final class SacTrainer {

    /**
     * Stage lengths in steps; {@code batch} examples per step (gradients accumulate).
     * {@code init}: an adapter folder whose weights a fresh run starts from (fresh optimiser
     * state; ignored when resuming a checkpoint), null for the paper's initialisation.
     * {@code continuationShare}: the share of stage-2 examples drawn as stage-1 continuation
     * examples instead of QA. The paper's stage 2 is QA only (0); a small base model trained
     * that way forgets continuation (its compressed-passage perplexity ends above the no-context
     * one), and mixing some in keeps it (see MODEL_CARD.md).
     * {@code decayStage2}: the stage-2 rate decays (cosine, to 10% of {@code lr2}) over
     * {@code stage2Steps} instead of staying constant as in the paper. For a last run of known
     * length from a trained adapter: a run cut short by its time budget at a constant rate ends
     * at the rate's noise level, and a decay lowers the loss it ends at.
     * {@code stopAt}: end this run after that step (and its checkpoint), the schedule still spanning
     * the stage steps (0: run them all); a later run may resume or start from it with another schedule.
     */
    public record Config(Path adapterDir, SacSpec spec, long seed, long stage1Steps, long stage2Steps, int batch,
                         float lr1, float lr2, int warmup, Duration timeBudget, Duration checkpointEvery,
                         boolean resume, Path init, double continuationShare, boolean decayStage2, long stopAt) {
        public Config {
            if (!(continuationShare >= 0 && continuationShare <= 1)) {
                throw new IllegalArgumentException("continuation share must be in [0, 1], got " + continuationShare);
            }
            if (stopAt < 0) {
                throw new IllegalArgumentException("stop-at step must be 0 (none) or positive, got " + stopAt);
            }
        }

        /** Every step of the stages. */
        public Config(Path adapterDir, SacSpec spec, long seed, long stage1Steps, long stage2Steps, int batch,
                      float lr1, float lr2, int warmup, Duration timeBudget, Duration checkpointEvery,
                      boolean resume, Path init, double continuationShare, boolean decayStage2) {
            this(adapterDir, spec, seed, stage1Steps, stage2Steps, batch, lr1, lr2, warmup, timeBudget,
                    checkpointEvery, resume, init, continuationShare, decayStage2, 0);
        }

        /** Constant rates after warm-up, as the paper. */
        public Config(Path adapterDir, SacSpec spec, long seed, long stage1Steps, long stage2Steps, int batch,
                      float lr1, float lr2, int warmup, Duration timeBudget, Duration checkpointEvery,
                      boolean resume, Path init, double continuationShare) {
            this(adapterDir, spec, seed, stage1Steps, stage2Steps, batch, lr1, lr2, warmup, timeBudget,
                    checkpointEvery, resume, init, continuationShare, false);
        }

        /** The paper's recipe: a fresh adapter, QA only in stage 2. */
        public Config(Path adapterDir, SacSpec spec, long seed, long stage1Steps, long stage2Steps, int batch,
                      float lr1, float lr2, int warmup, Duration timeBudget, Duration checkpointEvery, boolean resume) {
            this(adapterDir, spec, seed, stage1Steps, stage2Steps, batch, lr1, lr2, warmup, timeBudget,
                    checkpointEvery, resume, null, 0);
        }
    }

    /** Where examples come from; {@code step} seeds every draw, so runs are reproducible. */
    public interface Examples {
        /** Stage 1: a text to split into a compressed first half and a predicted second half. */
        long[] continuation(Random rnd);

        /** Stage 2: documents (each the compressor's full input), the decoder prompt, and the answer + EOS. */
        QaExample qa(Random rnd);
    }

    /**
     * Composed documents and the questions asked against them, each {decoder prompt, answer +
     * EOS}. Every question is decoded against the same compressed documents in one batch: the
     * compressor pass is the expensive part of a step, and each extra question adds answer
     * tokens to learn from at the cost of a short decoder row.
     */
    public record QaExample(List<long[]> documents, List<long[][]> questions) {
        public QaExample(List<long[]> documents, long[] questionPrompt, long[] answer) {
            this(documents, List.<long[][]>of(new long[][] {questionPrompt, answer}));
        }
    }

    private final Config c;
    private final TrainingListener listener;

    public SacTrainer(Config config, TrainingListener listener) {
        this.c = config;
        this.listener = listener;
    }

    public void train(Transformer base, Examples examples, long[] contextPrefix) throws IOException {
        train(base, examples, contextPrefix, null);
    }

    /**
     * As {@link #train(Transformer, Examples, long[])}; {@code alsoAnchor} marks the tokens of a compressor input
     * that are anchors besides the uniform ones (EXPERIMENT, the {@link SacSpec#NAMES_VARIANT} variant: e.g.
     * {@code CapitalisedWords.marker}); null for every other variant.
     */
    public void train(Transformer base, Examples examples, long[] contextPrefix,
                      java.util.function.Function<long[], boolean[]> alsoAnchor) throws IOException {
        AnchorGraph.requireMarksFor(c.spec(), alsoAnchor);   // before anything is read or written
        ModelConfig mc = base.config();
        // the LoRA, its AdamW moments and the gradients go when training ends or fails, not with the base
        try (NDManager m = base.manager().newSubManager()) {
            Map<String, NDArray> params = new LinkedHashMap<>();
            LowRank lora = initLora(mc, m, params);
            NDArray table = fromEmbeddingStats(base, m, new Shape(c.spec().anchorSlots(), mc.hiddenSize()), 1);
            NDArray lm = fromEmbeddingStats(base, m, new Shape(mc.hiddenSize()), 2);
            params.put("anchor_embedding", table);
            params.put("lm_token", lm);
            AdamW adam = new AdamW(params, AdamW.Settings.paper(), m, java.util.Set.of("anchor_embedding", "lm_token"));
            Path ckpt = c.adapterDir().resolve("checkpoint");
            long step = 0;
            double before = 0;
            if (c.resume() && !Checkpoints.exists(ckpt)) {
                // a finished adapter keeps no checkpoint: starting over would overwrite it
                throw new IllegalArgumentException("--resume: " + c.adapterDir() + " holds no checkpoint to resume"
                        + " (a package's adapters come without theirs); starting over would overwrite it. To go on from"
                        + " its weights, train with --init " + c.adapterDir() + " into another --name");
            }
            if (c.resume()) {
                refuseOtherShape(SacSpec.load(c.adapterDir()));
                Checkpoints.State saved = Checkpoints.state(ckpt);
                Map<String, String> now = recipe();
                if (saved.recipe() != null) {   // a checkpoint of a build before these were recorded: no claim about them
                    NOT_IN_OLDER_RECIPES.stream().filter(k -> !saved.recipe().containsKey(k)).forEach(now::remove);
                }
                Checkpoints.requireSameRecipe(c.adapterDir(), saved, now, "train into another --name");
                Checkpoints.State s = Checkpoints.load(ckpt, params, adam);
                if (s.schedule() != null && !s.schedule().equals(schedule())) {
                    throw new IllegalArgumentException(c.adapterDir() + "'s checkpoint was trained with the stage-2 rate "
                            + s.schedule() + "; this run asks for " + schedule() + ". Resume with the same --lr2-decay and"
                            + " --stage2-steps, or train into another --name.");
                }
                step = s.step();
                before = s.elapsedSeconds();
                listener.onMessage("resumed SAC training at step " + step
                        + (c.init() != null ? " (--init is ignored: the checkpoint holds the weights)" : ""));
            } else if (c.init() != null) {
                initFrom(c.init(), params);
            }
            AnchorGraph graph = new AnchorGraph(base, c.spec(), lora, table, lm, alsoAnchor);
            long total = c.stage1Steps() + c.stage2Steps();
            long start = System.nanoTime();
            long lastSave = start;
            long startStep = step;
            long end = c.stopAt() > 0 ? Math.min(total, c.stopAt()) : total;
            while (step < end) {
                double now = (System.nanoTime() - start) / 1e9;
                if (before + now > c.timeBudget().toSeconds()) {
                    listener.onMessage("time budget reached at step " + step);
                    break;
                }
                boolean stage1 = step < c.stage1Steps();
                long stageStep = stage1 ? step : step - c.stage1Steps();
                float lr = stage1 ? new Schedule(c.lr1(), c.warmup(), 0, false).at(stageStep)
                        : new Schedule(c.lr2(), c.warmup(), c.stage2Steps(), c.decayStage2()).at(stageStep);
                Random rnd = StepRandom.of(c.seed(), step);
                int ratio = c.spec().ratios().get(rnd.nextInt(c.spec().ratios().size())); // one ratio per batch
                double loss = 0;
                int kept = 0;
                for (int i = 0; i < c.batch(); i++) {
                    // a share of 0 draws nothing extra, so the paper's recipe draws the same examples as before
                    boolean cont = stage1 || c.continuationShare() > 0 && rnd.nextDouble() < c.continuationShare();
                    double l = cont ? continuation(graph, examples.continuation(rnd), contextPrefix, ratio)
                            : qa(graph, examples.qa(rnd), ratio);
                    if (!Double.isNaN(l)) {   // NaN: the example was left out (see step)
                        loss += l;
                        kept++;
                    }
                }
                loss = kept == 0 ? Double.NaN : loss / kept;
                if (kept == 0) {
                    listener.onMessage("step " + (step + 1) + ": every example was left out, no update");
                } else if (!Float.isFinite(adam.step(lr))) {
                    listener.onMessage("step " + (step + 1) + ": " + adam.skipReason());
                }
                step++;
                now = (System.nanoTime() - start) / 1e9;
                listener.onStep(new TrainingListener.Step(stage1 ? "sac-1" : "sac-2", step, total, loss,
                        tokensSeen / Math.max(now, 1e-9), before + now,
                        Math.min((total - step) * now / (step - startStep), c.timeBudget().toSeconds() - before - now), lr));
                if (System.nanoTime() - lastSave > c.checkpointEvery().toNanos()) {
                    save(params, adam, lora, table, lm, ckpt, step, before + now);
                    lastSave = System.nanoTime();
                }
            }
            save(params, adam, lora, table, lm, ckpt, step, before + (System.nanoTime() - start) / 1e9);
            if (end < total && step == end) {
                listener.onMessage("stopped at step " + step + " of " + total + " (stop-at step)");
            }
            listener.onMessage("adapter written to " + c.adapterDir() + " after " + step + " steps");
        }
    }

    /**
     * Copies another adapter's trained weights into this run's parameters: to go on training an
     * adapter whose checkpoint is gone (e.g. one trained on a GPU machine), or with another
     * recipe. The shapes must match what this run trains; the adapter's tensors carry the names
     * of this run's parameters.
     */
    private void initFrom(Path dir, Map<String, NDArray> params) throws IOException {
        SacSpec saved = SacSpec.load(dir);
        SacSpec now = c.spec();
        if (!saved.loraTargets().equals(now.loraTargets()) || saved.loraRank() != now.loraRank()
                || saved.loraAlpha() != now.loraAlpha() || saved.anchorSlots() != now.anchorSlots()) {
            throw new IllegalArgumentException(String.format(
                    "--init %s has LoRA rank %d (alpha %s) on %s and %d anchor slots; this run trains rank %d "
                            + "(alpha %s) on %s and %d slots", dir, saved.loraRank(), saved.loraAlpha(),
                    saved.loraTargets(), saved.anchorSlots(), now.loraRank(), now.loraAlpha(), now.loraTargets(),
                    now.anchorSlots()));
        }
        // the same shapes would load, but into another function: another base's adapter, or another variant's
        if (!saved.baseModel().equals(now.baseModel())) {
            throw new IllegalArgumentException("--init " + dir + " was trained on another base model (fingerprint "
                    + saved.baseModel() + ", this base: " + now.baseModel() + ")");
        }
        // a sac adapter may start the names experiment: the same function, trained on more anchors from there
        boolean namesFromSac = saved.variant().equals("sac") && now.keepsCapitalisedWords();
        if (!saved.variant().equals(now.variant()) && !namesFromSac) {
            throw new IllegalArgumentException("--init " + dir + " is a " + saved.variant() + " adapter; this run trains "
                    + now.variant() + " (--variant)");
        }
        Checkpoints.loadWeights(dir.resolve(SacAdapter.WEIGHTS_FILE), params);
        listener.onMessage("started from the weights of " + dir);
    }

    /** The stage-2 schedule, as a checkpoint records it: a decay is fixed by its length, a constant rate is not. */
    /**
     * The data the examples come from, by the flags that choose it (file, contexts, shares): part
     * of the recipe a resume must keep. Set before {@link #train}.
     */
    public SacTrainer describingData(Map<String, String> data) {
        this.data = Map.copyOf(data);
        return this;
    }

    private Map<String, String> data = Map.of();

    /** Recipe entries older checkpoints lack: a resume of one of those is not refused for them. */
    private static final java.util.Set<String> NOT_IN_OLDER_RECIPES = java.util.Set.of("--stage1-steps", "--warmup");

    /** What a resume must keep, by flag (the schedule is checked on its own, with its own message). */
    private Map<String, String> recipe() {
        Map<String, String> r = new java.util.TreeMap<>(data);
        r.put("--seed", Long.toString(c.seed()));
        // a resume with other stage-1 steps could go back to stage 1; other warm-up steps, another stage-2 rate
        r.put("--stage1-steps", Long.toString(c.stage1Steps()));
        r.put("--warmup", Integer.toString(c.warmup()));
        r.put("--ratio", c.spec().ratios().toString());
        r.put("--batch", Integer.toString(c.batch()));
        r.put("--lr1", Float.toString(c.lr1()));
        r.put("--lr2", Float.toString(c.lr2()));
        r.put("--continuation-share", Double.toString(c.continuationShare()));
        r.put("--answer-prompt", c.spec().answerPrompt());
        r.put("base model", String.valueOf(c.spec().baseModel()));
        return r;
    }

    private String schedule() {
        return c.decayStage2() ? "decaying over " + c.stage2Steps() + " steps" : "constant";
    }

    /**
     * A resume must train the same parameters it saved: a checkpoint read into fewer LoRA
     * targets would drop the others' factors without a word, and the next save would write
     * the smaller adapter over the trained one.
     */
    private void refuseOtherShape(SacSpec saved) {
        SacSpec now = c.spec();
        if (!saved.loraTargets().equals(now.loraTargets()) || saved.loraRank() != now.loraRank()
                || !saved.variant().equals(now.variant())) {
            throw new IllegalArgumentException(String.format(
                    "%s was trained as variant %s, LoRA rank %d on %s; this run asks for %s, rank %d on %s. "
                            + "Resume with the same --variant, --rank and --lora-targets, or train into another --name.",
                    c.adapterDir(), saved.variant(), saved.loraRank(), saved.loraTargets(), now.variant(),
                    now.loraRank(), now.loraTargets()));
        }
    }

    private void save(Map<String, NDArray> params, AdamW adam, LowRank lora, NDArray table, NDArray lm, Path ckpt,
                      long step, double elapsed) throws IOException {
        Checkpoints.save(ckpt, params, adam, new Checkpoints.State(step, 0, elapsed, c.seed(), "sac", schedule(), recipe()));
        SacAdapter.save(c.adapterDir(), c.spec(), lora, table, lm);
    }

    /** Stage 1: compress BOS + prompt + first half; predict the second half (at most 256 tokens). */
    private double continuation(AnchorGraph g, long[] text, long[] prefix, int ratio) {
        int half = text.length / 2;
        long[] ctx = new long[prefix.length + half];
        System.arraycopy(prefix, 0, ctx, 0, prefix.length);
        System.arraycopy(text, 0, ctx, prefix.length, half);
        long[] target = java.util.Arrays.copyOfRange(text, half, Math.min(text.length, half + 256));
        long[] input = java.util.Arrays.copyOf(target, target.length - 1); // [LM] predicts target[0]
        float[] w = new float[target.length];
        java.util.Arrays.fill(w, 1f);
        return step(g, List.of(ctx), input, target, w, ratio);
    }

    /** Stage 2: loss on the answer tokens and EOS only, averaged over every question's answer tokens. */
    private double qa(AnchorGraph g, QaExample ex, int ratio) {
        QaRows rows = QaRows.of(ex.questions());
        return step(g, ex.documents(), rows.inputs(), rows.targets(), rows.weights(), ratio);
    }

    /**
     * Stage 2's decoder rows for {prompt, answer + EOS} pairs: input = prompt + answer without
     * its last token (after [LM]); row position i predicts targets[i]; weight 1 on the answer
     * and EOS only. Rows are right-padded to the widest (padding has weight 0).
     */
    record QaRows(List<long[]> inputs, long[][] targets, float[][] weights) {
        static QaRows of(List<long[][]> questions) {
            int n = questions.size();
            int width = questions.stream().mapToInt(x -> x[0].length + x[1].length).max().orElseThrow();
            List<long[]> inputs = new ArrayList<>();
            long[][] targets = new long[n][width];
            float[][] weights = new float[n][width];
            for (int r = 0; r < n; r++) {
                long[] q = questions.get(r)[0];
                long[] a = questions.get(r)[1];
                long[] input = new long[q.length + a.length - 1];
                System.arraycopy(q, 0, input, 0, q.length);
                System.arraycopy(a, 0, input, q.length, a.length - 1);
                inputs.add(input);
                System.arraycopy(q, 0, targets[r], 0, q.length);  // [LM] predicts q[0] ... (not counted)
                System.arraycopy(a, 0, targets[r], q.length, a.length);
                java.util.Arrays.fill(weights[r], q.length, q.length + a.length, 1f);
            }
            return new QaRows(inputs, targets, weights);
        }
    }

    /** Compressed plus decoded tokens this run (for the tokens/s shown in progress). */
    private long tokensSeen;

    private double step(AnchorGraph g, List<long[]> docs, long[] decoderInput, long[] target, float[] w, int ratio) {
        return step(g, docs, List.of(decoderInput), new long[][] {target}, new float[][] {w}, ratio);
    }

    private double step(AnchorGraph g, List<long[]> docs, List<long[]> decoderInputs, long[][] targets,
                        float[][] weights, int ratio) {
        tokensSeen += decoderInputs.stream().mapToLong(x -> x.length + 1).sum() + docs.stream().mapToLong(d -> d.length).sum();
        try (NDScope scope = new NDScope(); GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray loss = loss(g, docs, decoderInputs, targets, weights, ratio);
            float value = loss.getFloat();
            if (!Float.isFinite(value)) {
                // One bad example must not end a run: report it (enough to find it again) and leave it out.
                listener.onMessage(String.format("non-finite loss on an example at %dx (documents of %s tokens, "
                        + "%d decoder input(s)); left out of the step", ratio,
                        docs.stream().map(d -> d.length).toList(), decoderInputs.size()));
                return Double.NaN;
            }
            gc.backward(Owned.div(loss, c.batch()));
            return value;
        }
    }

    /**
     * One example's loss: compress each document, compose them by RoPE shift, decode the rows
     * teacher-forced ([LM] + input each) and average -log p over the weighted targets.
     */
    static NDArray loss(AnchorGraph g, List<long[]> docs, List<long[]> decoderInputs, long[][] targets,
                        float[][] weights, int ratio) {
        List<NDArray[][]> kv = new ArrayList<>();
        List<Integer> lengths = new ArrayList<>();
        for (long[] d : docs) {
            kv.add(g.compress(d, ratio));
            lengths.add(d.length);
        }
        AnchorGraph.Context ctx = g.compose(kv, lengths);
        NDArray logits = decoderInputs.size() == 1 ? g.decode(ctx, decoderInputs.get(0))
                : g.decodeBatch(ctx, decoderInputs);
        return Losses.crossEntropy(logits, targets, weights);
    }

    /** LoRA as the paper: A kaiming-uniform, B zeros, so training starts from the base model. */
    private LowRank initLora(ModelConfig mc, NDManager m, Map<String, NDArray> params) {
        SplittableRandom rnd = new SplittableRandom(c.seed());
        int r = c.spec().loraRank();
        return LowRank.build(mc.layers(), c.spec().targets(), c.spec().loraScale(), (i, t) -> {
            NDArray a = uniform(m, rnd, (float) Math.sqrt(1.0 / t.in(mc)), r, t.in(mc)); // kaiming_uniform(a=sqrt(5))
            NDArray b = m.zeros(new Shape(t.out(mc), r));
            params.put(SacAdapter.tensorName(i, t) + "lora_A", a);
            params.put(SacAdapter.tensorName(i, t) + "lora_B", b);
            return new LowRank.Pair(a, b);
        });
    }

    private static NDArray uniform(NDManager m, SplittableRandom rnd, float bound, int rows, int cols) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rnd.nextDouble(-bound, bound);
        }
        return m.create(v, new Shape(rows, cols));
    }

    /** N(mean, std) of the word embeddings, as the paper initialises the anchor table and [LM]. */
    private NDArray fromEmbeddingStats(Transformer base, NDManager m, Shape shape, long salt) {
        float[] emb = base.weights().embedding().toFloatArray();
        double mean = 0;
        for (float x : emb) {
            mean += x;
        }
        mean /= emb.length;
        double var = 0;
        for (float x : emb) {
            var += (x - mean) * (x - mean);
        }
        double std = Math.sqrt(var / emb.length);
        SplittableRandom rnd = new SplittableRandom(c.seed() * 31 + salt);
        float[] v = new float[(int) shape.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (mean + std * BaseTrainer.gaussian(rnd));
        }
        return m.create(v, shape);
    }
}
