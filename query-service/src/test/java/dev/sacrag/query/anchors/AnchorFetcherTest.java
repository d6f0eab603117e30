package dev.sacrag.query.anchors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sacrag.core.kv.AnchorKv;
import dev.sacrag.kvstore.BlobReader;
import dev.sacrag.query.FakeBlobSource;
import dev.sacrag.query.TestAnchors;
import dev.sacrag.query.catalog.CatalogEntry;
import dev.sacrag.query.metrics.QueryMetrics;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** Fetching decodes each blob from the bytes the source lends; a bad blob is a miss for its document only. */
class AnchorFetcherTest {

    private static final String MODEL = "0a1b2c3d4e5f";

    /** Lends every blob from one reused array, between junk, as Redis's pooled reads do. */
    private static final class LendingSource implements BlobSource {
        final FakeBlobSource store = new FakeBlobSource();
        private final byte[] shared = new byte[1 << 16];
        /** The size each key was expected to have, as the fetcher told the store. */
        final Map<String, Long> expected = new LinkedHashMap<>();

        @Override
        public Map<String, byte[]> getAll(List<String> keys) {
            return store.getAll(keys);
        }

        @Override
        public <T> Map<String, T> readAll(List<String> keys, java.util.function.ToLongFunction<String> expectedBytes,
                                          BlobReader<T> reader) {
            keys.forEach(k -> expected.put(k, expectedBytes.applyAsLong(k)));
            Map<String, T> read = new LinkedHashMap<>();
            store.getAll(keys).forEach((key, blob) -> {
                Arrays.fill(shared, (byte) 0x77);
                System.arraycopy(blob, 0, shared, 11, blob.length);
                read.put(key, reader.read(key, ByteBuffer.wrap(shared, 11, blob.length)));
            });
            return read;
        }
    }

    @Test
    void decodesLentBlobsAndReportsMissingCorruptAndOtherModelBlobsAsMisses() {
        LendingSource source = new LendingSource();
        WarmCache cache = new WarmCache(1 << 20, QueryMetrics.inMemory());
        AnchorFetcher fetcher = new AnchorFetcher(source, cache);
        AnchorKv good = TestAnchors.kv(MODEL, 40, 5, 1);
        AnchorKv alsoGood = TestAnchors.kv(MODEL, 30, 3, 2);
        CatalogEntry goodEntry = TestAnchors.entry("acme", "good", 1, good);
        CatalogEntry alsoGoodEntry = TestAnchors.entry("acme", "also-good", 1, alsoGood);
        CatalogEntry corrupt = TestAnchors.entry("acme", "corrupt", 1, TestAnchors.kv(MODEL, 20, 2, 3));
        CatalogEntry otherModel = TestAnchors.entry("acme", "other", 1, TestAnchors.kv(MODEL, 20, 2, 4));
        CatalogEntry missing = TestAnchors.entry("acme", "missing", 1, TestAnchors.kv(MODEL, 20, 2, 5));
        source.store.blobs.put(goodEntry.redisKey(), TestAnchors.blob(good));
        source.store.blobs.put(alsoGoodEntry.redisKey(), TestAnchors.blob(alsoGood));
        byte[] flipped = TestAnchors.blob(TestAnchors.kv(MODEL, 20, 2, 3));
        flipped[flipped.length / 2] ^= 1;
        source.store.blobs.put(corrupt.redisKey(), flipped);
        source.store.blobs.put(otherModel.redisKey(), TestAnchors.blob(TestAnchors.kv("ffffffffffff", 20, 2, 4)));

        AnchorFetcher.Fetch fetch = fetcher.fetch(List.of(goodEntry, corrupt, otherModel, missing, alsoGoodEntry),
                WarmCache.Admission.EVICT_LRU, AnchorFetcher.Lookup.COUNTED);

        assertEquals(List.of(goodEntry, alsoGoodEntry), fetch.loaded().stream().map(AnchorFetcher.Loaded::entry).toList());
        assertEquals(goodEntry.bytes(), source.expected.get(goodEntry.redisKey()), "the store is told the catalog's size");
        assertTrue(goodEntry.bytes() > 0);
        AnchorKv back = fetch.loaded().get(0).kv();
        for (int l = 0; l < TestAnchors.LAYERS; l++) {
            assertArrayEquals(good.keys()[l], back.keys()[l]);
            assertArrayEquals(good.values()[l], back.values()[l]);
        }
        assertArrayEquals(alsoGood.values()[1], fetch.loaded().get(1).kv().values()[1], "no bytes of one blob leak into the next");
        assertFalse(fetch.loaded().get(0).fromCache());
        assertTrue(fetch.loaded().get(0).cached());

        Map<String, String> reasons = new LinkedHashMap<>();
        fetch.misses().forEach(m -> reasons.put(m.entry().docId(), m.reason()));
        assertEquals(List.of("corrupt", "other", "missing"), List.copyOf(reasons.keySet()));
        assertTrue(reasons.get("corrupt").startsWith("unusable blob: CRC32C mismatch"), reasons.get("corrupt"));
        assertTrue(reasons.get("other").startsWith("unusable blob: ") && reasons.get("other").contains("ffffffffffff"),
                reasons.get("other"));
        assertEquals("blob missing from Redis", reasons.get("missing"));

        int reads = source.store.reads.get();
        AnchorFetcher.Fetch again = fetcher.fetch(List.of(goodEntry), WarmCache.Admission.EVICT_LRU, AnchorFetcher.Lookup.COUNTED);
        assertTrue(again.loaded().get(0).fromCache());
        assertEquals(reads, source.store.reads.get(), "a cached document needs no fetch");
    }

    @Test
    void anIntactBlobOfTheModelThatIsNotTheEntrysIsAMissNotAnAnswer() {
        LendingSource source = new LendingSource();
        WarmCache cache = new WarmCache(1 << 20, QueryMetrics.inMemory());
        AnchorFetcher fetcher = new AnchorFetcher(source, cache);
        CatalogEntry entry = TestAnchors.entry("acme", "republished", 7, TestAnchors.kv(MODEL, 20, 2, 6));
        // another write under the entry's key: the document's earlier life at that version, written late
        source.store.blobs.put(entry.redisKey(), TestAnchors.blob(TestAnchors.kv(MODEL, 20, 2, 7)));

        AnchorFetcher.Fetch fetch = fetcher.fetch(List.of(entry), WarmCache.Admission.EVICT_LRU, AnchorFetcher.Lookup.COUNTED);

        assertEquals(List.of(), fetch.loaded());
        AnchorFetcher.Miss miss = fetch.misses().get(0);
        assertTrue(miss.reason().startsWith("unusable blob: not the blob its catalog record describes"), miss.reason());
        assertFalse(miss.absent(), "there, but not the one described: rebuilt on request, not a matter of Redis's memory");
        assertFalse(cache.contains(CacheKey.of(entry)), "nothing cached under the entry's checksum");
    }
}
