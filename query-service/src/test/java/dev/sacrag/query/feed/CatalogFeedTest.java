package dev.sacrag.query.feed;

import dev.sacrag.core.kv.AnchorKv;
import dev.sacrag.query.TestAnchors;
import dev.sacrag.query.anchors.CacheKey;
import dev.sacrag.query.anchors.WarmCache;
import dev.sacrag.query.catalog.Catalog;
import dev.sacrag.query.catalog.CatalogEntry;
import dev.sacrag.query.catalog.CatalogRecords;
import dev.sacrag.query.metrics.QueryMetrics;
import dev.sacrag.schemas.avro.AnchorCacheRecord;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CatalogFeedTest {

    private static final String TOPIC = "sac.anchor-caches";
    private final QueryMetrics metrics = QueryMetrics.inMemory();
    private final Catalog catalog = new Catalog();
    private final WarmCache cache = new WarmCache(1 << 20, metrics);
    private final List<CatalogEntry> fresh = new ArrayList<>();
    private final CatalogFeed feed = new CatalogFeed(catalog, cache, fresh::addAll, metrics);

    private static CatalogEntry entry(String doc, long version) {
        return TestAnchors.entry("t", doc, version, TestAnchors.kv("m", 30, 4, version));
    }

    private static byte[] value(CatalogEntry e) {
        return CatalogRecords.encode(TestAnchors.record(e));
    }

    private void warm(CatalogEntry e) {
        cache.put(CacheKey.of(e), TestAnchors.kv("m", 30, 4, 0), WarmCache.Admission.EVICT_LRU);
    }

    @Test
    void learnsCompressedDocumentsAndHandsNewOnesToThePreloader() {
        CatalogEntry a = entry("a", 1);
        CatalogEntry b = entry("b", 1);
        feed.handle(new FeedRecords(TOPIC).add("a|m", value(a)).add("b|m", value(b)).batch());
        assertEquals(a, catalog.find("t", "a", "m").orElseThrow());
        assertEquals(List.of(a, b), fresh);
        fresh.clear();
        feed.handle(new FeedRecords(TOPIC).add("a|m", value(a)).batch());
        assertEquals(List.of(), fresh, "a replayed record is nothing new");
    }

    @Test
    void anUpdateEvictsTheStaleVersionFromTheCache() {
        CatalogEntry v1 = entry("a", 1);
        CatalogEntry v2 = entry("a", 2);
        feed.handle(new FeedRecords(TOPIC).add("a|m", value(v1)).batch());
        warm(v1);
        feed.handle(new FeedRecords(TOPIC).add("a|m", value(v2)).batch());
        assertFalse(cache.contains(CacheKey.of(v1)));
        assertEquals(2, catalog.find("t", "a", "m").orElseThrow().docVersion());
    }

    @Test
    void anotherModelsNewerEntryLeavesTheActiveModelsVersionInTheCache() {
        CatalogEntry activeV4 = entry("a", 4);
        CatalogEntry rolloutV5 = TestAnchors.entry("t", "a", 5, TestAnchors.kv("m2", 30, 4, 5));
        feed.handle(new FeedRecords(TOPIC).add("a|m", value(activeV4)).batch());
        warm(activeV4);
        feed.handle(new FeedRecords(TOPIC).add("a|m2", value(rolloutV5)).batch());
        assertTrue(cache.contains(CacheKey.of(activeV4)), "model m's catalog still names v4");
        assertEquals(4, catalog.find("t", "a", "m").orElseThrow().docVersion());
    }

    @Test
    void aDocumentMovedToAnotherTenantLeavesTheCacheUnderItsOldTenant() {
        CatalogEntry before = entry("a", 1);
        CatalogEntry moved = TestAnchors.entry("u", "a", 2, TestAnchors.kv("m", 30, 4, 2));
        feed.handle(new FeedRecords(TOPIC).add("a|m", value(before)).batch());
        warm(before);
        feed.handle(new FeedRecords(TOPIC).add("a|m", value(moved)).batch());
        assertTrue(catalog.find("t", "a", "m").isEmpty());
        assertEquals(moved, catalog.find("u", "a", "m").orElseThrow());
        assertFalse(cache.contains(CacheKey.of(before)), "the old tenant's anchors stayed cached");
    }

    @Test
    void aTombstoneForgetsTheEntryAndEvictsIt() {
        CatalogEntry a = entry("a", 1);
        CatalogEntry b = entry("b", 1);
        feed.handle(new FeedRecords(TOPIC).add("a|m", value(a)).add("b|m", value(b)).batch());
        warm(a);
        warm(b);
        feed.handle(new FeedRecords(TOPIC).add("a|m", null).batch());
        assertTrue(catalog.find("t", "a", "m").isEmpty());
        assertFalse(cache.contains(CacheKey.of(a)));
        assertTrue(cache.contains(CacheKey.of(b)));
        assertEquals(1, catalog.size());
    }

    @Test
    void skipsAndCountsRecordsItCannotUse() {
        CatalogEntry good = entry("good", 1);
        AnchorKv kv = TestAnchors.kv("m", 30, 4, 9);
        CatalogEntry elsewhere = TestAnchors.entry("t", "other-doc", 1, kv);
        byte[] wrongKey = CatalogRecords.encode(AnchorCacheRecord.newBuilder(TestAnchors.record(elsewhere)).setDocId("liar").build());
        feed.handle(new FeedRecords(TOPIC)
                .add("junk|m", "not avro".getBytes(StandardCharsets.UTF_8))
                .add("liar|m", wrongKey)
                .add(null, value(good))
                .add("good|m", value(good))
                .batch());
        assertEquals(1, catalog.size());
        assertTrue(catalog.find("t", "good", "m").isPresent());
        assertTrue(catalog.find("t", "liar", "m").isEmpty(), "a record pointing at another document's blob is refused");
        assertEquals(3.0, metrics.registry().get("sac.query.feed.records").tag("result", "bad").counter().count());
    }
}
