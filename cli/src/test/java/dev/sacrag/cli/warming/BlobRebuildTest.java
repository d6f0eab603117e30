package dev.sacrag.cli.warming;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

class BlobRebuildTest {

    private static LiveDocuments.Doc doc(String id) {
        return new LiveDocuments.Doc(id, "default", 1, new LiveDocuments.Position(0, 0), "hash-of-" + id);
    }

    @Test
    void aDocumentIsRestoredOnlyWhenItsRecordCameBackAndItsBlobIsThereNow() {
        List<LiveDocuments.Doc> missing = List.of(doc("c"), doc("a"), doc("b"), doc("d"));
        Set<String> waiting = Set.of("b");                   // no catalog record since the request
        Set<String> blobThere = Set.of("a", "b");            // c's record came back, its blob was evicted again
        assertEquals(List.of("b", "c", "d"),
                BlobRebuild.notRestored(missing, waiting, d -> blobThere.contains(d.docId())));
        assertEquals(List.of(), BlobRebuild.notRestored(List.of(doc("a")), Set.of(), d -> true));
    }

}
