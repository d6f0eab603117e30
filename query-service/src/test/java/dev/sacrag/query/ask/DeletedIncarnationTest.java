package dev.sacrag.query.ask;

import dev.sacrag.query.EngineRig;
import dev.sacrag.query.FakeAnswerer;
import dev.sacrag.query.retrieval.IndexedDoc;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A document deleted and published again while the compressor is still behind the tombstone:
 * the catalog still points at the compression of the deleted text, and no question may be
 * answered from it, neither by name, nor by retrieval, nor warmed.
 */
class DeletedIncarnationTest {

    private static final String DELETED = "The vault code of the old bank is seven four one.";
    private static final String AGAIN = "The vault of the new bank opens with a card.";

    @Test
    void theCompressionOfADeletedDocumentIsNotAnsweredFromOnceItIsPublishedAgain() {
        try (EngineRig rig = new EngineRig(new FakeAnswerer(EngineRig.MODEL, 1, 0), 1L << 20)) {
            deletedAndPublishedAgain(rig, 9);   // the catalog still holds v5: the compressor is behind

            assertNotCompressed(rig, new AskQuery("vault?", "default", List.of("doc-1"), 1, 2));
            assertNotCompressed(rig, new AskQuery("vault bank", "default", List.of(), 1, 2));
            WarmReport warm = rig.engine.warm(new WarmQuery("default", List.of("doc-1"), Optional.empty(), 1), CallControl.NONE);
            assertEquals(0, warm.loaded(), "the deleted text warmed: " + warm);
            assertEquals(List.of("doc-1"), warm.missedIds());
            assertEquals(WarmReport.Why.NOT_COMPRESSED, warm.misses().get(0).why(), "the new text is not compressed yet");
            assertEquals(0, rig.cache.size(), "the deleted text cached");

            // the compressor reaches the tombstone and then the new text: answered from the new compression
            rig.catalog.apply("doc-1|" + EngineRig.MODEL, Optional.empty());
            rig.addCompressed("default", "doc-1", 9, AGAIN);
            assertEquals(List.of(9L), askedVersions(rig));
        }
    }

    @Test
    void aProducerNumberingTheNewIncarnationFromLowerAgainIsNotAnsweredFromTheDeletedOne() {
        try (EngineRig rig = new EngineRig(new FakeAnswerer(EngineRig.MODEL, 1, 0), 1L << 20)) {
            deletedAndPublishedAgain(rig, 1);
            assertNotCompressed(rig, new AskQuery("vault?", "default", List.of("doc-1"), 1, 2));

            rig.catalog.apply("doc-1|" + EngineRig.MODEL, Optional.empty());
            rig.addCompressed("default", "doc-1", 2, AGAIN + " Updated.");   // a later version of the new incarnation
            assertEquals(List.of(2L), askedVersions(rig));
        }
    }

    @Test
    void anUpdateWithoutADeletionIsStillAnsweredFromTheLastCompressionMeanwhile() {
        try (EngineRig rig = new EngineRig(new FakeAnswerer(EngineRig.MODEL, 1, 0), 1L << 20)) {
            rig.addCompressed("default", "doc-1", 5, DELETED);
            rig.addUncompressed("default", "doc-1", 9, AGAIN);
            assertEquals(List.of(5L), askedVersions(rig));
        }
    }

    /** doc-1 compressed at v5, deleted, and published again at {@code version}; the catalog still names v5. */
    private static void deletedAndPublishedAgain(EngineRig rig, long version) {
        rig.addCompressed("default", "doc-1", 5, DELETED);
        rig.index.delete("doc-1");
        rig.addUncompressed("default", "doc-1", version, AGAIN);
    }

    /** The answer's document versions. */
    private static List<Long> askedVersions(EngineRig rig) {
        AskAnswer answer = rig.engine.ask(new AskQuery("vault?", "default", List.of("doc-1"), 1, 2), (id, text) -> { },
                CallControl.NONE);
        return answer.documents().stream().map(UsedDoc::version).toList();
    }

    private static void assertNotCompressed(EngineRig rig, AskQuery ask) {
        QueryException refused = assertThrows(QueryException.class, () -> rig.engine.ask(ask, (id, text) -> { },
                CallControl.NONE), "answered from the deleted text");
        assertEquals(QueryException.Reason.NOT_COMPRESSED, refused.reason(), refused.getMessage());
    }

    @Test
    void everyDeletionSoFarCountsNotOnlyTheLast() {
        try (EngineRig rig = new EngineRig(new FakeAnswerer(EngineRig.MODEL, 1, 0), 1L << 20)) {
            deletedAndPublishedAgain(rig, 1);
            rig.index.delete("doc-1");
            rig.addUncompressed("default", "doc-1", 2, AGAIN + " Twice.");
            IndexedDoc doc = rig.index.find("doc-1").orElseThrow();
            assertEquals(new IndexedDoc.Deletion(5, 2), doc.deletion());
            assertNotCompressed(rig, new AskQuery("vault?", "default", List.of("doc-1"), 1, 2));
            assertEquals(false, doc.mayBeCompressionOf(1), "the first re-publication was deleted too");
            assertEquals(true, doc.mayBeCompressionOf(6), "newer than every deleted version");
        }
    }

    /** Every match deleted between the search and its lookup: nothing matches, not "not compressed yet: []". */
    @Test
    void matchesAllDeletedSinceTheSearchAreNoMatch() {
        QueryException e = org.junit.jupiter.api.Assertions.assertThrows(QueryException.class,
                () -> new DocumentChooser.Retrieval(List.of(), List.of(), true, false).orThrow("default"));
        assertEquals(QueryException.Reason.NO_MATCH, e.reason(), e.getMessage());
        assertEquals("no document of tenant 'default' matches the question", e.getMessage());
    }
}
