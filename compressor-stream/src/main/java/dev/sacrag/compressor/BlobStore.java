package dev.sacrag.compressor;

import java.time.Duration;
import java.util.Optional;

/**
 * Where the compressor puts anchor-KV blobs: Redis in production ({@link RedisBlobStore}), a map
 * in topology tests. Every operation either succeeds or throws
 * {@link BlobStoreUnavailableException}, which the compressor retries within its budget.
 */
public interface BlobStore {

    /** Writes (or overwrites) the blob; a TTL lets Redis expire it. */
    void put(String key, byte[] blob, Optional<Duration> ttl);

    /**
     * Reads a blob whose size the catalog gives: the read is given time for that many bytes, as a
     * write of them is ({@code AnchorKvStore.getBlob}), not only the flat command timeout.
     */
    Optional<byte[]> get(String key, long expectedBytes);

    boolean exists(String key);

    /** @return whether the key existed */
    boolean delete(String key);

    /**
     * Lets the blob live at most {@code grace} longer (an earlier expiry stays): how a replaced
     * version's blob is retired, so that readers of the not yet committed catalog still find it.
     *
     * @return whether the key existed
     */
    boolean expireWithin(String key, Duration grace);

    /**
     * Times the store came back as another process since this one connected (Redis's run_id
     * changed): everything written since its last save is gone, so a blob missing after it says
     * nothing about the store's memory. 0 where it cannot tell.
     */
    default long serverRestarts() {
        return 0;
    }
}
