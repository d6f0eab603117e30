package dev.sacrag.query.ask;

import dev.sacrag.query.EngineRig;
import dev.sacrag.query.FakeAnswerer;
import dev.sacrag.query.TestAnchors;
import dev.sacrag.query.catalog.CatalogEntry;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A Redis too small for the documents a question needs at once: each blob rebuilt on request
 * evicts another of them, and "recompressing: retry shortly" would go on for ever. The question
 * is told so (RESOURCE_EXHAUSTED, {@link QueryException.Reason#STORE_TOO_SMALL}) once a blob the
 * service asked for was rebuilt and lost again before a question could use it, twice in a row.
 */
class LostAgainTest {

    private static final AskQuery BOTH = new AskQuery("loom?", "default", List.of("a", "b"), 1, 2);

    @Test
    void aBlobRebuiltAndEvictedAgainBeforeUseTwiceInARowIsResourceExhausted() {
        // a warm cache of 1 byte holds nothing: every question reads Redis (the fake blob store)
        try (EngineRig rig = new EngineRig(new FakeAnswerer(EngineRig.MODEL, 1, 0), 1)) {
            CatalogEntry a = rig.addCompressed("default", "a", 1, "The loom wove silk in Lyon for the old guild.");
            CatalogEntry b = rig.addCompressed("default", "b", 1, "The mill ground wheat by the river for the town.");
            byte[] blobA = rig.blobs.blobs.get(a.redisKey());
            byte[] blobB = rig.blobs.blobs.remove(b.redisKey());   // evicted

            assertEquals(QueryException.Reason.RECOMPRESSING, fail(rig, BOTH).reason());
            // Redis holds one of the two: each rebuild evicts the other
            for (int round = 1; round <= 2; round++) {
                b = rebuild(rig, b, blobB, round);
                rig.blobs.blobs.remove(a.redisKey());
                assertEquals(QueryException.Reason.RECOMPRESSING, fail(rig, BOTH).reason(), "round " + round + ": a missing");
                a = rebuild(rig, a, blobA, round);
                rig.blobs.blobs.remove(b.redisKey());
                if (round == 1) {
                    assertEquals(QueryException.Reason.RECOMPRESSING, fail(rig, BOTH).reason(),
                            "one loss is not enough: a Redis restart right after a rebuild loses a blob once too");
                }
            }
            QueryException churn = fail(rig, BOTH);
            assertEquals(QueryException.Reason.STORE_TOO_SMALL, churn.reason());
            assertTrue(churn.getMessage().startsWith("anchor KV of [doc b v1] (model " + EngineRig.MODEL + ") was rebuilt on"
                    + " this service's requests and gone from Redis again before a question could use it, 2 times in a row"),
                    churn.getMessage());
            assertTrue(churn.getMessage().contains("maxmemory is most likely too small for the 2 documents this question"
                    + " needs at once"), churn.getMessage());
            assertEquals(1.0, rig.metrics.registry().get("sac.query.blobs.lost.again").counter().count());
            assertEquals(QueryException.Reason.STORE_TOO_SMALL, fail(rig, BOTH).reason(),
                    "the verdict stands while b is rebuilt again, not 'retry shortly' every other time");
            assertEquals(List.of("b", "a", "b", "a", "b", "b"), rig.recompress.requests.stream().map(r -> r.docId()).toList(),
                    "b is still asked for: Redis may have room by the next question");

            // Redis grew: the rebuilt b stays, and the question is answered
            b = rebuild(rig, b, blobB, 3);
            assertEquals("t0", rig.engine.ask(BOTH, (id, text) -> { }, CallControl.NONE).text());
            // lost after it served, rebuilt, lost again: one loss, an ordinary miss again
            rig.blobs.blobs.remove(b.redisKey());
            assertEquals(QueryException.Reason.RECOMPRESSING, fail(rig, BOTH).reason());
            rebuild(rig, b, blobB, 4);
            rig.blobs.blobs.remove(b.redisKey());
            assertEquals(QueryException.Reason.RECOMPRESSING, fail(rig, BOTH).reason());
        }
    }

    @Test
    void aBlobThatIsThereButUnusableIsNotAMatterOfMemory() {
        try (EngineRig rig = new EngineRig(new FakeAnswerer(EngineRig.MODEL, 1, 0), 1)) {
            CatalogEntry b = rig.addCompressed("default", "b", 1, "The mill ground wheat by the river for the town.");
            byte[] corrupt = "not an anchor blob".getBytes(java.nio.charset.StandardCharsets.UTF_8);
            rig.blobs.blobs.put(b.redisKey(), corrupt);
            AskQuery justB = new AskQuery("mill?", "default", List.of("b"), 1, 2);
            for (int round = 1; round <= 3; round++) {   // rebuilt, and still unreadable each time
                assertEquals(QueryException.Reason.RECOMPRESSING, fail(rig, justB).reason(), "round " + round);
                b = rebuild(rig, b, corrupt, round);
            }
        }
    }

    @Test
    void aBlobNotRebuiltYetIsStillRecompressing() {
        try (EngineRig rig = new EngineRig(new FakeAnswerer(EngineRig.MODEL, 1, 0), 1)) {
            rig.addCompressed("default", "a", 1, "The loom wove silk in Lyon for the old guild.");
            rig.addWithoutBlob("default", "b", 1, "The mill ground wheat by the river for the town.");
            for (int retry = 0; retry < 3; retry++) {   // a compressor slower than the client's retries
                assertEquals(QueryException.Reason.RECOMPRESSING, fail(rig, BOTH).reason());
            }
            assertEquals(0.0, rig.metrics.registry().get("sac.query.blobs.lost.again").counter().count(),
                    "registered at start, so that rate() sees its first increase");
        }
    }

    @Test
    void lossesCountWithinTheWindowAndTheVerdictLapsesAfterIt() {
        AtomicLong now = new AtomicLong();
        RebuildWatch watch = new RebuildWatch(now::get);
        CatalogEntry doc = new AnchorsOf().entry;
        watch.requested(doc);
        assertEquals(Optional.empty(), watch.missing(doc), "not rebuilt yet");
        now.set(RebuildWatch.WINDOW.toNanos() + 1);
        assertEquals(Optional.empty(), watch.missing(withCompressedAt(doc, 1)), "lost later than the window: ordinary eviction");
        watch.requested(withCompressedAt(doc, 1));
        assertEquals(Optional.empty(), watch.missing(withCompressedAt(doc, 2)), "one loss");
        watch.requested(withCompressedAt(doc, 2));
        assertEquals(2, watch.missing(withCompressedAt(doc, 3)).orElseThrow().losses());
        watch.requested(withCompressedAt(doc, 3));
        assertEquals(2, watch.missing(withCompressedAt(doc, 3)).orElseThrow().losses(), "stands until the rebuild");
        now.addAndGet(RebuildWatch.WINDOW.toNanos() + 1);
        assertEquals(Optional.empty(), watch.missing(withCompressedAt(doc, 3)), "lapses after a quiet window");
        // a loss, then a request an hour later (a Warm, a corrupt blob) and one loss: not two in a row
        watch.requested(withCompressedAt(doc, 3));
        assertEquals(Optional.empty(), watch.missing(withCompressedAt(doc, 4)), "one loss");
        now.addAndGet(java.time.Duration.ofHours(1).toNanos());
        watch.requested(withCompressedAt(doc, 4));
        assertEquals(Optional.empty(), watch.missing(withCompressedAt(doc, 5)), "the loss an hour ago is history");
        watch.requested(withCompressedAt(doc, 3));
        watch.served(List.of(withCompressedAt(doc, 4)));
        assertEquals(Optional.empty(), watch.missing(withCompressedAt(doc, 5)), "it served a question: forgotten");
    }

    private static final class AnchorsOf {
        final CatalogEntry entry = TestAnchors.entry("default", "a", 1, TestAnchors.kv(EngineRig.MODEL, 20, 4, 7));
    }

    private static QueryException fail(EngineRig rig, AskQuery q) {
        return assertThrows(QueryException.class, () -> rig.engine.ask(q, (id, text) -> { }, CallControl.NONE));
    }

    /** What the compressor does on a rebuild: the blob back in Redis, a new catalog record. */
    private static CatalogEntry rebuild(EngineRig rig, CatalogEntry e, byte[] blob, int seconds) {
        CatalogEntry again = withCompressedAt(e, seconds);
        rig.blobs.blobs.put(again.redisKey(), blob);
        rig.catalog.apply(e.docId() + "|" + e.modelId(), Optional.of(again));
        return again;
    }

    private static CatalogEntry withCompressedAt(CatalogEntry e, int seconds) {
        return new CatalogEntry(e.tenant(), e.docId(), e.docVersion(), e.modelId(), e.ratio(), e.tokenCount(),
                e.anchorCount(), e.chunkCount(), e.redisKey(), e.bytes(), e.dtype(), e.checksum(),
                e.compressedAt().plusSeconds(seconds), e.compressMillis());
    }
}
