package dev.sacrag.ingest;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sacrag.schemas.DocumentCodec;
import dev.sacrag.schemas.avro.DocumentEvent;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class PublishedDocumentsTest {

    private final PublishedDocuments topic = new PublishedDocuments(DocumentCodec.withDefaults());

    private static DocumentDraft draft(String text) {
        return new DocumentDraft("a", "default", OptionalLong.empty(), "Title", text, "docs/a.md", Map.of("k", "v"));
    }

    private void publish(DocumentDraft d, long version) {
        topic.accept(d.docId().getBytes(UTF_8), DocumentCodec.encodeAvro(d.toEvent(version, Instant.ofEpochMilli(version))),
                null, version);
    }

    @Test
    void aDraftAsTheTopicHoldsItIsUnchangedWhateverItsPublishTime() {
        publish(draft("Ada wrote notes."), 10);
        assertTrue(topic.unchanged(draft("Ada wrote notes.")));
        assertFalse(topic.unchanged(draft("Ada wrote more notes.")), "other text");
        assertFalse(topic.unchanged(draft("Ada wrote notes.").withTitle("Other")), "another title");
        assertFalse(topic.unchanged(draft("Ada wrote notes.").withTitle(null)), "no title is not an empty one");
        assertFalse(topic.unchanged(draft("Ada wrote notes.").withTenant("acme")), "another tenant");
        assertFalse(topic.unchanged(draft("Ada wrote notes.").withSource("elsewhere/a.md")), "another source");
        assertFalse(topic.unchanged(draft("Ada wrote notes.").withMetadata(Map.of("k", "w"))), "other metadata");
        assertFalse(topic.unchanged(new DocumentDraft("b", "default", OptionalLong.empty(), "Title", "Ada wrote notes.",
                "docs/a.md", Map.of("k", "v"))), "a document the topic does not hold");
    }

    @Test
    void anAbsentFieldIsNotAnEmptyOne() {
        publish(draft("Ada wrote notes.").withSource(""), 10);
        assertTrue(topic.unchanged(draft("Ada wrote notes.").withSource("")));
        assertFalse(topic.unchanged(draft("Ada wrote notes.").withSource(null)));
    }

    @Test
    void aDraftNamingAVersionIsUnchangedOnlyAtTheTopicsVersion() {
        publish(draft("Ada wrote notes."), 10);
        assertTrue(topic.unchanged(draft("Ada wrote notes.").withVersion(10)), "a replay");
        assertFalse(topic.unchanged(draft("Ada wrote notes.").withVersion(11)), "the caller chose a new version");
        assertFalse(topic.unchanged(draft("Ada wrote notes.").withVersion(9)));
    }

    @Test
    void metadataOrderAndTheRecordsFormatDoNotMatter() {
        Map<String, String> ab = new LinkedHashMap<>();
        ab.put("a", "1");
        ab.put("b", "2");
        Map<String, String> ba = new LinkedHashMap<>();
        ba.put("b", "2");
        ba.put("a", "1");
        DocumentEvent json = draft("Ada wrote notes.").withMetadata(ba).toEvent(10, Instant.ofEpochMilli(10));
        topic.accept("a".getBytes(UTF_8), DocumentCodec.encodeJson(json).getBytes(UTF_8), DocumentCodec.JSON_CONTENT_TYPE, 10);
        assertTrue(topic.unchanged(draft("Ada wrote notes.").withMetadata(ab)));
    }

    @Test
    void theTopicsStandingFollowsTheCompressorsSuccessionRule() {
        publish(draft("first"), 10);
        publish(draft("second"), 12);
        publish(draft("older"), 11);   // ignored: lower than 12
        assertTrue(topic.unchanged(draft("second")));
        assertFalse(topic.unchanged(draft("older")));

        publish(draft("conflicting"), 12);   // same version, other text: the first text of a version stands
        assertTrue(topic.unchanged(draft("second")));
        assertFalse(topic.unchanged(draft("conflicting")));

        publish(draft("second").withTitle("Renamed"), 12);   // same version, same text: restated
        assertTrue(topic.unchanged(draft("second").withTitle("Renamed")));
        assertFalse(topic.unchanged(draft("second")));
    }

    @Test
    void aTombstoneForgetsTheDocumentAndABadRecordChangesNothing() {
        publish(draft("Ada wrote notes."), 10);
        topic.accept("a".getBytes(UTF_8), "{not json".getBytes(UTF_8), DocumentCodec.JSON_CONTENT_TYPE, 11);
        topic.accept(null, new byte[] {1}, null, 11);
        assertTrue(topic.unchanged(draft("Ada wrote notes.")), "a record the compressor dead-letters stands for nothing");
        topic.accept("a".getBytes(UTF_8), null, null, 12);
        assertFalse(topic.unchanged(draft("Ada wrote notes.")), "deleted: publishing it again brings it back");
        assertEquals(0, topic.documents());
        assertEquals(4, topic.records());
    }

    @Test
    void noneKnowsNothing() {
        assertFalse(PublishedDocuments.none().unchanged(draft("Ada wrote notes.")));
    }
}
