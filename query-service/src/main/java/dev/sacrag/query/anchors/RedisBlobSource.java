package dev.sacrag.query.anchors;

import dev.sacrag.kvstore.AnchorKvStore;
import dev.sacrag.kvstore.BlobReader;
import dev.sacrag.kvstore.KvStoreUnavailableException;
import dev.sacrag.query.metrics.WarnThrottle;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.ToLongFunction;

/** Blobs from Redis through the kv-store's pipelined multi-get. */
public final class RedisBlobSource implements BlobSource {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(RedisBlobSource.class);
    /** At most one WARN this often during an outage: every Ask that needs Redis fails with it. */
    static final java.time.Duration WARN_EVERY = java.time.Duration.ofSeconds(30);

    private final AnchorKvStore store;
    private final Runnable onFailure;
    private final WarnThrottle warnings;

    public RedisBlobSource(AnchorKvStore store) {
        this(store, () -> { }, System::nanoTime);
    }

    /**
     * @param onFailure runs at every read Redis failed (unreachable, timed out, refused): the
     *     service counts them ({@code sac.query.redis.failures}); a WARN says so at most every
     *     {@link #WARN_EVERY}, with how many failed since the last
     */
    public RedisBlobSource(AnchorKvStore store, Runnable onFailure, java.util.function.LongSupplier nanoTime) {
        this.store = Objects.requireNonNull(store, "store");
        this.onFailure = onFailure;
        this.warnings = new WarnThrottle(WARN_EVERY, nanoTime);
    }

    @Override
    public Map<String, byte[]> getAll(List<String> keys) {
        try {
            return store.getAll(keys);
        } catch (KvStoreUnavailableException e) {
            throw failed(e);
        }
    }

    private BlobStoreDownException failed(KvStoreUnavailableException e) {
        onFailure.run();
        warnings.occurred().ifPresent(failed -> log.warn("Redis failed {} blob read(s) since the last warning (questions"
                + " that need it fail UNAVAILABLE): {}", failed, e.getMessage()));
        return new BlobStoreDownException(e.getMessage(), e);
    }

    /** The store's {@link AnchorKvStore#readAll}: no new byte[] per blob. */
    @Override
    public <T> Map<String, T> readAll(List<String> keys, ToLongFunction<String> expectedBytes, BlobReader<T> reader) {
        try {
            return store.readAll(keys, expectedBytes, reader);
        } catch (KvStoreUnavailableException e) {
            throw failed(e);
        }
    }
}
