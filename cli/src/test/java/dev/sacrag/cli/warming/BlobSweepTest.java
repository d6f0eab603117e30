package dev.sacrag.cli.warming;

import dev.sacrag.kvstore.BlobKey;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static dev.sacrag.cli.warming.BlobSweep.Verdict.DOCUMENT_GONE;
import static dev.sacrag.cli.warming.BlobSweep.Verdict.LIVE;
import static dev.sacrag.cli.warming.BlobSweep.Verdict.PENDING;
import static dev.sacrag.cli.warming.BlobSweep.Verdict.SUPERSEDED;
import static dev.sacrag.cli.warming.BlobSweep.Verdict.UNKNOWN_MODEL;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BlobSweepTest {

    private static final BlobKey V5 = BlobKey.of("acme", "3f9a0c1d2e4b", "guides/setup.md", 5);

    @Test
    void onlyAnOlderVersionThanTheCatalogsOrADocumentGoneIsSwept() {
        assertEquals(LIVE, BlobSweep.judge(V5, Optional.of(5L), true, true));
        assertEquals(SUPERSEDED, BlobSweep.judge(V5, Optional.of(6L), true, true));
        assertEquals(PENDING, BlobSweep.judge(V5, Optional.of(4L), true, true), "a newer version may not be committed yet");
        assertEquals(PENDING, BlobSweep.judge(V5, Optional.empty(), true, true), "a live document's first compression");
        assertEquals(DOCUMENT_GONE, BlobSweep.judge(V5, Optional.empty(), true, false));
        assertEquals(DOCUMENT_GONE, BlobSweep.judge(V5, Optional.of(5L), true, false), "deleted, the compressor not there yet");
        for (Optional<Long> v : java.util.List.of(Optional.<Long>empty(), Optional.of(6L))) {
            for (boolean held : new boolean[] {true, false}) {
                assertEquals(UNKNOWN_MODEL, BlobSweep.judge(V5, v, false, held), "another deployment's model is never judged");
            }
        }
        assertTrue(SUPERSEDED.swept && DOCUMENT_GONE.swept);
        assertFalse(LIVE.swept || PENDING.swept || UNKNOWN_MODEL.swept);
    }
}
