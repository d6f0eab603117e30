package dev.sacrag.query.ask;

import dev.sacrag.query.EngineRig;
import dev.sacrag.query.FakeAnswerer;
import dev.sacrag.query.retrieval.IndexedDoc;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the active model can answer about, as the gauges and the start-up line report it. */
class CoverageTest {

    @Test
    void countsTheLiveDocumentsTheModelHasAnchorsOfAndThoseAnsweredFromAnOlderVersion() {
        try (EngineRig rig = new EngineRig(new FakeAnswerer(EngineRig.MODEL, 1, 0), 1 << 20)) {
            rig.addCompressed("default", "fresh", 3, "The loom wove silk in Lyon.");
            rig.addCompressed("default", "updated", 1, "The mill ground wheat.");
            rig.index.upsert(new IndexedDoc("updated", "default", 2, null), "The mill ground rye now.");   // v2 not compressed yet
            rig.addUncompressed("default", "new", 1, "A harbour opened in the north.");
            rig.index.refresh();

            Coverage c = Coverage.of(rig.index, rig.catalog, rig.refusals, EngineRig.MODEL);
            assertEquals(new Coverage(3, 2, 1, 0), c);
            assertEquals("3 documents, 2 compressed for this model (1 not: questions about them get NOT_FOUND until it"
                    + " compresses them), 1 answered from an older version than the newest published", c.line());
            assertTrue(c.poor(), "2 of 3");
            assertEquals(new Coverage(3, 0, 0, 0), Coverage.of(rig.index, rig.catalog, rig.refusals, "ffffffffffff"),
                    "a model nothing was compressed for: a retired one, or one whose rollout never ran");
            assertFalse(new Coverage(10, 9, 0, 0).poor());
            assertFalse(new Coverage(0, 0, 0, 0).poor());
        }
    }

    @Test
    void theMemoComputesOncePerFreshPeriod() {
        java.util.concurrent.atomic.AtomicInteger passes = new java.util.concurrent.atomic.AtomicInteger();
        Coverage.Memo memo = new Coverage.Memo(() -> new Coverage(passes.incrementAndGet(), 0, 0, 0), java.time.Duration.ofHours(1));
        assertEquals(1, memo.get().documents());
        assertEquals(1, memo.get().documents(), "both gauges of one scrape share a pass");
        Coverage.Memo always = new Coverage.Memo(() -> new Coverage(passes.incrementAndGet(), 0, 0, 0), java.time.Duration.ZERO);
        always.get();
        assertEquals(3, always.get().documents(), "a stale reading is computed again");
    }
}
