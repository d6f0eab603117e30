package dev.sacrag.cli;

import dev.sacrag.ingest.IngestSummary;
import dev.sacrag.ingest.PublishedDocuments;
import dev.sacrag.ingest.Question;
import dev.sacrag.ingest.QuestionSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code sac ingest} without a broker: what it refuses before publishing, and how it reports after. */
class IngestCommandTest {

    @TempDir
    Path tmp;

    @Test
    void documentOverTheCompressorsSizeLimitIsBadInputBeforeAnythingIsSent() throws Exception {
        Files.writeString(tmp.resolve("long.txt"), "x".repeat(100));

        SacCliTest.Run r = SacCliTest.run("ingest", "--bootstrap-servers", "127.0.0.1:1", "--timeout", "5s",
                "--max-doc-chars", "50", tmp.toString());

        assertEquals(1, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("long.txt") && r.err().contains("TOO_LARGE") && r.err().contains("limit 50"), r.err());

        SacCliTest.Run bytes = SacCliTest.run("ingest", "--bootstrap-servers", "127.0.0.1:1", "--timeout", "5s",
                "--max-doc-bytes", "60", tmp.toString());
        assertEquals(1, bytes.code(), bytes.out() + bytes.err());
        assertTrue(bytes.err().contains("long.txt") && bytes.err().contains("TOO_LARGE"), bytes.err());
    }

    @Test
    void aMissingInputIsNamedAndFailsTheCommand() {
        Path missing = tmp.resolve("no-such-folder");
        SacCliTest.Run r = SacCliTest.run("ingest", "--bootstrap-servers", "127.0.0.1:1", "--timeout", "5s",
                tmp.toString(), missing.toString());

        assertEquals(1, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("no such file: " + missing + " (input not found)"), r.err());
    }

    @Test
    void questionsThatCannotBeWrittenAreReportedByFileAfterTheSummaryIsKept() throws Exception {
        Path notAFolder = Files.writeString(tmp.resolve("plain"), "");
        Path target = notAFolder.resolve("q.jsonl");
        Reported r = report(summaryWithQuestions(), "--questions-out", target.toString(), tmp.toString());

        assertEquals(1, r.code());
        assertTrue(r.out().startsWith("ingest: published 1 documents"), r.out());
        assertTrue(r.err().contains("1 questions not written to " + target), r.err());
    }

    @Test
    void questionsOfAFileSystemRootAskForAPlace() {
        Reported r = report(summaryWithQuestions(), tmp.getRoot().toString());

        assertEquals(1, r.code());
        assertTrue(r.out().startsWith("ingest: published 1 documents"), r.out());
        assertTrue(r.err().contains("file-system root") && r.err().contains("--questions-out"), r.err());
    }

    @Test
    void questionsAreWrittenBesideTheFirstInput() throws Exception {
        Path input = tmp.resolve("dev.jsonl");
        Reported r = report(summaryWithQuestions(), input.toString());

        assertEquals(0, r.code(), r.err());
        assertEquals(summaryWithQuestions().questions(), QuestionSet.readJsonl(tmp.resolve("dev.questions.jsonl")));
    }

    @Test
    void aFileOfUnknownTypeNamedOnPurposeFailsNamingTheFormatOption() throws Exception {
        Path notes = Files.writeString(tmp.resolve("notes.rst"), "Title\n=====\n");
        SacCliTest.Run r = SacCliTest.run("ingest", "--bootstrap-servers", "127.0.0.1:1", "--timeout", "5s", notes.toString());
        assertEquals(1, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("notes.rst") && r.err().contains("--format"), r.err());
    }

    @Test
    void whatIsSkippedIsListedWithWhereAndWhyAndNothingToPublishFails() throws Exception {
        Files.writeString(tmp.resolve("bad.jsonl"), "{\"docId\": \"a\"\n");
        Files.writeString(tmp.resolve("empty.txt"), "  \n");
        SacCliTest.Run r = SacCliTest.run("ingest", "--bootstrap-servers", "127.0.0.1:1", "--timeout", "5s", "--skip-bad",
                tmp.toString());
        assertEquals(1, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("ingest: skipped " + tmp.resolve("bad.jsonl") + ":1: BAD_INPUT (MALFORMED"), r.err());
        assertTrue(r.err().contains("ingest: skipped " + tmp.resolve("empty.txt") + ": EMPTY_FILE"), r.err());
        assertTrue(r.err().contains("ingest: nothing to publish in [" + tmp + "] (2 inputs skipped)"), r.err());
    }

