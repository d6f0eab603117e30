package dev.sacrag.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sacrag.ingest.DocumentSources.OnBadInput;
import dev.sacrag.ingest.DocumentSources.Options;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MrqaSourcesTest {

    private static final String HEADER = "{\"header\": {\"dataset\": \"SQuAD\", \"mrqa_split\": \"dev\"}}";
    private static final String PARIS = """
            {"id": "c1", "context": "Paris is the capital of France.", "qas": [
              {"qid": "q1", "question": "What is the capital of France?", "answers": ["Paris"],
               "detected_answers": [{"text": "Paris", "char_spans": [[0, 4]]}, {"text": "Paris,"}]},
              {"qid": "q2", "question": "Paris is the capital of?", "answers": [],
               "detected_answers": [{"text": "France"}]}]}""".replace("\n", " ");
    private static final String ROME = """
            {"context": "Rome is in Italy.", "qas": [{"qid": "q3", "question": "Where is Rome?", "answers": ["Italy"]}]}""";

    @TempDir
    Path dir;

    private final DocumentSources sources = DocumentSources.withDefaults();

    /** The scan holds no text; its second read gives the documents read() holds, in the same order. */
    @Test
    void aScanCountsThenHandsOverTheSameDocumentsAsAReadWithoutKeepingTheirText() throws IOException {
        write("dev.jsonl", HEADER, PARIS, ROME, PARIS);
        Files.writeString(dir.resolve("notes.md"), "# Notes\nRome was not built in a day.");
        Files.writeString(dir.resolve("bad.jsonl"), "{\"docId\": \"x\"}\n");
        Options skip = Options.defaults().withOnBadInput(OnBadInput.SKIP);

        SourceBatch read = sources.read(List.of(dir), skip);
        DocumentSources.Scan scan = sources.scan(List.of(dir), skip);

        assertEquals(read.documents().size(), scan.count());
        assertEquals(3, scan.count(), "two contexts (one repeated) and the note");
        assertTrue(scan.batch().documents().isEmpty(), "the scan keeps no document, so no text");
        assertEquals(read.skipped(), scan.batch().skipped());
        assertEquals(read.questions(), scan.batch().questions());
        List<DocumentDraft> again = new java.util.ArrayList<>();
        scan.forEach(again::add);
        assertEquals(read.documents(), again, "the second read hands over what read() holds, in order");
        assertThrows(BadSourceException.class, () -> sources.scan(List.of(dir), Options.defaults()),
                "bad input fails the scan, before anything is handed over");
    }

    @Test
    void eachContextBecomesADocumentAndItsQuestionsPointAtIt() throws IOException {
        Path file = write("dev.jsonl", HEADER, PARIS, ROME);

        SourceBatch batch = sources.read(List.of(file), Options.defaults());

        assertEquals(2, batch.documents().size());
        DocumentDraft paris = batch.documents().get(0);
        assertEquals("Paris is the capital of France.", paris.text());
        assertTrue(paris.docId().matches("mrqa-[0-9a-f]{16}"), paris.docId());
        assertEquals("SQuAD", paris.title());
        assertEquals(Map.of("dataset", "SQuAD", "mrqa_split", "dev", "format", "mrqa"), paris.metadata());
        assertEquals(file + ":2", paris.source());

        List<Question> questions = batch.questions().questions();
        assertEquals(List.of("q1", "q2", "q3"), questions.stream().map(Question::qid).toList());
        assertEquals(List.of("Paris", "Paris,"), questions.get(0).answers());
        assertEquals(List.of("France"), questions.get(1).answers());
        assertEquals(paris.docId(), questions.get(1).docId());
        assertEquals(batch.documents().get(1).docId(), questions.get(2).docId());
    }

    @Test
    void sameContextGivesTheSameIdInEveryRunAndFileAndIsPublishedOnce() throws IOException {
        Path first = write("a.jsonl", HEADER, PARIS);
        Path second = write("b.jsonl", HEADER, ROME, PARIS);

        SourceBatch separately = sources.read(List.of(first), Options.defaults());
        SourceBatch together = sources.read(List.of(first, second), Options.defaults());

        String parisId = separately.documents().get(0).docId();
        assertEquals(List.of(parisId, DocIds.forContext("Rome is in Italy.", "default")),
                together.documents().stream().map(DocumentDraft::docId).toList());
        assertEquals(Map.of(SkipReason.DUPLICATE_CONTEXT, 1), together.skippedByReason());
        assertEquals(5, together.questions().size(), "questions of the repeated context are kept");
        assertTrue(together.questions().questions().stream().filter(q -> q.qid().equals("q1"))
                .allMatch(q -> q.docId().equals(parisId)));
    }

    @Test
    void gzippedMrqaIsDetectedByItsHeader() throws IOException {
        Path file = DocumentSourcesTest.gzip(dir.resolve("dev.jsonl.gz"), String.join("\n", HEADER, PARIS, ""));

        SourceBatch batch = sources.read(List.of(dir), Options.defaults());

        assertEquals(1, batch.documents().size());
        assertEquals(2, batch.questions().size());
        assertTrue(batch.documents().get(0).source().startsWith(file.toString()));
    }

    @Test
    void formatOverrideReadsHeaderlessFileAsMrqa() throws IOException {
        Path file = write("contexts.jsonl", ROME);

        SourceBatch asJsonl = sources.read(List.of(file), Options.defaults().withOnBadInput(OnBadInput.SKIP));
        SourceBatch asMrqa = sources.read(List.of(file), Options.defaults().withFormat(SourceFormat.MRQA));

        assertEquals(0, asJsonl.documents().size(), "without the override it is JSONL and lacks docId");
        assertEquals(1, asMrqa.documents().size());
        assertEquals(1, asMrqa.questions().size());
    }

    @Test
    void contextWithoutTextFailsNamingFileAndLine() throws IOException {
        Path file = write("dev.jsonl", HEADER, PARIS, "{\"qas\": []}");

        BadSourceException e = assertThrows(BadSourceException.class, () -> sources.read(List.of(file), Options.defaults()));

        assertEquals(file + ":3", e.where());
        assertTrue(e.getMessage().contains("'context'"), e.getMessage());
    }

    @Test
    void questionsRoundTripThroughJsonlBesideTheInput() throws IOException {
        Path input = write("dev.jsonl", HEADER, PARIS, ROME);
        QuestionSet questions = sources.read(List.of(input), Options.defaults()).questions();

        Path out = QuestionSet.besideInput(input);
        questions.writeJsonl(out);

        assertEquals(dir.resolve("dev.questions.jsonl"), out);
        assertEquals(dir.resolve("dev.questions.jsonl"), QuestionSet.besideInput(dir.resolve("dev.jsonl.gz")));
        assertEquals(questions, QuestionSet.readJsonl(out));
        assertTrue(Files.readAllLines(out).get(0).startsWith("{\"qid\":\"q1\",\"question\":"));
    }

    @Test
    void aQuestionsFileThatIsNotUtf8FailsNamingItsLine() throws IOException {
        Path file = dir.resolve("bad.questions.jsonl");
        Files.write(file, concat("{\"qid\":\"q1\",\"question\":\"ok?\",\"answers\":[\"a\"],\"docId\":\"d\"}\n".getBytes(
                java.nio.charset.StandardCharsets.UTF_8), new byte[] {'{', '"', (byte) 0xFF, '"', '}', '\n'}));
        IOException e = assertThrows(IOException.class, () -> QuestionSet.readJsonl(file));
        assertTrue(e.getMessage().startsWith(file + ":2: not valid UTF-8"), e.getMessage());
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void questionsOfAFolderGoBesideItAndAFileSystemRootHasNoPlaceForThem() {
        assertEquals(dir.resolve("squad.questions.jsonl"), QuestionSet.besideInput(dir.resolve("squad")));
        Path cwd = Path.of("").toAbsolutePath();
        assertEquals(cwd.resolveSibling(cwd.getFileName() + ".questions.jsonl"), QuestionSet.besideInput(Path.of(".")));
        assertEquals(dir.resolveSibling(dir.getFileName() + ".questions.jsonl"),
                QuestionSet.besideInput(dir.resolve("squad/..")));

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> QuestionSet.besideInput(dir.getRoot()));
        assertTrue(e.getMessage().contains("file-system root"), e.getMessage());
    }

    private Path write(String name, String... lines) throws IOException {
        return Files.writeString(dir.resolve(name), String.join("\n", lines) + "\n");
    }
}
