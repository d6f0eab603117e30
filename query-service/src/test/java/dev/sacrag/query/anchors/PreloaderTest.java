package dev.sacrag.query.anchors;

import dev.sacrag.core.kv.AnchorKv;
import dev.sacrag.query.FakeBlobSource;
import dev.sacrag.query.TestAnchors;
import dev.sacrag.query.catalog.CatalogEntry;
import dev.sacrag.query.metrics.QueryMetrics;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Cache warming on publish: loads what the active model will be asked about, only into free room. */
class PreloaderTest {

    private static final String MODEL = "0a1b2c3d4e5f";
    private static final String OTHER = "ffffeeee0000";

    private final FakeBlobSource blobs = new FakeBlobSource();
    private final AtomicReference<String> active = new AtomicReference<>(MODEL);
    private final Set<String> deleted = ConcurrentHashMap.newKeySet();
    private Preloader preloader;
    private WarmCache cache;

    private CatalogEntry stored(String docId, String model, long seed) {
        AnchorKv kv = TestAnchors.kv(model, 64, 4, seed);
        CatalogEntry e = TestAnchors.entry("t", docId, 1, kv);
        blobs.blobs.put(e.redisKey(), TestAnchors.blob(kv));
        return e;
    }

    private void start(long budget) {
        cache = new WarmCache(budget, QueryMetrics.inMemory());
        preloader = new Preloader(active::get, blobs, cache, e -> !deleted.contains(e.docId()));
    }

    @AfterEach
    void stop() {
        preloader.close();
    }

    private void offerAndWait(List<CatalogEntry> entries) throws InterruptedException {
        preloader.offer(entries);
        assertTrue(preloader.awaitIdle(Duration.ofSeconds(5)));
    }

    @Test
    void loadsTheActiveModelsNewDocumentsOnly() throws Exception {
        start(1L << 20);
        CatalogEntry a = stored("a", MODEL, 1);
        CatalogEntry b = stored("b", MODEL, 2);
        CatalogEntry other = stored("c", OTHER, 3);
        offerAndWait(List.of(a, b, other));
        assertTrue(cache.contains(CacheKey.of(a)) && cache.contains(CacheKey.of(b)));
        assertFalse(cache.contains(CacheKey.of(other)), "another model's anchors are not what questions use");
        assertEquals(TestAnchors.kv(MODEL, 64, 4, 1).keys()[0][0], cache.get(CacheKey.of(a)).orElseThrow().keys()[0][0]);
        assertEquals(a.bytes(), blobs.expected.get(a.redisKey()), "the store is told the catalog's size");
    }

    @Test
    void aDeleteOrModelSwitchDuringTheRedisReadLeavesNothingBehind() throws Exception {
        start(1L << 20);
        CatalogEntry d = stored("d", MODEL, 1);
        blobs.duringRead = () -> {          // the documents feed applies a tombstone while Redis answers
            deleted.add("d");
            cache.evictDoc("d");
        };
        offerAndWait(List.of(d));
        assertEquals(0, cache.size(), "the deleted document was put back after its eviction");
        assertEquals(0, cache.usedBytes());

        CatalogEntry e = stored("e", MODEL, 2);
        blobs.duringRead = () -> {          // the model is switched while Redis answers
            active.set(OTHER);
            cache.retainModel(OTHER);
        };
        offerAndWait(List.of(e));
        assertFalse(cache.contains(CacheKey.of(e)), "the old model's anchors came back after the switch");
    }

    @Test
    void neverEvictsWhatIsCachedToMakeRoom() throws Exception {
        CatalogEntry asked = stored("asked", MODEL, 1);
        long one = WarmCache.sizeOf(TestAnchors.kv(MODEL, 64, 4, 1));
        start(one + one / 2);   // room for one document and a half
        cache.put(CacheKey.of(asked), TestAnchors.kv(MODEL, 64, 4, 1), WarmCache.Admission.EVICT_LRU);
        CatalogEntry fresh = stored("fresh", MODEL, 2);
        offerAndWait(List.of(fresh));
        assertTrue(cache.contains(CacheKey.of(asked)), "a question's document was evicted by a speculative load");
        assertFalse(cache.contains(CacheKey.of(fresh)));
        assertEquals(0, blobs.reads.get(), "nothing fits, so nothing is read");
    }

    @Test
    void skipsDocumentsDeletedBeforeTheirTurn() throws Exception {
        start(1L << 20);
        CatalogEntry gone = stored("gone", MODEL, 1);
        CatalogEntry kept = stored("kept", MODEL, 2);
        deleted.add("gone");
        offerAndWait(List.of(gone, kept));
        assertFalse(cache.contains(CacheKey.of(gone)));
        assertTrue(cache.contains(CacheKey.of(kept)));
    }

    @Test
    void aDocumentWhoseModelWasSwitchedAwayWhileItWaitedIsNotLoaded() throws Exception {
        java.util.concurrent.CountDownLatch reading = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        cache = new WarmCache(1L << 20, QueryMetrics.inMemory());
        preloader = new Preloader(active::get, keys -> {   // the first read blocks until released
            reading.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return blobs.getAll(keys);
        }, cache, e -> true);
        CatalogEntry first = stored("first", MODEL, 1);
        CatalogEntry waiting = stored("waiting", MODEL, 2);
        preloader.offer(List.of(first));
        assertTrue(reading.await(5, java.util.concurrent.TimeUnit.SECONDS));
        preloader.offer(List.of(waiting));   // queued behind the blocked load, still the active model
        active.set(OTHER);                    // sac model activate, before its turn
        release.countDown();
        assertTrue(preloader.awaitIdle(Duration.ofSeconds(5)));
        assertFalse(cache.contains(CacheKey.of(waiting)), "loaded for a model no longer active");
    }

    @Test
    void aStoreOutageSkipsTheBatchAndLaterOffersStillLoad() throws Exception {
        start(1L << 20);
        CatalogEntry first = stored("first", MODEL, 1);
        blobs.down = true;
        offerAndWait(List.of(first));
        assertFalse(cache.contains(CacheKey.of(first)));
        blobs.down = false;
        CatalogEntry second = stored("second", MODEL, 2);
        offerAndWait(List.of(second));
        assertTrue(cache.contains(CacheKey.of(second)), "the preload thread died with the outage");
    }
}
