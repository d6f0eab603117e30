package dev.sacrag.core.model;

import dev.sacrag.core.model.ModelConfig.Architecture;
import dev.sacrag.core.random.ModelShape;
import dev.sacrag.core.random.RandomModelWriter;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** Tiny seeded models for tests, one per architecture flavour. */
public final class TestModels {

    public static ModelConfig tiny(Architecture arch) {
        ModelConfig t = ModelShape.TINY.config;
        return new ModelConfig(arch, t.vocabSize(), t.hiddenSize(), t.layers(), t.heads(), t.kvHeads(),
                t.headDim(), t.intermediateSize(), t.ropeTheta(), null, t.rmsNormEps(),
                arch != Architecture.LLAMA, t.maxPositions(), 0, List.of(1));
    }

    /** Llama 3 style: frequency scaling with a small original context so it matters at test lengths. */
    public static ModelConfig tinyLlama3() {
        ModelConfig t = tiny(Architecture.LLAMA);
        return new ModelConfig(Architecture.LLAMA, t.vocabSize(), t.hiddenSize(), t.layers(), t.heads(), t.kvHeads(),
                t.headDim(), t.intermediateSize(), 500000, new ModelConfig.RopeScaling(8, 1, 4, 64),
                t.rmsNormEps(), true, t.maxPositions(), 0, List.of(1));
    }

    public static Path write(ModelConfig c, Path dir, long seed) throws IOException {
        RandomModelWriter.write(c, dir, new RandomModelWriter.Options(seed, 0.08f, Safetensors.DType.F32, 1));
        return dir;
    }

    /** models/sac-demo (with its parity/ fixtures), from the module folder Maven runs tests in or the repository root. */
    public static Path demoPackage() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path candidate = p.resolve("models/sac-demo");
            if (java.nio.file.Files.isDirectory(candidate.resolve("parity"))) {
                return candidate;
            }
        }
        throw new IllegalStateException("models/sac-demo/parity not found above " + Path.of("").toAbsolutePath());
    }

    private TestModels() {
    }
}
