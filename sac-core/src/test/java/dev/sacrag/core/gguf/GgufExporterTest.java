package dev.sacrag.core.gguf;

import ai.djl.ndarray.NDManager;
import dev.sacrag.core.model.Checkpoint;
import dev.sacrag.core.model.ModelConfig;
import dev.sacrag.core.model.ModelConfig.Architecture;
import dev.sacrag.core.model.Rope;
import dev.sacrag.core.random.RandomModelWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GgufExporterTest {
    @TempDir
    Path tmp;

    /** Heads of 8 (4 rotary pairs) so a wrong pairing shows; vocab 300 > the tokenizer's 259 tokens. */
    private static ModelConfig config(Architecture arch, ModelConfig.RopeScaling scaling, boolean tied) {
        return new ModelConfig(arch, 300, 32, 2, 4, 2, 8, 48, 10000, scaling, 1e-6, tied, 2048, 0, List.of(1));
    }

    private Path export(ModelConfig c, GgufType type) throws Exception {
        Path dir = tmp.resolve(c.architecture().modelType + "-" + type);
        RandomModelWriter.write(c, dir, RandomModelWriter.Options.defaults(3));
        Path out = tmp.resolve(dir.getFileName() + ".gguf");
        GgufExporter.export(dir, out, type);
        return out;
    }

    @Test
    void writesGgufV3WithLlamaCppMetadataAndAlignedTensors() throws Exception {
        Path file = export(config(Architecture.LLAMA, null, false), GgufType.F32);
        GgufTestReader g = new GgufTestReader(file);
        assertEquals(3, g.version);
        assertEquals("llama", g.metadata.get("general.architecture"));
        assertEquals(2L, g.metadata.get("llama.block_count"));
        assertEquals(2L, g.metadata.get("llama.attention.head_count_kv"));
        assertEquals(8L, g.metadata.get("llama.rope.dimension_count"));
        assertEquals(1e-6f, (float) g.metadata.get("llama.attention.layer_norm_rms_epsilon"));
        assertEquals("gpt2", g.metadata.get("tokenizer.ggml.model"));
        assertEquals("gpt-2", g.metadata.get("tokenizer.ggml.pre"));
        List<?> tokens = (List<?>) g.metadata.get("tokenizer.ggml.tokens");
        List<?> types = (List<?>) g.metadata.get("tokenizer.ggml.token_type");
        assertEquals(300, tokens.size());
        assertEquals(List.of("<|bos|>", "<|eos|>", "<|pad|>", "Ā"), tokens.subList(0, 4)); // byte 0 in GPT-2's alphabet
        assertEquals(List.of(GgufVocab.CONTROL, GgufVocab.CONTROL, GgufVocab.CONTROL, GgufVocab.NORMAL), types.subList(0, 4));
        assertEquals("<|unused_299|>", tokens.get(299));
        assertEquals(GgufVocab.UNUSED, types.get(299));
        assertEquals(2L, g.metadata.get("tokenizer.ggml.padding_token_id"));

        assertEquals(1 + 2 * 9 + 2, g.tensors.size()); // embedding, 9 per layer, output norm and output
        GgufTestReader.Tensor q = g.tensors.get("blk.1.attn_q.weight");
        assertArrayEquals(new long[] {32, 32}, q.ne());
        assertArrayEquals(new long[] {32, 300}, g.tensors.get("output.weight").ne());
        assertArrayEquals(new long[] {48, 32}, g.tensors.get("blk.0.ffn_down.weight").ne()); // HF [32, 48]
        long end = 0;
        for (GgufTestReader.Tensor t : g.tensors.values()) {
            assertEquals(0, t.offset() % 32, t.name() + " offset");
            end = Math.max(end, t.offset() + 4 * t.ne()[0] * (t.ne().length > 1 ? t.ne()[1] : 1));
        }
        assertEquals(0, g.dataStart % 32);
        assertEquals(GgufWriter.align(g.dataStart + end), g.fileSize());
        try (var siblings = Files.list(file.getParent())) {   // no temporary of the atomic write left beside it
            assertEquals(List.of(), siblings.filter(f -> f.getFileName().toString().startsWith(file.getFileName() + "."))
                    .toList());
        }
    }

    @Test
    void llamaQueryAndKeyRowsAreInterleavedPerHeadAndEverythingElseIsCopied() throws Exception {
        ModelConfig c = config(Architecture.LLAMA, null, false);
        GgufTestReader g = new GgufTestReader(export(c, GgufType.F32));
        Path dir = tmp.resolve("llama-F32");
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            float[] q = array(ckpt.read("model.layers.1.self_attn.q_proj.weight", 32, 32));
            float[] k = array(ckpt.read("model.layers.1.self_attn.k_proj.weight", 16, 32));
            assertArrayEquals(interleaved(q, 4, 8, 32), g.floats("blk.1.attn_q.weight"));
            assertArrayEquals(interleaved(k, 2, 8, 32), g.floats("blk.1.attn_k.weight"));
            assertArrayEquals(array(ckpt.read("model.layers.1.self_attn.v_proj.weight", 16, 32)),
                    g.floats("blk.1.attn_v.weight"));
            assertArrayEquals(array(ckpt.read("model.layers.0.mlp.down_proj.weight", 32, 48)),
                    g.floats("blk.0.ffn_down.weight"));
        }
    }

    @Test
    void qwen2KeepsRotateHalfRowsWritesBiasesAndOmitsTiedOutput() throws Exception {
        ModelConfig c = config(Architecture.QWEN2, null, true);
        GgufTestReader g = new GgufTestReader(export(c, GgufType.F32));
        assertEquals("qwen2", g.metadata.get("general.architecture"));
        assertFalse(g.tensors.containsKey("output.weight"));
        try (Checkpoint ckpt = Checkpoint.open(tmp.resolve("qwen2-F32"))) {
            assertArrayEquals(array(ckpt.read("model.layers.0.self_attn.q_proj.weight", 32, 32)),
                    g.floats("blk.0.attn_q.weight"));
            assertArrayEquals(array(ckpt.read("model.layers.0.self_attn.k_proj.bias", 16)),
                    g.floats("blk.0.attn_k.bias"));
        }
    }

    @Test
    void f16StoresMatricesAsHalfAndKeepsNormsF32() throws Exception {
        GgufTestReader g = new GgufTestReader(export(config(Architecture.LLAMA, null, false), GgufType.F16));
        assertEquals(1L, g.metadata.get("general.file_type"));
        assertEquals(1, g.tensors.get("token_embd.weight").ggmlType());
        assertEquals(1, g.tensors.get("blk.0.ffn_up.weight").ggmlType());
        assertEquals(0, g.tensors.get("blk.0.attn_norm.weight").ggmlType());
        assertEquals(0, g.tensors.get("output_norm.weight").ggmlType());
        try (Checkpoint ckpt = Checkpoint.open(tmp.resolve("llama-F16"))) {
            float[] up = array(ckpt.read("model.layers.0.mlp.up_proj.weight", 48, 32));
            float[] half = g.floats("blk.0.ffn_up.weight");
            for (int i = 0; i < up.length; i++) {
                assertEquals(up[i], half[i], Math.abs(up[i]) / 1024 + 1e-7, "ffn_up value " + i);
            }
        }
    }

    @Test
    void llama3ScalingTravelsAsRopeFreqFactorsThatReproduceOurFrequencies() throws Exception {
        // D = 8, theta 10^4: wavelengths 6.3, 63, 628, 6283 against cuts at 64/4 = 16 and 64/1 = 64
        ModelConfig c = new ModelConfig(Architecture.LLAMA, 300, 32, 2, 4, 2, 8, 48, 10000,
                new ModelConfig.RopeScaling(8, 1, 4, 64), 1e-6, true, 2048, 0, List.of(1));
        GgufTestReader g = new GgufTestReader(export(c, GgufType.F32));
        float[] factors = g.floats("rope_freqs.weight");
        assertEquals(4, factors.length);
        assertEquals(1f, factors[0]);
        assertTrue(factors[1] > 1f && factors[1] < 8f, "blended factor " + factors[1]);
        assertEquals(8f, factors[2]);
        assertEquals(8f, factors[3]);
        // llama.cpp rotates by p * theta^(-2i/D) / factor_i; our Rope at position 1 gives sin(scaled frequency)
        try (NDManager m = NDManager.newBaseManager()) {
            float[] sin = new Rope(c, m).tables(m, new int[][] {{1}})[1].toFloatArray();
            for (int i = 0; i < factors.length; i++) {
                double llamaCpp = Math.pow(10000, -2.0 * i / 8) / factors[i];
                assertEquals(Math.asin(sin[i]), llamaCpp, 1e-6 * llamaCpp + 1e-9, "frequency " + i);
            }
        }
    }

    @Test
    void rejectsQwen3NamingTheReason() throws Exception {
        ModelConfig c = config(Architecture.QWEN3, null, true);
        Path dir = tmp.resolve("qwen3");
        RandomModelWriter.write(c, dir, RandomModelWriter.Options.defaults(1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GgufExporter.export(dir, tmp.resolve("q3.gguf"), GgufType.F32));
        assertTrue(e.getMessage().contains("qwen3"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("q3.gguf")));
    }

    /** Independent statement of convert_hf_to_gguf's permute: within each head, row i and row i + D/2 become 2i, 2i+1. */
    private static float[] interleaved(float[] w, int heads, int headDim, int cols) {
        float[] out = new float[w.length];
        for (int h = 0; h < heads; h++) {
            for (int r = 0; r < headDim; r++) {
                int from = h * headDim + (r % 2 == 0 ? r / 2 : headDim / 2 + r / 2);
                System.arraycopy(w, from * cols, out, (h * headDim + r) * cols, cols);
            }
        }
        return out;
    }

    private static float[] array(FloatBuffer b) {
        float[] a = new float[b.remaining()];
        b.get(a);
        return a;
    }
}
