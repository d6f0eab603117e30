package dev.sacrag.query.ask;

import java.util.List;
import java.util.Objects;

/**
 * A validated question with the server defaults already applied.
 *
 * @param docIds answer from exactly these documents, in this order; empty = retrieve
 * @param topK documents to retrieve when {@code docIds} is empty
 */
public record AskQuery(String question, String tenant, List<String> docIds, int topK, int maxNewTokens) {

    public AskQuery {
        Objects.requireNonNull(question, "question");
        Objects.requireNonNull(tenant, "tenant");
        docIds = List.copyOf(docIds);
        if (topK < 1 || maxNewTokens < 1) {
            throw new IllegalArgumentException("topK and maxNewTokens must be >= 1, got " + topK + ", " + maxNewTokens);
        }
    }
}
