package dev.sacrag.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoInputsTest {

    @TempDir
    Path tmp;

    @Test
    void aFolderWhoseDocumentsWereAllSkippedSaysWhy() throws Exception {
        Path docs = Files.createDirectories(tmp.resolve("docs"));
        Files.writeString(docs.resolve("empty.txt"), "   \n");
        Path questions = Files.writeString(tmp.resolve("q.jsonl"),
                "{\"qid\": \"q1\", \"docId\": \"one\", \"question\": \"?\", \"answers\": [\"x\"]}\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DemoInputs.load(docs, questions));
        assertTrue(e.getMessage().startsWith("no .txt documents in " + docs + " that can be used; skipped: ")
                && e.getMessage().contains("empty.txt"), e.getMessage());

        Files.writeString(docs.resolve("one.txt"), "Ada lived in London.");
        assertEquals("one", DemoInputs.load(docs, questions).documents().get(0).docId());
    }
    @Test
    void aFileNameNoDocIdMayHaveIsRefusedNamingTheFileAndADecomposedNameIsComposed() throws Exception {
        Path docs = Files.createDirectories(tmp.resolve("docs"));
        Path questions = Files.writeString(tmp.resolve("q.jsonl"),
                "{\"qid\": \"q1\", \"docId\": \"caf\u00e9\", \"question\": \"?\", \"answers\": [\"x\"]}\n");
        Files.writeString(docs.resolve("cafe\u0301.txt"), "Ada lived in London.");   // as macOS writes "café"
        assertEquals("caf\u00e9", DemoInputs.load(docs, questions).documents().get(0).docId());

        Files.writeString(docs.resolve("a{b}.txt"), "Ada lived in Paris.");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DemoInputs.load(docs, questions));
        assertTrue(e.getMessage().contains("a{b}.txt") && e.getMessage().contains("rename the file"), e.getMessage());
    }
}
