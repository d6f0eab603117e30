package dev.sacrag.cli;

import dev.sacrag.core.eval.Metrics;
import dev.sacrag.core.model.ModelConfig;
import dev.sacrag.ingest.DocumentDraft;
import dev.sacrag.ingest.DocumentPublisher;
import dev.sacrag.ingest.Question;
import dev.sacrag.query.catalog.CatalogEntry;
import dev.sacrag.query.feed.CatalogSnapshot;
import dev.sacrag.query.v1.WarmResponse;
import org.apache.kafka.clients.producer.RecordMetadata;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The demo's steps once the services run: ingest the documents, wait until the catalog lists
 * every one of them for the compressor's model, ask every question over gRPC (first naming the
 * question's document, optionally again letting BM25 choose), and measure what the documents
 * cost in Redis.
 */
final class DemoRun {

    /** The demo's options (see {@link DemoCommand}). */
    record Settings(Path model, Path documents, Path questions, boolean retrieve, int maxNewTokens, Duration timeout) {
    }

    /** One question asked once, graded. */
    record Graded(Question question, DemoAsker.Asked asked, boolean match) {
    }

    private static final Duration PUBLISH_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration WARM_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration PROGRESS_EVERY = Duration.ofSeconds(15);

    private final Settings settings;
    private final DemoInputs inputs;
    private final DemoServices services;
    private final PrintWriter out;

    DemoRun(Settings settings, DemoInputs inputs, DemoServices services, PrintWriter out) {
        this.settings = settings;
        this.inputs = inputs;
        this.services = services;
        this.out = out;
    }

    DemoReport run() throws Exception {
        ingest();
        Map<String, CatalogEntry> compressed = awaitCompressed();
        List<Graded> exact;
        try (DemoAsker asker = new DemoAsker(services.target())) {
            awaitWarm(asker);
            say("ask: %d questions over gRPC (%s), each naming its document", inputs.questions().size(), services.target());
            exact = askAll(asker, true);
            if (settings.retrieve()) {
                say("ask --retrieve: the same questions, the service choosing documents with BM25 (its default top-k)");
                List<Graded> retrieved = askAll(asker, false);
                long right = retrieved.stream().filter(g -> g.asked().docIds().contains(g.question().docId())).count();
                say("retrieve: %d/%d answers match; the question's document was among those used for %d/%d",
                        matches(retrieved), retrieved.size(), right, retrieved.size());
            }
        }
        DemoFootprint f = DemoFootprint.of(compressed.values(), ModelConfig.load(services.model().base()));
        int ratio = services.compressor().ratio();
        say("answers: %d/%d match a gold answer (SQuAD normalisation); time to first token median %.0f ms, max %.0f ms",
                matches(exact), exact.size(), ttft(exact, 0.5), ttft(exact, 1.0));
        say("compression: %d documents, %,d tokens -> %,d anchors at ratio %d (%.2fx fewer KV entries)",
                f.docs(), f.tokens(), f.anchors(), ratio, f.entryRatio());
        say("redis: %,d bytes of %s anchor KV = %,d bytes/doc, vs %,d bytes/doc for a full KV cache of every token"
                + " (%.2fx smaller)", f.bytes(), f.dtype(), f.bytesPerDoc(), f.fullBytesPerDoc(), f.byteRatio());
        int errors = (int) exact.stream().filter(g -> g.asked().result().isEmpty()).count();
        return new DemoReport(matches(exact), exact.size(), errors, ratio, f.bytesPerDoc(), f.fullBytesPerDoc(),
                inputs.questions().get(0));
    }

