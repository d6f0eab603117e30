package dev.sacrag.core.gguf;

import dev.sacrag.core.model.Checkpoint;
import dev.sacrag.core.model.ModelConfig;
import dev.sacrag.core.model.ModelConfig.Architecture;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Exports a Hugging Face model folder (config.json, safetensors, byte-level BPE
 * tokenizer.json) as a GGUF v3 file that llama.cpp loads, so llama.cpp can serve as an
 * independent peer engine for our own forward.
 *
 * <p>Llama becomes llama.cpp's "llama" architecture and Qwen2 its "qwen2" (q/k/v bias). The
 * two differ in RoPE: "qwen2" uses NEOX RoPE, which pairs element i with i + D/2 exactly like
 * the Hugging Face rotate-half layout, so its weights go through unchanged; "llama" uses the
 * original interleaved RoPE pairing (2i, 2i + 1), so within each head the q_proj and k_proj
 * rows are reordered to put row i and row i + D/2 side by side, as llama.cpp's
 * convert_hf_to_gguf does. Llama 3 frequency scaling travels as the {@code rope_freqs.weight}
 * tensor of per-frequency divisors, again as that converter writes it.
 */
public final class GgufExporter {

    /** One output tensor: where its values come from and how they are laid out. */
    private record Plan(GgufWriter.TensorInfo info, String hfName, long[] hfShape, int rotaryHeads) { }

    public static void export(Path hfModelDir, Path outFile, GgufType type) throws IOException {
        ModelConfig c = ModelConfig.load(hfModelDir);
        String arch = archName(c);
        GgufVocab vocab = GgufVocab.read(hfModelDir, c.vocabSize());
        Path abs = hfModelDir.toAbsolutePath();
        String name = abs.getFileName() == null ? "model" : abs.getFileName().toString();
        try (Checkpoint ckpt = Checkpoint.open(hfModelDir)) {
            List<Plan> plans = plan(c, arch, type, ckpt.has("lm_head.weight"));
            Map<String, Plan> byName = new HashMap<>();
            List<GgufWriter.TensorInfo> infos = new ArrayList<>();
            for (Plan p : plans) {
                byName.put(p.info().name(), p);
                infos.add(p.info());
            }
            GgufWriter.write(outFile, metadata(c, arch, name, type, vocab), infos,
                    t -> values(byName.get(t.name()), ckpt, c));
        } catch (IOException | RuntimeException e) {
            throw new IOException("exporting " + hfModelDir + " to GGUF " + outFile + " failed: " + e.getMessage(), e);
        }
    }

    static String archName(ModelConfig c) {
        if (c.architecture() == Architecture.QWEN3) {
            throw new IllegalArgumentException("GGUF export of qwen3 is not supported: the llama.cpp bundled with"
                    + " de.kherud:llama 4.2.0 predates the qwen3 architecture, so the export could not be checked");
        }
        if (c.architecture() == Architecture.QWEN2 && c.ropeScaling() != null) {
            throw new IllegalArgumentException("GGUF export of qwen2 with llama3 rope_scaling is not supported"
                    + " (llama.cpp reads rope_freqs only for the llama architecture)");
        }
        return c.architecture() == Architecture.QWEN2 ? "qwen2" : "llama";
    }

