package dev.sacrag.query.ask;

import dev.sacrag.query.EngineRig;
import dev.sacrag.query.FakeAnswerer;
import dev.sacrag.query.catalog.Refusals;
import dev.sacrag.schemas.ContentHash;
import dev.sacrag.schemas.DeadLetter;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A question about a document a compressor refused is told why, not "not compressed yet": a
 * client that waits for "yet" waits for ever.
 */
class RefusedDocumentTest {

    private static final String TOO_LONG = "The ledger of the northern harbour lists every ship.";

    private static QueryException refused(EngineRig rig, AskQuery ask) {
        QueryException e = assertThrows(QueryException.class, () -> rig.engine.ask(ask, (id, text) -> { }, CallControl.NONE));
        assertEquals(QueryException.Reason.NOT_COMPRESSED, e.reason(), e.getMessage());
        return e;
    }

    /** A refusal of {@code docId} v{@code version} with the text {@link #TOO_LONG}. */
    private static DeadLetter tooLarge(String docId, long version, Optional<String> model) {
        return new DeadLetter(docId, version, ContentHash.of(TOO_LONG), model, "TOO_LARGE", "document " + docId
                + " v" + version + " has 4100 tokens, limit 2048 (--max-doc-tokens)");
    }

    @Test
    void aNamedDocumentWhoseLiveVersionWasRefusedSaysWhyAndWhatToDo() {
        try (EngineRig rig = new EngineRig(new FakeAnswerer(EngineRig.MODEL, 1, 0), 1 << 20)) {
            rig.addUncompressed("default", "ledger", 4, TOO_LONG);
            rig.refusals.add(tooLarge("ledger", 4, Optional.of(EngineRig.MODEL)));
            assertEquals("document 'ledger' v4 was refused by the compressor of model " + EngineRig.MODEL + ": TOO_LARGE"
                    + " (document ledger v4 has 4100 tokens, limit 2048 (--max-doc-tokens)); it is not compressed for model "
                    + EngineRig.MODEL + ": split it into smaller documents and publish those (raising the compressor's --max-doc-tokens"
                    + " helps only while it is below the model's positions) ('sac docs refused' lists"
                    + " the refusals)",
                    refused(rig, new AskQuery("ships?", "default", List.of("ledger"), 1, 2)).getMessage());
        }
    }

    /** The first alone told a caller who named two refused documents of one, and of the other once the first was fixed. */
    @Test
    void everyNamedDocumentThatCannotBeUsedIsSaidInTheCallersOrder() {
        try (EngineRig rig = new EngineRig(new FakeAnswerer(EngineRig.MODEL, 1, 0), 1 << 20)) {
            rig.addUncompressed("default", "ledger", 4, TOO_LONG);
            rig.addUncompressed("default", "almanac", 2, TOO_LONG);
            rig.refusals.add(tooLarge("ledger", 4, Optional.of(EngineRig.MODEL)));
            rig.refusals.add(tooLarge("almanac", 2, Optional.empty()));
            QueryException both = refused(rig, new AskQuery("ships?", "default", List.of("ledger", "almanac"), 1, 2));
            assertEquals(List.of("ledger", "almanac"), both.details().stream()
                    .map(d -> ((QueryException.Uncompressed) d).docId()).toList());
            assertTrue(both.getMessage().startsWith("2 of the documents named cannot be used: document 'ledger' v4 was"
                    + " refused by the compressor of model " + EngineRig.MODEL + ": TOO_LARGE"), both.getMessage());
            assertTrue(both.getMessage().contains("; document 'almanac' v2 was refused by the compressors: TOO_LARGE"),
                    both.getMessage());

            QueryException unknown = assertThrows(QueryException.class, () -> rig.engine.ask(new AskQuery("ships?",
                    "default", List.of("ledger", "nosuch"), 1, 2), (id, text) -> { }, CallControl.NONE));
            assertEquals(QueryException.Reason.UNKNOWN_DOCUMENT, unknown.reason(), unknown.getMessage());
            assertEquals(List.of(new QueryException.UnknownDocument("default", "nosuch")), unknown.details().subList(1, 2));
            assertTrue(unknown.details().get(0) instanceof QueryException.Uncompressed u && u.docId().equals("ledger"),
                    unknown.details().toString());
        }
    }

