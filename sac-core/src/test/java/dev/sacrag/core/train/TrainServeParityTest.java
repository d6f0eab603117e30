package dev.sacrag.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import dev.sacrag.core.kv.AnchorKv;
import dev.sacrag.core.sac.Fingerprints;
import dev.sacrag.core.model.Masks;
import dev.sacrag.core.model.ModelConfig;
import dev.sacrag.core.model.TestModels;
import dev.sacrag.core.model.Transformer;
import dev.sacrag.core.sac.AnchorPositions;
import dev.sacrag.core.sac.SacAdapter;
import dev.sacrag.core.sac.SacDecoder;
import dev.sacrag.core.sac.SacEngine;
import dev.sacrag.core.sac.SacSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * No train/serve skew: the graph SAC training differentiates (AnchorGraph: compress each
 * document with LoRA and anchor embeddings, compose by RoPE shift, decode [LM] + question)
 * gives the same logits as the serving path (SacEngine: merged LoRA, batched chunks, anchor KV
 * records, SacDecoder) for the same adapter, documents and question.
 */
class TrainServeParityTest {
    @TempDir
    Path tmp;

    @Test
    void trainingGraphAndServingEngineGiveTheSameLogits() throws Exception {
        List<String> paper = List.of("q_proj", "v_proj");
        List<String> everyLinear = List.of("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj");
        record Case(boolean bidirectional, List<String> targets) { }
        for (Case k : List.of(new Case(true, paper), new Case(false, paper), new Case(true, everyLinear))) {
            boolean bidirectional = k.bidirectional();
            ModelConfig c = TestModels.tiny(ModelConfig.Architecture.LLAMA);
            Path base = TestModels.write(c, tmp.resolve("base"), 4);
            // 16-token chunks, so the documents below span several chunks and end in a short one
            SacSpec spec = new SacSpec(SacSpec.FORMAT, bidirectional ? "sac" : "sac-causal", List.of(4), 16,
                    "### Context:\n", "\n### Question:\n", "\n### Answer:", bidirectional, true,
                    k.targets(), 4, 8f, AnchorPositions.count(16, 4), 512, Fingerprints.baseModel(base));
            Path adapterDir = tmp.resolve("adapter-" + bidirectional + "-" + k.targets().size());
            SacAdapter.writeRandom(adapterDir, spec, c, 9);
            try (SacEngine engine = SacEngine.load(base, adapterDir); NDScope scope = new NDScope()) {
                String[] texts = {"Mara Olen lives in Tessby and was born in 1984, people say.",
                        "The harbour of Quillon was paved in 1911. Its mayor, Dov Arkel, works at Hemlock Foods."};
                long[] question = engine.decoder().questionTokens(engine, "Where does Mara Olen live?");

                SacDecoder decoder = engine.decoder();
                List<AnchorKv> kvs = List.of(engine.compress(texts[0], 4), engine.compress(texts[1], 4));
                NDArray served;
                try (SacDecoder.Composed composed = decoder.compose(kvs)) {
                    SacDecoder.LmPrompt p = decoder.lmPrompt(composed, question);
                    int past = composed.cache().length();
                    served = engine.base().forward(new Transformer.Input(p.embeds(), new int[][] {p.positions()},
                            Masks.causal(engine.base().manager(), p.positions().length, past), Transformer.Logits.ALL),
                            composed.cache());
                }

                SacAdapter a = engine.adapter();
                AnchorGraph g = new AnchorGraph(engine.base(), spec, a.lora(), a.anchorTable(), a.lmToken());
                long[] d0 = engine.contextTokens(texts[0]);
                long[] d1 = engine.contextTokens(texts[1]);
                assertTrue(d1.length > 2 * spec.chunkSize(), "the test needs multi-chunk documents");
                NDArray trained = g.decode(g.compose(List.of(g.compress(d0, 4), g.compress(d1, 4)),
                        List.of(d0.length, d1.length)), question);

                assertEquals(served.getShape(), trained.getShape());
                float[] x = served.toFloatArray();
                float[] y = trained.toFloatArray();
                double maxDiff = 0;
                double maxAbs = 0;
                for (int i = 0; i < x.length; i++) {
                    maxDiff = Math.max(maxDiff, Math.abs(x[i] - y[i]));
                    maxAbs = Math.max(maxAbs, Math.abs(x[i]));
                }
                assertTrue(maxDiff <= 1e-3 * Math.max(1, maxAbs),
                        spec.variant() + " " + k.targets() + ": serving and training logits differ by " + maxDiff + " (max |logit| " + maxAbs + ")");
            }
        }
    }

