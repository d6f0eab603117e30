package dev.sacrag.query.catalog;

import dev.sacrag.schemas.DeadLetter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The document versions a compressor refused ({@link DeadLetter}s): what a question about a
 * document that is not compressed is told, instead of "not compressed yet" for a document that
 * never will be. Per document and refusing model, the refusal of the highest version is kept; a
 * refusal naming no model (malformed, empty, too many bytes) stands for every model. Thread-safe:
 * the feed writes, questions and scrapes read.
 */
public final class Refusals {

    /** What would get the document compressed, by the refusal's reason. */
    public static String remedy(DeadLetter r) {
        return switch (r.reason()) {
            case DeadLetter.ENGINE_OOM -> "publish it again once the compressor has more memory (sac ingest sends a refused document again)";
            case DeadLetter.COMPRESSION_FAILED -> "the model failed on it: see the compressor's log, and publish it again"
                    + " once that is fixed";
            case DeadLetter.PROCESSING_FAILED -> "the compressor failed on it again and again and set it aside: see its log for"
                    + " the error, and publish it again once that is fixed (sac ingest sends a refused document again)";
            // BadDocumentException.Reason.TOO_LARGE (an enum's name is no constant a case may take): a model's
            // refusal is of its tokens; one naming no model, of the bytes or characters every model takes
            case "TOO_LARGE" -> "split it into smaller documents and publish those (" + (r.modelId().isPresent()
                    ? "raising the compressor's --max-doc-tokens helps only while it is below the model's positions)"
                    : "it is over what the compressor takes for every model: its --max-doc-bytes or --max-doc-chars)");
            default -> "fix it and publish it again (with no version, or a higher one: the same version with"
                    + " other text is ignored)";
        };
    }

    /** E.g. {@code refused by the compressor of model 1a2b3c: TOO_LARGE (document d v3 has 4,100 tokens, ...)}. */
    public static String why(DeadLetter r) {
        String message = message(r);
        return "refused by " + r.modelId().map(m -> "the compressor of model " + m).orElse("the compressors")
                + ": " + r.reason() + (message.isEmpty() ? "" : " (" + message + ")");
    }

    /** The compressor's words, without the reason a BadDocumentException's message starts with: said once, beside it. */
    public static String message(DeadLetter r) {
        return r.message().startsWith(r.reason() + ": ") ? r.message().substring(r.reason().length() + 2) : r.message();
    }

    private final Map<String, List<DeadLetter>> byDoc = new ConcurrentHashMap<>();

    /** Takes a refusal; one of a lower version than the one kept for its document and model is history. */
    public void add(DeadLetter r) {
        byDoc.compute(r.docId(), (id, kept) -> {
            List<DeadLetter> next = new ArrayList<>(kept == null ? List.of() : kept);
            for (int i = 0; i < next.size(); i++) {
                if (next.get(i).modelId().equals(r.modelId())) {
                    if (next.get(i).version() <= r.version()) {
                        next.set(i, r);
                    }
                    return List.copyOf(next);
                }
            }
            next.add(r);
            return List.copyOf(next);
        });
    }

    /** Forgets a deleted document's refusals: its id may come back as another document. */
    public void forget(String docId) {
        byDoc.remove(docId);
    }

    /** The refusal of exactly this version and text of the document that stands for {@code modelId}, if any. */
    public Optional<DeadLetter> of(String docId, long version, String contentHash, String modelId) {
        List<DeadLetter> kept = byDoc.get(docId);
        if (kept == null) {
            return Optional.empty();
        }
        return kept.stream().filter(r -> r.version() == version && r.contentHash().equals(contentHash) && r.standsFor(modelId))
                .sorted((a, b) -> Boolean.compare(a.modelId().isEmpty(), b.modelId().isEmpty()))   // the model's own first
                .findFirst();
    }

    /**
     * Drops the refusals of versions lower than {@code liveVersion}: a document published again
     * since is no longer refused by them, and they would only cost memory.
     */
    public void forgetBefore(String docId, long liveVersion) {
        byDoc.computeIfPresent(docId, (id, kept) -> {
            List<DeadLetter> next = kept.stream().filter(r -> r.version() >= liveVersion).toList();
            return next.isEmpty() ? null : next;
        });
    }

    /** Every refusal kept, for counting against the index. */
    public List<DeadLetter> all() {
        List<DeadLetter> out = new ArrayList<>();
        byDoc.values().forEach(out::addAll);
        return out;
    }
}
