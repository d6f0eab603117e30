package dev.sacrag.core.train;

import dev.sacrag.core.data.MrqaRecord;
import dev.sacrag.core.data.SyntheticFacts;
import dev.sacrag.core.model.ModelConfig;
import dev.sacrag.core.random.RandomModelWriter;
import dev.sacrag.core.text.ByteLevelVocab;
import dev.sacrag.core.text.TextTokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** A byte-level tokenizer and a very small model shape, so training tests take seconds. */
final class TinyTraining {
    static final ModelConfig CONFIG = new ModelConfig(ModelConfig.Architecture.LLAMA, 320, 32, 2, 4, 2, 8, 64,
            10000, null, 1e-5, true, 2048, 0, List.of(1));

    static Path tokenizer(Path dir) throws IOException {
        Files.createDirectories(dir);
        ByteLevelVocab.write(dir.resolve("tokenizer.json"), RandomModelWriter.SPECIAL_TOKENS, List.of());
        return dir.resolve("tokenizer.json");
    }

    static List<MrqaRecord> facts(int n) {
        return new SyntheticFacts(SyntheticFacts.Split.TRAIN, 3).generate(n);
    }

    static List<TokenSample> qaSamples(TextTokenizer tok, int n) {
        return new TrainingSamples(tok, 0, 1).qa(facts(n), 3f);
    }
}
