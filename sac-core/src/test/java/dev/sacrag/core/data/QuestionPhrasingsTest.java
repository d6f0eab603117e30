package dev.sacrag.core.data;

import dev.sacrag.core.data.QuestionPhrasings.Kind;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class QuestionPhrasingsTest {
    @Test
    void classifiesEveryTemplateBySplitAndNearCopy() {
        assertEquals(Kind.TRAINING, QuestionPhrasings.classify("Where does Ada Lint live?"));
        assertEquals(Kind.TRAINING, QuestionPhrasings.classify("Who employs Ada Lint?"));              // extra training phrasing
        assertEquals(Kind.HELD_OUT, QuestionPhrasings.classify("Where is Ada Lint living now?"));
        assertEquals(Kind.HELD_OUT, QuestionPhrasings.classify("What is the employer of Ada Lint?"));
        assertEquals(Kind.HELD_OUT_NEAR_COPY, QuestionPhrasings.classify("For which company does Ada Lint work?"));
        assertEquals(Kind.HELD_OUT_NEAR_COPY, QuestionPhrasings.classify("Which year was Ada Lint born in?"));
        assertEquals(Kind.UNKNOWN, QuestionPhrasings.classify("Who wrote Emma?"));
        assertEquals("Where is {e} living now?", QuestionPhrasings.phrasing("Where is Ada Lint living now?").text());
        assertEquals("Who employs {e}?", QuestionPhrasings.phrasing("Who employs Ada Lint?").text());
        assertEquals(null, QuestionPhrasings.phrasing("Who wrote Emma?"));
    }

    @Test
    void theHeldOutQuestionsOfTheTestSplitAreAllKnown() {
        int heldOut = 0;
        for (MrqaRecord r : new SyntheticFacts(SyntheticFacts.Split.TEST, 3).generate(100)) {
            for (MrqaRecord.Qa q : r.qas()) {
                Kind k = QuestionPhrasings.classify(q.question());
                assertEquals(true, k != Kind.UNKNOWN, q.question());
                heldOut += k == Kind.TRAINING ? 0 : 1;
            }
        }
        assertEquals(true, heldOut > 100, "held-out questions among 400: " + heldOut);
    }
}
