package dev.sacrag.compressor;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** A {@link BlobStore} in a map that can be told to fail its next n calls, or every call. */
final class InMemoryBlobStore implements BlobStore {

    final Map<String, byte[]> blobs = new ConcurrentHashMap<>();
    /** Keys given an expiry by {@link #expireWithin} (they stay in {@link #blobs}: the fake has no clock). */
    final Map<String, Duration> expiring = new ConcurrentHashMap<>();
    final AtomicInteger failuresLeft = new AtomicInteger();
    final AtomicInteger calls = new AtomicInteger();
    /** The size each read was told to expect, by key (the last read of a key). */
    final Map<String, Long> expectedReadBytes = new ConcurrentHashMap<>();
    /** An error (not an outage) every {@link #put} throws: the Java heap exhausted by a blob's write, say. */
    volatile Error putCrashesWith;

    /** Redis restarted without persistence: every blob gone, and the store says so. */
    final AtomicInteger restarts = new AtomicInteger();

    void restart() {
        blobs.clear();
        expiring.clear();
        restarts.incrementAndGet();
    }

    @Override
    public long serverRestarts() {
        return restarts.get();
    }

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
        if (putCrashesWith != null) {
            throw putCrashesWith;
        }
        blobs.put(key, blob.clone());
        expiring.remove(key);
    }

    @Override
    public Optional<byte[]> get(String key, long expectedBytes) {
        check("GET", key);
        expectedReadBytes.put(key, expectedBytes);
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
        expiring.remove(key);
        return blobs.remove(key) != null;
    }

    @Override
    public boolean expireWithin(String key, Duration grace) {
        check("PEXPIRE", key);
        if (!blobs.containsKey(key)) {
            return false;
        }
        expiring.merge(key, grace, (a, b) -> a.compareTo(b) <= 0 ? a : b);
        return true;
    }

    /** Keys written and not retired. */
    List<String> liveKeys() {
        return blobs.keySet().stream().filter(k -> !expiring.containsKey(k)).sorted().toList();
    }

    private void check(String op, String key) {
        calls.incrementAndGet();
        if (failuresLeft.getAndUpdate(n -> n == Integer.MAX_VALUE ? n : Math.max(0, n - 1)) > 0) {
            throw new BlobStoreUnavailableException("fake Redis is down (" + op + " " + key + ")", null);
        }
    }
}
