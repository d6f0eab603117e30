package dev.sacrag.cli.warming;

import dev.sacrag.schemas.DeadLetter;
import dev.sacrag.schemas.DeadLetterHeaders;
import dev.sacrag.schemas.DocumentCodec;
import dev.sacrag.schemas.DocumentLimits;
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
 * record key) and model, the latest refusal, and whether the documents topic has deleted the
 * document, or published a higher version of it, since. What an ingest that exited 0 cannot show
 * (a document over the model's token limit is refused by the compressor, not by ingest), and what
 * a question about such a document is told to look at.
 */
public final class DeadLetterList {

    /**
     * @param modelId the model that refused it; empty when it is bad for every model (malformed, empty, too many bytes)
     * @param at when it was dead-lettered
     * @param deletedSince the documents topic has deleted the document since (its refusal no longer matters)
     * @param publishedAgain the higher version the documents topic holds now, where the refusal names its
     *     version (a model's refusal, or a documents-topic record that decodes): the refusal is of an older text
     */
    public record Refusal(String docId, Optional<String> modelId, String reason, String message, Instant at,
                          boolean deletedSince, java.util.OptionalLong publishedAgain) {

        /** Whether it no longer stands for the document as it is now: deleted, or published again since. */
        public boolean past() {
            return deletedSince || publishedAgain.isPresent();
        }

        /** Whether it stands for {@code model}: its own refusal, or one of a document bad for every model. */
        public boolean standsFor(String model) {
            return DeadLetter.standsFor(modelId, model);
        }
    }

    private DeadLetterList() {
    }

    /**
     * The latest refusal per document and model, in the order they were last refused, each saying
     * whether {@code documentsTopic} has deleted its document, or published it again, since; empty
     * when the dead-letter topic does not exist (a mistyped name is not "nothing refused").
     */
    public static Optional<List<Refusal>> read(String bootstrapServers, String deadLetterTopic, String documentsTopic,
                                               Duration timeout) throws TimeoutException {
        Map<String, Letter> latest = new LinkedHashMap<>();
        Brokers brokers = new Brokers(bootstrapServers, timeout);   // a listing command: its --timeout bounds the wait for a broker too
        TopicScan scan;
        try {
            scan = new TopicScan(brokers, deadLetterTopic, "sac-docs-refused");
        } catch (TopicScan.NoSuchTopic noTopic) {
            return Optional.empty();
        }
        try (scan) {
            scan.readToEnd(r -> {
                Letter letter = Letter.of(r, documentsTopic);
                String key = letter.refusal().docId() + "|" + letter.refusal().modelId().orElse("");
                latest.remove(key);   // re-inserted last: the order is that of the latest refusals
                latest.put(key, letter);
            }, timeout);
        }
        if (latest.isEmpty()) {
            return Optional.of(List.of());
        }
        // read after the dead letters: every refused record is then one this read has seen, or
        // compacted away since
        LiveDocuments docs;
        try {
            docs = LiveDocuments.read(new TopicScan(brokers, documentsTopic, "sac-docs-refused"),
                    DocumentLimits.defaults(), timeout);   // only which documents are deleted is asked: any limits do
        } catch (TopicScan.NoSuchTopic noTopic) {
            throw new IllegalStateException(noTopic.getMessage() + " (the documents topic, which says what was deleted"
                    + " since: give the one the compressors read, --documents-topic)", noTopic);
        }
        Map<String, LiveDocuments.Doc> live = docs.byId();
        List<Refusal> refusals = new ArrayList<>();
        latest.values().forEach(letter -> refusals.add(letter.judged(docs, live)));
        return Optional.of(refusals);
    }

    /** Decodes a dead letter's value where its headers do not name the version; only the version is asked: any limits do. */
    private static final DocumentCodec CODEC = DocumentCodec.withDefaults();

    /**
     * A dead letter as read, before the documents topic is: its refusal, whether it kept its key
     * (one dropped names no document to look up), whether its record was read from the documents
     * topic (a refusal of a recompress request was not), and the version it refused where it says.
     */
    record Letter(Refusal refusal, boolean keyed, boolean fromDocuments, java.util.OptionalLong version) {

        static Letter of(ConsumerRecord<byte[], byte[]> r, String documentsTopic) {
            String docId = r.key() == null ? "(key dropped: " + header(r, DeadLetterHeaders.KEY_DROPPED).orElse("?") + " bytes)"
                    : new String(r.key(), StandardCharsets.UTF_8);
            Refusal refusal = new Refusal(docId, header(r, DeadLetterHeaders.MODEL),
                    header(r, DeadLetterHeaders.ERROR_REASON).orElse("?"), header(r, DeadLetterHeaders.ERROR_MESSAGE).orElse(""),
                    Instant.ofEpochMilli(r.timestamp()), false, java.util.OptionalLong.empty());
            java.util.OptionalLong version = DeadLetter.read(r.key(), r.value(), r.timestamp(),
                    name -> header(r, name).orElse(null), documentsTopic, CODEC)
                    .map(d -> java.util.OptionalLong.of(d.version())).orElse(java.util.OptionalLong.empty());
            return new Letter(refusal, r.key() != null,
                    header(r, DeadLetterHeaders.SOURCE_TOPIC).filter(documentsTopic::equals).isPresent(), version);
        }

        /** @param live each live document at the version the compressor holds ({@link LiveDocuments#byId}) */
        Refusal judged(LiveDocuments docs, Map<String, LiveDocuments.Doc> live) {
            Refusal r = refusal;
            boolean deleted = keyed && docs.deleted(r.docId(), fromDocuments);
            LiveDocuments.Doc now = deleted || version.isEmpty() ? null : live.get(r.docId());
            java.util.OptionalLong again = now != null && now.version() > version.getAsLong()
                    ? java.util.OptionalLong.of(now.version()) : java.util.OptionalLong.empty();
            return new Refusal(r.docId(), r.modelId(), r.reason(), r.message(), r.at(), deleted, again);
        }
    }

    /** A header of a dead letter as text, empty when absent. */
    static Optional<String> header(ConsumerRecord<byte[], byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null || h.value() == null ? Optional.empty() : Optional.of(new String(h.value(), StandardCharsets.UTF_8));
    }
}
