package dev.sacrag.query.anchors;

import dev.sacrag.kvstore.BlobReader;

import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToLongFunction;

/** Where anchor-KV blobs are read from (Redis in production). */
public interface BlobSource {

    /**
     * Fetches several blobs in one round trip. Keys that do not exist are absent from the map.
     *
     * @throws BlobStoreDownException when the store cannot answer
     */
    Map<String, byte[]> getAll(List<String> keys);

    /**
     * {@link #getAll}, keeping only what {@code reader} makes of each blob (see {@link BlobReader}:
     * the bytes are lent for the call). Redis lends them from reused arrays, so large blobs are
     * decoded without a new {@code byte[]} each, and gives each reply the time its expected size
     * and those ahead of it take ({@code expectedBytes}: the catalog's sizes); this default reads
     * through {@link #getAll} and has no use for the sizes (a source that times its reads
     * overrides it).
     *
     * @throws BlobStoreDownException when the store cannot answer
     */
    default <T> Map<String, T> readAll(List<String> keys, ToLongFunction<String> expectedBytes, BlobReader<T> reader) {
        Map<String, T> read = new LinkedHashMap<>();
        getAll(keys).forEach((key, blob) -> read.put(key, reader.read(key, ByteBuffer.wrap(blob))));
        return read;
    }
}
