package dev.sacrag.core.random;

import com.google.gson.JsonObject;
import dev.sacrag.core.io.AtomicFiles;
import dev.sacrag.core.model.Checkpoint;
import dev.sacrag.core.model.ModelConfig;
import dev.sacrag.core.model.Safetensors;
import dev.sacrag.core.model.Safetensors.DType;
import dev.sacrag.core.model.Safetensors.Spec;
import dev.sacrag.core.text.ByteLevelVocab;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Writes a Hugging Face style model folder with seeded random weights: config.json,
 * model.safetensors (or shards + index), and a byte-level tokenizer.json. Each tensor's
 * values depend only on (seed, tensor name), so the same seed gives the same model whatever
 * the dtype or sharding. Speed does not depend on weight values, so this serves speed runs of
 * real shapes as well as tests.
 */
public final class RandomModelWriter {

    /** What to write. {@code std} scales the linear weights; larger values give peakier outputs. */
    public record Options(long seed, float std, DType dtype, int shards) {
        public static Options defaults(long seed) {
            return new Options(seed, 0.02f, DType.F32, 1);
        }
    }

    public static final List<String> SPECIAL_TOKENS = List.of("<|bos|>", "<|eos|>", "<|pad|>");

    /**
     * Writes the folder; {@code config.json} comes last, so a folder that has one is complete (an
     * interrupted write leaves none). Weights a previous write left there (another sharding) are
     * removed first: a stale shard index would otherwise win over the new single file.
     */
    public static void write(ModelConfig c, Path dir, Options o) throws IOException {
        Files.createDirectories(dir);
        Files.deleteIfExists(dir.resolve("config.json"));
        removeWeights(dir);
        ByteLevelVocab.write(dir.resolve("tokenizer.json"), SPECIAL_TOKENS, List.of());
        writeWeights(c, dir, o);
        AtomicFiles.writeString(dir.resolve("config.json"), c.toJson());
    }

    private static void removeWeights(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                String name = f.getFileName().toString();
                if (name.endsWith(".safetensors") || name.equals(Checkpoint.INDEX_FILE)) {
                    Files.delete(f);
                }
            }
        }
    }

    private static void writeWeights(ModelConfig c, Path dir, Options o) throws IOException {
        List<Spec> specs = specs(c, o.dtype());
        if (o.shards() <= 1) {
            Safetensors.write(dir.resolve(Checkpoint.SINGLE_FILE), specs, s -> values(s, c, o));
            return;
        }
        JsonObject weightMap = new JsonObject();
        int per = (specs.size() + o.shards() - 1) / o.shards();
        for (int i = 0; i < o.shards(); i++) {
            List<Spec> part = specs.subList(Math.min(i * per, specs.size()), Math.min((i + 1) * per, specs.size()));
            String name = String.format("model-%05d-of-%05d.safetensors", i + 1, o.shards());
            Safetensors.write(dir.resolve(name), part, s -> values(s, c, o));
            part.forEach(s -> weightMap.addProperty(s.name(), name));
        }
        JsonObject index = new JsonObject();
        index.add("metadata", new JsonObject());
        index.add("weight_map", weightMap);
        AtomicFiles.writeString(dir.resolve(Checkpoint.INDEX_FILE), index.toString());
    }

    static List<Spec> specs(ModelConfig c, DType dt) {
        long e = c.hiddenSize();
        long q = c.queryDim();
        long kv = c.kvDim();
        long inter = c.intermediateSize();
        List<Spec> s = new ArrayList<>();
        s.add(new Spec("model.embed_tokens.weight", new long[] {c.vocabSize(), e}, dt));
        for (int i = 0; i < c.layers(); i++) {
            String p = "model.layers." + i + ".";
            s.add(new Spec(p + "input_layernorm.weight", new long[] {e}, dt));
            s.add(new Spec(p + "self_attn.q_proj.weight", new long[] {q, e}, dt));
            s.add(new Spec(p + "self_attn.k_proj.weight", new long[] {kv, e}, dt));
            s.add(new Spec(p + "self_attn.v_proj.weight", new long[] {kv, e}, dt));
            if (c.architecture().qkvBias()) {
                s.add(new Spec(p + "self_attn.q_proj.bias", new long[] {q}, dt));
                s.add(new Spec(p + "self_attn.k_proj.bias", new long[] {kv}, dt));
                s.add(new Spec(p + "self_attn.v_proj.bias", new long[] {kv}, dt));
            }
            if (c.architecture().qkNorm()) {
                s.add(new Spec(p + "self_attn.q_norm.weight", new long[] {c.headDim()}, dt));
                s.add(new Spec(p + "self_attn.k_norm.weight", new long[] {c.headDim()}, dt));
            }
            s.add(new Spec(p + "self_attn.o_proj.weight", new long[] {e, q}, dt));
            s.add(new Spec(p + "post_attention_layernorm.weight", new long[] {e}, dt));
            s.add(new Spec(p + "mlp.gate_proj.weight", new long[] {inter, e}, dt));
            s.add(new Spec(p + "mlp.up_proj.weight", new long[] {inter, e}, dt));
            s.add(new Spec(p + "mlp.down_proj.weight", new long[] {e, inter}, dt));
        }
        s.add(new Spec("model.norm.weight", new long[] {e}, dt));
        if (!c.tieWordEmbeddings()) {
            s.add(new Spec("lm_head.weight", new long[] {c.vocabSize(), e}, dt));
        }
        return s;
    }

    /** Norm weights near 1, biases and linear weights centred on 0; uniform with the given std. */
    static float[] values(Spec spec, ModelConfig c, Options o) {
        long n = 1;
        for (long d : spec.shape()) {
            n *= d;
        }
        float[] v = new float[Math.toIntExact(n)];
        SplittableRandom rnd = new SplittableRandom(o.seed() * 0x9E3779B97F4A7C15L + spec.name().hashCode());
        String name = spec.name();
        boolean norm = name.endsWith("norm.weight");
        float std = norm ? 0.1f : name.endsWith(".bias") ? o.std() * 5 : o.std();
        float half = (float) (std * Math.sqrt(3.0)); // uniform(-a, a) has std a / sqrt(3)
        for (int i = 0; i < v.length; i++) {
            float u = (float) rnd.nextDouble(-half, half);
            v[i] = norm ? 1f + u : u;
        }
        return v;
    }

    private RandomModelWriter() {
    }
}
