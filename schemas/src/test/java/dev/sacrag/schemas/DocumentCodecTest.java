package dev.sacrag.schemas;

import static dev.sacrag.schemas.BadDocumentException.Reason.EMPTY_TEXT;
import static dev.sacrag.schemas.BadDocumentException.Reason.INVALID_FIELD;
import static dev.sacrag.schemas.BadDocumentException.Reason.MALFORMED;
import static dev.sacrag.schemas.BadDocumentException.Reason.MISSING_FIELD;
import static dev.sacrag.schemas.BadDocumentException.Reason.TOO_LARGE;
import static dev.sacrag.schemas.BadDocumentException.Reason.UNKNOWN_SCHEMA;
import static dev.sacrag.schemas.BadDocumentException.Reason.UNSUPPORTED_CONTENT_TYPE;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sacrag.schemas.BadDocumentException.Reason;
import dev.sacrag.schemas.avro.DocumentEvent;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.apache.avro.message.SchemaStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DocumentCodecTest {

    private static final long NOW = 1_750_000_000_000L;
    private final DocumentCodec codec = new DocumentCodec(new DocumentLimits(4096, 1000),
            new SchemaStore.Cache(), Clock.fixed(Instant.ofEpochMilli(NOW), ZoneOffset.UTC));

    @Test
    void decodesAvroSingleObjectWithoutHeader() throws Exception {
        DocumentEvent event = event("a/b", "Some text.");
        assertEquals(event, codec.decode(DocumentCodec.encodeAvro(event), null));
    }

    @Test
    void decodesAvroWhenHeaderSaysAvro() throws Exception {
        DocumentEvent event = event("x", "text");
        assertEquals(event, codec.decode(DocumentCodec.encodeAvro(event), DocumentCodec.AVRO_CONTENT_TYPE));
    }

    @Test
    void decodesJsonWithEveryField() throws Exception {
        String json = """
                {"docId":"d1","tenant":"acme","version":17,"title":"T","text":"Body","source":"s3://b/k",
                 "metadata":{"lang":"en","pages":3,"draft":false},"publishedAt":"2024-01-02T03:04:05Z","extra":[1]}""";
        DocumentEvent decoded = codec.decode(json.getBytes(UTF_8), null);

        assertEquals("d1", decoded.getDocId());
        assertEquals("acme", decoded.getTenant());
        assertEquals(17L, decoded.getVersion());
        assertEquals("T", decoded.getTitle());
        assertEquals("Body", decoded.getText());
        assertEquals("s3://b/k", decoded.getSource());
        assertEquals(Map.of("lang", "en", "pages", "3", "draft", "false"), decoded.getMetadata());
        assertEquals(Instant.parse("2024-01-02T03:04:05Z"), decoded.getPublishedAt());
    }

    @Test
    void jsonWithOnlyRequiredFieldsGetsDefaultTenantAndNowAsVersion() throws Exception {
        DocumentEvent decoded = codec.decode("{\"docId\":\"d\",\"text\":\"t\",\"title\":null}".getBytes(UTF_8), null);

        assertEquals("default", decoded.getTenant());
        assertEquals(NOW, decoded.getVersion());
        assertEquals(Instant.ofEpochMilli(NOW), decoded.getPublishedAt());
        assertNull(decoded.getTitle());
        assertNull(decoded.getSource());
        assertEquals(Map.of(), decoded.getMetadata());
    }

    @Test
    void callerSuppliedNowBecomesTheDefaultVersion() throws Exception {
        DocumentEvent decoded = codec.decode("{\"docId\":\"d\",\"text\":\"t\"}".getBytes(UTF_8), null, 5L);
        assertEquals(5L, decoded.getVersion());
    }

    @Test
    void detectsJsonAfterByteOrderMarkAndWhitespace() throws Exception {
        byte[] body = " \r\n\t{\"docId\":\"d\",\"text\":\"t\"}".getBytes(UTF_8);
        byte[] withBom = new byte[body.length + 3];
        withBom[0] = (byte) 0xEF;
        withBom[1] = (byte) 0xBB;
        withBom[2] = (byte) 0xBF;
        System.arraycopy(body, 0, withBom, 3, body.length);
        assertEquals("d", codec.decode(withBom, null).getDocId());
    }

    @Test
    void jsonContentTypeWithParametersSelectsJson() throws Exception {
        byte[] json = "{\"docId\":\"d\",\"text\":\"t\"}".getBytes(UTF_8);
        assertEquals("d", codec.decode(json, "Application/JSON; charset=utf-8").getDocId());
        assertEquals("d", codec.decode(json, "application/vnd.sac.document+json").getDocId());
    }

    @Test
    void encodeJsonRoundTripsThroughDecode() throws Exception {
        DocumentEvent event = DocumentEvent.newBuilder(event("docs/é", "Ünïcödé text\nline 2"))
                .setTitle("Title").setSource("src").setMetadata(Map.of("k", "v")).build();
        assertEquals(event, codec.decode(DocumentCodec.encodeJson(event).getBytes(UTF_8), DocumentCodec.JSON_CONTENT_TYPE));
    }

    @Test
    void nullValueIsRejectedAsATombstoneNotADocument() {
        NullPointerException e = assertThrows(NullPointerException.class, () -> codec.decode(null, null));
        assertTrue(e.getMessage().contains("tombstone"));
    }

    @Test
    void randomBytesAreMalformed() {
        byte[] garbage = new byte[64];
        new Random(42).nextBytes(garbage);
        garbage[0] = 0x07;
        assertReason(MALFORMED, garbage, null);
        assertReason(MALFORMED, new byte[0], null);
    }

    @Test
    void truncatedAvroIsMalformed() {
        byte[] avro = DocumentCodec.encodeAvro(event("d", "a longer text that will be cut"));
        assertReason(MALFORMED, Arrays.copyOf(avro, 14), null);
    }

    /**
     * A value of a few dozen bytes that declares a 1.5 GB docId is malformed, found without
     * allocating what it declares (Avro would, before reading: an OutOfMemoryError on a small heap).
     */
    @Test
    void avroThatDeclaresMoreThanItHoldsIsMalformedWithoutAllocatingIt() throws Exception {
        byte[] header = Arrays.copyOf(DocumentCodec.encodeAvro(event("d", "t")), 10);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        out.write(header);
        org.apache.avro.io.BinaryEncoder enc = org.apache.avro.io.EncoderFactory.get().binaryEncoder(out, null);
        enc.writeLong(1_500_000_000L);   // the docId's length
        enc.flush();
        out.write(new byte[32]);
        byte[] value = out.toByteArray();

        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        assertReason(MALFORMED, value, null);
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertTrue(allocated < 64L << 20, allocated + " bytes allocated to refuse a " + value.length + "-byte value");
    }

    @Test
    void avroContentTypeOnJsonBytesIsMalformed() {
        assertReason(MALFORMED, "{\"docId\":\"d\",\"text\":\"t\"}".getBytes(UTF_8), DocumentCodec.AVRO_CONTENT_TYPE);
    }

    @Test
    void unknownFingerprintIsUnknownSchema() {
        byte[] avro = DocumentCodec.encodeAvro(event("d", "t"));
        avro[5] ^= 0x5A; // the 8 fingerprint bytes follow the 2-byte marker
        assertReason(UNKNOWN_SCHEMA, avro, null);
    }

    @Test
    void unsupportedContentTypeIsReported() {
        assertReason(UNSUPPORTED_CONTENT_TYPE, "{\"docId\":\"d\",\"text\":\"t\"}".getBytes(UTF_8), "text/plain");
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "{\"docId\":\"d\",\"text\":\"t\"                  | ",
        "{\"docId\":\"d\",\"text\":\"t\"} {}              | ",
        "{'docId':'d','text':'t'}                         | ",
        "[{\"docId\":\"d\",\"text\":\"t\"}]               | application/json",
        "{\"docId\":\"d\",\"text\":\"t\",\"version\":NaN} | ",
    })
    void invalidJsonIsMalformed(String json, String contentType) {
        assertReason(MALFORMED, json.getBytes(UTF_8), contentType);
    }

    @Test
    void jsonThatIsNotUtf8IsMalformed() {
        byte[] json = "{\"docId\":\"d\",\"text\":\"xx\"}".getBytes(UTF_8);
        json[19] = (byte) 0xFF;
        assertReason(MALFORMED, json, null);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "{\"text\":\"t\"}",
        "{\"docId\":\"d\"}",
        "{\"docId\":\"d\",\"text\":null}",
        "{\"docId\":\"  \",\"text\":\"t\"}",
    })
    void absentNullOrBlankRequiredFieldIsMissing(String json) {
        assertReason(MISSING_FIELD, json.getBytes(UTF_8), null);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "{\"docId\":\"d\",\"text\":\"t\",\"version\":\"12\"}",
        "{\"docId\":\"d\",\"text\":\"t\",\"version\":1.5}",
        "{\"docId\":\"d\",\"text\":\"t\",\"version\":-3}",
        "{\"docId\":\"d\",\"text\":\"t\",\"version\":99999999999999999999}",
        "{\"docId\":7,\"text\":\"t\"}",
        "{\"docId\":\"d\",\"text\":\"t\",\"title\":{}}",
        "{\"docId\":\"d\",\"text\":\"t\",\"metadata\":{\"a\":{\"b\":\"c\"}}}",
        "{\"docId\":\"d\",\"text\":\"t\",\"metadata\":[\"a\"]}",
        "{\"docId\":\"d\",\"text\":\"t\",\"publishedAt\":\"yesterday\"}",
        "{\"docId\":\"d\",\"text\":\"t\",\"publishedAt\":\"+1000000000-12-31T23:59:59Z\"}",
        "{\"docId\":\"d\",\"text\":\"t\",\"publishedAt\":\"-999999999-01-01T00:00:00Z\"}",
        "{\"docId\":\"a{b}\",\"text\":\"t\"}",
        "{\"docId\":\"a\\nb\",\"text\":\"t\"}",
        "{\"docId\":\"d\",\"tenant\":\"a:b\",\"text\":\"t\"}",
        "{\"docId\":\"d\",\"tenant\":\"\",\"text\":\"t\"}",
    })
    void wrongTypeOrIllegalValueIsInvalidField(String json) {
        assertReason(INVALID_FIELD, json.getBytes(UTF_8), null);
    }

    @Test
    void aRecordDecodesOnlyUnderItsOwnDocIdWithItsTimestampAsDefaultVersion() throws Exception {
        byte[] json = "{\"docId\":\"d\",\"text\":\"t\"}".getBytes(UTF_8);
        assertEquals(1234L, codec.decodeRecord("d", json, null, 1234L).getVersion());
        BadDocumentException e = assertThrows(BadDocumentException.class, () -> codec.decodeRecord("other", json, null, 1L));
        assertEquals(INVALID_FIELD, e.reason());
        assertTrue(e.getMessage().contains("differs from the document's docId"), e.getMessage());
    }

    @Test
    void overlongDocIdIsInvalid() {
        assertReason(INVALID_FIELD, DocumentCodec.encodeAvro(event("x".repeat(513), "t")), null);
    }

    @Test
    void aDecomposedDocIdIsInvalidAndItsComposedFormIsTheOneToUse() throws Exception {
        String composed = java.text.Normalizer.normalize("café", java.text.Normalizer.Form.NFC);
        String decomposed = java.text.Normalizer.normalize("café", java.text.Normalizer.Form.NFD);
        assertReason(INVALID_FIELD, DocumentCodec.encodeAvro(event(decomposed, "t")), null);
        assertReason(INVALID_FIELD, ("{\"docId\":\"" + decomposed + "\",\"text\":\"t\"}").getBytes(UTF_8), null);
        assertEquals(composed, codec.decode(DocumentCodec.encodeAvro(event(composed, "t")), null).getDocId());
        assertEquals(composed, DocumentRules.canonicalDocId(decomposed));
        assertEquals("plain-ascii/id", DocumentRules.canonicalDocId("plain-ascii/id"));
    }

    @Test
    void aDocIdWithAnUnpairedSurrogateIsInvalidAndAPairIsFine() throws Exception {
        // JSON may spell a lone surrogate as an escape; in UTF-8 (a Redis key) it would become '?'
        assertReason(INVALID_FIELD, "{\"docId\":\"a\\ud800\",\"text\":\"t\"}".getBytes(UTF_8), null);
        assertReason(INVALID_FIELD, "{\"docId\":\"\\udc00b\",\"text\":\"t\"}".getBytes(UTF_8), null);
        String pair = "note-\uD83D\uDE00";   // one character beyond the BMP
        assertEquals(pair, codec.decode(("{\"docId\":\"" + pair + "\",\"text\":\"t\"}").getBytes(UTF_8), null).getDocId());
    }

    @Test
    void blankTextIsEmptyTextInBothFormats() throws BadDocumentException {
        assertReason(EMPTY_TEXT, "{\"docId\":\"d\",\"text\":\" \\n \"}".getBytes(UTF_8), null);
        assertReason(EMPTY_TEXT, DocumentCodec.encodeAvro(event("d", "")), null);
        // characters isBlank lets through that show nothing: NUL, no-break space, zero-width space, a BOM
        assertReason(EMPTY_TEXT, DocumentCodec.encodeAvro(event("d", "\u0000\u0000\u00a0\u2003\u200b\ufeff\n")), null);
        assertEquals("\u00a0a", codec.decode("{\"docId\":\"d\",\"text\":\"\\u00a0a\"}".getBytes(UTF_8), null).getText(),
                "one visible character is a document");
    }

    @Test
    void valueOverByteLimitIsTooLargeBeforeParsing() {
        byte[] big = new byte[4097];
        Arrays.fill(big, (byte) '{');
        assertReason(TOO_LARGE, big, null);
    }

    @Test
    void textOverCharacterLimitIsTooLarge() {
        assertReason(TOO_LARGE, DocumentCodec.encodeAvro(event("d", "y".repeat(1001))), null);
    }

    @Test
    void exceptionMessageStartsWithReasonCode() {
        BadDocumentException e = assertThrows(BadDocumentException.class,
                () -> codec.decode("{\"docId\":\"d\"}".getBytes(UTF_8), null));
        assertTrue(e.getMessage().startsWith("MISSING_FIELD: "), e.getMessage());
        assertTrue(e.getMessage().contains("'text'"), e.getMessage());
    }

    private void assertReason(Reason expected, byte[] value, String contentType) {
        BadDocumentException e = assertThrows(BadDocumentException.class, () -> codec.decode(value, contentType));
        assertEquals(expected, e.reason(), e.getMessage());
    }

    private static DocumentEvent event(String docId, String text) {
        return DocumentEvent.newBuilder().setDocId(docId).setVersion(3).setText(text)
                .setMetadata(Map.of()).setPublishedAt(Instant.ofEpochMilli(1000)).build();
    }
}
