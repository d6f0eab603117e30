package dev.sacrag.core.data;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SyntheticFactsTest {

    private static final SyntheticFacts.Options EXTRA = SyntheticFacts.Options.defaults().extraTrainPhrasings(true);
    private static final SyntheticFacts.Options WORDS = SyntheticFacts.Options.defaults().names(SyntheticFacts.Names.WORDS);

    @Test
    void syllableNamesStillGiveTheCommittedTestSplit() throws Exception {
        // models/sac-demo/eval/synthetic-test.jsonl: the first 100 test contexts of `sac data build` (seed 7), which
        // every score in MODEL_CARD.md is on; the name styles must not move a draw of the default data
        List<MrqaRecord> committed = MrqaJsonl.read(dev.sacrag.core.model.TestModels.demoPackage().resolve("eval/synthetic-test.jsonl"));
        assertEquals(100, committed.size());
        assertEquals(committed, new SyntheticFacts(SyntheticFacts.Split.TEST, 7).generate(100));
    }

    @Test
    void wordNamesGiveTheCommittedWordNameTestSplit() throws Exception {
        // models/sac-demo/eval/synthetic-test-words.jsonl: `sac data build --names words` (seed 7), the first 100 test contexts
        List<MrqaRecord> committed = MrqaJsonl.read(
                dev.sacrag.core.model.TestModels.demoPackage().resolve("eval/synthetic-test-words.jsonl"));
        assertEquals(100, committed.size());
        assertEquals(committed, new SyntheticFacts(SyntheticFacts.Split.TEST, 7, WORDS).generate(100));
    }

    @Test
    void wordNamesAreNewCombinationsOfKnownParts() {
        java.util.Set<String> trainPeople = new java.util.HashSet<>();
        java.util.Set<String> trainPhrases = new java.util.HashSet<>();   // every run of 1-3 words of the training text
        java.util.Set<String> trainAnswers = new java.util.HashSet<>();
        for (MrqaRecord r : new SyntheticFacts(SyntheticFacts.Split.TRAIN, 8, WORDS).generate(3000)) {
            trainPeople.addAll(people(r.context()));
            String[] w = r.context().split("[^A-Za-z]+");
            for (int i = 0; i < w.length; i++) {
                for (int n = 1; n <= 3 && i + n <= w.length; n++) {
                    trainPhrases.add(String.join(" ", java.util.Arrays.asList(w).subList(i, i + n)));
                }
            }
            for (MrqaRecord.Qa qa : r.qas()) {
                trainAnswers.add(qa.answers().get(0));
            }
        }
        int names = 0;
        int people = 0;
        for (SyntheticFacts.Split heldOut : List.of(SyntheticFacts.Split.DEV, SyntheticFacts.Split.TEST)) {
            for (MrqaRecord r : new SyntheticFacts(heldOut, 8, WORDS).generate(200)) {
                for (MrqaRecord.Qa qa : r.qas()) {
                    String answer = qa.answers().get(0);
                    assertEquals(answer, r.context().substring(qa.detectedAnswers().get(0).start(), qa.detectedAnswers().get(0).end() + 1));
                    // the person a question asks about: a given name followed by a family name, never in training
                    for (String person : people(qa.question())) {
                        assertEquals(heldOut, SyntheticFacts.splitOf(person), person);
                        assertFalse(trainPeople.contains(person), person + " (" + heldOut + ") occurs in training");
                        people++;
                    }
                    if (answer.matches("\\d{4}") || FactTemplates.FIELDS.contains(answer)) {
                        continue;
                    }
                    names++;
                    assertFalse(trainAnswers.contains(answer), answer + " (" + heldOut + ") is also a training answer");
                    // nor anywhere in a training text, e.g. a held-out city as the first word of a training organisation
                    assertFalse(trainPhrases.contains(answer), answer + " (" + heldOut + ") occurs in a training text");
                    assertTrue(madeOfNameParts(answer), answer + " is not made of the name pools' parts");
                }
            }
        }
        assertTrue(people > 200, "held-out questions about people: " + people);
        assertTrue(names > 400, "held-out answers that are names: " + names);
    }

    @Test
    void mixedNamesDrawAStylePerDocument() {
        int words = 0;
        List<MrqaRecord> mixed = new SyntheticFacts(SyntheticFacts.Split.TRAIN, 10,
                SyntheticFacts.Options.defaults().names(SyntheticFacts.Names.MIXED)).generate(200);
        for (MrqaRecord r : mixed) {
            // a syllable name can spell a given name ("Zara") and, rarely, a family name ("Park"); a given name
            // followed by a family name it practically never spells
            String[] w = r.context().split("[^A-Za-z]+");
            boolean wordStyle = false;
            for (int i = 0; i + 1 < w.length; i++) {
                wordStyle |= NameParts.GIVEN.contains(w[i]) && NameParts.FAMILY.contains(w[i + 1]);
            }
            words += wordStyle ? 1 : 0;
        }
        assertTrue(words > 70 && words < 130, words + " of 200 documents name people from the word pools");
    }

    /** A city ("Ashford", "Oak Falls") or an organisation ("Keller Textiles", "Ashford Labs") built from {@link NameParts}. */
    private static boolean madeOfNameParts(String name) {
        for (String suffix : FactTemplates.ORG_SUFFIXES) {
            if (name.endsWith(" " + suffix)) {
                String stem = name.substring(0, name.length() - suffix.length() - 1);
                return NameParts.FAMILY.contains(stem) || madeOfNameParts(stem);
            }
        }
        for (String stem : NameParts.PLACE_STEMS) {
            if (name.startsWith(stem) && FactTemplates.CITY_SUFFIXES.contains(name.substring(stem.length()))) {
                return true;
            }
        }
        return false;
    }

    /** The people a text names: a given name and the family name after it (word names put one after every given name). */
    private static List<String> people(String text) {
        String[] words = text.split("[^A-Za-z]+");
        List<String> out = new java.util.ArrayList<>();
        for (int i = 0; i + 1 < words.length; i++) {
            if (NameParts.GIVEN.contains(words[i])) {
                assertTrue(NameParts.FAMILY.contains(words[i + 1]), words[i] + " " + words[i + 1]);
                out.add(words[i] + " " + words[i + 1]);
            }
        }
        return out;
    }

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

    @Test
    void extraTrainingPhrasingsReachTrainOnlyAndLeaveDevAndTestAlone() {
        List<MrqaRecord> train = new SyntheticFacts(SyntheticFacts.Split.TRAIN, 5, EXTRA).generate(600);
        StringBuilder text = new StringBuilder();
        train.forEach(r -> {
            text.append(r.context()).append('\n');
            r.qas().forEach(q -> text.append(q.question()).append('\n'));
        });
        int extrasSeen = 0;
        for (FactTemplates.Relation rel : FactTemplates.Relation.values()) {
            List<String> heldOut = new java.util.ArrayList<>(rel.statements.subList(FactTemplates.TRAIN_STATEMENTS, rel.statements.size()));
            heldOut.addAll(rel.questions.subList(FactTemplates.TRAIN_QUESTIONS, rel.questions.size()));
            List<String> extras = new java.util.ArrayList<>(FactTemplates.EXTRA_TRAIN_STATEMENTS.get(rel));
            extras.addAll(FactTemplates.EXTRA_TRAIN_QUESTIONS.get(rel));
            for (String h : heldOut) {
                assertFalse(extras.contains(h), "an extra training phrasing is a held-out one: " + h);
                assertFalse(pattern(h).matcher(text).find(), "extended train uses held-out phrasing: " + h);
            }
            for (String x : extras) {
                extrasSeen += pattern(x).matcher(text).find() ? 1 : 0;
            }
        }
        assertTrue(extrasSeen > 50, "extra phrasings found in extended train: " + extrasSeen);
        for (SyntheticFacts.Split split : List.of(SyntheticFacts.Split.DEV, SyntheticFacts.Split.TEST)) {
            assertEquals(new SyntheticFacts(split, 5, SyntheticFacts.Options.defaults()).generate(40),
                    new SyntheticFacts(split, 5, EXTRA).generate(40), split + " changed");
        }
    }

    /** A template as a regex over one sentence: {e} and {v} stand for any run of characters but a full stop or newline. */
    private static java.util.regex.Pattern pattern(String template) {
        String t = template.substring(0, 1).toUpperCase() + template.substring(1);
        String quoted = java.util.regex.Pattern.quote(t).replace("{e}", "\\E[^.\\n]+\\Q").replace("{v}", "\\E[^.\\n]+\\Q");
        return java.util.regex.Pattern.compile("(?:^|[ \\n])" + quoted);
    }

    @Test
    void nonceFactsAreAskedWithTheirOwnVerbAndLeaveEverythingElseAsItWas() {
        List<MrqaRecord> plain = new SyntheticFacts(SyntheticFacts.Split.TRAIN, 6, EXTRA).generate(40);
        List<MrqaRecord> nonce = new SyntheticFacts(SyntheticFacts.Split.TRAIN, 6, EXTRA.nonceFacts(true)).generate(40);
        assertEquals(new SyntheticFacts(SyntheticFacts.Split.TRAIN, 6, EXTRA.nonceFacts(false)).generate(40), plain,
                "without the flag the data is what it was");
        for (SyntheticFacts.Split heldOut : List.of(SyntheticFacts.Split.DEV, SyntheticFacts.Split.TEST)) {
            assertEquals(new SyntheticFacts(heldOut, 6, EXTRA).generate(30),
                    new SyntheticFacts(heldOut, 6, EXTRA.nonceFacts(true)).generate(30), heldOut + " is unchanged");
        }
        Pattern asked = Pattern.compile("(?:does|did) [A-Z][a-z]+ [A-Z][a-z]+ (?:first )?([a-z]+)(?: in| for)?\\?");
        int nonceQuestions = 0;
        for (MrqaRecord r : nonce) {
            for (MrqaRecord.Qa qa : r.qas()) {
                MrqaRecord.Span s = qa.detectedAnswers().get(0);
                assertEquals(qa.answers().get(0), r.context().substring(s.start(), s.end() + 1), qa.qid());
                Matcher m = asked.matcher(qa.question());
                if (m.find() && !List.of("live", "work", "study", "have", "keep", "reside", "call", "begin", "come", "enter",
                        "open", "start", "operate").contains(m.group(1))) {
                    String verb = m.group(1);
                    assertTrue(r.context().contains(verb), qa.question() + ": its verb is stated in the document");
                    nonceQuestions++;
                }
            }
        }
        assertTrue(nonceQuestions > 40, "about one nonce fact for every other entity, got " + nonceQuestions);
    }

    @Test
    void noNonceQuestionIsANearCopyOfAHeldOutQuestion() {
        for (FactTemplates.Relation r : FactTemplates.Relation.values()) {
            for (String heldOut : r.questions.subList(FactTemplates.TRAIN_QUESTIONS, r.questions.size())) {
                for (FactTemplates.NonceFrame f : FactTemplates.NONCE_FRAMES) {
                    for (String q : f.questions()) {
                        int d = wordDistance(words(q.replace("{w}", "\u0000")), words(heldOut));
                        assertTrue(d >= 2, q + " is " + d + " word from the held-out " + heldOut);
                    }
                }
            }
        }
    }

    private static List<String> words(String s) {
        return List.of(s.toLowerCase().replace("?", "").split(" "));
    }

    /** Word-level edit distance (insert, delete, substitute). */
    private static int wordDistance(List<String> a, List<String> b) {
        int[][] d = new int[a.size() + 1][b.size() + 1];
        for (int i = 0; i <= a.size(); i++) {
            for (int j = 0; j <= b.size(); j++) {
                d[i][j] = i == 0 ? j : j == 0 ? i : Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1),
                        d[i - 1][j - 1] + (a.get(i - 1).equals(b.get(j - 1)) ? 0 : 1));
            }
        }
        return d[a.size()][b.size()];
    }
}
