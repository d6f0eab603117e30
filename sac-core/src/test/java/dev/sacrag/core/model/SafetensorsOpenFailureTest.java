package dev.sacrag.core.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A file that is not safetensors fails to open without leaving its descriptor open. */
class SafetensorsOpenFailureTest {

    @TempDir
    Path tmp;

    private static long openDescriptors() throws IOException {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    @Test
    void aBadHeaderClosesTheFile() throws IOException {
        Path bad = tmp.resolve("model.safetensors");
        Files.write(bad, new byte[] {8, 0, 0, 0, 0, 0, 0, 0, '{', 'x'});   // header claims 8 bytes, holds 2 of JSON
        Path notJson = tmp.resolve("other.safetensors");
        Files.write(notJson, new byte[] {2, 0, 0, 0, 0, 0, 0, 0, '{', '{'});
        assertThrows(IOException.class, () -> Safetensors.open(bad));   // warm up the class loading
        long before = openDescriptors();
        for (int i = 0; i < 50; i++) {
            assertThrows(Exception.class, () -> Safetensors.open(bad));
            assertThrows(Exception.class, () -> Safetensors.open(notJson));
        }
        assertEquals(before, openDescriptors(), "descriptors left open by failed opens");
    }
}
