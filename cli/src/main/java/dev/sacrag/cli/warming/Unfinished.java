package dev.sacrag.cli.warming;

import dev.sacrag.compressor.CompressorTopics;
import dev.sacrag.schemas.DeadLetter;
import dev.sacrag.schemas.DocumentCodec;
import dev.sacrag.schemas.DocumentLimits;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeoutException;

/**
 * Why documents a warming run waited for did not come, told once the compressor has gone past
 * every request: deleted since the run read them (nothing to compress: not a failure), refused
 * (a dead letter of that version and text stands for the model), or neither - what the
 * compressor's log has to explain, and no run that leaves one may call itself complete.
 *
 * @param deleted the documents topic deleted them while the run waited, sorted
 * @param refused a dead letter names their version and text for the model (or for every model), sorted
 * @param unexplained the others, sorted
 */
record Unfinished(List<String> deleted, List<String> refused, List<String> unexplained) {

    static final Unfinished NONE = new Unfinished(List.of(), List.of(), List.of());

    /** The documents not deleted since: those a run failed to bring. */
    List<String> live() {
        List<String> out = new ArrayList<>(refused);
        out.addAll(unexplained);
        out.sort(null);
        return out;
    }

    /**
     * Reads the documents topic and the dead-letter topic again to tell {@code docs} (as the run
     * read them at its start) apart. Only called when some did not come, so a run that restored
     * everything reads nothing more.
     */
    static Unfinished explain(Brokers brokers, CompressorTopics topics, DocumentLimits limits, String modelId,
                              Collection<LiveDocuments.Doc> docs, Duration timeout) throws TimeoutException {
        if (docs.isEmpty()) {
            return NONE;
        }
        LiveDocuments now = LiveDocuments.read(new TopicScan(brokers, topics.documents(), "sac-warm-documents"), limits,
                timeout);
        Set<String> ids = new HashSet<>();
        docs.forEach(d -> ids.add(d.docId()));
        Set<DeadLetter> refusals = new HashSet<>();   // of these documents only: the topic may hold many more
        TopicScan scan;
        try {
            scan = new TopicScan(brokers, topics.deadLetter(), "sac-warm-dead-letters");
        } catch (TopicScan.NoSuchTopic none) {
            scan = null;
        }
        if (scan != null) {
            DocumentCodec codec = DocumentCodec.withLimits(limits);
            try (TopicScan dlq = scan) {
                dlq.readToEnd(r -> DeadLetter.read(r.key(), r.value(), r.timestamp(),
                        name -> DeadLetterList.header(r, name).orElse(null), topics.documents(), codec)
                        .filter(d -> ids.contains(d.docId()) && d.standsFor(modelId)).ifPresent(refusals::add), timeout);
            }
        }
        return classify(docs, now, refusals);
    }

    /** @param refusals the dead letters standing for the model */
    static Unfinished classify(Collection<LiveDocuments.Doc> docs, LiveDocuments now, Collection<DeadLetter> refusals) {
        List<String> deleted = new ArrayList<>();
        List<String> refused = new ArrayList<>();
        List<String> unexplained = new ArrayList<>();
        List<LiveDocuments.Doc> sorted = docs.stream().sorted(Comparator.comparing(LiveDocuments.Doc::docId)).toList();
        for (LiveDocuments.Doc d : sorted) {
            if (now.deleted(d.docId(), true)) {
                deleted.add(d.docId());
            } else if (refusals.stream().anyMatch(r -> r.docId().equals(d.docId()) && r.version() == d.version()
                    && r.contentHash().equals(d.contentHash()))) {
                refused.add(d.docId());
            } else {
                unexplained.add(d.docId());
            }
        }
        return new Unfinished(List.copyOf(deleted), List.copyOf(refused), List.copyOf(unexplained));
    }
}
