package dev.sacrag.schemas;

import static dev.sacrag.schemas.BadDocumentException.Reason.EMPTY_TEXT;
import static dev.sacrag.schemas.BadDocumentException.Reason.MALFORMED;
import static dev.sacrag.schemas.BadDocumentException.Reason.MISSING_FIELD;
import static dev.sacrag.schemas.BadDocumentException.Reason.TOO_LARGE;

import dev.sacrag.schemas.avro.DocumentEvent;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
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

    /** The docId a documents-topic record key names: UTF-8, not empty. */
    public static String docIdOfKey(byte[] key) throws BadDocumentException {
        if (key == null || key.length == 0) {
            throw new BadDocumentException(MISSING_FIELD, "record key (the docId) is missing");
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(key)).toString();
        } catch (CharacterCodingException e) {
            throw new BadDocumentException(MALFORMED, "record key is not valid UTF-8", e);
        }
    }

    /**
     * A document must sit under its own docId: compaction, tombstones and every reader of the
     * topic go by the key, so a value under another key would be deleted, replaced or replayed
     * as somebody else's.
     */
    public static void requireKeyIsDocId(String key, DocumentEvent event) throws BadDocumentException {
        if (!event.getDocId().equals(key)) {
            throw DocumentCodec.invalid("record key '" + key + "' differs from the document's docId '"
                    + event.getDocId() + "' (the key must be the docId)");
        }
    }

    /**
     * A record value against the byte limit, the compressor's first check ({@link DocumentCodec#decode});
     * {@code what} names the value in the message ("value", "the value of document d").
     */
    public static void checkValueSize(String what, int valueBytes, DocumentLimits limits) throws BadDocumentException {
        if (valueBytes > limits.maxValueBytes()) {
            throw new BadDocumentException(TOO_LARGE, what + " has " + valueBytes + " bytes, limit " + limits.maxValueBytes());
        }
    }

    /**
     * Room left in a changelog record for what is not the stored JSON besides the key: the record
     * batch's header and the record's own framing (about a hundred bytes) and headers, with margin.
     */
    public static final int STORED_RECORD_FRAMING_BYTES = 4096;

    /**
     * The compressor keeps each document as JSON in a store whose changelog takes records of
     * {@link DocumentLimits#maxStoredBytes} at most. JSON writes a control character as six bytes,
     * so a value within the byte limit can still make a stored form over it (a title of control
     * characters, say): the compressor refuses such a document before any model or Redis work
     * (instead of failing its task at every replay when the store write is produced), and a
     * publisher refuses it before sending, so that it is not published only to be refused. The
     * producer measures the whole record, so the key (the doc id) and the record's framing count too.
     */
    public static void checkStorable(DocumentEvent doc, DocumentLimits limits) throws BadDocumentException {
        int limit = limits.maxStoredBytes();
        long framing = doc.getDocId().getBytes(java.nio.charset.StandardCharsets.UTF_8).length + STORED_RECORD_FRAMING_BYTES;
        if (storedJsonBytesAtMost(doc) + framing <= limit) {
            return;   // every document but those near the limit: no JSON written, where an 8 MiB one took ~15 ms and ~40 MB
        }
        long json = DocumentCodec.encodeJson(doc).getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        long bytes = json + framing;
        if (bytes > limit) {
            throw new BadDocumentException(TOO_LARGE, "document " + doc.getDocId() + " v" + doc.getVersion() + " is "
                    + json + " bytes as the JSON the compressor stores, " + bytes + " with its id and the record's"
                    + " framing, over its limit of " + limit + " (control characters take six bytes each in JSON)");
        }
    }

    /** The field names, punctuation and two longs of {@link DocumentJson#toJson}'s object, with room to spare. */
    private static final int STORED_JSON_FIXED_BYTES = 256;

    /**
     * At least the UTF-8 bytes of {@link DocumentCodec#encodeJson}'s form of {@code doc}, counted
     * without writing it: each char of a string is counted as six bytes where Gson escapes it (a
     * control character or U+2028/9 as backslash, u and four hex digits; a quote or a backslash takes
     * two) and as its UTF-8 otherwise (three for a surrogate, where a pair takes four).
     */
    static long storedJsonBytesAtMost(DocumentEvent doc) {
        long bytes = STORED_JSON_FIXED_BYTES + jsonStringBytesAtMost(doc.getDocId()) + jsonStringBytesAtMost(doc.getTenant())
                + jsonStringBytesAtMost(doc.getTitle()) + jsonStringBytesAtMost(doc.getText())
                + jsonStringBytesAtMost(doc.getSource());
        for (java.util.Map.Entry<String, String> m : doc.getMetadata().entrySet()) {
            bytes += jsonStringBytesAtMost(m.getKey()) + jsonStringBytesAtMost(m.getValue()) + 2;   // ':' and ','
        }
        return bytes;
    }

    private static long jsonStringBytesAtMost(CharSequence s) {
        if (s == null) {
            return 0;
        }
        long bytes = 2;   // the quotes
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            bytes += c < 0x20 || c == '"' || c == '\\' || c == '\u2028' || c == '\u2029' ? 6 : c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
        }
        return bytes;
    }

    /**
     * Whether a text has nothing to read: only whitespace, as {@link String#isBlank} has it, and
     * also the characters it lets through that show nothing: NUL and other controls, no-break and
     * other Unicode spaces, zero-width and other format characters (a byte-order mark). Such a
     * document would be compressed into anchors of nothing and retrieved for nothing.
     */
    public static boolean hasNoContent(String text) {
        return text.codePoints().allMatch(cp -> Character.isWhitespace(cp) || Character.isSpaceChar(cp)
                || Character.getType(cp) == Character.CONTROL || Character.getType(cp) == Character.FORMAT);
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
        if (hasNoContent(event.getText())) {
            throw new BadDocumentException(EMPTY_TEXT, "document " + event.getDocId() + " has no text"
                    + (event.getText().isBlank() ? "" : " (only invisible characters: control, format or space)"));
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
     * corrupt logs and console output. An id must be in Unicode NFC: "café" composed and
     * decomposed (as macOS writes file names) are different keys on the topic, and would be two
     * documents that a question naming one of them could not tell apart ({@code sac ingest}
     * publishes NFC; the query service reads the ids it is asked for as NFC). A lone UTF-16
     * surrogate (a JSON {@code "\\ud800"} escape) has no UTF-8 form: written into a Redis key it
     * becomes '?', so two such ids would share one key.
     */
    public static void checkDocId(String docId) throws BadDocumentException {
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
            if (Character.isHighSurrogate(c) && i + 1 < docId.length() && Character.isLowSurrogate(docId.charAt(i + 1))) {
                i++;   // a pair: one character beyond the BMP
            } else if (Character.isSurrogate(c)) {
                throw DocumentCodec.invalid("docId contains an unpaired surrogate (\\u" + Integer.toHexString(c)
                        + " at " + i + "): it has no UTF-8 form, and two such ids would be one Redis key");
            }
        }
        if (!Normalizer.isNormalized(docId, Normalizer.Form.NFC)) {
            throw DocumentCodec.invalid("docId '" + docId + "' is not in Unicode NFC form: publish it composed"
                    + " (java.text.Normalizer.normalize(id, NFC); Python unicodedata.normalize('NFC', id))");
        }
    }

    /** {@code docId} in the form documents carry it (NFC): how an id typed or sent by a client is looked up. */
    public static String canonicalDocId(String docId) {
        return Normalizer.normalize(docId, Normalizer.Form.NFC);
    }
}
