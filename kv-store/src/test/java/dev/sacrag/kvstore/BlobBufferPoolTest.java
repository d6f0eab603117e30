package dev.sacrag.kvstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BlobBufferPoolTest {

    private static final int MIB = 1 << 20;

    @Test
    void smallBlobsGetExactNewArraysThatAreNotKept() {
        BlobBufferPool pool = new BlobBufferPool(64L * MIB);
        byte[] small = pool.take(BlobBufferPool.MIN_POOLED - 1);
        assertEquals(BlobBufferPool.MIN_POOLED - 1, small.length);
        assertEquals(0, pool.take(0).length);
        pool.giveBack(small);
        assertEquals(0, pool.freeArrays());
    }

    @Test
    void largeBlobsGetGrainRoundedArraysThatAreReused() {
        BlobBufferPool pool = new BlobBufferPool(64L * MIB);
        byte[] a = pool.take(4 * MIB + 30);
        assertEquals(4 * MIB + BlobBufferPool.GRAIN, a.length);
        pool.giveBack(a);
        assertEquals(a.length, pool.freeBytes());
        assertSame(a, pool.take(4 * MIB + 30));
        assertEquals(0, pool.freeBytes());
        pool.giveBack(a);
        assertSame(a, pool.take(4 * MIB), "a slightly smaller blob fits the same array");
    }

    @Test
    void anArrayMoreThanAQuarterTooBigIsNotLentButStaysPooled() {
        BlobBufferPool pool = new BlobBufferPool(64L * MIB);
        byte[] big = pool.take(8 * MIB);
        pool.giveBack(big);
        byte[] half = pool.take(4 * MIB);
        assertNotSame(big, half);
        assertEquals(1, pool.freeArrays());
        assertSame(big, pool.take(7 * MIB), "7 MiB may use the 8 MiB array");
    }

    @Test
    void theSmallestFittingArrayIsLent() {
        BlobBufferPool pool = new BlobBufferPool(64L * MIB);
        byte[] larger = pool.take(5 * MIB);
        byte[] fits = pool.take(4 * MIB + 100);
        pool.giveBack(fits);
        pool.giveBack(larger);
        assertSame(fits, pool.take(4 * MIB + 100));
    }

    @Test
    void keepsAtMostItsCapacityDroppingTheOldestFirst() {
        BlobBufferPool pool = new BlobBufferPool(10L * MIB);
        byte[] oldest = pool.take(4 * MIB);
        byte[] middle = pool.take(4 * MIB);
        byte[] newest = pool.take(4 * MIB);
        pool.giveBack(oldest);
        pool.giveBack(middle);
        pool.giveBack(newest);
        assertEquals(2, pool.freeArrays());
        assertEquals(8L * MIB, pool.freeBytes());
        byte[] x = pool.take(4 * MIB);
        byte[] y = pool.take(4 * MIB);
        assertTrue((x == newest && y == middle) || (x == middle && y == newest), "the oldest was dropped");
        pool.giveBack(pool.take(11 * MIB));
        assertEquals(0, pool.freeArrays(), "an array over the whole capacity is never kept");
    }

    @Test
    void zeroCapacityKeepsNothing() {
        BlobBufferPool pool = new BlobBufferPool(0);
        pool.giveBack(pool.take(MIB));
        assertEquals(0, pool.freeArrays());
        assertThrows(IllegalArgumentException.class, () -> new BlobBufferPool(-1));
    }
}
