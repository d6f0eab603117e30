package dev.sacrag.schemas;

import static dev.sacrag.schemas.BadDocumentException.Reason.INVALID_FIELD;
import static dev.sacrag.schemas.BadDocumentException.Reason.MALFORMED;
import static dev.sacrag.schemas.BadDocumentException.Reason.MISSING_FIELD;
import static dev.sacrag.schemas.BadDocumentException.Reason.UNKNOWN_SCHEMA;
import static dev.sacrag.schemas.BadDocumentException.Reason.UNSUPPORTED_CONTENT_TYPE;

import dev.sacrag.schemas.avro.DocumentEvent;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.MissingSchemaException;
import org.apache.avro.message.SchemaStore;

/**
 * Turns a documents-topic record value into a {@link DocumentEvent}, whichever way it was
 * published: Avro single-object bytes (what {@code sac ingest} writes) or JSON (what
 * kafka-console-producer and non-JVM clients write). One instance per process; thread-safe.
 *
 * <p>The format comes from the {@code content-type} header when there is one, otherwise from
 * the bytes: Avro single-object encoding starts with the marker {@code C3 01}, a JSON object
 * with an opening brace. Every decoded document is validated the same way, so the compressor has one
 * definition of a bad document whatever its format.
 */
public final class DocumentCodec {

    public static final String CONTENT_TYPE_HEADER = "content-type";
    public static final String AVRO_CONTENT_TYPE = "application/avro";
    public static final String JSON_CONTENT_TYPE = "application/json";
    /** Doc ids end up in Redis keys and Kafka keys; keep them short enough for both. */
    public static final int MAX_DOC_ID_CHARS = 512;

    private final DocumentLimits limits;
    private final Clock clock;
    private final BinaryMessageDecoder<DocumentEvent> avroDecoder;
    private final SchemaStore olderSchemas;
    /** Single-object encoding: C3 01, then the writer schema's CRC-64-AVRO fingerprint (little-endian). */
    private static final int AVRO_HEADER_BYTES = 10;
    private static final long CURRENT_FINGERPRINT = SchemaNormalization.parsingFingerprint64(DocumentEvent.getClassSchema());

    /**
     * @param olderSchemas writer schemas of earlier DocumentEvent versions, looked up by
     *     fingerprint when a record was written with one of them (may be an empty store)
     * @param clock supplies "now" for JSON documents without a version or publishedAt
     */
    public DocumentCodec(DocumentLimits limits, SchemaStore olderSchemas, Clock clock) {
        this.limits = Objects.requireNonNull(limits, "limits");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.olderSchemas = Objects.requireNonNull(olderSchemas, "olderSchemas");
        this.avroDecoder = DocumentEvent.createDecoder(olderSchemas);
        checkAvroCanReadGeneratedClasses();
    }

    /** Default limits, every older DocumentEvent schema ({@link SchemaHistory}), the system clock. */
    public static DocumentCodec withDefaults() {
        return withLimits(DocumentLimits.defaults());
    }

    /** As {@link #withDefaults()} with the compressors' limits, for readers that must draw their line. */
    public static DocumentCodec withLimits(DocumentLimits limits) {
        return new DocumentCodec(limits, SchemaHistory.documentEvents(), Clock.systemUTC());
    }

    public DocumentLimits limits() {
        return limits;
    }

    /** Decodes with "now" from this codec's clock; see {@link #decode(byte[], String, long)}. */
    public DocumentEvent decode(byte[] value, String contentTypeOrNull) throws BadDocumentException {
        return decode(value, contentTypeOrNull, clock.millis());
    }

    /**
     * Decodes and validates one record value.
     *
     * @param value a non-null record value (a null value is a tombstone: handle it before)
     * @param contentTypeOrNull the {@code content-type} header, or null to detect from the bytes
     * @param nowMillis version and publishedAt of a JSON document that has none; a stream
     *     processor should pass the record timestamp so that reprocessing yields the same version
     */
    public DocumentEvent decode(byte[] value, String contentTypeOrNull, long nowMillis) throws BadDocumentException {
        Objects.requireNonNull(value, "value is null: a tombstone is a delete, not a document");
        DocumentRules.checkValueSize("value", value.length, limits);
        DocumentEvent event = switch (formatOf(value, contentTypeOrNull)) {
            case AVRO -> decodeAvro(value);
            case JSON -> DocumentJson.fromJson(DocumentJson.parseObject(value), nowMillis);
        };
        DocumentRules.check(event, limits);
        return event;
    }

    /**
     * A documents-topic record as every reader of the topic takes it: {@link #decode} under the
     * record key {@code docId}, which must be the document's own (see
     * {@link DocumentRules#requireKeyIsDocId}); the record timestamp stands in for a missing
     * JSON version, so a replay yields the same version.
     */
    public DocumentEvent decodeRecord(String docId, byte[] value, String contentTypeOrNull, long recordTimestamp)
            throws BadDocumentException {
        DocumentEvent event = decode(value, contentTypeOrNull, recordTimestamp);
        DocumentRules.requireKeyIsDocId(docId, event);
        return event;
    }

    /** The checks every decoded document passes, whatever its format or producer. */
    public void validate(DocumentEvent event) throws BadDocumentException {
        DocumentRules.check(event, limits);
    }

