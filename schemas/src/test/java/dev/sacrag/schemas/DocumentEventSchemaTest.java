package dev.sacrag.schemas;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sacrag.schemas.avro.AnchorCacheRecord;
import dev.sacrag.schemas.avro.DocumentEvent;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.message.MissingSchemaException;
import org.apache.avro.message.SchemaStore;
import org.junit.jupiter.api.Test;

class DocumentEventSchemaTest {

    private static final Schema CURRENT = DocumentEvent.getClassSchema();
    private static final Schema PREVIOUS = SchemaHistory.olderDocumentEvents().get(SchemaHistory.DOCUMENT_EVENT.size() - 1);

    @Test
    void everyFieldOfEveryEventHasADoc() {
        for (Schema schema : new Schema[] {CURRENT, AnchorCacheRecord.getClassSchema()}) {
            assertFalse(schema.getDoc() == null || schema.getDoc().isBlank(), schema.getName());
            for (Schema.Field field : schema.getFields()) {
                assertFalse(field.doc() == null || field.doc().isBlank(), schema.getName() + "." + field.name() + " has no doc");
            }
        }
    }

    @Test
    void fieldsAddedSincePreviousVersionHaveDefaults() {
        Set<String> previous = PREVIOUS.getFields().stream().map(Schema.Field::name).collect(Collectors.toSet());
        for (Schema.Field field : CURRENT.getFields()) {
            if (!previous.contains(field.name())) {
                assertTrue(field.hasDefaultValue(), field.name() + " was added without a default");
            }
        }
    }

    @Test
    void currentReaderReadsPreviousWriterAndPreviousReaderReadsCurrentWriter() {
        assertEquals(SchemaCompatibilityType.COMPATIBLE,
                SchemaCompatibility.checkReaderWriterCompatibility(CURRENT, PREVIOUS).getType());
        assertEquals(SchemaCompatibilityType.COMPATIBLE,
                SchemaCompatibility.checkReaderWriterCompatibility(PREVIOUS, CURRENT).getType());
    }

    @Test
    void recordWrittenWithPreviousSchemaDecodesWithCurrentClassFillingDefaults() throws IOException {
        byte[] v1Bytes = encodeWithPrevious("doc-1", "old text");

        BinaryMessageDecoder<DocumentEvent> decoder = DocumentEvent.createDecoder(new SchemaStore.Cache());
        decoder.addSchema(PREVIOUS);
        DocumentEvent decoded = decoder.decode(v1Bytes);

        assertEquals("doc-1", decoded.getDocId());
        assertEquals("old text", decoded.getText());
        assertEquals(7L, decoded.getVersion());
        assertNull(decoded.getSource());
        assertEquals(Map.of(), decoded.getMetadata());
        assertEquals(Instant.ofEpochMilli(1_700_000_000_000L), decoded.getPublishedAt());
    }

    @Test
    void codecDecodesPreviousVersionWhenItsSchemaIsInTheStore() throws Exception {
        SchemaStore.Cache store = new SchemaStore.Cache();
        store.addSchema(PREVIOUS);
        DocumentCodec codec = new DocumentCodec(DocumentLimits.defaults(), store, Clock.systemUTC());

        DocumentEvent decoded = codec.decode(encodeWithPrevious("doc-2", "kept"), null);

        assertEquals("doc-2", decoded.getDocId());
        assertEquals("default", decoded.getTenant());
    }

    /** What the compressor, the query service and the warm commands decode with. */
    @Test
    void theDefaultCodecReadsEveryOlderSchema() throws Exception {
        assertEquals("doc-4", DocumentCodec.withDefaults().decode(encodeWithPrevious("doc-4", "old producer"), null).getDocId());
        for (Schema older : SchemaHistory.olderDocumentEvents()) {
            assertEquals(SchemaCompatibilityType.COMPATIBLE,
                    SchemaCompatibility.checkReaderWriterCompatibility(CURRENT, older).getType(), older.getDoc());
        }
    }

    @Test
    void currentClassDecoderWithoutPreviousSchemaReportsItMissing() throws IOException {
        byte[] v1Bytes = encodeWithPrevious("doc-3", "text");
        assertThrows(MissingSchemaException.class, () -> DocumentEvent.getDecoder().decode(v1Bytes));
    }

    @Test
    void singleObjectEncodingRoundTripsAndStartsWithMarker() throws IOException {
        DocumentEvent event = DocumentEvent.newBuilder()
                .setDocId("guides/intro").setTenant("acme").setVersion(42).setTitle("Intro")
                .setText("Hello.").setSource("guides/intro.md").setMetadata(Map.of("lang", "en"))
                .setPublishedAt(Instant.ofEpochMilli(1234)).build();

        ByteBuffer buffer = event.toByteBuffer();
        byte[] bytes = DocumentCodec.encodeAvro(event);

        assertEquals((byte) 0xC3, bytes[0]);
        assertEquals((byte) 0x01, bytes[1]);
        assertArrayEquals(bytes, toArray(buffer.duplicate()));
        assertEquals(event, DocumentEvent.fromByteBuffer(buffer));
    }

