package dev.sacrag.query.retrieval;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DocumentIndexTest {

    private final DocumentIndex index = new DocumentIndex();

    @AfterEach
    void close() {
        index.close();
    }

    private void add(String tenant, String id, long version, String text) {
        index.upsert(new IndexedDoc(id, tenant, version, null), text);
        index.refresh();
    }

    private List<String> ids(String tenant, String question) {
        return index.search(tenant, question, 10).stream().map(ScoredDoc::docId).toList();
    }

    @Test
    void ranksDocumentsWithTheRareQueryTermsFirst() {
        add("t", "engine", 1, "The Analytical Engine was a mechanical general-purpose computer. The engine had a mill.");
        add("t", "babbage", 1, "Charles Babbage designed the Analytical Engine in 1837.");
        add("t", "lovelace", 1, "Ada Lovelace wrote notes on the engine, with the first published program.");
        add("t", "steam", 1, "A steam engine burns coal; every engine of the period needed fuel.");

        List<ScoredDoc> hits = index.search("t", "Who designed the Analytical Engine?", 10);
        assertEquals("babbage", hits.get(0).docId(), "'designed' is rare and 'analytical' is in two documents only");
        assertEquals(4, hits.size(), "every document shares 'engine' or 'the'");
        for (int i = 1; i < hits.size(); i++) {
            assertTrue(hits.get(i - 1).score() >= hits.get(i).score(), "best score first: " + hits);
        }
        assertEquals(List.of("lovelace"), ids("t", "publishing programs").subList(0, 1), "stemmed: publish, program");
        assertEquals(List.of(), ids("t", "zebra"));
    }

    @Test
    void anUpdateReplacesTheText() {
        add("t", "doc", 1, "The capital of Freedonia is Fredville.");
        add("t", "doc", 2, "The capital of Freedonia moved to Marxburg.");
        assertEquals(List.of(), ids("t", "Fredville"));
        assertEquals(List.of("doc"), ids("t", "Marxburg"));
        assertEquals(2, index.find("doc").orElseThrow().version());
        assertEquals(1, index.size());
    }

    @Test
    void anOlderVersionDoesNotReplaceANewerOne() {
        add("t", "doc", 5, "new text about Marxburg");
        assertFalse(index.upsert(new IndexedDoc("doc", "t", 4, null), "old text about Fredville"));
        index.refresh();
        assertEquals(List.of(), ids("t", "Fredville"));
        assertEquals(5, index.find("doc").orElseThrow().version());
    }

    @Test
    void aSecondTextOfTheSameVersionIsIgnoredAsTheCompressorIgnoresIt() {
        add("t", "doc", 5, "The capital of Freedonia is Fredville.");
        assertFalse(index.upsert(new IndexedDoc("doc", "t", 5, null), "The capital of Freedonia moved to Marxburg."));
        index.refresh();
        assertEquals(List.of(), ids("t", "Marxburg"), "the compressor kept the first text of v5, so retrieval does too");
        assertEquals(List.of("doc"), ids("t", "Fredville"));
    }

    @Test
    void theSameVersionAndTextRestatedMovesTheDocumentToItsNewTenantAsTheCompressorMovesItsBlob() {
        String text = "The capital of Freedonia is Fredville.";
        add("acme", "doc", 5, text);
        assertFalse(index.upsert(new IndexedDoc("doc", "acme", 5, null), text), "a replay changes nothing");
        assertTrue(index.upsert(new IndexedDoc("doc", "globex", 5, null), text));
        index.refresh();
        assertEquals(List.of(), ids("acme", "Fredville"));
        assertEquals(List.of("doc"), ids("globex", "Fredville"));
        assertEquals("globex", index.find("doc").orElseThrow().tenant());
        assertTrue(index.upsert(new IndexedDoc("doc", "globex", 5, "Capitals"), text), "a new title is indexed too");
    }

    @Test
    void anotherTenantsDocumentsChangeNeitherScoresNorRanking() {
        add("acme", "d1", 1, "An apple and a pear and a plum.");
        add("acme", "d2", 1, "A cherry, a cherry and another cherry.");
        List<ScoredDoc> before = index.search("acme", "apple cherry", 10);
        for (int i = 0; i < 50; i++) {
            add("globex", "g" + i, 1, "Apple pie with apple sauce, document " + i + ".");
        }
        List<ScoredDoc> after = index.search("acme", "apple cherry", 10);
        assertEquals(before, after, "BM25 statistics are per tenant: globex's apples do not make acme's rarer");
        assertEquals(50, index.search("globex", "apple", 100).size());
    }

    @Test
    void aTombstoneDeletesTheDocument() {
        add("t", "doc", 1, "Ships sail on the sea.");
        assertTrue(index.delete("doc"));
        index.refresh();
        assertEquals(List.of(), ids("t", "ships"));
        assertTrue(index.find("doc").isEmpty());
        assertFalse(index.delete("doc"), "already gone");
    }

    @Test
    void aDocumentPublishedAgainAfterItsDeletionRemembersTheDeletionThroughItsUpdates() {
        add("t", "doc", 5, "Ships sail on the sea.");
        assertEquals(null, index.find("doc").orElseThrow().deletion(), "never deleted");
        index.delete("doc");
        add("t", "doc", 7, "Trains run on rails.");
        add("t", "doc", 8, "Trains run on steel rails.");
        add("t", "doc", 8, "Trains run on steel rails.");   // restated: unchanged
        IndexedDoc doc = index.find("doc").orElseThrow();
        assertEquals(new IndexedDoc.Deletion(5, 7), doc.deletion());
        assertFalse(doc.mayBeCompressionOf(5), "the deleted text");
        assertTrue(doc.mayBeCompressionOf(7));
        assertTrue(doc.mayBeCompressionOf(8));
    }

    @Test
    void tenantsOnlySeeTheirOwnDocuments() {
        add("acme", "a", 1, "Quarterly revenue grew in the widget division.");
        add("globex", "g", 1, "Quarterly revenue fell in the gadget division.");
        assertEquals(List.of("a"), ids("acme", "quarterly revenue"));
        assertEquals(List.of("g"), ids("globex", "quarterly revenue"));
        assertEquals(List.of(), ids("initech", "quarterly revenue"));
        add("globex", "a", 2, "The widget report moved to another tenant.");
        assertEquals(List.of(), ids("acme", "widget"), "a document that changes tenant moves");
        assertEquals("globex", index.find("a").orElseThrow().tenant());
    }

    @Test
    void aQuestionOfCommonWordsStillMatches() {
        add("t", "doc", 1, "What it is, is what it was.");
        assertEquals(List.of("doc"), ids("t", "what is it?"));
    }
}
