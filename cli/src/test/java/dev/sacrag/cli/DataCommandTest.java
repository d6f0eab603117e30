package dev.sacrag.cli;

import dev.sacrag.core.data.MrqaJsonl;
import dev.sacrag.core.data.MrqaRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The analyses of an evaluation's predictions (sac data phrasings / positions / kinds / compare). */
class DataCommandTest {

    @TempDir
    Path tmp;

    private String run(String... args) {
        PrintStream stdout = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            assertEquals(0, Sac.commandLine().execute(args));
        } finally {
            System.setOut(stdout);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** The launcher asks it before fetching a missing corpus: the options alone, nothing read or written. */
    @Test
    void buildWithCheckOptionsChecksTheOptionsAndStops() {
        PipelineRig.usageError("--train must be >= 1, got 0", "data", "build", "--check-options", "--train", "0");
        Path out = tmp.resolve("data");
        String printed = run("data", "build", "--check-options", "--out", out.toString(),
                "--brown", tmp.resolve("no-brown").toString(), "--wordnet", tmp.resolve("no-wordnet").toString());
        assertEquals("", printed);
        assertTrue(Files.notExists(out), "nothing written");
    }

    @Test
    void positionsSplitsExactMatchByTheQuarterOfTheDocumentHoldingTheAnswer() throws Exception {
        String context = "Ann lives in Oslo. " + "x".repeat(60) + " Bo works at Acme. " + "y".repeat(20) + " Cy was born in 1901.";
        Path data = tmp.resolve("d.jsonl");
        MrqaJsonl.write(data, "synthetic", "test", List.of(new MrqaRecord("c0", context, List.of(
                new MrqaRecord.Qa("q0", "Where does Ann live?", List.of("Oslo"),
                        List.of(new MrqaRecord.Span("Oslo", context.indexOf("Oslo"), context.indexOf("Oslo") + 3))),
                new MrqaRecord.Qa("q1", "Where does Bo work?", List.of("Acme"), List.of()),   // found by text
                new MrqaRecord.Qa("q2", "When was Cy born?", List.of("1901"), List.of())))));
        Path predictions = Files.writeString(tmp.resolve("p.jsonl"), String.join("\n",
                "{\"method\":\"sac\",\"ratio\":4,\"qid\":\"q0\",\"question\":\"Where does Ann live?\",\"predicted\":\"Oslo\",\"gold\":\"Oslo\"}",
                "{\"method\":\"sac\",\"ratio\":4,\"qid\":\"q1\",\"question\":\"Where does Bo work?\",\"predicted\":\"Oslo\",\"gold\":\"Acme\"}",
                "{\"method\":\"sac\",\"ratio\":4,\"qid\":\"q2\",\"question\":\"When was Cy born?\",\"predicted\":\"1901\",\"gold\":\"1901\"}",
                "{\"method\":\"full\",\"ratio\":0,\"qid\":\"q2\",\"question\":\"When was Cy born?\",\"predicted\":\"the 1901\",\"gold\":\"1901\"}"));
        String table = run("data", "positions", "--predictions", predictions.toString(), "--data", data.toString());
        assertTrue(table.contains("| sac 4x | 100.0 (1) | - | 0.0 (1) | 100.0 (1) |"), table);
        assertTrue(table.contains("| full | - | - | - | 100.0 (1) |"), "SQuAD normalisation drops 'the': " + table);
    }

    /** Phrasings judges against the line's one gold answer, or with --data against every gold answer of the question. */
    @Test
    void phrasingsSplitsExactMatchByPhrasingAndJudgesAgainstEveryGoldAnswerWithData() throws Exception {
        String context = "Ann lives in Oslo, the capital. Cy was born in 1901.";
        Path data = tmp.resolve("d.jsonl");
        MrqaJsonl.write(data, "synthetic", "test", List.of(new MrqaRecord("c0", context, List.of(
                new MrqaRecord.Qa("q0", "Where does Ann live?", List.of("Oslo", "the capital"), List.of()),
                new MrqaRecord.Qa("q1", "When was Cy born?", List.of("1901"), List.of())))));
        Path predictions = Files.writeString(tmp.resolve("p.jsonl"), String.join("\n",
                pred("sac", 4, "q0", "capital", "Oslo"),     // right only by the second gold answer
                pred("sac", 4, "q1", "1901", "1901")));
        String oneGold = run("data", "phrasings", "--predictions", predictions.toString());
        String everyGold = run("data", "phrasings", "--predictions", predictions.toString(), "--data", data.toString());
        int oneRight = rightOf(oneGold);
        int everyRight = rightOf(everyGold);
        assertEquals(1, oneRight, oneGold);
        assertEquals(2, everyRight, everyGold);
    }

    @Test
    void phrasingsEachGivesOneMethodsScoreOnEveryPhrasingWorstFirst() throws Exception {
        Path data = tmp.resolve("e.jsonl");
        MrqaJsonl.write(data, "synthetic", "test", List.of(new MrqaRecord("c0", "Ann lives in Oslo. Cy was born in 1901.",
                List.of(new MrqaRecord.Qa("q0", "Where does Ann live?", List.of("Oslo"), List.of()),
                        new MrqaRecord.Qa("q1", "Where does Cy live?", List.of("Oslo"), List.of()),
                        new MrqaRecord.Qa("q2", "Since which year has Cy existed?", List.of("1901"), List.of())))));
        Path predictions = Files.writeString(tmp.resolve("pe.jsonl"), String.join("\n",
                pred("full", 0, "q0", "Oslo", "Oslo"), pred("full", 0, "q1", "Bergen", "Oslo"),
                pred("full", 0, "q2", "Oslo", "1901"), pred("sac", 4, "q2", "1901", "1901")));
        String table = run("data", "phrasings", "--predictions", predictions.toString(), "--data", data.toString(),
                "--each", "full");
        String[] rows = table.strip().split("\n");
        assertEquals("| Since which year has {e} existed? | held_out | 0.0 | 0 of 1 |", rows[2], table);
        assertEquals("| Where does {e} live? | training | 50.0 | 1 of 2 |", rows[3], table);
        assertEquals(4, rows.length, "sac's prediction is not full's: " + table);
        assertTrue(Sac.commandLine().execute("data", "phrasings", "--predictions", predictions.toString(),
                "--each", "sac 8x") != 0, "a method the file lacks is refused");
    }

    /** The questions judged right in a phrasings table of one method: each cell's share times its count. */
    private static int rightOf(String table) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+\\.\\d) \\((\\d+)\\)").matcher(table);
        double right = 0;
        while (m.find()) {
            right += Double.parseDouble(m.group(1)) * Integer.parseInt(m.group(2)) / 100;
        }
        return (int) Math.round(right);
    }

    @Test
    void positionsRefusesPredictionsOfAnotherFile() throws Exception {
        Path data = oneQuestion();
        Path predictions = Files.writeString(tmp.resolve("p.jsonl"),
                "{\"method\":\"sac\",\"ratio\":4,\"qid\":\"other\",\"question\":\"Where?\",\"predicted\":\"Oslo\",\"gold\":\"Oslo\"}\n");
        assertNotEquals(0, Sac.commandLine().execute("data", "positions", "--predictions", predictions.toString(),
                "--data", data.toString()));
    }

    @Test
    void kindsSplitsExactMatchByTheKindOfAnswerAndCountsWrongAnswersFoundInTheDocument() throws Exception {
        String context = "Ann lives in Oslo. Bo works at Acme Labs. Cy was born in 1901. Cy studies geology. Bo lives in Lund.";
        Path data = tmp.resolve("d.jsonl");
        MrqaJsonl.write(data, "synthetic", "test", List.of(new MrqaRecord("c0", context, List.of(
                new MrqaRecord.Qa("q0", "Where does Ann live?", List.of("Oslo"), List.of()),
                new MrqaRecord.Qa("q1", "Where does Bo work?", List.of("Acme Labs"), List.of()),
                new MrqaRecord.Qa("q2", "When was Cy born?", List.of("1901"), List.of()),
                new MrqaRecord.Qa("q3", "What does Cy study?", List.of("geology"), List.of())))));
        Path predictions = Files.writeString(tmp.resolve("p.jsonl"), String.join("\n",
                pred("sac", 4, "q0", "Lund", "Oslo"),            // a name, wrong, but copied from the document
                pred("sac", 4, "q1", "Krundyax Labs", "Acme Labs"),   // a name, wrong and made up
                pred("sac", 4, "q2", "1901", "1901"),
                pred("sac", 4, "q3", "geology", "geology"),
                pred("full", 0, "q0", "Oslo", "Oslo"),
                pred("full", 0, "q2", "190", "1901")));          // made up: a piece of a word is not found
        String table = run("data", "kinds", "--predictions", predictions.toString(), "--data", data.toString());
        assertTrue(table.contains("| sac 4x | 100.0 (1) | 100.0 (1) | 0.0 (2) | 1 of 2 |"), table);
        assertTrue(table.contains("| full | 0.0 (1) | - | 100.0 (1) | 0 of 1 |"), table);
    }

    @Test
    void positionsAndKindsJudgeAgainstEveryGoldAnswerOfTheDataFile() throws Exception {
        Path data = tmp.resolve("d.jsonl");
        MrqaJsonl.write(data, "synthetic", "test", List.of(new MrqaRecord("c0", "Ann lives in Oslo city.", List.of(
                new MrqaRecord.Qa("q0", "Where does Ann live?", List.of("Oslo", "Oslo city"), List.of())))));
        // the line records only the first gold answer; the second one in --data makes the prediction right
        Path predictions = Files.writeString(tmp.resolve("p.jsonl"), pred("sac", 4, "q0", "Oslo city", "Oslo"));
        String positions = run("data", "positions", "--predictions", predictions.toString(), "--data", data.toString());
        assertTrue(positions.contains("| sac 4x | - | - | 100.0 (1) | - |"), positions);
        String kinds = run("data", "kinds", "--predictions", predictions.toString(), "--data", data.toString());
        assertTrue(kinds.contains("| sac 4x | - | - | 100.0 (1) | 0 of 0 |"), kinds);
    }

    @Test
    void anchorsCountsWhatKeepingCapitalisedWordsCosts() throws Exception {
        // a random tiny package: byte tokens, so the input is BOS + 13 prompt bytes + the context's 18 bytes (32)
        Path pkg = tmp.resolve("pkg-a");
        assertEquals(0, Sac.commandLine().execute("model", "random", "--shape", "tiny", "--out", pkg.toString()));
        Path data = tmp.resolve("a.jsonl");
        MrqaJsonl.write(data, "synthetic", "test", List.of(new MrqaRecord("c0", "Ann lives in Oslo.", List.of())));
        String table = run("data", "anchors", "--data", data.toString(), "--model", pkg.toString(), "--ratios", "4");
        // 4x: 8 uniform anchors (offsets 1, 5, ..., 29); "Ann" (14-16) and "Oslo" (27-30) add 6 (29 is one already)
        assertTrue(table.contains("| a.jsonl | 1 | 18 | 38.9 % | 2.25 | 1.29 |"), table);
        Path missing = tmp.resolve("none.jsonl");
        assertTrue(Sac.commandLine().execute("data", "anchors", "--data", missing.toString(), "--model", pkg.toString()) != 0);
    }

    @Test
    void namesSplitsFirstTokenMatchesByWhetherAnAnchorSitsOnTheName() throws Exception {
        // a random tiny package: its byte-level tokenizer has no merges, so every byte is a token and
        // the compressor's input is BOS + 13 prompt bytes + the context's bytes
        Path pkg = tmp.resolve("pkg");
        assertEquals(0, Sac.commandLine().execute("model", "random", "--shape", "tiny", "--out", pkg.toString()));
        String context = "Ann lives in Oslo. Cy was born in 1901. Oslofjord is not Oslo.";
        Path data = tmp.resolve("d.jsonl");
        MrqaJsonl.write(data, "synthetic", "test", List.of(new MrqaRecord("c0", context, List.of(
                new MrqaRecord.Qa("q0", "Where does Ann live?", List.of("Oslo"), List.of()),
                new MrqaRecord.Qa("q1", "When was Cy born?", List.of("1901"), List.of())))));
        // " Oslo" starts at input token 1 + 13 + 12 = 26, an anchor at ratio 2 (offsets 0, 2, ...), and again at
        // 1 + 13 + 57 = 71, not one at ratio 2 ("Oslofjord" is another word); no anchor at ratio 1000 (one anchor,
        // the chunk's first token), nor for truncate, which has none
        Path predictions = Files.writeString(tmp.resolve("p.jsonl"), String.join("\n",
                pred("sac", 2, "q0", "Oslo", "Oslo"),
                pred("sac", 1000, "q0", "Zed", "Oslo"),     // the space before it right, the next token wrong
                pred("sac", 1000, "q1", "1901", "1901"),    // a year: not a name
                pred("full", 0, "q0", "Oxx", "Oslo"),
                pred("truncate", 2, "q0", "Oslo", "Oslo")));
        String table = run("data", "names", "--predictions", predictions.toString(), "--data", data.toString(),
                "--model", pkg.toString());
        assertTrue(table.contains("| sac 2x | 1 | 100.0 | 100.0 | 100.0 | 100.0 (1) | - |"), table);
        assertTrue(table.contains("| sac 1000x | 1 | 0.0 | 100.0 | 0.0 | - | 100.0 (1) |"), table);
        assertTrue(table.contains("| full | 1 | 0.0 | 100.0 | 100.0 | - | - |"), table);
        assertTrue(table.contains("| truncate 2x | 1 | 100.0 | 100.0 | 100.0 | - | - |"), table);
        assertTrue(table.contains("tokens on average (with the space before them): year 5.0 (1), name 5.0 (1)"), table);
    }

    @Test
    void compareGivesThePairedDifferenceOfTwoEvaluationsScoredAgainstEveryGoldAnswer() throws Exception {
        Path data = tmp.resolve("d.jsonl");
        MrqaJsonl.write(data, "synthetic", "test", List.of(
                new MrqaRecord("c0", "Ann lives in Oslo. Bo works at Acme.", List.of(
                        new MrqaRecord.Qa("q0", "Where does Ann live?", List.of("Oslo", "Oslo city"), List.of()),
                        new MrqaRecord.Qa("q1", "Where does Bo work?", List.of("Acme"), List.of()))),
                new MrqaRecord("c1", "Cy was born in 1901.", List.of(
                        new MrqaRecord.Qa("q2", "When was Cy born?", List.of("1901"), List.of())))));
        Path mine = Files.writeString(tmp.resolve("new.jsonl"), String.join("\n",
                pred("sac", 4, "q0", "Oslo city", "Oslo"),   // right by the second gold answer
                pred("sac", 4, "q1", "Acme", "Acme"),
                pred("sac", 4, "q2", "1902", "1901"),
                pred("full", 0, "q0", "Oslo", "Oslo")));
        Path theirs = Files.writeString(tmp.resolve("old.jsonl"), String.join("\n",
                pred("sac", 4, "q0", "Lund", "Oslo"),
                pred("sac", 4, "q1", "Acme", "Acme"),
                pred("sac", 4, "q2", "1901", "1901"),
                pred("truncate", 4, "q0", "Oslo", "Oslo")));
        String table = run("data", "compare", "--predictions", mine.toString(), "--against", theirs.toString(),
                "--data", data.toString());
        // 2 of 3 against 2 of 3: no difference, one question each only one of them gets right
        assertTrue(table.contains("| sac 4x | 66.7 | 66.7 | +0.0 | "), table);
        assertTrue(table.contains(" | 1 | 1 | 3 |"), table);
        assertTrue(table.contains("not compared (scored in one file only): full, truncate 4x"), table);

        Path fewer = Files.writeString(tmp.resolve("fewer.jsonl"), String.join("\n",
                pred("sac", 4, "q0", "Lund", "Oslo"), pred("sac", 4, "q1", "Acme", "Acme")));
        String partial = run("data", "compare", "--predictions", mine.toString(), "--against", fewer.toString(),
                "--data", data.toString());
        assertTrue(partial.contains("| sac 4x | 100.0 | 50.0 | +50.0 | "), partial);
        assertTrue(partial.contains("paired on the shared questions only: sac 4x: 2 questions scored in both (3 here, 2 against)"),
                partial);
    }

    @Test
    void compareRefusesAQuestionScoredTwice() throws Exception {
        Path data = oneQuestion();
        Path twice = Files.writeString(tmp.resolve("p.jsonl"),
                pred("sac", 4, "q0", "Oslo", "Oslo") + "\n" + pred("sac", 4, "q0", "Lund", "Oslo"));
        assertNotEquals(0, Sac.commandLine().execute("data", "compare", "--predictions", twice.toString(),
                "--against", twice.toString(), "--data", data.toString()));
    }

    /** A data file of one context, "Ann lives in Oslo.", and one question q0 (answer Oslo). */
    private Path oneQuestion() throws java.io.IOException {
        Path data = tmp.resolve("d.jsonl");
        MrqaJsonl.write(data, "synthetic", "test", List.of(new MrqaRecord("c0", "Ann lives in Oslo.", List.of(
                new MrqaRecord.Qa("q0", "Where?", List.of("Oslo"), List.of())))));
        return data;
    }

    private static String pred(String method, int ratio, String qid, String predicted, String gold) {
        return "{\"method\":\"" + method + "\",\"ratio\":" + ratio + ",\"qid\":\"" + qid + "\",\"question\":\"?\",\"predicted\":\""
                + predicted + "\",\"gold\":\"" + gold + "\"}";
    }

    @Test
    void aPredictionsLineWithAFieldOfTheWrongKindNamesItsLine() throws Exception {
        Path f = java.nio.file.Files.createTempFile("predictions", ".jsonl");
        try {
            java.nio.file.Files.writeString(f, "{\"method\":\"sac\",\"ratio\":4,\"qid\":\"a\",\"question\":\"?\","
                    + "\"predicted\":\"x\",\"gold\":\"x\"}\n{\"method\":\"sac\",\"ratio\":\"four\",\"qid\":\"b\","
                    + "\"question\":\"?\",\"predicted\":null,\"gold\":\"x\"}\n");
            IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> DataCommand.Prediction.read(f));
            org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().startsWith(f + ":2: a field of the wrong kind"),
                    e.getMessage());
        } finally {
            java.nio.file.Files.delete(f);
        }
    }
}