    private static GgufWriter.Metadata metadata(ModelConfig c, String arch, String name, GgufType type, GgufVocab v) {
        GgufWriter.Metadata md = new GgufWriter.Metadata()
                .string("general.architecture", arch)
                .string("general.name", name)
                .u32("general.file_type", type.fileType)
                .u32(arch + ".vocab_size", c.vocabSize())
                .u32(arch + ".context_length", c.maxPositions())
                .u32(arch + ".embedding_length", c.hiddenSize())
                .u32(arch + ".block_count", c.layers())
                .u32(arch + ".feed_forward_length", c.intermediateSize())
                .u32(arch + ".attention.head_count", c.heads())
                .u32(arch + ".attention.head_count_kv", c.kvHeads())
                .u32(arch + ".attention.key_length", c.headDim())
                .u32(arch + ".attention.value_length", c.headDim())
                .f32(arch + ".attention.layer_norm_rms_epsilon", c.rmsNormEps())
                .f32(arch + ".rope.freq_base", c.ropeTheta())
                .u32(arch + ".rope.dimension_count", c.headDim())
                .string("tokenizer.ggml.model", "gpt2")
                .string("tokenizer.ggml.pre", v.preTokenizer())
                .strings("tokenizer.ggml.tokens", v.tokens())
                .i32s("tokenizer.ggml.token_type", v.types())
                .strings("tokenizer.ggml.merges", v.merges())
                // our prompts place BOS themselves (see TextTokenizer), so llama.cpp must not add one
                .bool("tokenizer.ggml.add_bos_token", false)
                .bool("tokenizer.ggml.add_eos_token", false);
        if (c.bosTokenId() >= 0) {
            md.u32("tokenizer.ggml.bos_token_id", c.bosTokenId());
        }
        if (!c.eosTokenIds().isEmpty()) {
            md.u32("tokenizer.ggml.eos_token_id", c.eosTokenIds().get(0));
        }
        if (v.padId() >= 0) {
            md.u32("tokenizer.ggml.padding_token_id", v.padId());
        }
        return md;
    }

    private static List<Plan> plan(ModelConfig c, String arch, GgufType type, boolean hasLmHead) {
        long e = c.hiddenSize();
        long q = c.queryDim();
        long kv = c.kvDim();
        long inter = c.intermediateSize();
        boolean interleaveRope = arch.equals("llama");
        List<Plan> p = new ArrayList<>();
        p.add(matrix("token_embd.weight", "model.embed_tokens.weight", type, c.vocabSize(), e));
        if (c.ropeScaling() != null) {
            p.add(new Plan(info("rope_freqs.weight", GgufType.F32, c.headDim() / 2), null,
                    new long[] {c.headDim() / 2}, 0));
        }
        for (int i = 0; i < c.layers(); i++) {
            String hf = "model.layers." + i + ".";
            String gg = "blk." + i + ".";
            p.add(vector(gg + "attn_norm.weight", hf + "input_layernorm.weight", e));
            p.add(rotary(matrix(gg + "attn_q.weight", hf + "self_attn.q_proj.weight", type, q, e),
                    interleaveRope ? c.heads() : 0));
            p.add(rotary(matrix(gg + "attn_k.weight", hf + "self_attn.k_proj.weight", type, kv, e),
                    interleaveRope ? c.kvHeads() : 0));
            p.add(matrix(gg + "attn_v.weight", hf + "self_attn.v_proj.weight", type, kv, e));
            if (c.architecture().qkvBias()) {
                p.add(rotary(vector(gg + "attn_q.bias", hf + "self_attn.q_proj.bias", q), interleaveRope ? c.heads() : 0));
                p.add(rotary(vector(gg + "attn_k.bias", hf + "self_attn.k_proj.bias", kv), interleaveRope ? c.kvHeads() : 0));
                p.add(vector(gg + "attn_v.bias", hf + "self_attn.v_proj.bias", kv));
            }
            p.add(matrix(gg + "attn_output.weight", hf + "self_attn.o_proj.weight", type, e, q));
            p.add(vector(gg + "ffn_norm.weight", hf + "post_attention_layernorm.weight", e));
            p.add(matrix(gg + "ffn_gate.weight", hf + "mlp.gate_proj.weight", type, inter, e));
            p.add(matrix(gg + "ffn_up.weight", hf + "mlp.up_proj.weight", type, inter, e));
            p.add(matrix(gg + "ffn_down.weight", hf + "mlp.down_proj.weight", type, e, inter));
        }
        p.add(vector("output_norm.weight", "model.norm.weight", e));
        // llama.cpp falls back to token_embd when output.weight is absent, as Weights.load does
        if (!c.tieWordEmbeddings() && hasLmHead) {
            p.add(matrix("output.weight", "lm_head.weight", type, c.vocabSize(), e));
        }
        return p;
    }