    @Test
    void anchorCacheRecordRoundTripsAndDefaultsContentHashAndTenant() throws IOException {
        AnchorCacheRecord record = AnchorCacheRecord.newBuilder()
                .setDocId("d").setDocVersion(3).setModelId("m1a2").setRatio(8).setTokenCount(900)
                .setAnchorCount(112).setChunkCount(2).setRedisKey("sac:default:kv:v1:m1a2:{d}:3")
                .setBytes(123_456).setDtype("f16").setChecksum(0xFFFF_FFFFL)
                .setCompressedAt(Instant.ofEpochMilli(99)).setCompressMillis(850).build();

        assertEquals("", record.getContentHash());
        assertEquals("default", record.getTenant());
        assertEquals(record, AnchorCacheRecord.fromByteBuffer(record.toByteBuffer()));
    }

    @Test
    void catalogRecordsOfAnOlderSchemaDecodeOnceTheHistoryHoldsIt() throws IOException {
        // an older writer: the current catalog schema without the defaulted contentHash
        Schema current = AnchorCacheRecord.getClassSchema();
        Schema older = Schema.createRecord(current.getName(), current.getDoc(), current.getNamespace(), false,
                current.getFields().stream().filter(f -> !f.name().equals("contentHash"))
                        .map(f -> new Schema.Field(f, f.schema())).toList());
        assertEquals(current.getFields().size() - 1, older.getFields().size());
        GenericRecord r = new GenericData.Record(older);
        older.getFields().forEach(f -> r.put(f.name(), switch (f.schema().getType()) {
            case STRING -> "x";
            case INT -> 4;
            case LONG -> 5L;
            default -> throw new IllegalStateException(f.toString());
        }));
        byte[] bytes = toArray(new BinaryMessageEncoder<GenericRecord>(GenericData.get(), older).encode(r));

        assertThrows(MissingSchemaException.class, () -> SchemaHistory.anchorCacheRecordDecoder().decode(bytes),
                "not in the history (yet): unreadable");
        AnchorCacheRecord read = SchemaHistory.anchorCacheRecordDecoder(java.util.List.of(older)).decode(bytes);
        assertEquals("", read.getContentHash(), "the reader's default");
        assertEquals(5L, read.getDocVersion());
        for (String name : SchemaHistory.ANCHOR_CACHE_RECORD) {
            assertTrue(name.startsWith("AnchorCacheRecord.v"), name);
        }
        assertEquals(AnchorCacheRecord.getClassSchema(), SchemaHistory.anchorCacheRecordDecoder()
                .decode(AnchorCacheRecord.newBuilder(read).build().toByteBuffer()).getSchema());
    }

    private static byte[] encodeWithPrevious(String docId, String text) throws IOException {
        GenericRecord v1 = new GenericData.Record(PREVIOUS);
        v1.put("docId", docId);
        v1.put("tenant", "default");
        v1.put("version", 7L);
        v1.put("title", null);
        v1.put("text", text);
        v1.put("publishedAt", 1_700_000_000_000L);
        return toArray(new BinaryMessageEncoder<GenericRecord>(GenericData.get(), PREVIOUS).encode(v1));
    }

    private static byte[] toArray(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        return bytes;
    }

    /**
     * The schemas as of the last entry of {@link SchemaHistory}: a change to either fails here
     * until the schema it replaces is added to the history (a resource under
     * dev/sacrag/schemas/history/ and its name in SchemaHistory) and these fingerprints are
     * updated. Without it, records written by producers on the old schema carry a fingerprint
     * no decoder knows: documents dead-lettered as UNKNOWN_SCHEMA, catalog entries read as
     * "never compressed".
     */
    @Test
    void aSchemaChangeMustAddTheVersionItReplacesToTheHistory() {
        assertEquals(-1645905665679089285L, org.apache.avro.SchemaNormalization.parsingFingerprint64(
                DocumentEvent.getClassSchema()),
                "DocumentEvent changed: add the previous schema to SchemaHistory.DOCUMENT_EVENT, then update this value");
        assertEquals(7740784589694035359L, org.apache.avro.SchemaNormalization.parsingFingerprint64(
                AnchorCacheRecord.getClassSchema()),
                "AnchorCacheRecord changed: add the previous schema to SchemaHistory.ANCHOR_CACHE_RECORD, then update this value");
    }
}
