package dev.sacrag.kvstore;

import java.nio.ByteBuffer;

/**
 * Turns a blob's bytes into what the caller keeps (typically {@code AnchorKvCodec.decode}),
 * while {@link AnchorKvStore#read} / {@link AnchorKvStore#readAll} lend the bytes.
 *
 * @param <T> what is kept
 */
@FunctionalInterface
public interface BlobReader<T> {

    /**
     * @param key the Redis key the blob was read from
     * @param blob the blob, from its position to its limit. Lent for this call only: the store
     *     reuses the memory for later fetches as soon as this returns, so nothing that reads it
     *     (the buffer, a view or its array) may be kept. Writable for speed, but must not be written.
     * @return what to keep; never null
     */
    T read(String key, ByteBuffer blob);
}
