package dev.sacrag.schemas;

import static dev.sacrag.schemas.BadDocumentException.Reason.EMPTY_TEXT;
import static dev.sacrag.schemas.BadDocumentException.Reason.TOO_LARGE;

import dev.sacrag.schemas.avro.DocumentEvent;
import java.util.regex.Pattern;

/** What every document must satisfy, whichever format or producer it came from. */
public final class DocumentRules {

    /** Tenants appear between colons in Redis keys and in metric tags: keep them plain. */
    private static final Pattern TENANT = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    private DocumentRules() {
    }

    /** Whether {@code tenant} may name a tenant; tools that take one check it at start-up. */
    public static boolean isValidTenant(String tenant) {
        return tenant != null && TENANT.matcher(tenant).matches();
    }

    public static void check(DocumentEvent event, DocumentLimits limits) throws BadDocumentException {
        checkDocId(event.getDocId());
        if (!isValidTenant(event.getTenant())) {
            throw DocumentCodec.invalid("tenant '" + event.getTenant() + "' of document " + event.getDocId()
                    + " must be 1-64 characters of letters, digits, '.', '_' or '-'");
        }
        if (event.getVersion() < 0) {
            throw DocumentCodec.invalid("version " + event.getVersion() + " of document " + event.getDocId() + " is negative");
        }
        if (event.getText() == null) {
            throw DocumentCodec.missing("text");
        }
        if (event.getText().isBlank()) {
            throw new BadDocumentException(EMPTY_TEXT, "document " + event.getDocId() + " has no text");
        }
        if (event.getText().length() > limits.maxTextChars()) {
            throw new BadDocumentException(TOO_LARGE, "document " + event.getDocId() + " has "
                    + event.getText().length() + " characters of text, limit " + limits.maxTextChars());
        }
        if (event.getMetadata() == null || event.getPublishedAt() == null) {
            throw DocumentCodec.invalid("document " + event.getDocId() + " lacks metadata or publishedAt");
        }
    }

    /**
     * Braces are reserved: the Redis key puts the doc id inside the cluster hash tag
     * {@code {docId}}, and a brace inside it would move the tag. Control characters would
     * corrupt logs and console output.
     */
    private static void checkDocId(String docId) throws BadDocumentException {
        if (docId == null || docId.isBlank()) {
            throw DocumentCodec.missing("docId");
        }
        if (docId.length() > DocumentCodec.MAX_DOC_ID_CHARS) {
            throw DocumentCodec.invalid("docId has " + docId.length() + " characters, limit " + DocumentCodec.MAX_DOC_ID_CHARS);
        }
        for (int i = 0; i < docId.length(); i++) {
            char c = docId.charAt(i);
            if (c == '{' || c == '}' || Character.isISOControl(c)) {
                throw DocumentCodec.invalid("docId '" + docId.replaceAll("\\p{Cntrl}", "?")
                        + "' contains '{', '}' or a control character");
            }
        }
    }
}
