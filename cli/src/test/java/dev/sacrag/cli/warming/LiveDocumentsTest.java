package dev.sacrag.cli.warming;

import dev.sacrag.schemas.DeadLetterHeaders;
import dev.sacrag.schemas.DocumentCodec;
import dev.sacrag.schemas.avro.DocumentEvent;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

class LiveDocumentsTest {

    private final LiveDocuments docs = new LiveDocuments(dev.sacrag.schemas.DocumentLimits.defaults());
    private long offset;

    private LiveDocuments.Position add(String key, byte[] value, long timestamp) {
        docs.apply(new ConsumerRecord<>("sac.documents", 0, offset, timestamp, TimestampType.CREATE_TIME, -1, -1,
                key == null ? null : key.getBytes(StandardCharsets.UTF_8), value, new RecordHeaders(), Optional.empty()));
        return new LiveDocuments.Position(0, offset++);
    }

    private static byte[] avro(String docId, String tenant, long version) {
        return avro(docId, tenant, version, "text of " + docId + " v" + version);
    }

    private static byte[] avro(String docId, String tenant, long version, String text) {
        return DocumentCodec.encodeAvro(DocumentEvent.newBuilder().setDocId(docId).setTenant(tenant).setVersion(version)
                .setText(text).setMetadata(Map.of()).setPublishedAt(Instant.now()).build());
    }

    @Test
    void keepsTheNewestVersionOfEachDocumentAndForgetsDeletedOnes() {
        add("a", avro("a", "t", 2), 1);
        add("a", avro("a", "t", 1), 2); // older: the compressor skips it too
        add("b", avro("b", "u", 1), 3);
        add("b", null, 4);
        add("c", avro("c", "t", 1), 5);
        assertEquals(Map.of("a", 2L, "c", 1L), versions());
        assertEquals("t", docs.byId().get("a").tenant());
        assertEquals(List.of(), docs.refused(), "a deleted document is not refused");
    }

    /** A compressor run with other limits (--max-doc-chars, SAC_MAX_DOC_CHARS) draws the line there. */
    @Test
    void appliesTheCompressorsDocumentLimits() {
        LiveDocuments strict = new LiveDocuments(new dev.sacrag.schemas.DocumentLimits(8 << 20, 11));
        strict.apply(new ConsumerRecord<>("sac.documents", 0, 0, 1, TimestampType.CREATE_TIME, -1, -1,
                "a".getBytes(StandardCharsets.UTF_8), avro("a", "t", 1), new RecordHeaders(), Optional.empty()));
        assertEquals(0, strict.size(), "\"text of a v1\" has 12 characters, over the limit of 11");
        assertEquals(1, strict.invalid());
        add("a", avro("a", "t", 1), 1);
        assertEquals(Map.of("a", 1L), versions(), "within the default limits");
    }

    @Test
    void jsonWithoutVersionTakesTheRecordTimestampAsTheCompressorDoes() {
        add("j", "{\"docId\":\"j\",\"text\":\"plain JSON\"}".getBytes(StandardCharsets.UTF_8), 1_700_000_000_123L);
        assertEquals(Map.of("j", 1_700_000_000_123L), versions());
    }

    @Test
    void leavesOutWhatTheCompressorWouldOrDidDeadLetter() {
        add("bad", new byte[] {0, 1, 2}, 1);
        add(null, avro("nokey", "t", 1), 2);
        add("other", avro("mismatch", "t", 1), 3);
        add("empty", "{\"docId\":\"empty\",\"text\":\"  \"}".getBytes(StandardCharsets.UTF_8), 4);
        LiveDocuments.Position tooLong = add("long", avro("long", "t", 1), 5);
        add("fine", avro("fine", "t", 1), 6);
        assertEquals(1, docs.dropDeadLettered(Set.of(tooLong, new LiveDocuments.Position(3, 0))));
        assertEquals(Map.of("fine", 1L), versions());
        assertEquals(5, docs.invalid());
        assertEquals(List.of("long"), docs.refused(), "a document published, not deleted, that a dead letter refused:"
                + " what a count of the live ones leaves out; the records that never decode were no model's to refuse");
    }

    @Test
    void aDeadLetterCountsForEveryModelUnlessItNamesOne() {
        RecordHeaders anyModel = new RecordHeaders();
        RecordHeaders modelA = new RecordHeaders();
        modelA.add(dev.sacrag.schemas.DeadLetterHeaders.MODEL, "aaaaaaaaaaaa".getBytes(StandardCharsets.UTF_8));
        // malformed or empty: bad for every model; too many tokens for model A: model B may take it
        assertEquals(true, LiveDocuments.refusedFor(deadLetter(anyModel), "bbbbbbbbbbbb"));
        assertEquals(true, LiveDocuments.refusedFor(deadLetter(modelA), "aaaaaaaaaaaa"));
        assertEquals(false, LiveDocuments.refusedFor(deadLetter(modelA), "bbbbbbbbbbbb"));
    }

