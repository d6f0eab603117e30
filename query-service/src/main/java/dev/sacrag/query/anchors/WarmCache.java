package dev.sacrag.query.anchors;

import dev.sacrag.core.kv.AnchorKv;
import dev.sacrag.query.metrics.QueryMetrics;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

/**
 * Decoded anchor KV of recently used documents, kept in this process so that a question about
 * a warm document needs no Redis round trip and no blob decoding. Least recently used entries
 * go first when the byte budget is exceeded; updates and deletes of a document evict its stale
 * versions. Thread-safe (one lock; every operation is a map update).
 *
 * <p>Sizes count the decoded f32 tensors ({@link #sizeOf}), which is what occupies the heap,
 * not the (possibly f16 or int8) blob.
 */
public final class WarmCache {

    /** Whether a new entry may push older ones out. */
    public enum Admission {
        /** Evict least recently used entries until it fits (questions, Warm RPC). */
        EVICT_LRU,
        /** Only take it if the budget has room now (speculative preloading never evicts). */
        IF_ROOM
    }

    private record Entry(AnchorKv kv, long bytes) {
    }

    private final long budgetBytes;
    private final QueryMetrics metrics;
    private final LinkedHashMap<CacheKey, Entry> entries = new LinkedHashMap<>(64, 0.75f, true);
    private long usedBytes;

    public WarmCache(long budgetBytes, QueryMetrics metrics) {
        if (budgetBytes < 0) {
            throw new IllegalArgumentException("cache budget must be >= 0 bytes, got " + budgetBytes);
        }
        this.budgetBytes = budgetBytes;
        this.metrics = metrics;
        metrics.gauge("sac.query.cache.bytes", "Bytes of decoded anchor KV in the warm cache", this, WarmCache::usedBytes);
        metrics.gauge("sac.query.cache.entries", "Documents in the warm cache", this, WarmCache::size);
        metrics.gauge("sac.query.cache.budget.bytes", "Byte budget of the warm cache", this, WarmCache::budgetBytes);
    }

    /** Heap bytes of a decoded anchor KV: its floats plus array headers. */
    public static long sizeOf(AnchorKv kv) {
        return 4 * kv.valueCount() + 16L * (2L * kv.layers() + kv.chunkAnchors().length) + 64;
    }

    /** Looks up and marks as recently used; counted as a hit or a miss. */
    public synchronized Optional<AnchorKv> get(CacheKey key) {
        Entry e = entries.get(key);
        if (e == null) {
            metrics.cacheMiss();
            return Optional.empty();
        }
        metrics.cacheHit();
        return Optional.of(e.kv);
    }

    /** As {@link #get}, not counted as a hit or a miss (a Warm's loading is not a question's lookup). */
    public synchronized Optional<AnchorKv> peek(CacheKey key) {
        Entry e = entries.get(key);
        return e == null ? Optional.empty() : Optional.of(e.kv);
    }

    /**
     * Marks a cached entry as recently used without counting a lookup (a Warm that names it
     * wants it kept): its size in bytes, or -1 when it is not cached.
     */
    public synchronized long touch(CacheKey key) {
        Entry e = entries.get(key);   // access order: this moves it to the most recently used end
        return e == null ? -1 : e.bytes;
    }

    /** Whether the key is cached, without touching recency or the hit counters. */
    public synchronized boolean contains(CacheKey key) {
        return entries.containsKey(key);
    }

    /** @return whether the entry is cached now (false when larger than the budget, or no room for IF_ROOM) */
    public boolean put(CacheKey key, AnchorKv kv, Admission admission) {
        return put(key, kv, admission, () -> true);
    }

    /**
     * As {@link #put(CacheKey, AnchorKv, Admission)}, if {@code stillWanted} holds when checked
     * under the cache's lock. A caller that read the anchor KV from Redis passes the check it
     * made before the read: an update, delete or model switch that arrived while Redis answered
     * changes what the check sees before it evicts, so the entry is either refused here or
     * evicted after, never left behind holding budget.
     */
    public synchronized boolean put(CacheKey key, AnchorKv kv, Admission admission, BooleanSupplier stillWanted) {
        if (!stillWanted.getAsBoolean()) {
            return false;
        }
        if (entries.containsKey(key)) {
            return true; // same document version and model: the same anchor KV
        }
        long size = sizeOf(kv);
        if (size > budgetBytes || admission == Admission.IF_ROOM && usedBytes + size > budgetBytes) {
            return false;
        }
        int evicted = 0;
        Iterator<Entry> oldest = entries.values().iterator();
        while (usedBytes + size > budgetBytes && oldest.hasNext()) {
            usedBytes -= oldest.next().bytes;
            oldest.remove();
            evicted++;
        }
        metrics.cacheEvictions(evicted);
        entries.put(key, new Entry(kv, size));
        usedBytes += size;
        return true;
    }

    /** Evicts every version and model of a document, in every tenant (a document tombstone). */
    public int evictDoc(String docId) {
        return evictIf(k -> k.docId().equals(docId));
    }

    /**
     * Evicts the versions of a document older than {@code version} for one model (its catalog
     * entry was updated). Other models keep theirs: during a rollout the new model's entry for v5
     * says nothing of the active model's, which may still name v4 (its compressor lags, or refused
     * v5), and evicting v4 sent its questions back to Redis.
     */
    public int evictOlderVersions(String tenant, String docId, String modelId, long version) {
        return evictIf(k -> k.tenant().equals(tenant) && k.docId().equals(docId) && k.modelId().equals(modelId)
                && k.docVersion() < version);
    }

    /** Evicts every entry of other models than {@code modelId} (the active model was switched). */
    public int retainModel(String modelId) {
        return evictIf(k -> !k.modelId().equals(modelId));
    }

    public int evict(CacheKey key) {
        return evictIf(key::equals);
    }

    public synchronized long usedBytes() {
        return usedBytes;
    }

    public synchronized int size() {
        return entries.size();
    }

    public long budgetBytes() {
        return budgetBytes;
    }

    private synchronized int evictIf(Predicate<CacheKey> stale) {
        int evicted = 0;
        Iterator<Map.Entry<CacheKey, Entry>> it = entries.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<CacheKey, Entry> e = it.next();
            if (stale.test(e.getKey())) {
                usedBytes -= e.getValue().bytes;
                it.remove();
                evicted++;
            }
        }
        metrics.cacheEvictions(evicted);
        return evicted;
    }
}
