package dev.sacrag.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

/**
 * Keys and values of the tokens seen so far, per layer, each [B, Hkv, S, D]; keys are stored
 * after RoPE. The caller owns the cache (and its native memory): the model only appends.
 *
 * <p>A growing cache (the default) concatenates on every append: each decode step copies the
 * whole cache. A {@link #reserved} cache is allocated once at its capacity and written in place;
 * the forward's attention then reads every slot up to the capacity, so the caller's mask must
 * span the capacity and block the slots not written yet.
 */
public final class KvCache implements AutoCloseable {
    private final NDManager manager;
    private final NDArray[] keys;
    private final NDArray[] values;
    /** Positions written per layer in a reserved cache; null for a growing one. */
    private final int[] filled;

    public KvCache(NDManager parent, int layers) {
        this(parent, layers, false);
    }

    private KvCache(NDManager parent, int layers, boolean reserved) {
        this.manager = parent.newSubManager();
        this.keys = new NDArray[layers];
        this.values = new NDArray[layers];
        this.filled = reserved ? new int[layers] : null;
    }

    /**
     * A cache over preallocated K and V [B, Hkv, capacity, D] whose first {@code filled} positions
     * hold tokens; appends are written in place after them. Takes ownership.
     */
    public static KvCache reserved(NDManager parent, NDArray[] keys, NDArray[] values, int filled) {
        KvCache c = new KvCache(parent, keys.length, true);
        for (int i = 0; i < keys.length; i++) {
            if (filled < 0 || filled > keys[i].getShape().get(2)) {
                c.close();
                throw new IllegalArgumentException(filled + " positions filled of a capacity of " + keys[i].getShape().get(2));
            }
            c.keys[i] = c.keep(keys[i]);
            c.values[i] = c.keep(values[i]);
            c.filled[i] = filled;
        }
        return c;
    }

    /** Gives a reserved cache room for {@code extra} more positions: one copy into larger arrays. */
    public void grow(int extra) {
        if (filled == null || extra < 1) {
            throw new IllegalStateException("only a reserved cache grows, by at least one position; got " + extra);
        }
        for (int l = 0; l < keys.length; l++) {
            keys[l] = grown(keys[l], extra);
            values[l] = grown(values[l], extra);
        }
    }

    private NDArray grown(NDArray old, int extra) {
        Shape s = old.getShape();
        NDArray bigger = old.getManager().zeros(new Shape(s.get(0), s.get(1), s.get(2) + extra, s.get(3)), old.getDataType());
        bigger.set(new NDIndex(":, :, 0:{}, :", s.get(2)), old);
        old.close();
        return keep(bigger);
    }

    /**
     * Marks a reserved cache's slots up to {@code length} as written: the caller wrote them in
     * place (rows joining a batch); a cache never goes back.
     */
    void advanceTo(int length) {
        if (filled == null || length > capacity()) {
            throw new IllegalStateException("only a reserved cache advances, within its capacity " + capacity()
                    + "; got " + length);
        }
        for (int l = 0; l < filled.length; l++) {
            filled[l] = Math.max(filled[l], length);
        }
    }

    /** Positions the arrays have room for: the capacity of a reserved cache, else its length. */
    public int capacity() {
        return keys[0] == null ? 0 : (int) keys[0].getShape().get(2);
    }

    public boolean isReserved() {
        return filled != null;
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

    /** Number of cached positions S (0 when empty); in a reserved cache, the positions written. */
    public int length() {
        if (filled != null) {
            return filled[0];
        }
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

    /**
     * Appends k, v [B, Hkv, T, D] to the layer and returns the full K, V [B, Hkv, S+T, D]; in a
     * reserved cache, writes them in place and returns the arrays at their capacity.
     */
    public NDArray[] append(int layer, NDArray k, NDArray v) {
        if (filled != null) {
            int t = (int) k.getShape().get(2);
            if (filled[layer] + t > capacity()) {
                throw new IllegalStateException("a reserved cache of " + capacity() + " positions has " + filled[layer]
                        + " filled, no room for " + t + " more");
            }
            NDIndex slots = new NDIndex(":, :, {}:{}, :", filled[layer], filled[layer] + t);
            keys[layer].set(slots, k);
            values[layer].set(slots, v);
            filled[layer] += t;
            return new NDArray[] {keys[layer], values[layer]};
        }
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
