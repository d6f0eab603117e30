package dev.sacrag.query.ask;

import dev.sacrag.query.EngineRig;
import dev.sacrag.query.FakeAnswerer;
import dev.sacrag.query.anchors.WarmCache;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Warm never reports more than the cache holds, and stops loading once its budget is used. */
class WarmBudgetTest {

    private static final int DOCS = QueryEngine.WARM_SLICE + 4;   // more than one slice

    private static List<String> addDocuments(EngineRig rig) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < DOCS; i++) {
            rig.addCompressed("default", "doc-" + i, 1, "Document number " + i + " about engines and looms.");
            ids.add("doc-" + i);
        }
        return ids;
    }

    @Test
    void warmingMoreThanTheBudgetLoadsWhatFitsAndReportsTheRestAsMisses() {
        long[] sizes = new long[DOCS];
        try (EngineRig probe = new EngineRig(new FakeAnswerer(EngineRig.MODEL, 1, 0), 1L << 30)) {
            addDocuments(probe);
            for (int i = 0; i < DOCS; i++) {
                sizes[i] = WarmCache.sizeOf(probe.kvOf(probe.catalog.find("default", "doc-" + i, EngineRig.MODEL).orElseThrow()));
            }
        }
        long budget = sizes[0] + sizes[1] + sizes[2] + 1;   // room for three of them
        try (EngineRig rig = new EngineRig(new FakeAnswerer(EngineRig.MODEL, 1, 0), budget)) {
            List<String> ids = addDocuments(rig);
            WarmReport report = rig.engine.warm(new WarmQuery("default", ids, Optional.empty(), 1), CallControl.NONE);

            assertEquals(rig.cache.size(), report.loaded(), "reported loaded: " + report.loaded()
                    + ", in the cache: " + rig.cache.size());
            assertEquals(rig.cache.usedBytes(), report.bytes());
            assertTrue(report.bytes() <= budget, report.bytes() + " bytes reported against a budget of " + budget);
            assertEquals(DOCS, report.loaded() + report.misses().size(), "every document loaded or a miss: " + report);
            assertTrue(report.loaded() >= 2, report.toString());
            assertEquals(1, rig.blobs.reads.get(), "the second slice was read although the first used the budget");
        }
    }
}
