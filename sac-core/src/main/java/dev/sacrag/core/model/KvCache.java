package dev.sacrag.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;

/**
 * Keys and values of the tokens seen so far, per layer, each [B, Hkv, S, D]; keys are stored
 * after RoPE. The caller owns the cache (and its native memory): the model only appends.
 */
public final class KvCache implements AutoCloseable {
    private final NDManager manager;
    private final NDArray[] keys;
    private final NDArray[] values;

    public KvCache(NDManager parent, int layers) {
        this.manager = parent.newSubManager();
        this.keys = new NDArray[layers];
        this.values = new NDArray[layers];
    }

    /** A cache that starts from given per-layer K and V (e.g. anchor KV); takes ownership. */
    public static KvCache of(NDManager parent, NDArray[] keys, NDArray[] values) {
        KvCache c = new KvCache(parent, keys.length);
        for (int i = 0; i < keys.length; i++) {
            c.keys[i] = c.keep(keys[i]);
            c.values[i] = c.keep(values[i]);
        }
        return c;
    }

    /** Number of cached positions S (0 when empty). */
    public int length() {
        return keys[0] == null ? 0 : (int) keys[0].getShape().get(2);
    }

    public int layers() {
        return keys.length;
    }

    public NDArray keys(int layer) {
        return keys[layer];
    }

    public NDArray values(int layer) {
        return values[layer];
    }

    /** Appends k, v [B, Hkv, T, D] to the layer and returns the full K, V [B, Hkv, S+T, D]. */
    public NDArray[] append(int layer, NDArray k, NDArray v) {
        NDArray oldK = keys[layer];
        NDArray oldV = values[layer];
        keys[layer] = keep(oldK == null ? k : oldK.concat(k, 2));
        values[layer] = keep(oldV == null ? v : oldV.concat(v, 2));
        if (oldK != null) {
            oldK.close();
            oldV.close();
        }
        return new NDArray[] {keys[layer], values[layer]};
    }

    private NDArray keep(NDArray a) {
        NDScope.unregister(a);
        a.attach(manager);
        return a;
    }

    @Override
    public void close() {
        manager.close();
    }
}
