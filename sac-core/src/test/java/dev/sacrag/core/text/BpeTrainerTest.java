package dev.sacrag.core.text;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BpeTrainerTest {
    @TempDir
    Path tmp;

    @Test
    void learnsFrequentPairsFirstAndDeterministically() {
        BpeTrainer a = new BpeTrainer();
        BpeTrainer b = new BpeTrainer();
        for (int i = 0; i < 50; i++) {
            a.add("the theory of the thermal theatre ");
            b.add("the theory of the thermal theatre ");
        }
        List<String[]> m1 = a.train(10, n -> { });
        List<String[]> m2 = b.train(10, n -> { });
        assertEquals(10, m1.size());
        for (int i = 0; i < m1.size(); i++) {
            assertEquals(m1.get(i)[0] + m1.get(i)[1], m2.get(i)[0] + m2.get(i)[1]);
        }
        // "th" and "he" both occur 6 times a line (more than " t": 5); the tie breaks on the pair's text
        assertEquals("he", m1.get(0)[0] + m1.get(0)[1]);
        assertEquals("the", m1.get(1)[0] + m1.get(1)[1], "then t + he: every th was followed by e");
    }

    @Test
    void trainedTokenizerLoadsThroughTheHuggingFacePathAndRoundTrips() throws Exception {
        BpeTrainer t = new BpeTrainer();
        String text = "Ada Lovelace lived in London. Ada wrote programs. Lovelace, Ada: 1843! ";
        for (int i = 0; i < 30; i++) {
            t.add(text);
        }
        List<String[]> merges = t.train(30, n -> { });
        assertEquals(30, merges.size());
        Path dir = tmp.resolve("tok");
        java.nio.file.Files.createDirectories(dir);
        int size = ByteLevelVocab.write(dir.resolve("tokenizer.json"), List.of("<|bos|>", "<|eos|>", "<|pad|>"), merges);
        assertEquals(3 + 256 + 30, size);
        try (TextTokenizer tok = TextTokenizer.load(dir)) {
            assertEquals(size, tok.vocabularySize());
            long[] ids = tok.encode(text);
            assertTrue(ids.length < text.getBytes(java.nio.charset.StandardCharsets.UTF_8).length / 2,
                    "merges should compress the training text: " + ids.length + " tokens");
            assertEquals(text, tok.decode(ids));
            String unicode = "Zürich – naïve café 東京";
            assertEquals(unicode, tok.decode(tok.encode(unicode)));
        }
    }
}
