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
        assertEquals(List.of("c", "d"), BlobRebuild.lostAgain(List.of("b", "c", "d"), waiting),
                "records back, blobs gone again: not a refusal and not a timeout");
    }

    /** Kafka's own wait for a topic's metadata is 60 s; the command's --timeout bounds it instead. */
    @Test
    void publishingToARecompressTopicThatDoesNotExistFailsWithinTheTimeout() throws Exception {
        try (dev.sacrag.stack.EmbeddedKafka kafka = dev.sacrag.stack.EmbeddedKafka.start()) {
            long start = System.nanoTime();
            org.apache.kafka.common.errors.TimeoutException e = org.junit.jupiter.api.Assertions.assertThrows(
                    org.apache.kafka.common.errors.TimeoutException.class, () -> BlobRebuild.requestRecompression(
                    kafka.bootstrapServers(), "no.such.topic", List.of(doc("a")), "model", "test", java.time.Duration.ofSeconds(2)));
            long seconds = (System.nanoTime() - start) / 1_000_000_000L;
            org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("no.such.topic"), e.getMessage());
            org.junit.jupiter.api.Assertions.assertTrue(seconds < 30, "waited " + seconds + " s: " + e);
        }
    }

    @Test
    void aTimeoutOfWeeksIsCappedForTheKafkaClientsNotWrappedNegative() {
        assertEquals(Integer.MAX_VALUE, BoundedClients.millis(java.time.Duration.ofDays(600)));
        assertEquals(30_000, BoundedClients.millis(java.time.Duration.ofSeconds(30)));
    }
}
