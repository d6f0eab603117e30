package dev.sacrag.query.ask;

import dev.sacrag.query.EngineRig;
import dev.sacrag.query.FakeAnswerer;
import dev.sacrag.query.catalog.CatalogEntry;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Retrieval composes no more than the adapter was trained on; named documents are decoded as asked. */
class ComposedLengthTest {

    @Test
    void retrievalStopsAtTheTrainedComposedLength() {
        FakeAnswerer answerer = new FakeAnswerer(EngineRig.MODEL, 1, 0);
        try (EngineRig rig = new EngineRig(answerer, 1L << 20)) {
            CatalogEntry a = rig.addCompressed("default", "a", 1, "The loom wove silk in Lyon for the old guild.");
            CatalogEntry b = rig.addCompressed("default", "b", 1, "The loom in Lyon wove wool and silk for the guild.");
            CatalogEntry c = rig.addCompressed("default", "c", 1, "A loom, the guild and Lyon: silk again.");
            answerer.maxComposed = a.tokenCount() + b.tokenCount() + c.tokenCount() - 1;   // not all three

            AskAnswer retrieved = rig.engine.ask(new AskQuery("loom silk Lyon guild", "default", List.of(), 3, 2),
                    (id, text) -> { }, CallControl.NONE);
            int composed = retrieved.documents().stream().mapToInt(d ->
                    rig.catalog.find("default", d.docId(), EngineRig.MODEL).orElseThrow().tokenCount()).sum();
            assertEquals(2, retrieved.documents().size(), "three documents retrieved past the trained length");
            assertEquals(true, composed <= answerer.maxComposed);

            AskAnswer named = rig.engine.ask(new AskQuery("loom?", "default", List.of("a", "b", "c"), 3, 2),
                    (id, text) -> { }, CallControl.NONE);
            assertEquals(3, named.documents().size(), "documents the caller names are decoded as asked");
        }
    }
}
