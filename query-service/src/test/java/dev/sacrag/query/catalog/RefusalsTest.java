package dev.sacrag.query.catalog;

import dev.sacrag.schemas.DeadLetter;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a refusal's remedy tells a caller to do, by what the compressor refused. */
class RefusalsTest {

    /**
     * TOO_LARGE naming no model is over the bytes or characters the compressor takes for every
     * model, not over a model's tokens: --max-doc-tokens, which the remedy of a model's refusal
     * names, has nothing to do with it.
     */
    @Test
    void aDocumentTooLargeForEveryModelIsToldOfTheLimitsItWasOver() {
        DeadLetter chars = new DeadLetter("ledger", 4, "h4", Optional.empty(), "TOO_LARGE",
                "TOO_LARGE: document ledger has 2000001 characters of text, limit 2000000");
        String remedy = Refusals.remedy(chars);
        assertTrue(remedy.startsWith("split it into smaller documents and publish those"), remedy);
        assertTrue(remedy.contains("--max-doc-bytes") && remedy.contains("--max-doc-chars"), remedy);
        assertFalse(remedy.contains("--max-doc-tokens"), remedy);

        DeadLetter tokens = new DeadLetter("ledger", 4, "h4", Optional.of("0a1b2c3d4e5f"), "TOO_LARGE",
                "document ledger v4 has 4100 tokens, limit 2048 (--max-doc-tokens)");
        assertTrue(Refusals.remedy(tokens).contains("--max-doc-tokens"), Refusals.remedy(tokens));
    }
}
