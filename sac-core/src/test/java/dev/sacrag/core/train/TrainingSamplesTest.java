package dev.sacrag.core.train;

import dev.sacrag.core.data.MrqaRecord;
import dev.sacrag.core.text.TextTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainingSamplesTest {
    @TempDir
    Path tmp;

    @Test
    void anAnswerPromptWithoutNewlinePutsASpaceBeforeTheAnswer() {
        assertEquals("Paris", TrainingSamples.answerText("\n### Answer:\n", "Paris"));
        assertEquals(" Paris", TrainingSamples.answerText("\n### Answer:", "Paris"));
    }

    @Test
    void packedSamplesWeighAnswersOverTheContext() throws Exception {
        TinyTraining.tokenizer(tmp.resolve("tok"));
        try (TextTokenizer tok = TextTokenizer.load(tmp.resolve("tok"))) {
            MrqaRecord r = new MrqaRecord("x", "Ada lives in Oslo. Bo lives in Rome.", List.of(
                    new MrqaRecord.Qa("q1", "Where does Ada live?", List.of("Oslo"), List.of()),
                    new MrqaRecord.Qa("q2", "Where does Bo live?", List.of("Rome"), List.of())));
            TokenSample s = new TrainingSamples(tok, 0, 1, "\n### Answer:").qaPacked(List.of(r), 3f, 0.25f).get(0);
            assertEquals(0, s.tokens()[0]);
            String text = tok.decode(s.tokens());
            assertTrue(text.contains("Where does Ada live?\n### Answer: Oslo") && text.contains("### Answer: Rome"), text);
            long answerWeighted = 0;
            for (int i = 0; i + 1 < s.length(); i++) {
                if (s.weights()[i] == 3f) {
                    answerWeighted++;
                }
            }
            // " Oslo" + EOS and " Rome" + EOS, one byte token per character: 5 + 1 each
            assertEquals(12, answerWeighted);
            assertEquals(1L, s.tokens()[s.length() - 1], "the sample ends with EOS");
        }
    }

    @Test
    void aContextWithTooManyQuestionsIsRepeatedAcrossSamplesThatFit() throws Exception {
        TinyTraining.tokenizer(tmp.resolve("tok"));
        try (TextTokenizer tok = TextTokenizer.load(tmp.resolve("tok"))) {
            MrqaRecord r = TinyTraining.facts(3).stream().max(java.util.Comparator.comparingInt(x -> x.qas().size()))
                    .orElseThrow();
            assertTrue(r.qas().size() >= 6, "a context with many questions, got " + r.qas().size());
            TrainingSamples samples = new TrainingSamples(tok, 0, 1, "\n### Answer:");
            TokenSample whole = samples.qaPacked(List.of(r), 3f, 0.25f).get(0);
            int limit = whole.length() * 2 / 3;
            List<TokenSample> split = samples.qaPacked(List.of(r), 3f, 0.25f, limit);
            assertTrue(split.size() >= 2, "split into " + split.size());
            StringBuilder all = new StringBuilder();
            for (TokenSample s : split) {
                assertTrue(s.length() <= limit, s.length() + " > " + limit);
                String text = tok.decode(s.tokens());
                assertTrue(text.contains(r.context()), "every sample carries the context");
                all.append(text);
            }
            for (MrqaRecord.Qa q : r.qas()) {
                assertEquals(1, all.toString().split(java.util.regex.Pattern.quote(q.question()), -1).length - 1,
                        "asked exactly once: " + q.question());
            }
            assertEquals(answerPositions(whole), split.stream().mapToInt(TrainingSamplesTest::answerPositions).sum(),
                    "the same answer tokens, weighed the same");
        }
    }

    @Test
    void repeatDrillsAreAWindowThenTheSameWindowAgain() throws Exception {
        TinyTraining.tokenizer(tmp.resolve("tok"));
        try (TextTokenizer tok = TextTokenizer.load(tmp.resolve("tok"))) {
            String text = "The committee met twice a month to discuss the budget of the old library in the town.";
            List<TokenSample> drills = new TrainingSamples(tok, 0, 1).repeats(List.of(text), 5, 3);
            assertEquals(5, drills.size());
            for (TokenSample d : drills) {
                int len = (d.length() - 1) / 2;
                assertEquals(0, d.tokens()[0]);
                assertTrue(len >= 16, "a window of at least 16 tokens");
                for (int j = 0; j < len; j++) {
                    assertEquals(d.tokens()[1 + j], d.tokens()[1 + len + j], "copy at " + j);
                }
                assertTrue(text.contains(tok.decode(java.util.Arrays.copyOfRange(d.tokens(), 1, 1 + len))));
            }
        }
    }

    /** Positions weighed as answers (weight 3) in a packed sample. */
    private static int answerPositions(TokenSample s) {
        int n = 0;
        for (float w : s.weights()) {
            n += w == 3f ? 1 : 0;
        }
        return n;
    }
}
