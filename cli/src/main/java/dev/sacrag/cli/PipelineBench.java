package dev.sacrag.cli;

import dev.sacrag.ingest.DocumentDraft;
import dev.sacrag.query.QuerySetting;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * The whole pipeline under load, on the services {@code sac demo} runs (in-process KRaft broker,
 * redis-server, compressor, query service; {@link DemoServices}): documents/s through the
 * compressor, publish-to-answerable latency, and query throughput and latency per number of
 * concurrent gRPC clients. Phases, in order, each on documents the previous ones did not use:
 *
 * <ol>
 * <li>warm-up: the first document under another id, published and awaited, untimed;</li>
 * <li>burst: every document (times {@code --copies}) published at once;</li>
 * <li>latency: the same documents under new ids, one at a time on the otherwise idle pipeline;</li>
 * <li>queries: one untimed query per client, then {@code --queries} per client count, the
 * levels run {@code --rounds} times in turn.</li>
 * </ol>
 */
@Command(name = "pipeline", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"The whole pipeline on the embedded stack (Kafka broker in-process + redis-server, compressor,"
                + " query service, as 'sac demo' runs it): documents/s, publish-to-answerable latency, and query"
                + " throughput and latency at each number of concurrent gRPC clients.",
                "Answerable: the query service's Warm call no longer lists the document as a miss (document and"
                        + " catalog record read, anchor KV loaded); polled every 10 ms.",
                "documents/s: documents of the burst / (first send -> last answerable). compressor docs/s: the same"
                        + " documents / the compressor's own time on them (its compress.time metric: tokenize +"
                        + " compress + encode, summed).",
                "publish-to-answerable: broker ack -> answerable, documents published one at a time. Queries: closed"
                        + " loop, each client asks again when its answer ends; throughput = queries / (start -> last"
                        + " answer); latency = request -> end of the answer stream, at the client. p50/p99 are"
                        + " nearest-rank quantiles of the samples."})