    /** Avro single-object bytes of {@code event}, as published with {@code application/avro}. */
    public static byte[] encodeAvro(DocumentEvent event) {
        try {
            ByteBuffer buffer = DocumentEvent.getEncoder().encode(event);
            byte[] bytes = new byte[buffer.remaining()];
            buffer.get(bytes);
            return bytes;
        } catch (IOException e) {
            throw new UncheckedIOException("encoding document " + event.getDocId() + " as Avro", e);
        }
    }

    /** One-line JSON with the architecture.md field names; publishedAt in epoch milliseconds. */
    public static String encodeJson(DocumentEvent event) {
        return DocumentJson.toJson(event);
    }

    /** True when {@code value} starts with the Avro single-object marker C3 01. */
    public static boolean isAvroSingleObject(byte[] value) {
        return value.length >= 2 && value[0] == (byte) 0xC3 && value[1] == (byte) 0x01;
    }

    private enum Format { AVRO, JSON }

    private static Format formatOf(byte[] value, String contentType) throws BadDocumentException {
        if (contentType != null && !contentType.isBlank()) {
            // Media type without parameters: "application/json; charset=utf-8" is JSON.
            String mediaType = contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
            if (mediaType.equals(JSON_CONTENT_TYPE) || mediaType.endsWith("+json")) {
                return Format.JSON;
            }
            if (mediaType.contains("avro")) {
                return Format.AVRO;
            }
            throw new BadDocumentException(UNSUPPORTED_CONTENT_TYPE,
                    "content-type '" + contentType + "' is neither " + AVRO_CONTENT_TYPE + " nor " + JSON_CONTENT_TYPE);
        }
        if (isAvroSingleObject(value)) {
            return Format.AVRO;
        }
        if (DocumentJson.looksLikeJsonObject(value)) {
            return Format.JSON;
        }
        throw new BadDocumentException(MALFORMED,
                "value is neither Avro single-object (starts C3 01) nor a JSON object (starts '{')");
    }

    private DocumentEvent decodeAvro(byte[] value) throws BadDocumentException {
        if (!isAvroSingleObject(value)) {
            throw new BadDocumentException(MALFORMED, "content-type says Avro but the value lacks the C3 01 marker");
        }
        requireLengthsWithin(value);
        try {
            return avroDecoder.decode(value);
        } catch (MissingSchemaException e) {
            throw new BadDocumentException(UNKNOWN_SCHEMA, "no DocumentEvent schema with this fingerprint", e);
        } catch (IOException | RuntimeException e) {
            // Corrupt Avro surfaces as EOF, negative lengths or index errors: all mean "malformed".
            throw new BadDocumentException(MALFORMED, "undecodable Avro DocumentEvent: " + e, e);
        }
    }

    /**
     * Avro allocates a string, bytes or collection as long as the value declares before it reads a
     * byte of it, up to 2 GiB: a value of a hundred bytes that declares a 1.5 GB string costs that
     * allocation, and where the heap is smaller the OutOfMemoryError escapes this codec and fails the
     * compressor's task at every replay of the record. So the value is first skipped through with
     * its writer schema, which reads every length and checks it against the bytes there without
     * allocating; only a value whose lengths all fit is decoded. A fingerprint with no known schema
     * is left to the decoder, which says so.
     */
    private void requireLengthsWithin(byte[] value) throws BadDocumentException {
        if (value.length < AVRO_HEADER_BYTES) {
            throw new BadDocumentException(MALFORMED, "Avro single-object value of " + value.length
                    + " bytes is shorter than its " + AVRO_HEADER_BYTES + "-byte header");
        }
        long fingerprint = ByteBuffer.wrap(value, 2, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        Schema writer = fingerprint == CURRENT_FINGERPRINT ? DocumentEvent.getClassSchema()
                : olderSchemas.findByFingerprint(fingerprint);
        if (writer == null) {
            return;
        }
        try {
            GenericDatumReader.skip(writer, DecoderFactory.get().binaryDecoder(value, AVRO_HEADER_BYTES,
                    value.length - AVRO_HEADER_BYTES, null));
        } catch (IOException | RuntimeException e) {
            throw new BadDocumentException(MALFORMED, "undecodable Avro DocumentEvent: it declares more than its "
                    + value.length + " bytes hold (" + e + ")", e);
        }
    }

    /**
     * Avro 1.12.2 refuses to instantiate generated classes outside the packages named in
     * -Dorg.apache.avro.SERIALIZABLE_PACKAGES. Without this check every record would be sent to
     * the dead-letter topic as "malformed"; failing at start-up names the real problem.
     */
    private void checkAvroCanReadGeneratedClasses() {
        DocumentEvent probe = DocumentEvent.newBuilder()
                .setDocId("probe").setVersion(1).setText("probe")
                .setMetadata(Map.of()).setPublishedAt(Instant.EPOCH).build();
        try {
            avroDecoder.decode(encodeAvro(probe));
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("Avro cannot read " + DocumentEvent.class.getName()
                    + ": start the JVM with -Dorg.apache.avro.SERIALIZABLE_PACKAGES="
                    + DocumentEvent.class.getPackageName(), e);
        }
    }

    static BadDocumentException invalid(String message) {
        return new BadDocumentException(INVALID_FIELD, message);
    }

    static BadDocumentException missing(String field) {
        return new BadDocumentException(MISSING_FIELD, "required field '" + field + "' is missing, null or blank");
    }
}
