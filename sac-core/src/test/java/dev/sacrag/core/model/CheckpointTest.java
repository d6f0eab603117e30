package dev.sacrag.core.model;

import ai.djl.ndarray.NDScope;
import dev.sacrag.core.model.ModelConfig.Architecture;
import dev.sacrag.core.random.RandomModelWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CheckpointTest {
    @TempDir
    Path tmp;

    @Test
    void loadsShardedBf16CheckpointWrittenByTheTest() throws Exception {
        ModelConfig c = TestModels.tiny(Architecture.QWEN2);
        Path dir = tmp.resolve("bf16");
        RandomModelWriter.write(c, dir, new RandomModelWriter.Options(9, 0.08f, Safetensors.DType.BF16, 3));
        assertTrue(Files.exists(dir.resolve(Checkpoint.INDEX_FILE)));
        assertEquals(3, Files.list(dir).filter(p -> p.toString().endsWith(".safetensors")).count());
        // the reference reads the same bf16 bits widened independently of the DJL path
        NaiveReference ref = new NaiveReference(dir);
        long[] tokens = TransformerTest.randomTokens(new Random(4), 9, c.vocabSize());
        int[] pos = new int[tokens.length];
        boolean[][] causal = new boolean[tokens.length][tokens.length];
        for (int i = 0; i < tokens.length; i++) {
            pos[i] = i;
            for (int j = 0; j <= i; j++) {
                causal[i][j] = true;
            }
        }
        try (Transformer m = Transformer.load(dir); NDScope s = new NDScope();
             KvCache cache = new KvCache(m.manager(), c.layers())) {
            float[] logits = m.forward(new Transformer.Input(m.embed(new long[][] {tokens}), new int[][] {pos},
                    Masks.causal(m.manager(), tokens.length, 0), Transformer.Logits.ALL), cache).toFloatArray();
            TransformerTest.assertClose(ref.logits(tokens, pos, causal), logits, 1e-4, "bf16 sharded");
        }
    }

    @Test
    void rewritingAFolderWithOtherShardingLeavesOnlyTheNewWeights() throws Exception {
        ModelConfig c = TestModels.tiny(Architecture.LLAMA);
        Path dir = tmp.resolve("again");
        RandomModelWriter.write(c, dir, new RandomModelWriter.Options(1, 0.02f, Safetensors.DType.F32, 2));
        RandomModelWriter.write(c, dir, new RandomModelWriter.Options(2, 0.02f, Safetensors.DType.F32, 1));
        // the shard index of the first write would otherwise be read instead of the new single file
        assertTrue(Files.notExists(dir.resolve(Checkpoint.INDEX_FILE)));
        try (var files = Files.list(dir)) {
            assertEquals(java.util.List.of("config.json", Checkpoint.SINGLE_FILE, "tokenizer.json"),
                    files.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    void bf16WideningIsExactForRepresentableValues() throws Exception {
        Path f = tmp.resolve("t.safetensors");
        float[] v = {1f, -2.5f, 0.15625f, 3.0e38f, -0f, 65504f};
        Safetensors.write(f, java.util.Map.of("x", new Safetensors.Tensor(v, new long[] {6}, Safetensors.DType.BF16),
                "y", new Safetensors.Tensor(v, new long[] {2, 3}, Safetensors.DType.F16)));
        try (var r = Safetensors.open(f)) {
            var x = r.readF32("x");
            assertEquals(1f, x.get(0));
            assertEquals(-2.5f, x.get(1));
            assertEquals(0.15625f, x.get(2));
            var y = r.readF32("y");
            assertEquals(65504f, y.get(5));
        }
    }

    @Test
    void missingWeightsAreNamed() throws Exception {
        Path dir = tmp.resolve("empty");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), TestModels.tiny(Architecture.LLAMA).toJson());
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> Transformer.load(dir));
        assertTrue(e.getMessage().contains("model.safetensors"), e.getMessage());
        NoSuchFileException noConfig = assertThrows(NoSuchFileException.class, () -> Transformer.load(tmp));
        assertTrue(noConfig.getMessage().contains("config.json"), noConfig.getMessage());
    }

    @Test
    void biasesTheEngineDoesNotLoadAreRefusedNotIgnored() {
        String llama = TestModels.tiny(Architecture.LLAMA).toJson();
        String withBias = llama.replaceFirst("\\{", "{\"attention_bias\": true, ");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelConfig.parse(withBias));
        assertTrue(e.getMessage().contains("attention_bias"), e.getMessage());
        String mlpBias = llama.replaceFirst("\\{", "{\"mlp_bias\": true, ");
        assertThrows(IllegalArgumentException.class, () -> ModelConfig.parse(mlpBias));
        // false, as Llama 3.2's config.json says, loads
        assertEquals(TestModels.tiny(Architecture.LLAMA).layers(),
                ModelConfig.parse(llama.replaceFirst("\\{", "{\"attention_bias\": false, \"mlp_bias\": false, ")).layers());
    }

    /** Qwen2.5's configs say use_sliding_window false; a window that could bind would make other logits. */
    @Test
    void aSlidingWindowThatCouldBindIsRefusedNotIgnored() {
        String qwen = TestModels.tiny(Architecture.QWEN2).toJson();
        int positions = TestModels.tiny(Architecture.QWEN2).maxPositions();
        String off = "\"use_sliding_window\": false";
        assertTrue(qwen.contains(off), qwen);
        String binding = qwen.replace(off, "\"use_sliding_window\": true, \"sliding_window\": " + (positions / 2));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelConfig.parse(binding));
        assertTrue(e.getMessage().contains("use_sliding_window=true"), e.getMessage());
        int layers = TestModels.tiny(Architecture.QWEN2).layers();
        String fromALayer = "\"use_sliding_window\": true, \"sliding_window\": 4, \"max_window_layers\": ";
        assertThrows(IllegalArgumentException.class, () -> ModelConfig.parse(qwen.replace(off, fromALayer + (layers - 1))));
        for (String harmless : List.of("\"use_sliding_window\": false, \"sliding_window\": 4",
                "\"use_sliding_window\": true, \"sliding_window\": " + positions,
                fromALayer + layers)) {   // from a layer the model does not have (Qwen2.5-7B: 28 of 28)
            assertEquals(TestModels.tiny(Architecture.QWEN2).layers(), ModelConfig.parse(qwen.replace(off, harmless)).layers());
        }
    }

    @Test
    void unsupportedArchitectureIsRefusedByName() {
        String json = TestModels.tiny(Architecture.LLAMA).toJson().replace("\"llama\"", "\"mamba\"");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelConfig.parse(json));
        assertTrue(e.getMessage().contains("mamba"), e.getMessage());
    }

    @Test
    void tensorOfTheWrongShapeNamesTheTensorAndBothShapes() throws Exception {
        ModelConfig c = TestModels.tiny(Architecture.LLAMA);
        Path dir = TestModels.write(c, tmp.resolve("m"), 1);
        // claim a larger intermediate size than the weights have
        ModelConfig wrong = new ModelConfig(c.architecture(), c.vocabSize(), c.hiddenSize(), c.layers(), c.heads(),
                c.kvHeads(), c.headDim(), 256, c.ropeTheta(), null, c.rmsNormEps(), c.tieWordEmbeddings(),
                c.maxPositions(), 0, c.eosTokenIds());
        Files.writeString(dir.resolve("config.json"), wrong.toJson());
        IOException e = assertThrows(IOException.class, () -> Transformer.load(dir));
        assertTrue(e.getMessage().contains("model.layers.0.mlp.gate_proj.weight"), e.getMessage());
        assertTrue(e.getMessage().contains("[128, 64]") && e.getMessage().contains("[256, 64]"), e.getMessage());
    }

    @Test
    void configRoundTripsThroughJson() {
        for (ModelConfig c : new ModelConfig[] {TestModels.tinyLlama3(), TestModels.tiny(Architecture.QWEN3)}) {
            assertEquals(c, ModelConfig.parse(c.toJson()));
        }
    }
}
