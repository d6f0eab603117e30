package dev.sacrag.cli;

import dev.sacrag.ingest.DocumentDraft;
import dev.sacrag.ingest.DocumentPublisher;
import dev.sacrag.query.v1.WarmResponse;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The ingest half of {@code sac bench pipeline}: publishes documents to the running services and
 * times each one until the query service can answer from it.
 *
 * <p>"Answerable" is what the query service itself reports: a Warm call (the public gRPC API)
 * that no longer lists the document as a miss, i.e. the service has read the document and its
 * catalog record for the active model and holds the anchor KV from Redis in its cache, so that an
 * Ask would go straight to decoding. Pending documents are polled every {@link #POLL}, so each
 * time is late by at most that much plus one Warm call. Every time is {@link System#nanoTime}.
 */
final class PipelineIngest implements AutoCloseable {

    static final Duration POLL = Duration.ofMillis(10);
    private static final Duration ACK_TIMEOUT = Duration.ofSeconds(60);
    private static final String COMPRESS_TIME = "sac.compressor.compress.time";

    /**
     * A burst: every document published at once.
     *
     * @param seconds from the first send to the last document answerable
     * @param compressed documents the compressor compressed meanwhile (its {@code compress.time} count)
     * @param compressorSeconds the compressor's own time on them: tokenize + compress + encode, summed
     * @param latencyMs per document, from the broker's ack to answerable (queueing behind the burst included)
     */
    record Burst(int documents, double seconds, long compressed, double compressorSeconds, double[] latencyMs) {

        double documentsPerSecond() {
            return documents / seconds;
        }

        double compressorDocumentsPerSecond() {
            return compressed / compressorSeconds;
        }
    }

    private final DemoServices services;
    private final Duration timeout;
    private final DocumentPublisher publisher;
    private final DemoAsker probe;

    /** @param timeout how long one document or one burst may take to become answerable */
    PipelineIngest(DemoServices services, Duration timeout) {
        this.services = services;
        this.timeout = timeout;
        this.publisher = DocumentPublisher.connect(services.stack().bootstrapServers(),
                DocumentPublisher.Options.defaults().withTopic(services.topics().documents()));
        try {
            this.probe = new DemoAsker(services.target(), timeout);
        } catch (RuntimeException e) {
            publisher.close();   // not left open behind a probe that could not be made
            throw e;
        }
    }

    /** Publishes every draft at once and waits until all are answerable. */
    Burst burst(List<DocumentDraft> drafts) throws InterruptedException {
        Timer timer = services.compressor().metrics().registry().find(COMPRESS_TIME).timer();
        long countBefore = timer == null ? 0 : timer.count();
        double secondsBefore = timer == null ? 0 : timer.totalTime(TimeUnit.SECONDS);
        long start = System.nanoTime();
        Map<String, Long> acked = publish(drafts);
        Map<String, Long> answerable = awaitAnswerable(acked.keySet());
        long end = answerable.values().stream().mapToLong(Long::longValue).max().orElseThrow();
        timer = services.compressor().metrics().registry().find(COMPRESS_TIME).timer();
        if (timer == null) {
            throw new IllegalStateException("the compressor recorded no " + COMPRESS_TIME + " although "
                    + drafts.size() + " documents became answerable");
        }
        return new Burst(drafts.size(), (end - start) / 1e9, timer.count() - countBefore,
                timer.totalTime(TimeUnit.SECONDS) - secondsBefore, latencies(acked, answerable));
    }

    /** Publishes the drafts one at a time, each once the previous one is answerable: ack → answerable, ms. */
    double[] oneAtATime(List<DocumentDraft> drafts) throws InterruptedException {
        double[] ms = new double[drafts.size()];
        for (int i = 0; i < drafts.size(); i++) {
            Map<String, Long> acked = publish(List.of(drafts.get(i)));
            ms[i] = latencies(acked, awaitAnswerable(acked.keySet()))[0];
        }
        return ms;
    }

    /** When the broker acknowledged each draft (the producer's callback), by doc id. */
    private Map<String, Long> publish(List<DocumentDraft> drafts) throws InterruptedException {
        List<CompletableFuture<Long>> acks = new ArrayList<>();
        for (DocumentDraft d : drafts) {
            acks.add(publisher.publish(d).thenApply(metadata -> System.nanoTime()));
        }
        publisher.flush();
        Map<String, Long> acked = new HashMap<>();
        for (int i = 0; i < drafts.size(); i++) {
            String docId = drafts.get(i).docId();
            try {
                acked.put(docId, acks.get(i).get(ACK_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
            } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
                throw new IllegalStateException("publishing " + docId + " to " + services.topics().documents() + " failed",
                        e instanceof ExecutionException ? e.getCause() : e);
            }
        }
        return acked;
    }

    /** Polls Warm for the pending documents until none is a miss; when each stopped being one, by doc id. */
    private Map<String, Long> awaitAnswerable(Set<String> docIds) throws InterruptedException {
        Set<String> pending = new LinkedHashSet<>(docIds);
        Map<String, Long> answerable = new HashMap<>();
        double deadLetteredBefore = services.deadLettered();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!pending.isEmpty()) {
            org.apache.kafka.streams.KafkaStreams.State state = services.compressor().state();
            if (!state.isRunningOrRebalancing()) {   // it will compress nothing more: say so now, not at --timeout
                throw new IllegalStateException("the compressor stopped (its stream is " + state + ") with " + pending.size()
                        + " document(s) not answerable; its log says why");
            }
            WarmResponse w = probe.warm(List.copyOf(pending));
            long now = System.nanoTime();
            Set<String> misses = Set.copyOf(w.getMissesList());
            for (String id : List.copyOf(pending)) {
                if (!misses.contains(id)) {
                    pending.remove(id);
                    answerable.put(id, now);
                }
            }
            if (pending.isEmpty()) {
                break;
            }
            if (services.deadLettered() > deadLetteredBefore) {
                throw new IllegalStateException(String.format(Locale.ROOT, "document(s) went to the dead-letter topic %s"
                        + " instead of being compressed (still pending: %s); the compressor's log says why",
                        services.topics().deadLetter(), pending));
            }
            if (now > deadline) {
                throw new IllegalStateException(String.format(Locale.ROOT, "%d/%d documents were not answerable within"
                        + " %d s: %s. A slow machine may need a longer --timeout", pending.size(), docIds.size(),
                        timeout.toSeconds(), pending));
            }
            Thread.sleep(POLL.toMillis());
        }
        return answerable;
    }

    private static double[] latencies(Map<String, Long> acked, Map<String, Long> answerable) {
        return acked.entrySet().stream().mapToDouble(e -> (answerable.get(e.getKey()) - e.getValue()) / 1e6).toArray();
    }

    @Override
    public void close() throws InterruptedException {
        try {
            publisher.close();
        } finally {
            probe.close();
        }
    }
}
