package dev.sacrag.schemas;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sacrag.schemas.avro.DocumentEvent;
import java.time.Instant;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The stored-form check skips writing the JSON where a count of the strings' chars bounds it: the
 * bound must hold for every char Gson may escape, and a document over the bound but within the limit
 * is still measured, not refused.
 */
class DocumentRulesStorableTest {

    private static DocumentEvent doc(String text, String title, Map<String, String> metadata, long version) {
        return DocumentEvent.newBuilder().setDocId("doc-1").setTenant("default").setVersion(version).setTitle(title)
                .setText(text).setSource(title).setMetadata(metadata).setPublishedAt(Instant.ofEpochMilli(Long.MIN_VALUE / 2))
                .build();
    }

    private static long jsonBytes(DocumentEvent d) {
        return DocumentCodec.encodeJson(d).getBytes(UTF_8).length;
    }

    @Test
    void theBoundHoldsForEveryCharGsonMayWrite() {
        for (int c = 0; c <= Character.MAX_VALUE; c++) {
            String s = String.valueOf((char) c).repeat(3);
            DocumentEvent d = doc(s, s, Map.of(s, s, "k", s), Long.MIN_VALUE);
            assertTrue(DocumentRules.storedJsonBytesAtMost(d) >= jsonBytes(d), String.format("U+%04X", c));
        }
        Random random = new Random(7);
        StringBuilder pairs = new StringBuilder();
        for (int i = 0; i < 1000; i++) {
            pairs.appendCodePoint(0x10000 + random.nextInt(0x100000));
        }
        DocumentEvent d = doc(pairs.toString(), null, Map.of(), 1);
        assertTrue(DocumentRules.storedJsonBytesAtMost(d) >= jsonBytes(d));
    }

    /** Newlines bound at six bytes each and written as two: over the bound, within the limit, so measured and kept. */
    @Test
    void aDocumentOverTheBoundButWithinTheLimitIsMeasuredAndKept() {
        DocumentLimits limits = new DocumentLimits(1 << 20, 4_000_000);   // a stored form of 3 MiB at most
        DocumentEvent newlines = doc("x", "\n".repeat(500_000), Map.of(), 1);   // in title and source: 2 MB written
        assertTrue(DocumentRules.storedJsonBytesAtMost(newlines) > limits.maxStoredBytes());
        assertDoesNotThrow(() -> DocumentRules.checkStorable(newlines, limits));

        DocumentEvent controls = doc("x", "\u0001".repeat(300_000), Map.of(), 1);   // 6 bytes each, in title and source
        BadDocumentException e = assertThrows(BadDocumentException.class, () -> DocumentRules.checkStorable(controls, limits));
        assertEquals(BadDocumentException.Reason.TOO_LARGE, e.reason());
        assertTrue(e.getMessage().contains("is " + jsonBytes(controls) + " bytes as the JSON the compressor stores"),
                e.getMessage());
    }
}
