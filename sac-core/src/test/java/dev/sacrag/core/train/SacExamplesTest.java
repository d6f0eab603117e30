package dev.sacrag.core.train;

import dev.sacrag.core.data.MrqaRecord;
import dev.sacrag.core.text.TextTokenizer;
import dev.sacrag.core.train.SacTrainer.QaExample;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SacExamplesTest {
    @TempDir
    Path tmp;

    @Test
    void everyQuestionOfAnExampleIsAnsweredByOneOfItsDocuments() throws Exception {
        TinyTraining.tokenizer(tmp);
        List<MrqaRecord> records = TinyTraining.facts(30);
        try (TextTokenizer tok = TextTokenizer.load(tmp)) {
            SacExamples examples = new SacExamples(tok, records, List.of(), 0, 1, "### Context:\n",
                    "\n### Question:\n", "\n### Answer:", 4096, 12);
            Random rnd = new Random(7);
            int many = 0;
            for (int i = 0; i < 50; i++) {
                QaExample ex = examples.qa(rnd);
                assertTrue(ex.questions().size() <= 12, "capped at 12, got " + ex.questions().size());
                many += ex.questions().size() > 1 ? 1 : 0;
                Set<String> asked = new HashSet<>();
                for (long[][] q : ex.questions()) {
                    String answer = tok.decode(Arrays.copyOf(q[1], q[1].length - 1)).strip();  // answer + EOS
                    assertTrue(ex.documents().stream().anyMatch(d -> tok.decode(d).contains(answer)),
                            "answer '" + answer + "' is in none of the composed documents");
                    assertEquals(1, q[1][q[1].length - 1], "answers end in EOS");
                    asked.add(tok.decode(q[0]));
                }
                assertEquals(ex.questions().size(), asked.size(), "no question twice");
            }
            assertTrue(many > 40, "most examples carry several questions, " + many + " of 50 did");

            SacExamples single = new SacExamples(tok, records, List.of(), 0, 1, "### Context:\n",
                    "\n### Question:\n", "\n### Answer:", 4096, 1);
            List<Integer> sizes = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                sizes.add(single.qa(rnd).questions().size());
            }
            assertEquals(List.of(1), sizes.stream().distinct().toList());
        }
    }
}
