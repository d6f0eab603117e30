package dev.sacrag.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code sac demo}: the whole pipeline on one machine, from a fresh clone. Starts the local stack
 * (a KRaft broker in this JVM and a redis-server process, or containers with
 * {@code -Dsac.stack=containers}), the compressor and the query service in-process, ingests the
 * bundled documents, waits until they are compressed, asks the bundled questions over gRPC and
 * prints each answer beside the gold one, then the footprint and a one-line summary.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run the whole pipeline on the embedded stack: Kafka broker (in-process, KRaft) + redis-server,"
                + " compressor, query service; ingest the bundled documents, ask the bundled questions over gRPC and"
                + " compare each answer with the gold one.",
                "Before the summary, a reference: how many the base model answers with each whole document in its"
                        + " prompt (no compression).",
                "The last line is 'demo: C/T answers match, ratio R, B bytes/doc vs F full KV'. Exit 0 when at least"
                        + " 80%% of the answers match and every question was answered, 1 when fewer match (the model's"
                        + " answers), 3 when the demo could not run or the pipeline failed (no model package, a service"
                        + " did not start, a question got no answer), 130 when stopped with Ctrl-C."})
final class DemoCommand implements Callable<Integer> {

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", paramLabel = "DIR", defaultValue = RepoPaths.DEMO_MODEL,
            description = "Model package: base/ + adapters/sac/ (default ${DEFAULT-VALUE}).")
    Path model;

    @Option(names = "--documents", paramLabel = "DIR", defaultValue = RepoPaths.DEMO_DOCUMENTS,
            description = "Documents to ingest, one .txt per document; doc id = file name without .txt (default ${DEFAULT-VALUE}).")
    Path documents;

    @Option(names = "--questions", paramLabel = "FILE", defaultValue = RepoPaths.DEMO_QUESTIONS,
            description = "Questions, JSONL {qid, docId, question, answers} (default ${DEFAULT-VALUE}).")
    Path questions;

    @Option(names = "--retrieve",
            description = "Also ask every question a second time without naming its document, letting BM25 choose.")
    boolean retrieve;

    @Option(names = "--keep-running",
            description = "Leave the broker, Redis, compressor and query service up for './sac ask' until Ctrl-C.")
    boolean keepRunning;

    @Option(names = "--max-new-tokens", paramLabel = "N", defaultValue = "24",
            description = "Answer length limit (default ${DEFAULT-VALUE}).")
    int maxNewTokens;

    @Option(names = "--no-reference",
            description = "Skip the reference: the same questions answered by the base model with each whole document"
                    + " in its prompt (sac eval's full method: no compression, no pipeline), printed before the summary,"
                    + " the reference SAC is measured against.")
    boolean noReference;

    @Option(names = "--partitions", paramLabel = "N", defaultValue = "${env:SAC_PARTITIONS:-6}",
            description = "Partitions of the documents and recompress topics the embedded stack creates: the most"
                    + " compressor tasks that can share the work [env SAC_PARTITIONS, default 6].")
    int partitions;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "10m", converter = Durations.class,
            description = "Give up when the documents are not all compressed after this long (default ${DEFAULT-VALUE}).")
    Duration timeout;

    /** The demo could not run or the pipeline failed: no model, a service did not start, a step timed out, a question got no answer. */
    static final int PIPELINE_FAILED = 3;
    /** Stopped with Ctrl-C (128 + SIGINT, as a shell reports it). */
    static final int INTERRUPTED = 130;

    @Override
    public Integer call() throws Exception {
        UsageChecks.requireAtLeastOne(spec, "--max-new-tokens", maxNewTokens);
        UsageChecks.requireAtLeastOne(spec, "--partitions (SAC_PARTITIONS)", partitions);
        Durations.requireTimeout(spec, timeout);
        DemoRun.Settings settings = new DemoRun.Settings(model, documents, questions, retrieve, maxNewTokens, timeout);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        DemoServices services = null;
        DemoInputs inputs;
        DemoReport report;
        try {
            DemoServices.requireModel(model);
            inputs = DemoInputs.load(documents, questions);
            out.printf(Locale.ROOT, "demo: %d documents from %s, %d questions from %s, model %s%n", inputs.documents().size(),
                    documents, inputs.questions().size(), questions, model);
            services = DemoServices.start(model, java.util.Map.of(), partitions, out);
            report = new DemoRun(settings, inputs, services, out).run();
        } catch (Throwable e) {
            if (services != null) {
                services.close();
            }
            if (e instanceof DemoServices.Interrupted || services != null && services.interrupted()) {
                err.println("sac demo: stopped (Ctrl-C)");   // what failed after the stop is the stop's doing
                return INTERRUPTED;
            }
            Sac.reportFailure(err, spec.qualifiedName(), e);
            return PIPELINE_FAILED;
        }
        if (services.interrupted()) {   // Ctrl-C as the last answers came: no report of a stopped run
            err.println("sac demo: stopped (Ctrl-C)");
            return INTERRUPTED;
        }
        if (!keepRunning) {
            services.close();
        }
        Optional<DemoReference> reference = noReference ? Optional.empty() : reference(inputs, out);
        if (!report.passed()) {
            out.println(report.shortfallLine(model, reference));
        }
        out.println(report.summaryLine());
        int code = report.errors() > 0 ? PIPELINE_FAILED : report.passed() ? 0 : 1;
        if (keepRunning) {   // the way in last, where it stays on screen; the result above is the run's
            services.printConnectionHelp(report.firstQuestion());
            out.flush();
            services.awaitShutdown(); // Ctrl-C: the shutdown hook stops everything
            return INTERRUPTED;
        }
        out.flush();
        return code;
    }

    /** Measures and prints the reference; a failure to measure it is printed and leaves it out (the summary still comes). */
    private Optional<DemoReference> reference(DemoInputs inputs, PrintWriter out) {
        long t0 = System.nanoTime();
        try {
            DemoReference r = DemoReference.measure(ModelPaths.resolve(model, null), inputs, maxNewTokens);
            out.printf(Locale.ROOT, "reference: %d/%d answers match when the base model reads each whole document in its"
                    + " prompt (no compression, no pipeline; %s), the reference SAC is measured against%n",
                    r.correct(), r.total(), DemoServices.since(t0));
            return Optional.of(r);
        } catch (Exception e) {
            out.printf(Locale.ROOT, "reference: not measured (%s: %s)%n", e.getClass().getSimpleName(), e.getMessage());
            return Optional.empty();
        }
    }
}
