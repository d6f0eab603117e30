package dev.sacrag.core.random;

import dev.sacrag.core.model.ModelConfig;
import dev.sacrag.core.model.ModelConfig.Architecture;

import java.util.List;
import java.util.Locale;

/**
 * Shapes of real models (values from their published config.json; see
 * shared/docs/model-shapes.md) for random-weight speed runs, plus a tiny one for tests.
 * Token ids 0, 1 and 2 are BOS, EOS and PAD in the byte-level tokenizer written beside them.
 */
public enum ModelShape {
    TINY("tiny", new ModelConfig(Architecture.LLAMA, 320, 64, 2, 4, 2, 16, 128,
            10000, null, 1e-5, false, 4096, 0, List.of(1))),
    SMOLLM2_135M("smollm2-135m", new ModelConfig(Architecture.LLAMA, 49152, 576, 30, 9, 3, 64, 1536,
            100000, null, 1e-5, true, 8192, 0, List.of(1))),
    QWEN25_05B("qwen2.5-0.5b", new ModelConfig(Architecture.QWEN2, 151936, 896, 24, 14, 2, 64, 4864,
            1000000, null, 1e-6, true, 32768, 0, List.of(1))),
    LLAMA32_1B("llama-3.2-1b", new ModelConfig(Architecture.LLAMA, 128256, 2048, 16, 32, 8, 64, 8192,
            500000, new ModelConfig.RopeScaling(32, 1, 4, 8192), 1e-5, true, 131072, 0, List.of(1)));

    public final String id;
    public final ModelConfig config;

    ModelShape(String id, ModelConfig config) {
        this.id = id;
        this.config = config;
    }

    public static ModelShape parse(String id) {
        for (ModelShape s : values()) {
            if (s.id.equals(id.toLowerCase(Locale.ROOT))) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown shape '" + id + "' (choose from: " + names() + ")");
    }

    public static String names() {
        StringBuilder sb = new StringBuilder();
        for (ModelShape s : values()) {
            sb.append(sb.length() == 0 ? "" : ", ").append(s.id);
        }
        return sb.toString();
    }
}
