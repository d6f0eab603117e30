package dev.sacrag.cli.warming;

import dev.sacrag.schemas.ContentHash;
import dev.sacrag.schemas.DeadLetter;
import dev.sacrag.schemas.DocumentCodec;
import dev.sacrag.schemas.DocumentLimits;
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

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A document a warming run waited for in vain was deleted, refused, or neither: each is told apart. */
class UnfinishedTest {

    private static final String MODEL = "aaaaaaaaaaaa";
    private final LiveDocuments now = new LiveDocuments(DocumentLimits.defaults());
    private long offset;

    private void add(String key, String textOrNull) {
        byte[] value = textOrNull == null ? null : DocumentCodec.encodeAvro(DocumentEvent.newBuilder().setDocId(key)
                .setTenant("t").setVersion(3).setText(textOrNull).setMetadata(Map.of()).setPublishedAt(Instant.EPOCH).build());
        now.apply(new ConsumerRecord<>("sac.documents", 0, offset++, 1L, TimestampType.CREATE_TIME, -1, -1,
                key.getBytes(StandardCharsets.UTF_8), value, new RecordHeaders(), Optional.empty()));
    }

    private static LiveDocuments.Doc waited(String docId, String text) {
        return new LiveDocuments.Doc(docId, "t", 3, new LiveDocuments.Position(0, 0), ContentHash.of(text));
    }

    private static DeadLetter refusal(String docId, String text, Optional<String> model) {
        return new DeadLetter(docId, 3, ContentHash.of(text), model, "TOO_LARGE", "too many tokens");
    }

    @Test
    void deletedRefusedAndUnexplainedDocumentsAreToldApart() {
        add("gone", "x");
        add("gone", null);   // deleted while the run waited
        add("long", "a long text");
        add("odd", "odd text");
        add("other", "other text");
        Unfinished u = Unfinished.classify(List.of(waited("odd", "odd text"), waited("long", "a long text"),
                        waited("gone", "x"), waited("other", "other text")), now,
                List.of(refusal("long", "a long text", Optional.of(MODEL)),
                        refusal("other", "an older text", Optional.empty())));   // of other text: not this version
        assertEquals(List.of("gone"), u.deleted());
        assertEquals(List.of("long"), u.refused());
        assertEquals(List.of("odd", "other"), u.unexplained());
        assertEquals(List.of("long", "odd", "other"), u.live());
    }
}
