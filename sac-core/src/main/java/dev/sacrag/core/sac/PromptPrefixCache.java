package dev.sacrag.core.sac;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import dev.sacrag.core.model.KvCache;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * K and V of the decoder's fixed prompt head, [LM] followed by the question prompt
 * ({@code "\n### Question:\n"}), computed once per composed context and reused by every later
 * question about the same documents. Those positions attend only to the anchors and to each
 * other, so their K/V depend on the documents alone, not on the question; recomputing them was
 * a third of each question's prefill with the demo model (12 of ~36 prompt tokens), and prefill
 * is what a batch of questions cannot share. The same idea as the anchor KV itself, one step
 * further: nothing that is the same for every question is computed per question.
 *
 * <p>Keyed by a caller's name for the composed context (e.g. the documents' Redis keys and
 * checksums, in order); a least-recently-used entry goes when the byte budget is exceeded.
 * Thread-safe: a hit copies the entry's arrays under the lock and appends the copies to the
 * question's cache outside it, so an eviction (which closes the entry) never closes arrays in use.
 */
public final class PromptPrefixCache implements AutoCloseable {

    /** Hits, misses, entries and bytes held, for metrics. */
    public record Stats(long hits, long misses, int entries, long bytes) { }

    /** The head's K/V, and the composition it was computed after (a guard against a key reused for another). */
    private record Entry(KvCache kv, long bytes, int anchors, int tokens) { }

    /** Keeps nothing: every lookup misses and nothing is prefilled ahead (the uncached path). */
    static final PromptPrefixCache DISABLED = new PromptPrefixCache(null, 0);

    private final NDManager parent;
    private final long budgetBytes;
    private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>(16, 0.75f, true);
    private long bytes;
    private long hits;
    private long misses;
    private boolean closed;

    /** @param budgetBytes most bytes of K/V kept; 0 keeps nothing (every lookup misses) */
    PromptPrefixCache(NDManager parent, long budgetBytes) {
        if (budgetBytes < 0) {
            throw new IllegalArgumentException("prompt cache budget must be >= 0, got " + budgetBytes);
        }
        this.parent = parent;
        this.budgetBytes = budgetBytes;
    }

    boolean enabled() {
        return budgetBytes > 0;
    }

    /**
     * Appends the cached head for {@code key} to {@code target}, whose composition has
     * {@code tokens} document tokens in {@code target.length()} anchors; false (a miss) when
     * there is none, or when the entry was computed after another composition (a key reused).
     */
    boolean appendTo(String key, KvCache target, int tokens) {
        NDArray[] keys;
        NDArray[] values;
        synchronized (this) {
            Entry e = closed ? null : entries.get(key);
            if (e == null || e.anchors() != target.length() || e.tokens() != tokens) {
                misses++;
                return false;
            }
            hits++;
            // copies of the small head arrays under the lock (eviction may close the entry after it);
            // the concatenation with the question's anchors happens outside it
            keys = new NDArray[target.layers()];
            values = new NDArray[target.layers()];
            for (int l = 0; l < target.layers(); l++) {
                keys[l] = loose(e.kv().keys(l).duplicate());
                values[l] = loose(e.kv().values(l).duplicate());
            }
        }
        try {
            for (int l = 0; l < target.layers(); l++) {
                target.append(l, keys[l], values[l]);
            }
        } finally {
            for (int l = 0; l < target.layers(); l++) {   // every copy, also when an append threw part way
                keys[l].close();
                values[l].close();
            }
        }
        return true;
    }

    /**
     * Keeps a copy of positions {@code from}.. of {@code source} (the head, after a composition
     * of {@code tokens} document tokens in {@code from} anchors) under {@code key}, evicting the
     * least recently used.
     */
    synchronized void put(String key, KvCache source, int from, int tokens) {
        if (!enabled() || closed || entries.containsKey(key)) {
            return;
        }
        int layers = source.layers();
        NDArray[] keys = new NDArray[layers];
        NDArray[] values = new NDArray[layers];
        long size = 0;
        for (int l = 0; l < layers; l++) {
            keys[l] = tail(source.keys(l), from);
            values[l] = tail(source.values(l), from);
            size += 2 * keys[l].size() * keys[l].getDataType().getNumOfBytes();
        }
        KvCache kv = KvCache.of(parent, keys, values);
        if (size > budgetBytes) {
            kv.close();
            return;
        }
        entries.put(key, new Entry(kv, size, from, tokens));
        bytes += size;
        Iterator<Map.Entry<String, Entry>> oldest = entries.entrySet().iterator();
        while (bytes > budgetBytes && oldest.hasNext()) {
            Entry e = oldest.next().getValue();
            oldest.remove();
            bytes -= e.bytes();
            e.kv().close();
        }
    }

    /**
     * A copy owned by no manager or scope: a copy stays attached to its source's manager, which
     * an eviction closes, so it is detached here and closed by the caller.
     */
    private static NDArray loose(NDArray copy) {
        ai.djl.ndarray.NDScope.unregister(copy);
        copy.detach();
        return copy;
    }

    /** Positions from.. of [B, Hkv, S, D], copied: a slice would keep the whole question's cache alive. */
    private static NDArray tail(NDArray a, int from) {
        try (NDArray view = a.get(new NDIndex(":, :, {}:", from))) {
            return view.duplicate();
        }
    }

    public synchronized Stats stats() {
        return new Stats(hits, misses, entries.size(), bytes);
    }

    /** Frees every entry; afterwards every lookup misses and nothing is kept. */
    @Override
    public synchronized void close() {
        closed = true;
        entries.values().forEach(e -> e.kv().close());
        entries.clear();
        bytes = 0;
    }
}
