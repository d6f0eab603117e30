package dev.sacrag.cli.warming;

import dev.sacrag.schemas.DeadLetterHeaders;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeoutException;

/**
 * The documents the compressors refused, from the dead-letter topic: for each document (its
 * record key) and model, the latest refusal. What an ingest that exited 0 cannot show (a
 * document over the model's token limit is refused by the compressor, not by ingest), and what
 * a question about such a document is told to look at.
 */
public final class DeadLetterList {

    /**
     * @param modelId the model that refused it; empty when it is bad for every model (malformed, empty, too many bytes)
     * @param at when it was dead-lettered
     */
    public record Refusal(String docId, Optional<String> modelId, String reason, String message, Instant at) {

        /** Whether it stands for {@code model}: its own refusal, or one of a document bad for every model. */
        public boolean standsFor(String model) {
            return DeadLetterList.standsFor(modelId, model);
        }
    }

    /** The rule warming applies too: a dead letter naming no model stands for all. */
    static boolean standsFor(Optional<String> refusedBy, String modelId) {
        return refusedBy.map(modelId::equals).orElse(true);
    }

    private DeadLetterList() {
    }

    /**
     * The latest refusal per document and model, in the order they were last refused; none when
     * the topic does not exist.
     */
    public static List<Refusal> read(String bootstrapServers, String deadLetterTopic, Duration timeout)
            throws TimeoutException {
        Map<String, Refusal> latest = new LinkedHashMap<>();
        TopicScan scan;
        try {
            scan = new TopicScan(bootstrapServers, deadLetterTopic, "sac-docs-refused", timeout);
        } catch (TopicScan.NoSuchTopic noTopic) {
            return List.of();
        }
        try (scan) {
            scan.readToEnd(r -> {
                Refusal refusal = of(r);
                String key = refusal.docId() + "|" + refusal.modelId().orElse("");
                latest.remove(key);   // re-inserted last: the order is that of the latest refusals
                latest.put(key, refusal);
            }, timeout);
        }
        return new ArrayList<>(latest.values());
    }

    static Refusal of(ConsumerRecord<byte[], byte[]> r) {
        String docId = r.key() == null ? "(key dropped: " + header(r, DeadLetterHeaders.KEY_DROPPED).orElse("?") + " bytes)"
                : new String(r.key(), StandardCharsets.UTF_8);
        return new Refusal(docId, header(r, DeadLetterHeaders.MODEL), header(r, DeadLetterHeaders.ERROR_REASON).orElse("?"),
                header(r, DeadLetterHeaders.ERROR_MESSAGE).orElse(""), Instant.ofEpochMilli(r.timestamp()));
    }

    /** A header of a dead letter as text, empty when absent. */
    static Optional<String> header(ConsumerRecord<byte[], byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null || h.value() == null ? Optional.empty() : Optional.of(new String(h.value(), StandardCharsets.UTF_8));
    }
}
