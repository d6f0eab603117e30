package dev.sacrag.cli.warming;

import dev.sacrag.schemas.DocumentCodec;
import dev.sacrag.schemas.avro.DocumentEvent;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

class LiveDocumentsTest {

    private final LiveDocuments docs = new LiveDocuments();
    private long offset;

    private LiveDocuments.Position add(String key, byte[] value, long timestamp) {
        docs.apply(new ConsumerRecord<>("sac.documents", 0, offset, timestamp, TimestampType.CREATE_TIME, -1, -1,
                key == null ? null : key.getBytes(StandardCharsets.UTF_8), value, new RecordHeaders(), Optional.empty()));
        return new LiveDocuments.Position(0, offset++);
    }

    private static byte[] avro(String docId, String tenant, long version) {
        return DocumentCodec.encodeAvro(DocumentEvent.newBuilder().setDocId(docId).setTenant(tenant).setVersion(version)
                .setText("text of " + docId + " v" + version).setMetadata(Map.of()).setPublishedAt(Instant.now()).build());
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
    }

    private Map<String, Long> versions() {
        return docs.byId().values().stream().collect(java.util.stream.Collectors.toMap(LiveDocuments.Doc::docId,
                LiveDocuments.Doc::version));
    }
}
