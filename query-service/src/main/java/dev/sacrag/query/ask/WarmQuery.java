package dev.sacrag.query.ask;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Documents to load into the local cache: the named ones, or the top {@code topK} for a query.
 */
public record WarmQuery(String tenant, List<String> docIds, Optional<String> query, int topK) {

    public WarmQuery {
        Objects.requireNonNull(tenant, "tenant");
        docIds = List.copyOf(docIds);
        Objects.requireNonNull(query, "query");
        if (docIds.isEmpty() && query.isEmpty()) {
            throw new IllegalArgumentException("a warm request names documents or a query");
        }
        if (topK < 1) {
            throw new IllegalArgumentException("topK must be >= 1, got " + topK);
        }
    }
}
