package dev.sacrag.schemas;

import dev.sacrag.schemas.avro.DocumentEvent;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.function.Function;

/**
 * The document version a dead letter refused, as its readers (the query service, {@code sac ingest})
 * need it: from the {@link DeadLetterHeaders#DOC_VERSION} and {@link DeadLetterHeaders#CONTENT_HASH}
 * headers a compressor stamps on a model's refusal, or else by decoding the value of a dead letter
 * of the documents topic (older compressors), at the original record's time as the documents
 * topic's readers decode it.
 *
 * @param contentHash {@link ContentHash} of the refused text
 * @param modelId the model that refused it; empty when it is bad for every model
 * @param reason the stable code (TOO_LARGE, COMPRESSION_FAILED, ENGINE_OOM, PROCESSING_FAILED, ...)
 */
public record DeadLetter(String docId, long version, String contentHash, Optional<String> modelId, String reason,
                         String message) {

    /**
     * A valid document the model failed on (a bug or a limit the checks missed). This and the two
     * below are the reasons a compressor gives beyond {@link BadDocumentException.Reason}'s, named
     * here for every reader that tells them apart (the query service's remedy, the CLI).
     */
    public static final String COMPRESSION_FAILED = "COMPRESSION_FAILED";
    /**
     * The model ran out of memory on the document again and again while other documents
     * compressed (or for half an hour): the machine's want, not the document's fault. Republish it
     * once the compressor has more memory.
     */
    public static final String ENGINE_OOM = "ENGINE_OOM";
    /**
     * Processing the record failed the compressor's stream thread {@code --max-record-failures}
     * times in a row with an error it does not otherwise handle (a bug, a {@code
     * StackOverflowError}, the Java heap exhausted by it): set aside unprocessed so that its
     * partition goes on. Republish it once the cause in the compressor's log is fixed.
     */
    public static final String PROCESSING_FAILED = "PROCESSING_FAILED";

    public DeadLetter {
        java.util.Objects.requireNonNull(docId, "docId");
        java.util.Objects.requireNonNull(contentHash, "contentHash");
        java.util.Objects.requireNonNull(modelId, "modelId");
        java.util.Objects.requireNonNull(reason, "reason");
        java.util.Objects.requireNonNull(message, "message");
    }

    /** Whether it stands for {@code model}: its own refusal, or one of a version bad for every model. */
    public boolean standsFor(String model) {
        return standsFor(modelId, model);
    }

    /**
     * The rule every reader of dead letters applies: a refusal naming no model (bad for every model:
     * malformed, empty, too many bytes) stands for all, one naming a model for that model only.
     */
    public static boolean standsFor(Optional<String> refusedBy, String model) {
        return refusedBy.map(model::equals).orElse(true);
    }

    /**
     * @param timestamp the dead letter's own timestamp: the original record's where it has no
     *     {@link DeadLetterHeaders#SOURCE_TIMESTAMP} (compressors from before that header kept the
     *     original's timestamp, which a JSON document naming no version took as its version)
     * @param header a header of the dead letter as text, null when absent
     * @param documentsTopic the documents topic: only its dead letters hold a document as their value
     * @return empty when the dead letter names no version this reader can tell: a record that never
     *     decoded (its readers skipped it too), a value left out for size without the headers, a
     *     recompress request of an older compressor
     */
    public static Optional<DeadLetter> read(byte[] key, byte[] value, long timestamp, Function<String, String> header,
                                            String documentsTopic, DocumentCodec codec) {
        String docId;
        try {
            docId = DocumentRules.docIdOfKey(key);
        } catch (BadDocumentException | RuntimeException e) {
            return Optional.empty();
        }
        Optional<String> model = Optional.ofNullable(header.apply(DeadLetterHeaders.MODEL));
        String reason = Optional.ofNullable(header.apply(DeadLetterHeaders.ERROR_REASON)).orElse("?");
        String message = Optional.ofNullable(header.apply(DeadLetterHeaders.ERROR_MESSAGE)).orElse("");
        String version = header.apply(DeadLetterHeaders.DOC_VERSION);
        String hash = header.apply(DeadLetterHeaders.CONTENT_HASH);
        if (version != null && hash != null) {
            try {
                return Optional.of(new DeadLetter(docId, Long.parseLong(version), hash, model, reason, message));
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        }
        if (value == null || value.length == 0 || !documentsTopic.equals(header.apply(DeadLetterHeaders.SOURCE_TOPIC))) {
            return Optional.empty();
        }
        try {
            // a JSON document naming no version has the original record's time, as the index and the compressor
            // gave it: in the header, or, from a compressor that wrote none, in the dead letter's own timestamp
            String source = header.apply(DeadLetterHeaders.SOURCE_TIMESTAMP);
            long sourceTimestamp = source == null ? timestamp : Long.parseLong(source);
            DocumentEvent doc = codec.decodeRecord(docId, value, header.apply(DocumentCodec.CONTENT_TYPE_HEADER),
                    sourceTimestamp);
            return Optional.of(new DeadLetter(docId, doc.getVersion(), ContentHash.of(doc.getText()), model, reason, message));
        } catch (NumberFormatException | BadDocumentException e) {
            return Optional.empty();
        }
    }

    /** A header's text from its bytes; null for none. */
    public static String text(byte[] headerValue) {
        return headerValue == null ? null : new String(headerValue, StandardCharsets.UTF_8);
    }
}
