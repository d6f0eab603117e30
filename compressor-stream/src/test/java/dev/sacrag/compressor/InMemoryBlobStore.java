package dev.sacrag.compressor;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** A {@link BlobStore} in a map that can be told to fail its next n calls, or every call. */
final class InMemoryBlobStore implements BlobStore {

    final Map<String, byte[]> blobs = new ConcurrentHashMap<>();
    final AtomicInteger failuresLeft = new AtomicInteger();
    final AtomicInteger calls = new AtomicInteger();

    void failAlways() {
        failuresLeft.set(Integer.MAX_VALUE);
    }

    void failNext(int n) {
        failuresLeft.set(n);
    }

    void recover() {
        failuresLeft.set(0);
    }

    @Override
    public void put(String key, byte[] blob, Optional<Duration> ttl) {
        check("SET", key);
        blobs.put(key, blob.clone());
    }

    @Override
    public Optional<byte[]> get(String key) {
        check("GET", key);
        return Optional.ofNullable(blobs.get(key));
    }

    @Override
    public boolean exists(String key) {
        check("EXISTS", key);
        return blobs.containsKey(key);
    }

    @Override
    public boolean delete(String key) {
        check("DEL", key);
        return blobs.remove(key) != null;
    }

    private void check(String op, String key) {
        calls.incrementAndGet();
        if (failuresLeft.getAndUpdate(n -> n == Integer.MAX_VALUE ? n : Math.max(0, n - 1)) > 0) {
            throw new BlobStoreUnavailableException("fake Redis is down (" + op + " " + key + ")", null);
        }
    }
}
