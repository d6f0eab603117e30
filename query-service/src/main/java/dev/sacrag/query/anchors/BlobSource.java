package dev.sacrag.query.anchors;

import java.util.List;
import java.util.Map;

/** Where anchor-KV blobs are read from (Redis in production). */
public interface BlobSource {

    /**
     * Fetches several blobs in one round trip. Keys that do not exist are absent from the map.
     *
     * @throws BlobStoreDownException when the store cannot answer
     */
    Map<String, byte[]> getAll(List<String> keys);
}
