package dev.sacrag.query.ask;

import dev.sacrag.query.EngineRig;
import dev.sacrag.query.FakeAnswerer;
import dev.sacrag.query.anchors.WarmCache;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
            for (WarmReport.Miss m : report.misses()) {
                assertEquals(WarmReport.Why.NO_ROOM, m.why(), m.toString());
                assertTrue(m.detail().contains(String.format(java.util.Locale.ROOT, "the warm cache's %,d bytes", budget)),
                        m.detail());
            }
        }
    }

    @Test
    void aDocumentLargerThanTheWholeCacheIsAMissSayingSo() {
        try (EngineRig rig = new EngineRig(new FakeAnswerer(EngineRig.MODEL, 1, 0), 100)) {
            rig.addCompressed("default", "big", 7, "A document whose anchor KV takes more than a hundred bytes.");
            long size = WarmCache.sizeOf(rig.kvOf(rig.catalog.find("default", "big", EngineRig.MODEL).orElseThrow()));
            WarmReport report = warm(rig, "big");

            assertEquals(List.of(new WarmReport.Miss("big", WarmReport.Why.LARGER_THAN_CACHE, String.format(
                    java.util.Locale.ROOT, "v7 takes %,d bytes decoded, more than the whole warm cache's 100 bytes"
                            + " (--warm-cache-bytes)", size))), report.misses());
        }
    }

    @Test
    void documentsAlreadyWarmAreKeptWhenTheOthersOfTheRequestLoad() {
        try (EngineRig rig = new EngineRig(new FakeAnswerer(EngineRig.MODEL, 1, 0), 1L << 30)) {
            List<String> ids = addDocuments(rig);
            long[] sizes = new long[4];
            for (int i = 0; i < 4; i++) {
                sizes[i] = WarmCache.sizeOf(rig.kvOf(rig.catalog.find("default", ids.get(i), EngineRig.MODEL).orElseThrow()));
            }
            // a second rig whose budget holds the three largest of the four, so any three fit
            long budget = sizes[0] + sizes[1] + sizes[2] + sizes[3] - java.util.Arrays.stream(sizes).min().orElseThrow();
            try (EngineRig small = new EngineRig(new FakeAnswerer(EngineRig.MODEL, 1, 0), budget)) {
                addDocuments(small);
                warm(small, ids.get(0), ids.get(1));   // warm first: the least recently used
                warm(small, ids.get(2));                // warm after them, named by nobody below
                WarmReport report = warm(small, ids.get(0), ids.get(1), ids.get(3));

                assertEquals(2, report.alreadyWarm(), report.toString());
                assertEquals(1, report.loaded(), report.toString());
                assertTrue(report.misses().isEmpty(), report.toString());
                for (String id : List.of(ids.get(0), ids.get(1), ids.get(3))) {
                    assertTrue(small.cache.contains(dev.sacrag.query.anchors.CacheKey.of(
                            small.catalog.find("default", id, EngineRig.MODEL).orElseThrow())), id + " is in the cache");
                }
                assertEquals(3, small.cache.size(), "the one nobody named made room");
                assertEquals(0.0, small.metrics.registry().find("sac.query.cache.lookups").counters().stream()
                        .mapToDouble(c -> c.count()).sum(), "warming is not a question's cache lookup");
            }
        }
    }

    /**
     * A document warm when the request began and evicted by its update while the request read the
     * others is CHANGED, not NO_ROOM: the cache had room, and a larger one would not have kept it.
     */
    @Test
    void aWarmDocumentUpdatedWhileTheRequestRanIsChangedNotNoRoom() {
        try (EngineRig rig = new EngineRig(new FakeAnswerer(EngineRig.MODEL, 1, 0), 1L << 30)) {
            List<String> ids = addDocuments(rig);
            warm(rig, ids.get(0));
            rig.blobs.duringRead = () -> {   // the documents feed applies an update while Redis answers
                rig.addCompressed("default", ids.get(0), 2, "Document number 0, rewritten.");
                rig.cache.evictDoc(ids.get(0));
            };
            WarmReport report = warm(rig, ids.get(0), ids.get(1));

            assertEquals(List.of(ids.get(0)), report.missedIds(), report.toString());
            WarmReport.Miss miss = report.misses().get(0);
            assertEquals(WarmReport.Why.CHANGED, miss.why(), miss.toString());
            assertEquals("v1 of model " + EngineRig.MODEL + " was replaced (an update, a delete, a model switch) while the"
                    + " request ran; warm it again", miss.detail());
            assertEquals(1, report.loaded(), report.toString());
        }
    }

    private static WarmReport warm(EngineRig rig, String... ids) {
        return rig.engine.warm(new WarmQuery("default", List.of(ids), Optional.empty(), 1), CallControl.NONE);
    }
    @Test
    void warmCallsBeyondTheConcurrentLimitWaitForOneToEndWithinTheirDeadline() throws Exception {
        try (EngineRig rig = new EngineRig(new FakeAnswerer(EngineRig.MODEL, 1, 0), 1L << 30)) {
            List<String> ids = addDocuments(rig);
            java.util.concurrent.CountDownLatch reading = new java.util.concurrent.CountDownLatch(QueryEngine.MAX_CONCURRENT_WARMS);
            java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.atomic.AtomicInteger reads = new java.util.concurrent.atomic.AtomicInteger();
            rig.blobs.duringRead = () -> {
                if (reads.incrementAndGet() > QueryEngine.MAX_CONCURRENT_WARMS) {
                    return;   // held: only the first calls' reads
                }
                reading.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            };
            java.util.concurrent.ExecutorService callers = java.util.concurrent.Executors.newFixedThreadPool(QueryEngine.MAX_CONCURRENT_WARMS + 1);
            try {
                List<java.util.concurrent.Future<WarmReport>> running = new ArrayList<>();
                for (int i = 0; i < QueryEngine.MAX_CONCURRENT_WARMS; i++) {
                    String id = ids.get(i);
                    running.add(callers.submit(() -> rig.engine.warm(new WarmQuery("default", List.of(id), Optional.empty(), 1),
                            CallControl.NONE)));
                }
                assertTrue(reading.await(30, java.util.concurrent.TimeUnit.SECONDS), "the first calls did not start reading");
                WarmQuery one = new WarmQuery("default", List.of(ids.get(DOCS - 1)), Optional.empty(), 1);
                // one more waits (it does not read meanwhile) and gets its deadline's status when that passes first
                long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(300);
                CallControl short300ms = () -> {
                    if (System.nanoTime() > deadline) {
                        throw new QueryException(QueryException.Reason.DEADLINE_EXCEEDED, "deadline passed");
                    }
                };
                QueryException late = org.junit.jupiter.api.Assertions.assertThrows(QueryException.class,
                        () -> rig.engine.warm(one, short300ms));
                assertEquals(QueryException.Reason.DEADLINE_EXCEEDED, late.reason());
                assertEquals(QueryEngine.MAX_CONCURRENT_WARMS, reads.get(), "a call beyond the limit read blobs");
                // another waits and goes on once one ends
                java.util.concurrent.Future<WarmReport> waiting = callers.submit(() -> rig.engine.warm(one, CallControl.NONE));
                Thread.sleep(200);
                assertFalse(waiting.isDone(), "it did not wait");
                release.countDown();
                for (var f : running) {
                    assertEquals(1, f.get(30, java.util.concurrent.TimeUnit.SECONDS).loaded());
                }
                assertEquals(1, waiting.get(30, java.util.concurrent.TimeUnit.SECONDS).loaded());
            } finally {
                release.countDown();
                callers.shutdownNow();
            }
        }
    }
}