    /**
     * The names experiment trains what eval serves: with capitalised words' tokens as anchors too, the graph's
     * anchors (places and anchor-table rows) are those of {@code SacEngine.compressKeepingCapitalisedWords}.
     */
    @Test
    void namesLayoutTrainsTheAnchorsItServes() throws Exception {
        ModelConfig c = TestModels.tiny(ModelConfig.Architecture.LLAMA);
        Path base = TestModels.write(c, tmp.resolve("base-names"), 4);
        SacSpec spec = new SacSpec(SacSpec.FORMAT, SacSpec.NAMES_VARIANT, List.of(4), 16,
                "### Context:\n", "\n### Question:\n", "\n### Answer:", true, true,
                List.of("q_proj", "v_proj"), 4, 8f, AnchorPositions.count(16, 4), 512, Fingerprints.baseModel(base));
        Path adapterDir = tmp.resolve("adapter-names");
        SacAdapter.writeRandom(adapterDir, spec, c, 11);
        try (SacEngine engine = SacEngine.load(base, adapterDir); NDScope scope = new NDScope()) {
            String text = "The harbour of Quillon was paved in 1911. Its mayor, Dov Arkel, works at Hemlock Foods.";
            long[] tokens = engine.contextTokens(text);
            java.util.function.Function<long[], boolean[]> marks = dev.sacrag.core.sac.CapitalisedWords.marker(
                    engine.tokenizer(), engine.contextTokens("").length);
            AnchorKv served = engine.compressKeepingCapitalisedWords(text, 4);
            assertTrue(served.anchorCount() > AnchorPositions.total(tokens.length, 16, 4),
                    "the text's names must add anchors, or the test shows nothing");
            assertEquals(served.anchorCount(), engine.compress(text, 4).anchorCount(),
                    "a names adapter compresses with the anchors it was trained for");
            assertThrows(IllegalStateException.class, () -> engine.compressor().compress(tokens, 4, engine.modelId(4)),
                    "and never with uniform anchors alone");

            SacAdapter a = engine.adapter();
            AnchorGraph g = new AnchorGraph(engine.base(), spec, a.lora(), a.anchorTable(), a.lmToken(), marks);
            NDArray[][] kv = g.compress(tokens, 4);
            assertEquals(served.anchorCount(), kv[0][0].getShape().get(2));
            for (int l = 0; l < c.layers(); l++) {
                // trained [1, Hkv, N, D] against served [Hkv, N, D]
                float[] keys = kv[0][l].toFloatArray();
                float[] values = kv[1][l].toFloatArray();
                for (int i = 0; i < keys.length; i++) {
                    assertEquals(served.keys()[l][i], keys[i], 1e-3f, "layer " + l + " key " + i);
                    assertEquals(served.values()[l][i], values[i], 1e-3f, "layer " + l + " value " + i);
                }
            }
        }
    }

    @Test
    void questionsDecodedTogetherMatchOneAtATime() throws Exception {
        try (SacEngine engine = twoDocumentEngine("batch", 5); NDScope scope = new NDScope()) {
            AnchorGraph g = graph(engine);
            java.util.function.Supplier<AnchorGraph.Context> ctx = () -> twoDocuments(engine, g);
            List<long[]> inputs = List.of(engine.decoder().questionTokens(engine, "Where does Mara Olen live?"),
                    engine.decoder().questionTokens(engine, "When?"),
                    engine.decoder().questionTokens(engine, "Which year was the harbour of Quillon paved?"));
            NDArray together = g.decodeBatch(ctx.get(), inputs);                       // [3, 1 + max, V]
            long v = together.getShape().get(2);
            assertEquals(3, together.getShape().get(0));
            for (int q = 0; q < inputs.size(); q++) {
                float[] alone = g.decode(ctx.get(), inputs.get(q)).toFloatArray();     // [1, 1 + len, V]
                float[] row = together.get(q).toFloatArray();
                for (int i = 0; i < alone.length; i++) {
                    assertEquals(alone[i], row[i], 1e-4f, "question " + q + ", position " + i / v);
                }
            }
        }
    }

