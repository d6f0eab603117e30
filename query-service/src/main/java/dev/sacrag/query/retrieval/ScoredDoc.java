package dev.sacrag.query.retrieval;

/** A retrieval hit: the document and its BM25 score for the question. */
public record ScoredDoc(String docId, long version, double score) {
}
