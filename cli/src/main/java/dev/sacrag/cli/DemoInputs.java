package dev.sacrag.cli;

import dev.sacrag.ingest.DocumentDraft;
import dev.sacrag.ingest.DocumentSources;
import dev.sacrag.ingest.Question;
import dev.sacrag.ingest.QuestionSet;
import dev.sacrag.ingest.SourceFormat;
import dev.sacrag.schemas.BadDocumentException;
import dev.sacrag.schemas.DocumentRules;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The demo's documents and questions, read and cross-checked before anything starts. A
 * document's id is its file name without {@code .txt}, the id the questions use. Ingest's own
 * rule (the slug of the path) gives the same id for the bundled files ({@code demo-01.txt} →
 * {@code demo-01}); the demo sets it explicitly so that other file names cannot drift from the
 * questions.
 */
record DemoInputs(List<DocumentDraft> documents, List<Question> questions) {

    static DemoInputs load(Path documentsDir, Path questionsFile) throws IOException {
        if (!Files.isDirectory(documentsDir)) {
            throw new NoSuchFileException(documentsDir.toString(), null, "--documents must be a folder of .txt files");
        }
        if (!Files.isRegularFile(questionsFile)) {
            throw new NoSuchFileException(questionsFile.toString(), null, "--questions must be a JSONL file");
        }
        List<DocumentDraft> documents = new ArrayList<>();
        DocumentSources.Options options = DocumentSources.Options.defaults().withFormat(SourceFormat.TXT);
        var batch = DocumentSources.withDefaults().read(List.of(documentsDir), options);
        for (DocumentDraft d : batch.documents()) {
            documents.add(withFileNameId(d));
        }
        if (documents.isEmpty()) {
            // a folder whose .txt files were all skipped (empty, too large) is not a folder without any
            throw new IllegalArgumentException("no .txt documents in " + documentsDir + (batch.skipped().isEmpty() ? ""
                    : " that can be used; skipped: " + batch.skipped().stream().map(Object::toString)
                            .collect(java.util.stream.Collectors.joining("; "))));
        }
        List<Question> questions = QuestionSet.readJsonl(questionsFile).questions();
        if (questions.isEmpty()) {
            throw new IllegalArgumentException("no questions in " + questionsFile);
        }
        Set<String> ids = new LinkedHashSet<>();
        for (DocumentDraft d : documents) {
            if (!ids.add(d.docId())) {
                throw new IllegalArgumentException("two documents in " + documentsDir + " are named " + d.docId()
                        + ".txt: doc ids come from file names and must differ");
            }
        }
        for (Question q : questions) {
            if (!ids.contains(q.docId())) {
                throw new IllegalArgumentException("question " + q.qid() + " in " + questionsFile + " is about document '"
                        + q.docId() + "', which is not in " + documentsDir + " (documents: " + ids + ")");
            }
            if (q.answers().isEmpty()) {
                throw new IllegalArgumentException("question " + q.qid() + " in " + questionsFile + " has no gold answer");
            }
        }
        return new DemoInputs(List.copyOf(documents), List.copyOf(questions));
    }

    /**
     * The file name without its extension (in NFC, as file names copied from macOS are not); the
     * draft's source is the file's path. A name no doc id may have is refused here, naming the
     * file, not when the demo publishes it after Kafka, Redis and the model have started.
     */
    private static DocumentDraft withFileNameId(DocumentDraft d) {
        String name = DocumentRules.canonicalDocId(Path.of(d.source()).getFileName().toString().replaceFirst("\\.[^.]*$", ""));
        try {
            DocumentRules.checkDocId(name);
        } catch (BadDocumentException e) {
            throw new IllegalArgumentException("document " + d.source() + ": its file name is its doc id, and "
                    + e.getMessage() + ": rename the file", e);
        }
        return name.equals(d.docId()) ? d
                : new DocumentDraft(name, d.tenant(), d.version(), d.title(), d.text(), d.source(), d.metadata());
    }

    List<String> docIds() {
        return documents.stream().map(DocumentDraft::docId).toList();
    }
}