    @Test
    void questionsDecodedTogetherGiveTheGradientsOfOneAtATime() throws Exception {
        try (SacEngine engine = twoDocumentEngine("grad", 6); NDScope scope = new NDScope()) {
            SacAdapter a = engine.adapter();
            List<NDArray> params = new java.util.ArrayList<>(List.of(a.anchorTable(), a.lmToken()));
            a.lora().layers().forEach(l -> l.values().forEach(p -> params.addAll(List.of(p.a(), p.b()))));
            params.forEach(p -> p.setRequiresGradient(true));
            AnchorGraph g = graph(engine);
            java.util.function.Supplier<AnchorGraph.Context> ctx = () -> twoDocuments(engine, g);
            List<long[]> inputs = List.of(engine.decoder().questionTokens(engine, "Where does Mara Olen live?"),
                    engine.decoder().questionTokens(engine, "When was it paved?"));
            int width = 1 + inputs.stream().mapToInt(x -> x.length).max().orElseThrow();
            long[][] targets = new long[inputs.size()][width];
            float[][] weights = new float[inputs.size()][width];
            int total = 0;
            for (int q = 0; q < inputs.size(); q++) {
                for (int i = 0; i < inputs.get(q).length; i++) {
                    targets[q][i] = (inputs.get(q)[i] + 7 * q + 3) % engine.config().vocabSize();   // any targets will do
                    weights[q][i] = 1f;
                    total++;
                }
            }
            try (ai.djl.training.GradientCollector gc = ai.djl.engine.Engine.getInstance().newGradientCollector()) {
                gc.backward(Losses.crossEntropy(g.decodeBatch(ctx.get(), inputs), targets, weights));
            }
            List<float[]> together = params.stream().map(p -> p.getGradient().toFloatArray()).toList();
            params.forEach(p -> p.getGradient().set(new ai.djl.ndarray.index.NDIndex("..."), 0));
            for (int q = 0; q < inputs.size(); q++) {
                int n = inputs.get(q).length;
                long[][] t = {java.util.Arrays.copyOf(targets[q], n + 1)};
                float[][] w = {java.util.Arrays.copyOf(weights[q], n + 1)};
                try (ai.djl.training.GradientCollector gc = ai.djl.engine.Engine.getInstance().newGradientCollector()) {
                    // the batch's loss is a mean over all weighted tokens: weigh each question's mean by its share
                    gc.backward(Losses.crossEntropy(g.decode(ctx.get(), inputs.get(q)), t, w).mul((float) n / total));
                }
            }
            for (int i = 0; i < params.size(); i++) {
                float[] x = together.get(i);
                float[] y = params.get(i).getGradient().toFloatArray();
                double norm = 0;
                for (int j = 0; j < x.length; j++) {
                    norm = Math.max(norm, Math.abs(y[j]));
                    assertEquals(y[j], x[j], 1e-5 + 1e-3 * Math.abs(y[j]), "parameter " + i + ", element " + j);
                }
                // the anchor table, [LM] and the first layer's LoRA all shape the loss (the last layer's
                // q-LoRA does not: only K/V leave the compressor)
                assertTrue(i >= 6 || norm > 0, "no gradient reached parameter " + i);
            }
        }
    }

    /** A tiny base with a random one-ratio (4x) SAC adapter, 16-token chunks. */
    private SacEngine twoDocumentEngine(String name, long seed) throws Exception {
        ModelConfig c = TestModels.tiny(ModelConfig.Architecture.LLAMA);
        Path base = TestModels.write(c, tmp.resolve("base-" + name), 4);
        SacSpec spec = new SacSpec(SacSpec.FORMAT, "sac", List.of(4), 16, "### Context:\n", "\n### Question:\n",
                "\n### Answer:", true, true, List.of("q_proj", "v_proj"), 4, 8f, AnchorPositions.count(16, 4), 512,
                Fingerprints.baseModel(base));
        Path adapterDir = tmp.resolve("adapter-" + name);
        SacAdapter.writeRandom(adapterDir, spec, c, seed);
        return SacEngine.load(base, adapterDir);
    }

    private static AnchorGraph graph(SacEngine engine) {
        SacAdapter a = engine.adapter();
        return new AnchorGraph(engine.base(), a.spec(), a.lora(), a.anchorTable(), a.lmToken());
    }

    /** Two documents compressed at 4x and composed, afresh (decoding consumes a context). */
    private static AnchorGraph.Context twoDocuments(SacEngine engine, AnchorGraph g) {
        long[] d0 = engine.contextTokens("Mara Olen lives in Tessby and was born in 1984, people say.");
        long[] d1 = engine.contextTokens("The harbour of Quillon was paved in 1911.");
        return g.compose(List.of(g.compress(d0, 4), g.compress(d1, 4)), List.of(d0.length, d1.length));
    }
}