final class PipelineBench implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--model", paramLabel = "DIR", defaultValue = RepoPaths.DEMO_MODEL,
            description = "Model package: base/ + adapters/sac/ (default ${DEFAULT-VALUE}).")
    Path model;

    @Option(names = "--documents", paramLabel = "DIR", defaultValue = RepoPaths.DEMO_DOCUMENTS,
            description = "Documents, one .txt per document; doc id = file name without .txt (default ${DEFAULT-VALUE}).")
    Path documents;

    @Option(names = "--questions", paramLabel = "FILE", defaultValue = RepoPaths.DEMO_QUESTIONS,
            description = "Questions, JSONL {qid, docId, question, answers}, asked naming their document"
                    + " (default ${DEFAULT-VALUE}).")
    Path questions;

    @Option(names = "--copies", paramLabel = "K", defaultValue = "4",
            description = "Publish every document K times under distinct ids in the burst and latency phases,"
                    + " for more samples (default ${DEFAULT-VALUE}).")
    int copies;

    @Option(names = "--queries", paramLabel = "N", defaultValue = "240",
            description = "Timed queries per client count (default ${DEFAULT-VALUE}).")
    int queries;

    @Option(names = "--clients", paramLabel = "N", split = ",", defaultValue = "1,4,16",
            description = "Concurrent gRPC clients, one level each (default ${DEFAULT-VALUE}).")
    List<Integer> clients;

    @Option(names = "--rounds", paramLabel = "R", defaultValue = "1",
            description = "Run the client levels R times in turn (1,4,16,1,4,16,...) and report each level's median"
                    + " queries/s and the median of the per-round speedups over 1 client (default ${DEFAULT-VALUE})."
                    + " On a busy 2-core machine one round's 1-client figure moves by up to 15 %%, and the ratio with it.")
    int rounds;

    @Option(names = "--max-new-tokens", paramLabel = "N", defaultValue = "24",
            description = "Answer length limit (default ${DEFAULT-VALUE}).")
    int maxNewTokens;

    @Option(names = "--partitions", paramLabel = "N", defaultValue = "${env:SAC_PARTITIONS:-6}",
            description = "Partitions of the documents and recompress topics [env SAC_PARTITIONS, default 6].")
    int partitions;

    @Option(names = "--max-batch", paramLabel = "N",
            description = "The query service's --max-batch: questions decoded together (default: the service's, 16;"
                    + " 1 = one by one).")
    Integer maxBatch;

    @Option(names = "--batch-wait", paramLabel = "DURATION",
            description = "The query service's --batch-wait (default: the service's, 3ms; 0ms = start every batch at once).")
    String batchWait;

    @Option(names = "--join-wait", paramLabel = "DURATION",
            description = "The query service's --join-wait: how long a question asked while a batch decodes waits for"
                    + " others to join it with (default: the service's, 50ms; 0ms = join at every step).")
    String joinWait;

    @Option(names = "--prompt-cache-bytes", paramLabel = "BYTES",
            description = "The query service's --prompt-cache-bytes: K/V of [LM] + the question prompt kept per set of"
                    + " documents (default: the service's, 64m; 0 = every question prefills its whole prompt).")
    String promptCacheBytes;

    @Option(names = "--inference-threads", paramLabel = "N",
            description = "The query service's --inference-threads: batches decoded at once, each on the torch threads"
                    + " (SAC_THREADS) (default: the service's, 1).")
    Integer inferenceThreads;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "10m", converter = Durations.class,
            description = "Give up when a phase's documents are not answerable after this long, or a query gets no"
                    + " answer (default ${DEFAULT-VALUE}).")
    Duration timeout;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the results as JSON here.")
    Path json;

    /** Query throughput at 16 clients against 1 client that the architecture aims for (reported, not enforced). */
    static final double TARGET_SPEEDUP_AT_16 = 3.0;

    @Override
    public Integer call() throws Exception {
        validate();
        PrintWriter out = spec.commandLine().getOut();
        DemoServices.requireModel(model);
        DemoInputs inputs = DemoInputs.load(documents, questions);
        int effectiveBatch = maxBatch != null ? maxBatch : Integer.parseInt(QuerySetting.MAX_BATCH.defaultValue());
        String effectiveWait = batchWait != null ? batchWait : QuerySetting.BATCH_WAIT.defaultValue();
        String effectiveJoinWait = joinWait != null ? joinWait : QuerySetting.JOIN_WAIT.defaultValue();
        String effectiveCache = promptCacheBytes != null ? promptCacheBytes : QuerySetting.PROMPT_CACHE_BYTES.defaultValue();
        int effectiveThreads = inferenceThreads != null ? inferenceThreads
                : Integer.parseInt(QuerySetting.INFERENCE_THREADS.defaultValue());
        PipelineReport.Setup setup = new PipelineReport.Setup(model, documents, inputs.documents().size(), copies,
                inputs.questions().size(), queries, maxNewTokens, effectiveBatch, effectiveWait, effectiveJoinWait, effectiveCache,
                effectiveThreads);
        out.printf(Locale.ROOT, "inputs: %d documents x %d copies from %s, %d questions from %s, model %s%n",
                setup.documents(), copies, documents, setup.questions(), questions, model);
        Map<String, String> querySettings = new java.util.HashMap<>();
        if (maxBatch != null) {
            querySettings.put(QuerySetting.MAX_BATCH.flag(), String.valueOf(maxBatch));
        }
        if (batchWait != null) {
            querySettings.put(QuerySetting.BATCH_WAIT.flag(), batchWait);
        }
        if (joinWait != null) {
            querySettings.put(QuerySetting.JOIN_WAIT.flag(), joinWait);
        }
        if (promptCacheBytes != null) {
            querySettings.put(QuerySetting.PROMPT_CACHE_BYTES.flag(), promptCacheBytes);
        }
        if (inferenceThreads != null) {
            querySettings.put(QuerySetting.INFERENCE_THREADS.flag(), String.valueOf(inferenceThreads));
        }
        // the query service's own checks, before a broker, Redis and a compressor are started for it
        Map<String, String> checked = new java.util.HashMap<>(querySettings);
        checked.put(QuerySetting.MODEL.flag(), model.toString());
        try {
            dev.sacrag.query.QueryServiceConfig.parse(checked, Map.of());
        } catch (dev.sacrag.query.ConfigException e) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
        }
        PipelineReport report;
        try (DemoServices services = DemoServices.start(model, querySettings, partitions, out)) {
            report = measure(services, inputs, setup, out);
        }
        report.print(out);
        if (json != null) {
            report.writeJson(json);
            out.println("wrote " + json);
        }
        out.flush();
        return 0;
    }

    private void validate() {
        UsageChecks.requireAtLeastOne(spec, "--copies", copies);
        UsageChecks.requireAtLeastOne(spec, "--queries", queries);
        UsageChecks.requireAtLeastOne(spec, "--rounds", rounds);
        UsageChecks.requireAtLeastOne(spec, "--max-new-tokens", maxNewTokens);
        if (maxBatch != null) {
            UsageChecks.requireAtLeastOne(spec, "--max-batch", maxBatch);
        }
        if (inferenceThreads != null) {
            UsageChecks.requireAtLeastOne(spec, "--inference-threads", inferenceThreads);
        }
        UsageChecks.requireAtLeastOne(spec, "--partitions", partitions);
        Durations.requireTimeout(spec, timeout);
        if (clients.isEmpty() || clients.stream().anyMatch(c -> c < 1)) {
            throw new ParameterException(spec.commandLine(), "--clients must list numbers >= 1, got " + clients);
        }
    }

    private PipelineReport measure(DemoServices services, DemoInputs inputs, PipelineReport.Setup setup, PrintWriter out)
            throws InterruptedException {
        List<DocumentDraft> docs = inputs.documents();
        PipelineIngest.Burst burst;
        double[] latencyMs;
        try (PipelineIngest ingest = new PipelineIngest(services, timeout)) {
            long t0 = System.nanoTime();
            ingest.oneAtATime(List.of(renamed(docs.get(0), "warmup", 1)));
            say(out, "warm-up: one document compressed and answerable (%s)", DemoServices.since(t0));
            burst = ingest.burst(copies(docs, "burst", true));
            say(out, "burst: %d documents answerable in %.2f s", burst.documents(), burst.seconds());
            t0 = System.nanoTime();
            latencyMs = ingest.oneAtATime(copies(docs, "latency", false));
            say(out, "latency: %d documents published one at a time (%s)", latencyMs.length, DemoServices.since(t0));
        }
        int most = clients.stream().mapToInt(Integer::intValue).max().orElseThrow();
        List<List<QueryLoad.Level>> byRound = new ArrayList<>();
        try (QueryLoad load = new QueryLoad(services.target(), inputs.questions(), maxNewTokens, most, timeout)) {
            load.warmUp();
            for (int r = 1; r <= rounds; r++) {
                List<QueryLoad.Level> levels = new ArrayList<>();
                for (int c : clients) {
                    QueryLoad.Level level = load.run(c, queries);
                    say(out, "queries%s: %d clients, %d queries in %.2f s", rounds > 1 ? " (round " + r + ")" : "",
                            c, queries, level.seconds());
                    levels.add(level);
                }
                byRound.add(levels);
            }
        }
        return new PipelineReport(setup, services.compressor().modelId(), services.compressor().ratio(), burst,
                latencyMs, byRound, Machine.describe());
    }

    /**
     * Copy k = 1..{@code --copies} of every document, renamed {@code <id>~<phase><k>}; with
     * {@code firstKeepsId}, copy 1 keeps the document's own id, the one the questions name.
     */
    private List<DocumentDraft> copies(List<DocumentDraft> docs, String phase, boolean firstKeepsId) {
        List<DocumentDraft> out = new ArrayList<>();
        for (int k = 1; k <= copies; k++) {
            for (DocumentDraft d : docs) {
                out.add(k == 1 && firstKeepsId ? d : renamed(d, phase, k));
            }
        }
        return out;
    }

    private static DocumentDraft renamed(DocumentDraft d, String phase, int k) {
        return new DocumentDraft(d.docId() + "~" + phase + k, d.tenant(), d.version(), d.title(), d.text(), d.source(),
                d.metadata());
    }

    private static void say(PrintWriter out, String format, Object... args) {
        out.printf(Locale.ROOT, format + "%n", args);
        out.flush();
    }
}
