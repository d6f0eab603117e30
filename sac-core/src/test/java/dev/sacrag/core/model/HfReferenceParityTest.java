package dev.sacrag.core.model;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The engine against Hugging Face transformers on the same weights: {@code models/sac-demo/parity}
 * holds the logits {@code LlamaForCausalLM} (float32, CPU) computed for the committed demo base
 * on 48 tokens of a held-out question (scripts/gpu/pretrain_base.py writes them after training).
 * This is the check that a checkpoint trained or published outside this project means the same
 * thing to {@link Transformer}: RMSNorm, rotate-half RoPE, grouped-query attention, SwiGLU and
 * the tied head all have to agree.
 */
class HfReferenceParityTest {

    @Test
    void demoBaseLogitsMatchTransformersLlamaForCausalLm() throws Exception {
        Path pkg = TestModels.demoPackage();
        JsonObject meta = JsonParser.parseString(Files.readString(pkg.resolve("parity/hf-parity.json"))).getAsJsonObject();
        assertEquals("transformers LlamaForCausalLM", meta.get("source").getAsString(),
                "the reference must come from transformers, not from the training script's own forward");
        var ids = meta.getAsJsonArray("tokens");
        long[] tokens = new long[ids.size()];
        int[] positions = new int[tokens.length];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = ids.get(i).getAsLong();
            positions[i] = i;
        }
        int vocab = meta.get("vocab").getAsInt();
        ByteBuffer raw = ByteBuffer.wrap(Files.readAllBytes(pkg.resolve("parity/hf-logits.bin"))).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals((long) tokens.length * vocab * 4, raw.remaining(), "hf-logits.bin size");

        try (Transformer model = Transformer.load(pkg.resolve("base")); NDScope scope = new NDScope();
             KvCache cache = new KvCache(model.manager(), model.config().layers())) {
            NDManager m = model.manager();
            assertEquals(vocab, model.config().vocabSize());
            float[] ours = model.forward(new Transformer.Input(model.embed(new long[][] {tokens}), new int[][] {positions},
                    Masks.causal(m, tokens.length, 0), Transformer.Logits.ALL), cache).toFloatArray();
            double worst = 0;
            int argmaxAgree = 0;
            for (int t = 0; t < tokens.length; t++) {
                int ourBest = 0;
                int theirBest = 0;
                for (int v = 0; v < vocab; v++) {
                    float theirs = raw.getFloat((t * vocab + v) * 4);
                    float mine = ours[t * vocab + v];
                    worst = Math.max(worst, Math.abs(theirs - mine));
                    if (mine > ours[t * vocab + ourBest]) {
                        ourBest = v;
                    }
                    if (theirs > raw.getFloat((t * vocab + theirBest) * 4)) {
                        theirBest = v;
                    }
                }
                argmaxAgree += ourBest == theirBest ? 1 : 0;
            }
            assertTrue(worst < 2e-3, "largest |logit difference| against transformers: " + worst);
            assertEquals(tokens.length, argmaxAgree, "positions whose greedy token agrees");
        }
    }
}
