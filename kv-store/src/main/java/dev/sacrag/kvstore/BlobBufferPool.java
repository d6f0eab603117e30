package dev.sacrag.kvstore;

import java.util.ArrayDeque;
import java.util.Iterator;

/**
 * Reused byte arrays for the replies of {@link AnchorKvStore#readAll}, so fetching a large blob
 * does not allocate (and zero, and later collect) a new array of its size each time. With G1's
 * default region size a blob of 2 MiB or more is a humongous object; a fresh one per fetch
 * triggers "G1 Humongous Allocation" pauses and grows the heap while the JVM warms up.
 *
 * <p>Blobs under {@link #MIN_POOLED} bytes get an exact new array (a cheap TLAB allocation).
 * Larger ones get the smallest free array that holds them with at most a quarter to spare, else
 * a new one rounded up to {@link #GRAIN}. Released arrays are kept, most recent first, up to
 * {@code capacityBytes} in all; the oldest go first. Thread-safe: arrays are taken on the Netty
 * I/O thread and given back by callers.
 */
final class BlobBufferPool {

    static final int MIN_POOLED = 256 << 10;
    static final int GRAIN = 64 << 10;

    private final long capacityBytes;
    private final ArrayDeque<byte[]> free = new ArrayDeque<>();
    private long freeBytes;

    BlobBufferPool(long capacityBytes) {
        if (capacityBytes < 0) {
            throw new IllegalArgumentException("capacityBytes must be >= 0, got " + capacityBytes);
        }
        this.capacityBytes = capacityBytes;
    }

    /** An array of at least {@code size} bytes; its contents are undefined. */
    byte[] take(int size) {
        if (size < MIN_POOLED) {
            return new byte[size];
        }
        synchronized (this) {
            byte[] best = null;
            for (byte[] a : free) {
                if (a.length >= size && a.length - size <= size / 4 && (best == null || a.length < best.length)) {
                    best = a;
                }
            }
            if (best != null) {
                removeIdentical(best);
                freeBytes -= best.length;
                return best;
            }
        }
        long rounded = (size + (long) GRAIN - 1) / GRAIN * GRAIN;
        return new byte[(int) Math.min(rounded, Integer.MAX_VALUE - 8)];
    }

    /** Takes back an array from {@link #take}; the caller must not use it afterwards. */
    void giveBack(byte[] array) {
        if (array.length < MIN_POOLED || array.length > capacityBytes) {
            return;
        }
        synchronized (this) {
            free.addFirst(array);
            freeBytes += array.length;
            while (freeBytes > capacityBytes) {
                freeBytes -= free.removeLast().length;
            }
        }
    }

    synchronized long freeBytes() {
        return freeBytes;
    }

    synchronized int freeArrays() {
        return free.size();
    }

    private void removeIdentical(byte[] array) {
        for (Iterator<byte[]> it = free.iterator(); it.hasNext(); ) {
            if (it.next() == array) {
                it.remove();
                return;
            }
        }
    }
}
