package dev.sacrag.query.retrieval;

/**
 * What the index knows about a live document (the documents topic is the source of truth).
 *
 * @param title may be null
 */
public record IndexedDoc(String docId, String tenant, long version, String title) {
}
