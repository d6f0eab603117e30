package dev.sacrag.core.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

class AtomicFilesTest {

    @TempDir
    Path dir;

    @Test
    void replacesTheFileAndCreatesItsFolder() throws IOException {
        Path file = dir.resolve("a/b/report.json");
        AtomicFiles.writeString(file, "one");
        AtomicFiles.writeString(file, "two");
        assertEquals("two", Files.readString(file));
        assertFalse(Files.exists(dir.resolve("a/b/report.json.partial")));
    }

    @Test
    void aFailedWriteKeepsThePreviousFileAndLeavesNoTemporary() throws IOException {
        Path file = dir.resolve("sac.json");
        AtomicFiles.writeString(file, "complete");
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.write(file, tmp -> {
            Files.writeString(tmp, "half of it");
            throw new IOException("disk full");
        }));
        assertEquals("disk full", e.getMessage());
        assertEquals("complete", Files.readString(file));
        assertFalse(Files.exists(dir.resolve("sac.json.partial")));
    }

    @Test
    void anUncheckedFailureIsCleanedUpToo() throws IOException {
        Path file = dir.resolve("tokenizer.json");
        assertThrows(IllegalStateException.class, () -> AtomicFiles.write(file, tmp -> {
            Files.writeString(tmp, "{");
            throw new IllegalStateException("bad token");
        }));
        assertFalse(Files.exists(file));
        assertFalse(Files.exists(dir.resolve("tokenizer.json.partial")));
    }
}
