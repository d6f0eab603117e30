package dev.sacrag.core.sac;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FingerprintsTest {

    @TempDir
    Path tmp;

    /** Weights replaced under the same path are hashed again, not answered from what this process hashed before. */
    @Test
    void aBaseRewrittenInPlaceGetsANewFingerprint() throws Exception {
        Path base = Files.createDirectories(tmp.resolve("base"));
        Files.writeString(base.resolve("config.json"), "{\"layers\": 8}");
        Files.write(base.resolve("model.safetensors"), new byte[] {1, 2, 3, 4});
        Files.writeString(base.resolve("README.md"), "not hashed");
        String before = Fingerprints.baseModel(base);
        assertEquals(before, Fingerprints.baseModel(base));

        Files.write(base.resolve("model.safetensors"), new byte[] {4, 3, 2, 1});   // same size
        Files.setLastModifiedTime(base.resolve("model.safetensors"), FileTime.from(Instant.now().plusSeconds(5)));
        String after = Fingerprints.baseModel(base);
        assertNotEquals(before, after, "new weights, new fingerprint");

        Files.writeString(base.resolve("README.md"), "still not hashed, whatever it says");
        assertEquals(after, Fingerprints.baseModel(base));
    }
}