    @Test
    void aRefusalOfAnotherVersionTextOrModelIsNotTold() {
        try (EngineRig rig = new EngineRig(new FakeAnswerer(EngineRig.MODEL, 1, 0), 1 << 20)) {
            rig.addUncompressed("default", "ledger", 5, TOO_LONG);
            rig.refusals.add(tooLarge("ledger", 4, Optional.empty()));   // v4 refused, v5 published since
            rig.refusals.add(tooLarge("ledger", 5, Optional.of("ffffffffffff")));
            String message = refused(rig, new AskQuery("ships?", "default", List.of("ledger"), 1, 2)).getMessage();
            assertTrue(message.startsWith("document 'ledger' v5 is not compressed for model " + EngineRig.MODEL + " yet"),
                    message);

            // deleted, and published again under the refused version with other text: another document
            rig.index.delete("ledger");
            rig.addUncompressed("default", "ledger", 4, "The ledger, shortened.");
            message = refused(rig, new AskQuery("ships?", "default", List.of("ledger"), 1, 2)).getMessage();
            assertTrue(message.startsWith("document 'ledger' v4 is not compressed for model " + EngineRig.MODEL + " yet"),
                    message);
        }
    }

    @Test
    void retrievalThatFindsOnlyUncompressedDocumentsNamesTheRefusedOnesApart() {
        try (EngineRig rig = new EngineRig(new FakeAnswerer(EngineRig.MODEL, 1, 0), 1 << 20)) {
            rig.addUncompressed("default", "ledger", 4, TOO_LONG);
            rig.addUncompressed("default", "manifest", 2, "The manifest of the harbour lists every ship's cargo.");
            rig.refusals.add(tooLarge("ledger", 4, Optional.empty()));
            String message = refused(rig, new AskQuery("harbour ship", "default", List.of(), 3, 2)).getMessage();
            assertTrue(message.startsWith("the documents matching the question are not compressed: [manifest] not yet;"
                    + " 'ledger' v4 refused by the compressors: TOO_LARGE"), message);
            assertTrue(message.endsWith("'sac docs refused' lists the refusals)"), message);

            rig.addCompressed("default", "log", 1, "The harbour log of each ship.");
            AskAnswer answer = rig.engine.ask(new AskQuery("harbour ship", "default", List.of(), 3, 2), (id, text) -> { },
                    CallControl.NONE);
            assertEquals(List.of("log"), answer.documents().stream().map(UsedDoc::docId).toList(),
                    "a refused document does not stand in the way of one compressed");
            assertEquals(List.of(tooLarge("ledger", 4, Optional.empty())), answer.refused(), "and the answer says it lacks it");
        }
    }

    /**
     * The one compressed match too long for the model, the others refused: the caller is told both,
     * not only "too long", which would send it to shorten a question that no retry can help.
     */
    @Test
    void retrievalWhoseCompressedMatchesAreTooLongStillTellsTheRefusedOnes() {
        FakeAnswerer answerer = new FakeAnswerer(EngineRig.MODEL, 1, 0);
        try (EngineRig rig = new EngineRig(answerer, 1 << 20)) {
            var atlas = rig.addCompressed("default", "atlas", 1, "The atlas of the northern harbour maps every ship and quay.");
            answerer.maxComposed = atlas.tokenCount() - 1;
            rig.addUncompressed("default", "ledger", 4, TOO_LONG);
            rig.refusals.add(tooLarge("ledger", 4, Optional.empty()));
            QueryException e = assertThrows(QueryException.class, () -> rig.engine.ask(
                    new AskQuery("northern harbour ship", "default", List.of(), 3, 2), (id, text) -> { }, CallControl.NONE));
            assertEquals(QueryException.Reason.CONTEXT_TOO_LONG, e.reason(), e.getMessage());
            assertTrue(e.getMessage().startsWith("the documents matching the question are too long for the model; the other"
                    + " matches are not compressed: 'ledger' v4 refused by the compressors: TOO_LARGE"), e.getMessage());
            assertEquals(List.of(new QueryException.Uncompressed("ledger", 4, EngineRig.MODEL,
                    Optional.of(tooLarge("ledger", 4, Optional.empty())))), e.details(), "as a NOT_FOUND's details");
        }
        FakeAnswerer narrow = new FakeAnswerer(EngineRig.MODEL, 1, 0);
        try (EngineRig rig = new EngineRig(narrow, 1 << 20)) {
            var atlas = rig.addCompressed("default", "atlas", 1, "The atlas of the northern harbour maps every ship and quay.");
            narrow.maxComposed = atlas.tokenCount() - 1;
            QueryException alone = assertThrows(QueryException.class, () -> rig.engine.ask(
                    new AskQuery("northern harbour ship", "default", List.of(), 3, 2), (id, text) -> { }, CallControl.NONE));
            assertEquals("the documents matching the question are too long for the model", alone.getMessage());
            assertEquals(List.of(), alone.details());
        }
    }

