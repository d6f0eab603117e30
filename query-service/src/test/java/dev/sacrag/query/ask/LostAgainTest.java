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
 * service asked for was rebuilt and lost again before a question could use it.
 */
class LostAgainTest {

    private static final AskQuery BOTH = new AskQuery("loom?", "default", List.of("a", "b"), 1, 2);

    @Test
    void aBlobRebuiltAndEvictedAgainBeforeUseIsResourceExhausted() {
        // a warm cache of 1 byte holds nothing: every question reads Redis (the fake blob store)
        try (EngineRig rig = new EngineRig(new FakeAnswerer(EngineRig.MODEL, 1, 0), 1)) {
            CatalogEntry a = rig.addCompressed("default", "a", 1, "The loom wove silk in Lyon for the old guild.");
            CatalogEntry b = rig.addCompressed("default", "b", 1, "The mill ground wheat by the river for the town.");
            byte[] blobA = rig.blobs.blobs.get(a.redisKey());
            byte[] blobB = rig.blobs.blobs.remove(b.redisKey());   // evicted

            assertEquals(QueryException.Reason.RECOMPRESSING, fail(rig, BOTH).reason());
            // the compressor rebuilds b; writing it evicts a
            b = rebuild(rig, b, blobB, 1);
            rig.blobs.blobs.remove(a.redisKey());
            assertEquals(QueryException.Reason.RECOMPRESSING, fail(rig, BOTH).reason(),
                    "a was never asked for before: recompress it, retry");
            // the compressor rebuilds a; writing it evicts b, which no question has used yet
            a = rebuild(rig, a, blobA, 1);
            rig.blobs.blobs.remove(b.redisKey());
            QueryException churn = fail(rig, BOTH);
            assertEquals(QueryException.Reason.STORE_TOO_SMALL, churn.reason());
            assertTrue(churn.getMessage().startsWith("anchor KV of [doc b v1] (model " + EngineRig.MODEL + ") was rebuilt on"
                    + " request"), churn.getMessage());
            assertTrue(churn.getMessage().contains("is gone from Redis again before a question could use it")
                    && churn.getMessage().contains("maxmemory is most likely too small for the 2 documents this question"
                    + " needs at once"), churn.getMessage());
            assertEquals(1.0, rig.metrics.registry().get("sac.query.blobs.lost.again").counter().count());
            assertEquals(List.of("b", "a", "b"), rig.recompress.requests.stream().map(r -> r.docId()).toList(),
                    "b is still asked for: Redis may have room by the next question");

            // Redis grew: the rebuilt b stays, and the question is answered
            b = rebuild(rig, b, blobB, 2);
            assertEquals("t0", rig.engine.ask(BOTH, (id, text) -> { }, CallControl.NONE).text());
            // evicted later, after it served: an ordinary miss again
            rig.blobs.blobs.remove(b.redisKey());
            rebuild(rig, b, blobB, 3);
            rig.blobs.blobs.remove(b.redisKey());
            assertEquals(QueryException.Reason.RECOMPRESSING, fail(rig, BOTH).reason());
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
            assertTrue(rig.metrics.registry().find("sac.query.blobs.lost.again").counter() == null);
        }
    }

    @Test
    void theWatchForgetsRequestsOlderThanItsWindow() {
        AtomicLong now = new AtomicLong();
        RebuildWatch watch = new RebuildWatch(now::get);
        AnchorsOf doc = new AnchorsOf();
        watch.requested(doc.entry);
        CatalogEntry rebuilt = withCompressedAt(doc.entry, 1);
        assertEquals(Optional.empty(), watch.lostAgain(doc.entry), "not rebuilt yet");
        now.set(RebuildWatch.WINDOW.toNanos());
        assertEquals(Duration.ofMinutes(2), watch.lostAgain(rebuilt).orElseThrow().sinceRequest());
        now.incrementAndGet();
        assertEquals(Optional.empty(), watch.lostAgain(rebuilt), "lost later than the window: ordinary eviction");
        watch.requested(rebuilt);
        watch.served(List.of(withCompressedAt(doc.entry, 2)));
        assertEquals(Optional.empty(), watch.lostAgain(withCompressedAt(doc.entry, 3)), "it served a question");
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
