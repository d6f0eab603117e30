package dev.sacrag.query.ask;

/**
 * A document composed into an answer's context.
 *
 * @param score BM25 score, 0 when the caller named the document
 * @param bytes size of its anchor-KV blob in Redis
 * @param fromCache whether its anchor KV came from the local warm cache (else from Redis)
 */
public record UsedDoc(String docId, long version, double score, int anchorCount, long bytes, boolean fromCache) {
}
