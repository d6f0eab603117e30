package dev.sacrag.query.anchors;

import dev.sacrag.core.kv.AnchorKv;
import dev.sacrag.query.TestAnchors;
import dev.sacrag.query.metrics.QueryMetrics;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WarmCacheTest {

    private static final AnchorKv KV = TestAnchors.kv("m", 40, 10, 1);
    private static final long SIZE = WarmCache.sizeOf(KV);
    private final QueryMetrics metrics = QueryMetrics.inMemory();

    private static CacheKey key(String doc, long version) {
        return new CacheKey("t", doc, version, "m", 0L);
    }

    @Test
    void sizeCountsTheDecodedFloats() {
        assertTrue(SIZE >= 4L * 2 * 2 * 10 * 4, "2 layers x K,V x 10 anchors x 4 dims x 4 bytes");
    }

    @Test
    void evictsTheLeastRecentlyUsedEntriesToStayWithinItsBudget() {
        WarmCache cache = new WarmCache(3 * SIZE, metrics);
        for (String doc : new String[] {"a", "b", "c"}) {
            assertTrue(cache.put(key(doc, 1), KV, WarmCache.Admission.EVICT_LRU));
        }
        assertTrue(cache.get(key("a", 1)).isPresent(), "touch a: b is now the oldest");
        assertTrue(cache.put(key("d", 1), KV, WarmCache.Admission.EVICT_LRU));
        assertFalse(cache.contains(key("b", 1)));
        assertTrue(cache.contains(key("a", 1)) && cache.contains(key("c", 1)) && cache.contains(key("d", 1)));
        assertEquals(3 * SIZE, cache.usedBytes());
        assertEquals(1.0, metrics.registry().get("sac.query.cache.evictions").counter().count());
    }

    @Test
    void anEntryLargerThanTheWholeBudgetIsNotCached() {
        WarmCache cache = new WarmCache(SIZE - 1, metrics);
        assertFalse(cache.put(key("a", 1), KV, WarmCache.Admission.EVICT_LRU));
        assertEquals(0, cache.size());
        assertEquals(0, cache.usedBytes());
        WarmCache none = new WarmCache(0, QueryMetrics.inMemory());
        assertFalse(none.put(key("a", 1), KV, WarmCache.Admission.EVICT_LRU), "budget 0 = no cache");
    }

    @Test
    void preloadingOnlyFillsFreeRoom() {
        WarmCache cache = new WarmCache(2 * SIZE, metrics);
        assertTrue(cache.put(key("a", 1), KV, WarmCache.Admission.EVICT_LRU));
        assertTrue(cache.put(key("b", 1), KV, WarmCache.Admission.IF_ROOM));
        assertFalse(cache.put(key("c", 1), KV, WarmCache.Admission.IF_ROOM));
        assertTrue(cache.contains(key("a", 1)) && cache.contains(key("b", 1)), "nothing evicted for a preload");
    }

    @Test
    void anUpdateEvictsOlderVersionsOfTheDocumentAndModelOnly() {
        WarmCache cache = new WarmCache(10 * SIZE, metrics);
        cache.put(key("a", 1), KV, WarmCache.Admission.EVICT_LRU);
        cache.put(key("a", 2), KV, WarmCache.Admission.EVICT_LRU);
        cache.put(new CacheKey("t", "a", 1, "other-model", 0L), KV, WarmCache.Admission.EVICT_LRU);
        cache.put(key("b", 1), KV, WarmCache.Admission.EVICT_LRU);
        cache.put(new CacheKey("u", "a", 1, "m", 0L), KV, WarmCache.Admission.EVICT_LRU);

        assertEquals(1, cache.evictOlderVersions("t", "a", "m", 2));
        assertTrue(cache.contains(key("a", 2)) && cache.contains(key("b", 1)) && cache.contains(new CacheKey("u", "a", 1, "m", 0L)));
        assertTrue(cache.contains(new CacheKey("t", "a", 1, "other-model", 0L)),
                "another model's entry stays: its own catalog entry may still name that version");
        assertEquals(4, cache.size());
        assertEquals(4 * SIZE, cache.usedBytes());
    }

    @Test
    void aDeleteEvictsEveryVersionAndModelOfTheDocument() {
        WarmCache cache = new WarmCache(10 * SIZE, metrics);
        cache.put(key("a", 1), KV, WarmCache.Admission.EVICT_LRU);
        cache.put(new CacheKey("t", "a", 3, "other-model", 0L), KV, WarmCache.Admission.EVICT_LRU);
        cache.put(key("b", 1), KV, WarmCache.Admission.EVICT_LRU);
        assertEquals(2, cache.evictDoc("a"));
        assertEquals(1, cache.size());
        assertEquals(SIZE, cache.usedBytes());
    }

    @Test
    void countsHitsAndMisses() {
        WarmCache cache = new WarmCache(10 * SIZE, metrics);
        cache.put(key("a", 1), KV, WarmCache.Admission.EVICT_LRU);
        cache.get(key("a", 1));
        cache.get(key("a", 2));
        cache.contains(key("a", 3));
        assertEquals(1.0, metrics.registry().get("sac.query.cache.lookups").tag("result", "hit").counter().count());
        assertEquals(1.0, metrics.registry().get("sac.query.cache.lookups").tag("result", "miss").counter().count());
        assertEquals(SIZE, metrics.registry().get("sac.query.cache.bytes").gauge().value());
    }
}