    @Test
    void retrievalTellsOnlyTheRefusedMatchesThatWouldHaveTakenAPlace() {
        try (EngineRig rig = new EngineRig(new FakeAnswerer(EngineRig.MODEL, 1, 0), 1 << 20)) {
            rig.addUncompressed("default", "ledger", 4, TOO_LONG);
            rig.refusals.add(tooLarge("ledger", 4, Optional.of(EngineRig.MODEL)));
            rig.addCompressed("default", "log", 1, "The harbour log.");
            rig.addCompressed("default", "map", 1, "A map of the northern harbour and its ledger of ships.");
            rig.addUncompressed("default", "notes", 1, "Notes on the harbour.");
            rig.refusals.add(new DeadLetter("notes", 1, ContentHash.of("Notes on the harbour."), Optional.empty(),
                    "ENGINE_OOM", ""));   // matches, below the one chosen

            AskQuery one = new AskQuery("ledger northern harbour ship", "default", List.of(), 1, 2);
            AskAnswer answer = rig.engine.ask(one, (id, text) -> { }, CallControl.NONE);
            assertEquals(List.of("map"), answer.documents().stream().map(UsedDoc::docId).toList());
            assertEquals(List.of("ledger"), answer.refused().stream().map(DeadLetter::docId).toList(),
                    "the best match, refused: the answer came from the second best");

            AskAnswer named = rig.engine.ask(new AskQuery("ships?", "default", List.of("map"), 1, 2), (id, text) -> { },
                    CallControl.NONE);
            assertEquals(List.of(), named.refused(), "documents named are the caller's choice: nothing was passed over");
        }
    }

    /** A warm's misses a compressor refused say so, named or retrieved; a miss not compressed yet does not. */
    @Test
    void aWarmTellsTheMissesACompressorRefused() {
        try (EngineRig rig = new EngineRig(new FakeAnswerer(EngineRig.MODEL, 1, 0), 1 << 20)) {
            rig.addUncompressed("default", "ledger", 4, TOO_LONG);
            rig.refusals.add(tooLarge("ledger", 4, Optional.of(EngineRig.MODEL)));
            rig.addUncompressed("default", "manifest", 2, "The manifest of the harbour lists every ship's cargo.");
            rig.addCompressed("default", "log", 1, "The harbour log of each ship.");
            WarmReport named = rig.engine.warm(new WarmQuery("default", List.of("ledger", "manifest", "log", "nobody"),
                    Optional.empty(), 1), CallControl.NONE);
            assertEquals(List.of("ledger", "manifest", "nobody"), named.missedIds());
            assertEquals(List.of(WarmReport.Why.REFUSED, WarmReport.Why.NOT_COMPRESSED, WarmReport.Why.UNKNOWN_DOCUMENT),
                    named.misses().stream().map(WarmReport.Miss::why).toList());
            assertEquals(List.of(tooLarge("ledger", 4, Optional.of(EngineRig.MODEL))), named.refused());
            WarmReport retrieved = rig.engine.warm(new WarmQuery("default", List.of(), Optional.of("harbour ledger ship"),
                    3), CallControl.NONE);
            assertTrue(retrieved.missedIds().containsAll(List.of("ledger", "manifest")), retrieved.misses().toString());
            assertEquals(List.of("ledger"), retrieved.refused().stream().map(DeadLetter::docId).toList());
        }
    }

    @Test
    void coverageCountsLiveRefusedDocumentsApartAndDoesNotCallThatPoor() {
        try (EngineRig rig = new EngineRig(new FakeAnswerer(EngineRig.MODEL, 1, 0), 1 << 20)) {
            for (int i = 0; i < 9; i++) {
                rig.addCompressed("default", "ok-" + i, 1, "Document " + i + " of the harbour.");
            }
            rig.addUncompressed("default", "ledger", 4, TOO_LONG);
            rig.addUncompressed("default", "late", 1, "Not compressed yet.");
            rig.refusals.add(tooLarge("ledger", 4, Optional.of(EngineRig.MODEL)));
            rig.refusals.add(tooLarge("ledger", 4, Optional.empty()));   // counted once
            rig.refusals.add(tooLarge("gone", 1, Optional.empty()));   // not in the index
            rig.refusals.add(tooLarge("ok-0", 1, Optional.of(EngineRig.MODEL)));   // compressed all the same (another replica's refusal?)

            Coverage c = Coverage.of(rig.index, rig.catalog, rig.refusals, EngineRig.MODEL);
            assertEquals(new Coverage(11, 9, 0, 1), c);
            assertFalse(c.poor(), "9 of the 10 documents no compressor refused");
            assertTrue(c.line().contains("(2 not: 1 refused by a compressor, see 'sac docs refused', until published"
                    + " again; questions about the others get NOT_FOUND"), c.line());
            assertTrue(new Coverage(11, 8, 0, 1).poor());

            rig.refusals.add(tooLarge("late", 0, Optional.empty()));   // a version the index has passed since
            Coverage.of(rig.index, rig.catalog, rig.refusals, EngineRig.MODEL);
            assertTrue(rig.refusals.all().stream().noneMatch(r -> r.docId().equals("late")), "dropped on the way");
        }
    }
}
