package dev.sacrag.query;

import dev.sacrag.core.random.ModelShape;
import dev.sacrag.core.random.RandomModelWriter;
import dev.sacrag.core.sac.Fingerprints;
import dev.sacrag.core.sac.SacAdapter;
import dev.sacrag.core.sac.SacSpec;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** A seeded random model package of the tiny shape: {@code dir/base} and one adapter. */
public record RandomPackage(Path base, Path adapter) {

    /** The base from {@code seed}, the adapter of {@code variant} at {@code ratios} (LoRA rank 8) from seed + 1. */
    public static RandomPackage write(Path dir, String variant, List<Integer> ratios, long seed) throws IOException {
        Path base = dir.resolve("base");
        RandomModelWriter.write(ModelShape.TINY.config, base, RandomModelWriter.Options.defaults(seed));
        Path adapter = dir.resolve("adapters").resolve(variant);
        SacAdapter.writeRandom(adapter, SacSpec.paperDefaults(variant, ratios, 8, Fingerprints.baseModel(base)),
                ModelShape.TINY.config, seed + 1);
        return new RandomPackage(base, adapter);
    }
}
