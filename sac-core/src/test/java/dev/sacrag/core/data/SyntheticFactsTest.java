package dev.sacrag.core.data;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SyntheticFactsTest {

    @Test
    void sameSeedSameData() {
        assertEquals(new SyntheticFacts(SyntheticFacts.Split.DEV, 3).generate(20),
                new SyntheticFacts(SyntheticFacts.Split.DEV, 3).generate(20));
    }

    @Test
    void answersAreSpansOfTheContext() {
        for (MrqaRecord r : new SyntheticFacts(SyntheticFacts.Split.TEST, 1).generate(200)) {
            assertFalse(r.qas().isEmpty());
            for (MrqaRecord.Qa qa : r.qas()) {
                MrqaRecord.Span s = qa.detectedAnswers().get(0);
                assertEquals(qa.answers().get(0), r.context().substring(s.start(), s.end() + 1), qa.qid());
            }
        }
    }

    @Test
    void devAndTestEntitiesNeverAppearInTrain() {
        Pattern name = Pattern.compile("(?:Where does|When was|Who does|What does|employs|home of|birth year of|field of|"
                + "is home to|is|was|does) ([A-Z][a-z]+ [A-Z][a-z]+)");
        Set<String> trainText = new HashSet<>();
        StringBuilder all = new StringBuilder();
        new SyntheticFacts(SyntheticFacts.Split.TRAIN, 1).generate(1500).forEach(r -> all.append(r.context()).append('\n'));
        String train = all.toString();
        int checked = 0;
        for (MrqaRecord r : new SyntheticFacts(SyntheticFacts.Split.TEST, 1).generate(100)) {
            for (MrqaRecord.Qa qa : r.qas()) {
                Matcher m = name.matcher(qa.question());
                while (m.find()) {
                    String entity = m.group(1);
                    if (SyntheticFacts.splitOf(entity) == SyntheticFacts.Split.TEST) {
                        assertFalse(train.contains(entity), entity + " occurs in train");
                        checked++;
                    }
                }
            }
        }
        assertTrue(checked > 50, "checked " + checked + " test entities");
        assertTrue(trainText.isEmpty());
    }

    @Test
    void heldOutPhrasingsOnlyInDevAndTest() {
        List<String> heldOut = List.of("resides in the city of", "The hometown of", "specialises in", "earns a living at",
                "is headquartered in", "has existed since");
        StringBuilder train = new StringBuilder();
        new SyntheticFacts(SyntheticFacts.Split.TRAIN, 2).generate(1000).forEach(r -> {
            train.append(r.context());
            r.qas().forEach(q -> train.append(q.question()));
        });
        StringBuilder test = new StringBuilder();
        new SyntheticFacts(SyntheticFacts.Split.TEST, 2).generate(300).forEach(r -> test.append(r.context()));
        for (String p : heldOut) {
            assertFalse(train.toString().contains(p), "train uses held-out phrasing: " + p);
            assertTrue(test.toString().contains(p), "test never uses held-out phrasing: " + p);
        }
    }

    @Test
    void trainingAsksEveryFactAndHeldOutSplitsAskFour() {
        for (MrqaRecord r : new SyntheticFacts(SyntheticFacts.Split.TRAIN, 4).generate(50)) {
            long answers = r.qas().stream().map(q -> q.detectedAnswers().get(0).start()).distinct().count();
            assertEquals(r.qas().size(), answers, "one question per fact");
        }
        int trainQuestions = new SyntheticFacts(SyntheticFacts.Split.TRAIN, 4).generate(50).stream()
                .mapToInt(r -> r.qas().size()).sum();
        assertTrue(trainQuestions > 50 * 6, "train asks about every fact, got " + trainQuestions + " questions");
        for (MrqaRecord r : new SyntheticFacts(SyntheticFacts.Split.TEST, 4).generate(50)) {
            assertTrue(r.qas().size() <= 4, "test asks at most 4 per context");
        }
    }
}
