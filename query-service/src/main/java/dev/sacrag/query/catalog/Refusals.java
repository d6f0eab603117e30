package dev.sacrag.query.catalog;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The document versions a compressor refused (the dead-letter topic): what a question about a
 * document that is not compressed is told, instead of "not compressed yet" for a document that
 * never will be. Per document and refusing model, the refusal of the highest version is kept; a
 * refusal naming no model (malformed, empty, too many bytes) stands for every model. Thread-safe:
 * the feed writes, questions and scrapes read.
 */
public final class Refusals {

    /**
     * @param contentHash {@link dev.sacrag.schemas.ContentHash} of the refused text: a document deleted
     *     and published again under the same version with other text is another document
     * @param modelId the model whose tokenizer or compressor refused the version; empty when it is
     *     bad for every model
     * @param reason the dead letter's stable code (TOO_LARGE, COMPRESSION_FAILED, ENGINE_OOM, ...)
     */
    public record Refusal(String docId, long version, String contentHash, Optional<String> modelId, String reason,
                          String message) {

        public Refusal {
            Objects.requireNonNull(docId, "docId");
            Objects.requireNonNull(contentHash, "contentHash");
            Objects.requireNonNull(modelId, "modelId");
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(message, "message");
        }

        /** Whether it stands for {@code model}: its own refusal, or one of a version bad for every model. */
        public boolean standsFor(String model) {
            return modelId.map(model::equals).orElse(true);
        }

        /** What would get the document compressed, by the refusal's reason. */
        public String remedy() {
            return switch (reason) {
                case "ENGINE_OOM" -> "publish it again once the compressor has more memory (sac ingest sends a refused document again)";
                case "COMPRESSION_FAILED" -> "the model failed on it: see the compressor's log, and publish it again"
                        + " once that is fixed";
                default -> "fix it and publish it again (with no version, or a higher one: the same version with"
                        + " other text is ignored)";
            };
        }

        /** E.g. {@code refused by the compressor of model 1a2b3c: TOO_LARGE (document d v3 has 4,100 tokens, ...)}. */
        public String why() {
            return "refused by " + modelId.map(m -> "the compressor of model " + m).orElse("the compressors")
                    + ": " + reason + (message.isEmpty() ? "" : " (" + message + ")");
        }
    }

    private final Map<String, List<Refusal>> byDoc = new ConcurrentHashMap<>();

    /** Takes a refusal; one of a lower version than the one kept for its document and model is history. */
    public void add(Refusal r) {
        byDoc.compute(r.docId(), (id, kept) -> {
            List<Refusal> next = new ArrayList<>(kept == null ? List.of() : kept);
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
    public Optional<Refusal> of(String docId, long version, String contentHash, String modelId) {
        List<Refusal> kept = byDoc.get(docId);
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
            List<Refusal> next = kept.stream().filter(r -> r.version() >= liveVersion).toList();
            return next.isEmpty() ? null : next;
        });
    }

    /** Every refusal kept, for counting against the index. */
    public List<Refusal> all() {
        List<Refusal> out = new ArrayList<>();
        byDoc.values().forEach(out::addAll);
        return out;
    }
}