    @Test
    void aListOfSkippedInputsIsCutAfterTwentyWithACount() {
        List<dev.sacrag.ingest.Skipped> many = new java.util.ArrayList<>();
        for (int i = 0; i < 25; i++) {
            many.add(new dev.sacrag.ingest.Skipped("f" + i + ".jsonl", dev.sacrag.ingest.SkipReason.EMPTY_FILE, ""));
        }
        many.add(new dev.sacrag.ingest.Skipped("d.jsonl:3", dev.sacrag.ingest.SkipReason.DUPLICATE_CONTEXT, "same text"));
        StringWriter err = new StringWriter();
        IngestCommand.listSkipped(many, new PrintWriter(err));
        String[] lines = err.toString().split(System.lineSeparator());
        assertEquals(IngestCommand.SKIPPED_LISTED + 1, lines.length, err.toString());
        assertEquals("ingest: ... and 5 more skipped", lines[lines.length - 1]);
        assertTrue(!err.toString().contains("DUPLICATE_CONTEXT"), "a repeated MRQA context is not listed");
    }

    @Test
    void aTimeoutOverADayIsAUsageError() {
        SacCliTest.Run r = SacCliTest.run("ingest", "--bootstrap-servers", "127.0.0.1:1", "--timeout", "600h", tmp.toString());
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("--timeout must be at most 24h, got 600h"), "not Java's PT600H: " + r.err());
    }

    /** --catalog-topic naming the documents topic read as a catalog of nothing: every document sent, unsaid. */
    @Test
    void aCatalogOrDeadLetterTopicWhoseRecordsAreNotOfItsKindIsWarnedOfWithTheirCount() {
        PublishedDocuments.Tally fine = new PublishedDocuments.Tally(true, 3, 0);
        assertEquals(List.of(), IngestCommand.topicNotes(fine, "sac.anchor-caches", fine, "sac.documents.dlq"));
        assertEquals(List.of(), IngestCommand.topicNotes(new PublishedDocuments.Tally(true, 0, 0), "sac.anchor-caches",
                new PublishedDocuments.Tally(true, 0, 0), "sac.documents.dlq"), "empty: nothing compressed or refused yet");

        PublishedDocuments.Tally none = new PublishedDocuments.Tally(true, 1200, 1200);
        List<String> misnamed = IngestCommand.topicNotes(none, "sac.documents", none, "sac.documents");
        assertEquals(2, misnamed.size(), misnamed.toString());
        assertTrue(misnamed.get(0).startsWith("ingest: warning: none of the 1,200 records of the catalog topic"
                + " sac.documents reads as a catalog entry") && misnamed.get(0).contains("every one is sent")
                && misnamed.get(0).contains("--catalog-topic"), misnamed.get(0));
        assertTrue(misnamed.get(1).startsWith("ingest: warning: none of the 1,200 records of the dead-letter topic"
                + " sac.documents is a dead letter (each has a sac.error.reason header): no refusal is known")
                && misnamed.get(1).contains("--dead-letter-topic"), misnamed.get(1));

        PublishedDocuments.Tally some = new PublishedDocuments.Tally(true, 10, 2);
        List<String> partly = IngestCommand.topicNotes(some, "sac.anchor-caches", some, "sac.documents.dlq");
        assertTrue(partly.get(0).startsWith("ingest: warning: 2 of the 10 records of the catalog topic sac.anchor-caches"
                + " do not read as catalog entries"), partly.get(0));
        assertTrue(partly.get(1).startsWith("ingest: warning: 2 of the 10 records of the dead-letter topic"
                + " sac.documents.dlq are not dead letters"), partly.get(1));

        PublishedDocuments.Tally missing = new PublishedDocuments.Tally(false, 0, 0);
        List<String> notes = IngestCommand.topicNotes(missing, "no.catalog", missing, "no.dlq");
        assertTrue(notes.get(0).startsWith("ingest: note: the catalog topic no.catalog does not exist"), notes.get(0));
        assertTrue(notes.get(1).startsWith("ingest: note: the dead-letter topic no.dlq does not exist"), notes.get(1));
    }

    @Test
    void helpSaysFolderWalksPassOverQuestionsFiles() {
        SacCliTest.Run r = SacCliTest.run("ingest", "--help");
        String help = r.out().replaceAll("\\s+", " ");
        assertTrue(help.contains("NAME.questions.jsonl files ingest writes are passed over"), help);
        assertTrue(help.contains("--max-doc-bytes") && help.contains("--timeout"), help);
    }

    private record Reported(int code, String out, String err) { }

    private static Reported report(IngestSummary summary, String... args) {
        IngestCommand command = new IngestCommand();
        CommandLine cl = new CommandLine(command);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        cl.parseArgs(args);
        boolean written = command.writeQuestions(summary.questions(), cl.getErr());
        int code = command.report(summary, written);
        return new Reported(code, out.toString(), err.toString());
    }

    private static IngestSummary summaryWithQuestions() {
        QuestionSet questions = new QuestionSet(List.of(new Question("q1", "Who wrote notes?", List.of("Ada"), "mrqa-1")));
        return new IngestSummary(1, List.of(), List.of(), 100, Duration.ofMillis(10), questions);
    }
}