    private void ingest() throws Exception {
        long t0 = System.nanoTime();
        long bytes = 0;
        try (DocumentPublisher publisher = DocumentPublisher.connect(services.stack().bootstrapServers(),
                DocumentPublisher.Options.defaults().withTopic(services.topics().documents()))) {
            List<CompletableFuture<RecordMetadata>> sent = new ArrayList<>();
            for (DocumentDraft d : inputs.documents()) {
                sent.add(publisher.publish(d));
                bytes += d.text().getBytes(StandardCharsets.UTF_8).length;
            }
            publisher.flush();
            for (int i = 0; i < sent.size(); i++) {
                try {
                    sent.get(i).get(PUBLISH_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                } catch (java.util.concurrent.ExecutionException e) {
                    throw new IllegalStateException("publishing " + inputs.documents().get(i).docId() + " failed", e.getCause());
                } catch (java.util.concurrent.TimeoutException e) {
                    throw new IllegalStateException("publishing " + inputs.documents().get(i).docId() + ": the broker did not"
                            + " acknowledge it within " + human(PUBLISH_TIMEOUT), e);
                }
            }
        }
        say("ingest: published %d documents (%,d bytes of text) from %s to %s (%s)", inputs.documents().size(), bytes,
                settings.documents(), services.topics().documents(), DemoServices.since(t0));
    }

    /** Polls the catalog topic until it lists every document for the compressor's model. */
    private Map<String, CatalogEntry> awaitCompressed() throws Exception {
        Set<String> wanted = new LinkedHashSet<>(inputs.docIds());
        String modelId = services.compressor().modelId();
        long t0 = System.nanoTime();
        long deadline = t0 + settings.timeout().toNanos();
        int shown = -1;
        long shownAt = t0;
        while (true) {
            Map<String, CatalogEntry> done = new HashMap<>();
            for (CatalogEntry e : CatalogSnapshot.read(services.stack().bootstrapServers(), services.topics().catalog(),
                    Duration.ofSeconds(30)).entries(Optional.of(modelId))) {
                if (wanted.contains(e.docId())) {
                    done.put(e.docId(), e);
                }
            }
            long now = System.nanoTime();
            if (done.size() != shown || now - shownAt > PROGRESS_EVERY.toNanos()) {
                say("compress: %d/%d documents compressed and in the catalog (%s)", done.size(), wanted.size(),
                        DemoServices.since(t0));
                shown = done.size();
                shownAt = now;
            }
            if (done.size() == wanted.size()) {
                return done;
            }
            List<String> missing = wanted.stream().filter(d -> !done.containsKey(d)).toList();
            org.apache.kafka.streams.KafkaStreams.State state = services.compressor().state();
            if (!state.isRunningOrRebalancing()) {   // it will not compress anything more: say so now, not at --timeout
                throw new IllegalStateException("the compressor stopped (its stream is " + state + ") with " + missing.size()
                        + " document(s) not compressed: " + missing + "; its log says why");
            }
            double deadLettered = services.deadLettered();
            if (deadLettered > 0) {
                throw new IllegalStateException(String.format(Locale.ROOT, "%.0f document(s) went to the dead-letter topic %s"
                        + " instead of being compressed (still missing: %s); the compressor's log says why",
                        deadLettered, services.topics().deadLetter(), missing));
            }
            if (now > deadline) {
                throw new IllegalStateException(String.format(Locale.ROOT, "only %d/%d documents were compressed within %s;"
                        + " missing: %s. A slow machine may need a longer --timeout", done.size(), wanted.size(),
                        human(settings.timeout()), missing));
            }
            Thread.sleep(500);
        }
    }

    /** The catalog is read by the query service on its own: wait until it can serve every document. */
    private void awaitWarm(DemoAsker asker) throws InterruptedException {
        long t0 = System.nanoTime();
        long deadline = t0 + WARM_TIMEOUT.toNanos();
        while (true) {
            WarmResponse w = asker.warm(inputs.docIds());
            if (w.getMissesCount() == 0) {
                say("warm: all %d documents' anchor KV in the query service's cache (%d loaded now, %d already warm) (%s)",
                        inputs.docIds().size(), w.getLoaded(), w.getAlreadyWarm(), DemoServices.since(t0));
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the query service could not load " + w.getMissesList() + " within "
                        + human(WARM_TIMEOUT) + " although the catalog lists them");
            }
            Thread.sleep(200);
        }
    }

    /** Set when a call timed out: the service hangs, and each further call would wait as long (both passes). */
    private Optional<io.grpc.Status> down = Optional.empty();

    private List<Graded> askAll(DemoAsker asker, boolean nameTheDocument) {
        List<Graded> graded = new ArrayList<>();
        for (Question q : inputs.questions()) {
            services.requireNotInterrupted();
            if (down.isPresent()) {   // a service that timed out: each further call would wait as long
                DemoAsker.Asked skipped = new DemoAsker.Asked(Optional.empty(), down, Double.NaN, 0);
                graded.add(new Graded(q, skipped, false));
                say("  [error] %s  not asked: an earlier question timed out (%s)", q.qid(), down.get().getCode());
                continue;
            }
            DemoAsker.Asked a = asker.ask(q.question(), nameTheDocument ? List.of(q.docId()) : List.of(),
                    settings.maxNewTokens());
            // (UNAVAILABLE is also one question's lot, e.g. its blob being recompressed: the next may be answered)
            down = a.error().filter(s -> s.getCode() == io.grpc.Status.Code.DEADLINE_EXCEEDED);
            boolean match = a.result().isPresent() && Metrics.squadEm(a.answer(), q.answers()) == 1;
            graded.add(new Graded(q, a, match));
            if (a.result().isEmpty()) {
                say("  [error] %s  %s", q.qid(), a.failure());
                continue;
            }
            String mark = match ? "[ok]  " : "[miss]";
            String docs = nameTheDocument ? "" : " | docs: " + String.join(", ", a.docIds());
            say("  %s %s  %s", mark, q.qid(), q.question());
            say("         answer: %s | gold: %s%s | ttft %.0f ms (%.0f ms at the client)", quoted(a.answer()),
                    String.join(" / ", q.answers()), docs, a.ttftMs(), a.clientTtftMs());
        }
        return graded;
    }

    private static int matches(List<Graded> graded) {
        return (int) graded.stream().filter(Graded::match).count();
    }

    /** A quantile (0.5 = median, 1 = max) of the service's time to first token over the answered questions. */
    private static double ttft(List<Graded> graded, double quantile) {
        double[] t = graded.stream().filter(g -> g.asked().result().isPresent()).mapToDouble(g -> g.asked().ttftMs())
                .sorted().toArray();
        return t.length == 0 ? Double.NaN : t[(int) Math.ceil(quantile * (t.length - 1))];
    }

    private static String quoted(String answer) {
        return answer.isEmpty() ? "(empty)" : answer.replace("\n", " / ");
    }

    /** "10m", "90s": as the --timeout option is written. */
    private static String human(Duration d) {
        return d.toSecondsPart() == 0 && d.toMinutes() > 0 ? d.toMinutes() + "m" : d.toSeconds() + "s";
    }

    private void say(String format, Object... args) {
        out.printf(Locale.ROOT, format + "%n", args);
        out.flush();
    }
}
