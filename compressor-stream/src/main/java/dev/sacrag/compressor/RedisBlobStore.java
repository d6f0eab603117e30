package dev.sacrag.compressor;

import dev.sacrag.kvstore.AnchorKvStore;
import dev.sacrag.kvstore.KvStoreUnavailableException;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/** {@link BlobStore} over the kv-store's Lettuce store; the store is owned by the caller. */
public final class RedisBlobStore implements BlobStore {

    private final AnchorKvStore store;

    public RedisBlobStore(AnchorKvStore store) {
        this.store = Objects.requireNonNull(store, "store");
    }

    @Override
    public void put(String key, byte[] blob, Optional<Duration> ttl) {
        call(() -> {
            store.put(key, blob, ttl);
            return null;
        });
    }

    @Override
    public Optional<byte[]> get(String key, long expectedBytes) {
        return call(() -> store.getBlob(key, expectedBytes));
    }

    @Override
    public boolean exists(String key) {
        return call(() -> store.exists(key));
    }

    @Override
    public boolean delete(String key) {
        return call(() -> store.delete(key));
    }

    @Override
    public boolean expireWithin(String key, Duration grace) {
        return call(() -> store.expireWithin(key, grace));
    }

    @Override
    public long serverRestarts() {
        return store.serverRestarts();
    }

    private static <T> T call(Supplier<T> operation) {
        try {
            return operation.get();
        } catch (KvStoreUnavailableException e) {
            throw new BlobStoreUnavailableException(e.getMessage(), e);
        }
    }
}
