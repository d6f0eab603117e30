package dev.sacrag.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SuccessionTest {

    private static final String A = ContentHash.of("text a");
    private static final String B = ContentHash.of("text b");

    @Test
    void versionFirstThenTheTextDecides() {
        assertEquals(Succession.NEWER, Succession.of(2, A, 1, B));
        assertEquals(Succession.OLDER, Succession.of(1, A, 2, A), "an older version with the same text is still older");
        assertEquals(Succession.RESTATED, Succession.of(3, A, 3, A));
        assertEquals(Succession.CONFLICTING, Succession.of(3, B, 3, A));
        assertTrue(Succession.NEWER.replaces());
        assertTrue(Succession.RESTATED.replaces());
        assertFalse(Succession.CONFLICTING.replaces(), "the first text of a version stands");
        assertFalse(Succession.OLDER.replaces());
    }

    @Test
    void theHashIsTheCatalogsSha256OfTheUtf8Text() {
        assertEquals("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", ContentHash.of(""));
        assertEquals(64, ContentHash.of("Zürich").length());
    }
}