    /** An HF [rows, cols] matrix; GGUF lists dims innermost-first, so ne = [cols, rows]. */
    private static Plan matrix(String name, String hfName, GgufType type, long rows, long cols) {
        return new Plan(info(name, type, cols, rows), hfName, new long[] {rows, cols}, 0);
    }

    private static Plan vector(String name, String hfName, long n) {
        return new Plan(info(name, GgufType.F32, n), hfName, new long[] {n}, 0);
    }

    private static Plan rotary(Plan p, int heads) {
        return new Plan(p.info(), p.hfName(), p.hfShape(), heads);
    }

    private static GgufWriter.TensorInfo info(String name, GgufType type, long... ne) {
        return new GgufWriter.TensorInfo(name, ne, type);
    }

    private static FloatBuffer values(Plan p, Checkpoint ckpt, ModelConfig c) throws IOException {
        if (p.hfName() == null) {
            return FloatBuffer.wrap(ropeFreqFactors(c));
        }
        FloatBuffer v = ckpt.read(p.hfName(), p.hfShape());
        if (p.rotaryHeads() == 0) {
            return v;
        }
        int cols = p.hfShape().length == 2 ? (int) p.hfShape()[1] : 1;
        return interleaveRotaryRows(v, p.rotaryHeads(), c.headDim(), cols);
    }

    /**
     * Reorders the rows of each head from the rotate-half layout (row i pairs with i + D/2) to
     * the interleaved one (pairs at 2i, 2i + 1): new row h*D + 2i + j = old row h*D + j*D/2 + i.
     * This is convert_hf_to_gguf's reshape(heads, 2, D/2, cols).swapaxes(1, 2).
     */
    static FloatBuffer interleaveRotaryRows(FloatBuffer src, int heads, int headDim, int cols) {
        int half = headDim / 2;
        FloatBuffer dst = ByteBuffer.allocateDirect(src.remaining() * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
        int base = src.position();
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < half; i++) {
                for (int j = 0; j < 2; j++) {
                    int from = (h * headDim + j * half + i) * cols;
                    int to = (h * headDim + 2 * i + j) * cols;
                    for (int k = 0; k < cols; k++) {
                        dst.put(to + k, src.get(base + from + k));
                    }
                }
            }
        }
        return dst;
    }

    /**
     * llama.cpp divides each RoPE frequency by its factor; these factors reproduce the
     * "llama3" rescaling of ModelConfig.RopeScaling (1 for short wavelengths, {@code factor}
     * for long ones, a smooth blend between).
     */
    static float[] ropeFreqFactors(ModelConfig c) {
        ModelConfig.RopeScaling s = c.ropeScaling();
        int half = c.headDim() / 2;
        double lowWavelen = s.originalMaxPositions() / s.lowFreqFactor();
        double highWavelen = s.originalMaxPositions() / s.highFreqFactor();
        float[] factors = new float[half];
        for (int i = 0; i < half; i++) {
            double freq = 1.0 / Math.pow(c.ropeTheta(), (2.0 * i) / c.headDim());
            double wavelen = 2 * Math.PI / freq;
            if (wavelen < highWavelen) {
                factors[i] = 1f;
            } else if (wavelen > lowWavelen) {
                factors[i] = (float) s.factor();
            } else {
                double smooth = (s.originalMaxPositions() / wavelen - s.lowFreqFactor())
                        / (s.highFreqFactor() - s.lowFreqFactor());
                factors[i] = (float) (1 / ((1 - smooth) / s.factor() + smooth));
            }
        }
        return factors;
    }

    private GgufExporter() {
    }
}
