package dev.sacrag.cli;

import dev.sacrag.ingest.DocumentPublisher;
import dev.sacrag.ingest.DocumentSources;
import dev.sacrag.ingest.IngestRunner;
import dev.sacrag.ingest.IngestSummary;
import dev.sacrag.ingest.QuestionSet;
import dev.sacrag.ingest.SourceFormat;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code sac ingest}: publish files to the documents topic with ingest's {@link IngestRunner}. */
@Command(name = "ingest", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Publish documents to the documents topic: .txt/.md files (one document each, id = slug of the"
                + " path below the given folder; with --tenant T other than the default, T:slug), .jsonl (one JSON document"
                + " per line), MRQA JSONL (one document per context; its questions are written beside the input as"
                + " NAME.questions.jsonl).",
                "Folders are walked recursively. Progress on stderr, a summary line on stdout; exit 1 when a document failed."})
final class IngestCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "PATH", description = "Files or folders to publish.")
    List<Path> paths;

    @Option(names = "--tenant", paramLabel = "TENANT", defaultValue = "default",
            description = "Tenant of documents that name none (default ${DEFAULT-VALUE}).")
    String tenant;

    @Option(names = "--format", paramLabel = "txt|md|jsonl|mrqa",
            description = "Read every input as this format (default: from each file's name; MRQA by its header line).")
    String format;

    @Option(names = "--skip-bad", description = "Count and skip bad files and lines instead of stopping at the first one.")
    boolean skipBad;

    @Option(names = "--json", description = "Publish JSON values instead of Avro (both are accepted by the compressor).")
    boolean json;

    @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT,...",
            defaultValue = "${env:SAC_KAFKA_BOOTSTRAP:-localhost:9092}",
            description = "Kafka brokers (env SAC_KAFKA_BOOTSTRAP, default ${DEFAULT-VALUE}).")
    String bootstrapServers;

    @Option(names = {"--documents-topic", "--topic"}, paramLabel = "TOPIC", defaultValue = "${env:SAC_DOCUMENTS_TOPIC:-sac.documents}",
            description = "Documents topic, as every other command names it; --topic is the older spelling"
                    + " (env SAC_DOCUMENTS_TOPIC, default ${DEFAULT-VALUE}).")
    String topic;

    @Option(names = "--questions-out", paramLabel = "FILE",
            description = "Where MRQA questions go (default: beside the first input, e.g. dev.jsonl.gz -> dev.questions.jsonl).")
    Path questionsOut;

    @Override
    public Integer call() throws Exception {
        DocumentSources.Options options = sourceOptions();
        DocumentPublisher.Options publishing = DocumentPublisher.Options.defaults().withTopic(topic)
                .withFormat(json ? DocumentPublisher.Format.JSON : DocumentPublisher.Format.AVRO);
        IngestSummary summary;
        try (DocumentPublisher publisher = DocumentPublisher.connect(bootstrapServers, publishing)) {
            summary = IngestRunner.onConsole(DocumentSources.withDefaults(), publisher).run(paths, options);
        }
        if (summary.questions().size() > 0) {
            Path file = questionsOut != null ? questionsOut : QuestionSet.besideInput(paths.get(0));
            summary.questions().writeJsonl(file);
            System.err.printf(Locale.ROOT, "ingest: %d questions written to %s%n", summary.questions().size(), file);
        }
        summary.failures().forEach(f -> System.err.println("ingest: failed: " + f));
        System.out.println(summary.line());
        return summary.hasFailures() ? 1 : 0;
    }

    private DocumentSources.Options sourceOptions() {
        try {
            DocumentSources.Options o = DocumentSources.Options.defaults().withTenant(tenant)
                    .withOnBadInput(skipBad ? DocumentSources.OnBadInput.SKIP : DocumentSources.OnBadInput.FAIL);
            return format == null ? o : o.withFormat(SourceFormat.parse(format));
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
        }
    }
}
