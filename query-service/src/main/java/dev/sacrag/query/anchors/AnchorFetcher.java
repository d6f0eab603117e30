package dev.sacrag.query.anchors;

import dev.sacrag.core.kv.AnchorKv;
import dev.sacrag.query.catalog.CatalogEntry;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * Gets the decoded anchor KV of catalog entries: from the warm cache when it is there, else
 * with one pipelined Redis GET for all the others, decoded with the codec (which rejects a
 * corrupt blob, one of another model, or another than the entry's checksum names) straight from
 * the bytes Redis lends, and put into the cache.
 */
public final class AnchorFetcher {

    /** @param fromCache whether it came from the warm cache; @param cached whether it is in the cache now */
    public record Loaded(CatalogEntry entry, AnchorKv kv, boolean fromCache, boolean cached) {
    }

    /**
     * A blob the catalog promised that could not be used.
     *
     * @param absent Redis did not have it (evicted, expired, flushed); false when it had one that
     *               does not decode (corrupt, another model's or codec's)
     */
    public record Miss(CatalogEntry entry, String reason, boolean absent) {
    }

    /** @param loaded in the order of the requested entries, without the misses */
    public record Fetch(List<Loaded> loaded, List<Miss> misses) {
    }

    private final BlobSource source;
    private final WarmCache cache;
    private final Predicate<CatalogEntry> stillWanted;

    public AnchorFetcher(BlobSource source, WarmCache cache) {
        this(source, cache, e -> true);
    }

    /**
     * @param stillWanted whether an entry read from Redis may still be cached (its document not
     *                    deleted or updated, its model active), checked under the cache's lock
     *                    (see {@link WarmCache#put(CacheKey, AnchorKv, WarmCache.Admission, java.util.function.BooleanSupplier)})
     */
    public AnchorFetcher(BlobSource source, WarmCache cache, Predicate<CatalogEntry> stillWanted) {
        this.source = Objects.requireNonNull(source, "source");
        this.cache = Objects.requireNonNull(cache, "cache");
        this.stillWanted = Objects.requireNonNull(stillWanted, "stillWanted");
    }

    /** The warm cache's byte budget. */
    public long cacheBudgetBytes() {
        return cache.budgetBytes();
    }

    /** Keeps a cached entry's anchor KV as recently used (not counted as a lookup): its bytes, or -1 when not cached. */
    public long touchIfCached(CacheKey key) {
        return cache.touch(key);
    }

    /** Whether the entry's anchor KV is in the warm cache (not counted as a lookup). */
    public boolean isCached(CacheKey key) {
        return cache.contains(key);
    }

    /** How a fetch looks in the cache: a question's lookups are hits and misses of the cache metrics, a Warm's are not. */
    public enum Lookup { COUNTED, UNCOUNTED }

    /** @throws BlobStoreDownException when Redis is needed and down */
    public Fetch fetch(List<CatalogEntry> entries, WarmCache.Admission admission, Lookup lookup) {
        AnchorKv[] found = new AnchorKv[entries.size()];
        List<String> keys = new ArrayList<>();
        Map<String, CatalogEntry> entryOfKey = new HashMap<>();
        Map<String, Long> bytesOfKey = new HashMap<>();
        for (int i = 0; i < entries.size(); i++) {
            CacheKey key = CacheKey.of(entries.get(i));
            found[i] = (lookup == Lookup.COUNTED ? cache.get(key) : cache.peek(key)).orElse(null);
            if (found[i] == null) {
                keys.add(entries.get(i).redisKey());
                entryOfKey.put(entries.get(i).redisKey(), entries.get(i));
                bytesOfKey.put(entries.get(i).redisKey(), entries.get(i).bytes());
            }
        }
        Map<String, DecodedBlob> blobs = keys.isEmpty() ? Map.of()
                : source.readAll(keys, bytesOfKey::get, (key, blob) -> DecodedBlob.decode(blob, entryOfKey.get(key)));
        List<Loaded> loaded = new ArrayList<>(entries.size());
        List<Miss> misses = new ArrayList<>();
        for (int i = 0; i < entries.size(); i++) {
            CatalogEntry e = entries.get(i);
            if (found[i] != null) {
                loaded.add(new Loaded(e, found[i], true, true));
                continue;
            }
            DecodedBlob blob = blobs.get(e.redisKey());
            if (blob == null) {
                misses.add(new Miss(e, "blob missing from Redis", true));
            } else if (blob.kv() == null) {
                misses.add(new Miss(e, "unusable blob: " + blob.problem(), false));
            } else {
                loaded.add(new Loaded(e, blob.kv(), false, cache.put(CacheKey.of(e), blob.kv(), admission, () -> stillWanted.test(e))));
            }
        }
        return new Fetch(loaded, misses);
    }
}
