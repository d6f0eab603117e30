package dev.sacrag.query.grpc;

import dev.sacrag.query.ask.AskLimits;
import dev.sacrag.query.ask.AskQuery;
import dev.sacrag.query.ask.WarmQuery;
import dev.sacrag.query.v1.AskRequest;
import dev.sacrag.query.v1.WarmRequest;
import dev.sacrag.schemas.DocumentCodec;
import dev.sacrag.schemas.DocumentRules;

import java.util.List;
import java.util.Optional;

/**
 * Turns RPC requests into domain queries: checks every field, applies the server defaults.
 * Every failure is an {@link IllegalArgumentException} whose message becomes the
 * INVALID_ARGUMENT description, naming the field.
 */
final class RequestValidation {

    /** Documents one Warm request may name (each costs a Redis read). */
    static final int MAX_WARM_DOCS = 1000;

    private final AskLimits limits;

    RequestValidation(AskLimits limits) {
        this.limits = limits;
    }

    AskQuery ask(AskRequest r) {
        String question = r.getQuestion().strip();
        if (question.isEmpty()) {
            throw new IllegalArgumentException("question is empty");
        }
        requireWithinLimit("question", question);
        if (r.getMaxNewTokens() < 0) {
            throw new IllegalArgumentException("max_new_tokens must be >= 0 (0 = server default), got " + r.getMaxNewTokens());
        }
        int maxNewTokens = r.getMaxNewTokens() == 0 ? limits.defaultMaxNewTokens()
                : Math.min(r.getMaxNewTokens(), limits.maxNewTokensCap());
        return new AskQuery(question, tenant(r.getTenant()), docIds(r.getDocIdsList(), limits.maxTopK()),
                topK(r.getTopK()), maxNewTokens);
    }

    /**
     * The question limit counts Unicode code points, closer to what a person counts than Java's
     * UTF-16 units: a CJK character or most emoji outside the basic plane is one, not two (a flag
     * or a joined emoji sequence is still several).
     */
    private void requireWithinLimit(String what, String text) {
        if (text.length() <= limits.maxQuestionChars()) {
            return;   // never more code points than UTF-16 units: no count needed
        }
        int chars = text.codePointCount(0, text.length());
        if (chars > limits.maxQuestionChars()) {
            throw new IllegalArgumentException(what + " has " + chars + " characters; the limit is " + limits.maxQuestionChars());
        }
    }

    WarmQuery warm(WarmRequest r) {
        List<String> docIds = docIds(r.getDocIdsList(), MAX_WARM_DOCS);
        Optional<String> query = r.hasQuery() && !r.getQuery().isBlank() ? Optional.of(r.getQuery().strip()) : Optional.empty();
        if (docIds.isEmpty() == query.isEmpty()) {
            // both: which one the caller meant is a guess, and ignoring one silently hides its bug
            throw new IllegalArgumentException("name doc_ids or give a query" + (docIds.isEmpty() ? "" : ", not both"));
        }
        query.ifPresent(q -> requireWithinLimit("query", q));
        return new WarmQuery(tenant(r.getTenant()), docIds, query, topK(r.getTopK()));
    }

    private String tenant(String tenant) {
        if (tenant.isEmpty()) {
            return limits.defaultTenant();
        }
        if (!DocumentRules.isValidTenant(tenant)) {
            throw new IllegalArgumentException("tenant '" + tenant + "' is not a tenant name ([A-Za-z0-9._-]{1,64})");
        }
        return tenant;
    }

    private int topK(int topK) {
        if (topK < 0 || topK > limits.maxTopK()) {
            throw new IllegalArgumentException("top_k must be between 0 (server default " + limits.defaultTopK()
                    + ") and " + limits.maxTopK() + ", got " + topK);
        }
        return topK == 0 ? limits.defaultTopK() : topK;
    }

    private static List<String> docIds(List<String> ids, int max) {
        if (ids.size() > max) {
            throw new IllegalArgumentException(ids.size() + " doc_ids; at most " + max + " per request");
        }
        // documents carry NFC ids: "café" typed decomposed (a macOS client) names the same document
        List<String> canonical = ids.stream().map(DocumentRules::canonicalDocId).toList();
        for (String id : canonical) {
            if (id.isBlank()) {
                throw new IllegalArgumentException("doc_ids contains an empty id");
            }
            if (id.length() > DocumentCodec.MAX_DOC_ID_CHARS) {
                throw new IllegalArgumentException("doc id '" + id.substring(0, 32) + "...' has " + id.length()
                        + " characters; the limit is " + DocumentCodec.MAX_DOC_ID_CHARS);
            }
        }
        return canonical;
    }
}
