package dev.sacrag.query.recompress;

/**
 * Asks the compressor to compress a document again because its blob is missing or unusable
 * (evicted, flushed, corrupt). Fire and forget: the question that noticed answers UNAVAILABLE
 * and the caller retries.
 */
public interface RecompressRequests {

    /** @param reason why, for the compressor's log and metrics (e.g. "blob missing from Redis") */
    void request(String tenant, String docId, String modelId, String reason);
}
