package dev.sacrag.query.anchors;

import dev.sacrag.kvstore.AnchorKvStore;
import dev.sacrag.kvstore.BlobReader;
import dev.sacrag.kvstore.KvStoreUnavailableException;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.ToLongFunction;

/** Blobs from Redis through the kv-store's pipelined multi-get. */
public final class RedisBlobSource implements BlobSource {

    private final AnchorKvStore store;

    public RedisBlobSource(AnchorKvStore store) {
        this.store = Objects.requireNonNull(store, "store");
    }

    @Override
    public Map<String, byte[]> getAll(List<String> keys) {
        try {
            return store.getAll(keys);
        } catch (KvStoreUnavailableException e) {
            throw new BlobStoreDownException(e.getMessage(), e);
        }
    }

    /** The store's {@link AnchorKvStore#readAll}: no new byte[] per blob. */
    @Override
    public <T> Map<String, T> readAll(List<String> keys, ToLongFunction<String> expectedBytes, BlobReader<T> reader) {
        try {
            return store.readAll(keys, expectedBytes, reader);
        } catch (KvStoreUnavailableException e) {
            throw new BlobStoreDownException(e.getMessage(), e);
        }
    }
}
