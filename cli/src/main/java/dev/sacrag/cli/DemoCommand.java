package dev.sacrag.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

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
                        + " 80%% of the answers match, 1 otherwise."})
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

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "10m", converter = Durations.class,
            description = "Give up when the documents are not all compressed after this long (default ${DEFAULT-VALUE}).")
    Duration timeout;

    @Override
    public Integer call() throws Exception {
        if (maxNewTokens < 1) {
            throw new ParameterException(spec.commandLine(), "--max-new-tokens must be >= 1, got " + maxNewTokens);
        }
        DemoRun.Settings settings = new DemoRun.Settings(model, documents, questions, retrieve, maxNewTokens, timeout);
        PrintWriter out = spec.commandLine().getOut();
        DemoServices.requireModel(model);
        DemoInputs inputs = DemoInputs.load(documents, questions);
        out.printf(Locale.ROOT, "demo: %d documents from %s, %d questions from %s, model %s%n", inputs.documents().size(), documents,
                inputs.questions().size(), questions, model);
        DemoServices services = DemoServices.start(model, out);
        DemoReport report;
        try {
            report = new DemoRun(settings, inputs, services, out).run();
            if (keepRunning) {
                services.printConnectionHelp(report.firstQuestion());
            }
        } catch (Throwable t) {
            services.close();
            throw t;
        }
        if (!keepRunning) {
            services.close();
        }
        Optional<DemoReference> reference = noReference ? Optional.empty() : reference(inputs, out);
        if (!report.passed()) {
            out.println(report.shortfallLine(model, reference));
        }
        out.println(report.summaryLine());
        out.flush();
        if (keepRunning) {
            services.awaitShutdown(); // Ctrl-C: the shutdown hook stops everything
        }
        return report.passed() ? 0 : 1;
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