    private static ConsumerRecord<byte[], byte[]> deadLetter(RecordHeaders headers) {
        return new ConsumerRecord<>("sac.dead-letter", 0, 0, 1, TimestampType.CREATE_TIME, -1, -1, null, new byte[0],
                headers, Optional.empty());
    }

    @Test
    void aDocumentWhoseNewestRecordWasDeadLetteredIsLiveAtItsPreviousVersion() {
        add("d", avro("d", "t", 1), 1);
        LiveDocuments.Position v2 = add("d", avro("d", "t", 2), 2);
        LiveDocuments.Position v3 = add("d", avro("d", "t", 3), 3);   // too long for the model: dead-lettered
        add("e", avro("e", "t", 1), 4);
        add("e", null, 5);
        add("e", avro("e", "t", 2), 6);
        LiveDocuments.Position e3 = add("e", avro("e", "t", 3), 7);
        assertEquals(0, docs.dropDeadLettered(Set.of(v3, e3)));
        assertEquals(Map.of("d", 2L, "e", 2L), versions(), "what the compressor keeps serving");
        assertEquals(v2, docs.byId().get("d").position());
        assertEquals(List.of(), docs.refused(), "d and e are live at their v2");
        assertEquals(1, docs.dropDeadLettered(Set.of(v3, v2, new LiveDocuments.Position(0, 0), e3)),
                "no valid version of d is left; e keeps its v2");
        assertEquals(List.of("d"), docs.refused());
        assertEquals(Map.of("e", 2L), versions());
    }

    @Test
    void theSameVersionRestatedMovesTenantButWithOtherTextTheFirstTextStandsAsInTheCompressor() {
        add("g", avro("g", "t", 5, "the text"), 1);
        LiveDocuments.Position moved = add("g", avro("g", "u", 5, "the text"), 2);   // same text: a move to tenant u
        add("g", avro("g", "v", 5, "other text"), 3);   // same version, other text: not newer, the compressor skips it
        assertEquals("u", docs.byId().get("g").tenant());
        assertEquals(moved, docs.byId().get("g").position());

        LiveDocuments.Position v6 = add("h", avro("h", "t", 6, "first"), 4);
        LiveDocuments.Position v7 = add("h", avro("h", "t", 7, "too long for the model"), 5);
        LiveDocuments.Position v7b = add("h", avro("h", "t", 7, "shorter"), 6);   // v7 again, other text
        assertEquals(v7, docs.byId().get("h").position(), "before the dead letters: v7's first text");
        docs.dropDeadLettered(Set.of(v7));
        assertEquals(v7b, docs.byId().get("h").position(), "v7 refused, so the compressor took the second v7, newer than v6");
        assertEquals(7, docs.byId().get("h").version());
        assertEquals(false, v6.equals(docs.byId().get("h").position()));
    }

    @Test
    void noFallbackToAVersionDeletedSince() {
        add("f", avro("f", "t", 1), 1);
        add("f", null, 2);
        LiveDocuments.Position f2 = add("f", avro("f", "t", 2), 3);
        assertEquals(1, docs.dropDeadLettered(Set.of(f2)), "f's v1 was deleted before its v2 was dead-lettered");
        assertEquals(Map.of(), versions());
        assertEquals(List.of("f"), docs.refused(), "published again after its delete, and that version refused");
    }

    @Test
    void aDocumentIsDeletedWhenItsNewestRecordIsATombstoneOrNoneOfItsRecordsIsLeft() {
        add("gone", avro("gone", "t", 1), 1);
        add("gone", null, 2);
        add("back", avro("back", "t", 1), 3);
        add("back", null, 4);
        add("back", avro("back", "t", 2), 5);
        add("bad", new byte[] {0, 1, 2}, 6);   // not a document, but not deleted either
        assertEquals(true, docs.deleted("gone", false));
        assertEquals(false, docs.deleted("back", true), "published again since");
        assertEquals(false, docs.deleted("bad", true));
        assertEquals(true, docs.deleted("cleaned", true), "a record read here and none left: its tombstone was cleaned too");
        assertEquals(false, docs.deleted("cleaned", false), "never read here: this topic says nothing of it");
    }

    private Map<String, Long> versions() {
        return docs.byId().values().stream().collect(java.util.stream.Collectors.toMap(LiveDocuments.Doc::docId,
                LiveDocuments.Doc::version));
    }
}
