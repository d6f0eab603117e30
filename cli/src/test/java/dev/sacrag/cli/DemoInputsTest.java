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
}
