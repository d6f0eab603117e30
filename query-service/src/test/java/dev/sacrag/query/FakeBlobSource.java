package dev.sacrag.query;

import dev.sacrag.query.anchors.BlobSource;
import dev.sacrag.query.anchors.BlobStoreDownException;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** Blobs in a map; {@link #down} makes every read fail as Redis being down would. */
public final class FakeBlobSource implements BlobSource {

    public final Map<String, byte[]> blobs = new ConcurrentHashMap<>();
    public final AtomicInteger reads = new AtomicInteger();
    public volatile boolean down;
    /** Runs at the start of every read: a test's way to change the world while Redis answers. */
    public volatile Runnable duringRead = () -> { };
    /** The size each key was expected to have in the last sized read (the catalog's, as the caller told it). */
    public final Map<String, Long> expected = new ConcurrentHashMap<>();

    @Override
    public <T> Map<String, T> readAll(List<String> keys, java.util.function.ToLongFunction<String> expectedBytes,
                                      dev.sacrag.kvstore.BlobReader<T> reader) {
        keys.forEach(k -> expected.put(k, expectedBytes.applyAsLong(k)));
        return BlobSource.super.readAll(keys, expectedBytes, reader);
    }

    @Override
    public Map<String, byte[]> getAll(List<String> keys) {
        reads.incrementAndGet();
        duringRead.run();
        if (down) {
            throw new BlobStoreDownException("Redis GET (pipelined, " + keys.size() + " keys) at redis://test failed: "
                    + "Connection refused", null);
        }
        Map<String, byte[]> found = new LinkedHashMap<>();
        for (String k : keys) {
            byte[] b = blobs.get(k);
            if (b != null) {
                found.put(k, b);
            }
        }
        return found;
    }
}
