package dev.sacrag.cli;

import dev.sacrag.core.io.AtomicFiles;
import dev.sacrag.ingest.DocumentPublisher;
import dev.sacrag.ingest.DocumentSources;
import dev.sacrag.ingest.DocumentsTopic;
import dev.sacrag.ingest.IngestRunner;
import dev.sacrag.ingest.IngestSummary;
import dev.sacrag.ingest.ProgressLine;
import dev.sacrag.ingest.PublishedDocuments;
import dev.sacrag.ingest.QuestionSet;
import dev.sacrag.ingest.SkipReason;
import dev.sacrag.ingest.Skipped;
import dev.sacrag.ingest.SourceBatch;
import dev.sacrag.ingest.SourceFormat;
import dev.sacrag.schemas.DeadLetterHeaders;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code sac ingest}: publish files to the documents topic with ingest's {@link IngestRunner}. */
@Command(name = "ingest", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Publish documents to the documents topic: .txt/.md files (one document each, id = slug of the"
                + " path below the given folder; with --tenant T other than the default, T:slug), .jsonl (one JSON document"
                + " per line), MRQA JSONL (one document per context; its questions are written beside the input as"
                + " NAME.questions.jsonl).",
                "Folders are walked recursively; the NAME.questions.jsonl files ingest writes are passed over there (named"
                        + " on the command line, one is read as JSONL). A doc id given twice in one run is bad input, as is a"
                        + " document over the compressor's size limits (--max-doc-bytes, --max-doc-chars).",
                "An id depends on the path below the folder named, not on the folder: two folders with the same layout"
                        + " ingested in separate runs share ids (teamA/README.md and teamB/README.md are both 'readme'), and"
                        + " the later replaces the earlier. Give each its own --tenant, or ingest from their common parent"
                        + " (ids teama/readme, teamb/readme).",
                "A file named that is not of a known type is bad input (name its --format); in a folder it is passed over."
                        + " What is skipped is listed on stderr with its file (and line) and why.",
                "Before publishing it looks at the documents topic: one that does not exist is an error; one that is not"
                        + " compacted, or takes records smaller than the documents allowed, a warning. It then reads the"
                        + " documents topic, the catalog and the dead-letter topic: a document the topic holds as it is (same"
                        + " tenant, title, text, source and metadata), that the compressors have compressed as it is and none"
                        + " refused, is not sent again, so running ingest over a folder again publishes only what changed"
                        + " (and what a compressor refused or has not compressed yet). A document naming a version below"
                        + " the topic's, or the topic's own with other text, is not sent and fails the run: the compressors"
                        + " and the query services would ignore it. The read takes as long as the topics are large, whatever the run sends;"
                        + " --republish skips it and sends every document.",
                "Progress on stderr, a summary line on stdout; exit 1 when a document failed, the questions could not be"
                        + " written, or the inputs hold no document (a run whose documents are all unchanged exits 0)."})
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

    @picocli.CommandLine.Mixin
    PublishOptions target;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "60s", converter = Durations.class,
            description = "Give up on the broker after this long: a document not acknowledged, or a send waiting for an"
                    + " unreachable broker (default ${DEFAULT-VALUE}).")
    Duration timeout;

    @Option(names = "--republish", description = "Send every document, also one the documents topic holds and the"
            + " compressors have compressed as it is: it gets a new version, and the compressor copies its blob under the"
            + " new version's key rather than compress it again. The topics are not read, so nothing is checked against"
            + " them either: a version a document names that is not above the topic's is sent, and ignored by the"
            + " compressors as older; one naming none is stamped with this host's clock, even where the topic's is ahead.")
    boolean republish;

    @Option(names = "--catalog-topic", paramLabel = "TOPIC", defaultValue = "${env:SAC_CATALOG_TOPIC:-"
            + dev.sacrag.compressor.CompressorTopics.CATALOG + "}",
            description = "Catalog topic, read to leave out what is compressed as it is; records there that are not"
                    + " catalog entries are counted in a warning (every document is sent when none is) [env"
                    + " SAC_CATALOG_TOPIC, default ${DEFAULT-VALUE}].")
    String catalogTopic;

    @Option(names = "--dead-letter-topic", paramLabel = "TOPIC", defaultValue = "${env:SAC_DEAD_LETTER_TOPIC:-"
            + dev.sacrag.compressor.CompressorTopics.DEAD_LETTER + "}",
            description = "Dead-letter topic, read to send again what a compressor refused; records there that are not"
                    + " dead letters are counted in a warning [env SAC_DEAD_LETTER_TOPIC, default ${DEFAULT-VALUE}].")
    String deadLetterTopic;

    @Option(names = "--questions-out", paramLabel = "FILE",
            description = "Where MRQA questions go (default: beside the first input, e.g. dev.jsonl.gz -> dev.questions.jsonl).")
    Path questionsOut;

    @CommandLine.Mixin
    DocumentLimitOptions documentLimits;

    /** Skipped inputs listed one by one, at most this many (the summary line counts them all). */
    static final int SKIPPED_LISTED = 20;

    @Override
    public Integer call() throws Exception {
        DocumentSources.Options options = sourceOptions();
        DocumentPublisher.Options publishing = publishingOptions();
        DocumentSources sources = DocumentSources.forPublishing(publishing);
        // read before connecting: a mistyped path or a bad line is the user's error, not the broker's;
        // the texts are read again as they are sent (a corpus larger than the heap is fine)
        DocumentSources.Scan scan = sources.scan(paths, options);
        SourceBatch batch = scan.batch();
        PrintWriter err = spec.commandLine().getErr();
        batch.notes().forEach(n -> err.println("ingest: note: " + n));
        listSkipped(batch.skipped(), err);
        if (scan.count() == 0) {
            err.printf(Locale.ROOT, "ingest: nothing to publish in %s (%d inputs skipped)%n", paths, batch.skipped().size());
            err.flush();
            return 1;
        }
        DocumentsTopic.check(target.bootstrapServers(), publishing.topic(), publishing.maxRequestBytes(), timeout)
                .forEach(w -> err.println("ingest: warning: " + w));
        err.flush();
        // the questions first: they name the documents, and a run cut short still leaves them
        boolean questionsWritten = batch.questions().size() == 0 || writeQuestions(batch.questions(), err);
        PublishedDocuments published = republish ? PublishedDocuments.none() : readTopics(scan, publishing, err);
        err.flush();
        long start = System.nanoTime();   // the rate is the publishing's
        IngestSummary summary;
        try (DocumentPublisher publisher = DocumentPublisher.connect(target.bootstrapServers(), publishing)) {
            IngestRunner runner = IngestRunner.onConsole(sources, publisher);
            // Ctrl-C part way: say how far it got and what to do, instead of ending without a word
            Thread interrupted = new Thread(() -> {
                err.println();
                err.println("ingest: stopped after " + runner.standing() + "; the rest may or may not be on the topic:"
                        + " run the same command again (it leaves out what is on the topic already)");
                err.flush();
            }, "sac-ingest-interrupted");
            Runtime.getRuntime().addShutdownHook(interrupted);
            try {
                summary = runner.publish(scan, start, published);
            } finally {
                try {
                    Runtime.getRuntime().removeShutdownHook(interrupted);
                } catch (IllegalStateException shuttingDown) {
                    // the JVM is already exiting: the hook runs
                }
            }
        }
        return report(summary, questionsWritten);
    }

    /** Topics of fewer records than this are read without a progress bar: it would be gone before it was seen. */
    static final long READ_BAR_FROM = 1_000;

    /**
     * What the documents topic, the catalog and the dead letters say of the run's documents, with a progress bar
     * while large ones are read. A principal that may not read them sends every document, as
     * before this read existed: a warning, not a failure.
     */
    private PublishedDocuments readTopics(DocumentSources.Scan scan, DocumentPublisher.Options publishing, PrintWriter err)
            throws InterruptedException {
        ProgressLine[] bar = new ProgressLine[1];
        long t0 = System.nanoTime();
        PublishedDocuments published;
        try {
            PublishedDocuments.Topics topics = new PublishedDocuments.Topics(publishing.topic(), catalogTopic, deadLetterTopic);
            published = PublishedDocuments.read(target.bootstrapServers(), topics, publishing.limits(), scan.docIds(), timeout,
                    (read, total) -> {
                        if (total >= READ_BAR_FROM) {
                            if (bar[0] == null) {
                                bar[0] = ProgressLine.on(err, "reading " + topics);
                            }
                            bar[0].update((int) Math.min(Integer.MAX_VALUE, read), (int) Math.min(Integer.MAX_VALUE, total));
                        }
                    });
        } catch (PublishedDocuments.NotReadable e) {
            err.println("ingest: warning: " + e.getMessage() + ": every document is sent, also those published and"
                    + " compressed as they are (grant Read on the three topics to leave those out, or pass --republish)");
            return PublishedDocuments.none();
        } finally {
            if (bar[0] != null) {
                bar[0].finish();
            }
        }
        topicNotes(published.catalog(), catalogTopic, published.deadLetters(), deadLetterTopic).forEach(err::println);
        err.printf(Locale.ROOT, "ingest: read %s, %s and %s in %.1f s: %d of the run's %d documents are on the topic%n",
                publishing.topic(), catalogTopic, deadLetterTopic, (System.nanoTime() - t0) / 1e9, published.documents(),
                scan.count());
        return published;
    }

    /**
     * What the read found amiss in the catalog and the dead-letter topic, a line each: a topic that
     * does not exist (a note), or one whose records are not of its kind (a warning: the documents
     * topic named as the catalog read as a catalog of nothing, and every document was sent unsaid).
     */
    static List<String> topicNotes(PublishedDocuments.Tally catalog, String catalogTopic,
                                   PublishedDocuments.Tally deadLetters, String deadLetterTopic) {
        List<String> lines = new java.util.ArrayList<>();
        if (!catalog.found()) {
            lines.add("ingest: note: the catalog topic " + catalogTopic + " does not exist: no document counts as"
                    + " compressed, so every one is sent (name the one in use with --catalog-topic)");
        } else if (catalog.noneReadable()) {
            lines.add(String.format(Locale.ROOT, "ingest: warning: none of the %,d records of the catalog topic %s reads"
                    + " as a catalog entry (key <docId>|<modelId>, an anchor-cache record as value): no document counts"
                    + " as compressed, so every one is sent (is it the catalog? name the one in use with --catalog-topic)",
                    catalog.records(), catalogTopic));
        } else if (catalog.unreadable() > 0) {
            lines.add(String.format(Locale.ROOT, "ingest: warning: %,d of the %,d records of the catalog topic %s do not"
                    + " read as catalog entries (key <docId>|<modelId>, an anchor-cache record as value; written by a"
                    + " newer build?): a document without a readable entry counts as not compressed, and is sent",
                    catalog.unreadable(), catalog.records(), catalogTopic));
        }
        String noRefusal = "no refusal is known, so a document one model refused and another compressed is not sent again";
        if (!deadLetters.found()) {
            lines.add("ingest: note: the dead-letter topic " + deadLetterTopic + " does not exist: " + noRefusal
                    + " (name the one in use with --dead-letter-topic)");
        } else if (deadLetters.noneReadable()) {
            lines.add(String.format(Locale.ROOT, "ingest: warning: none of the %,d records of the dead-letter topic %s is"
                    + " a dead letter (each has a %s header): %s (is it the dead-letter topic? name the one in use with"
                    + " --dead-letter-topic)", deadLetters.records(), deadLetterTopic, DeadLetterHeaders.ERROR_REASON,
                    noRefusal));
        } else if (deadLetters.unreadable() > 0) {
            lines.add(String.format(Locale.ROOT, "ingest: warning: %,d of the %,d records of the dead-letter topic %s are"
                    + " not dead letters (no %s header): does another producer write there?", deadLetters.unreadable(),
                    deadLetters.records(), deadLetterTopic, DeadLetterHeaders.ERROR_REASON));
        }
        return lines;
    }

    /** Each skipped input with where and why (a repeated MRQA context is not news), up to {@link #SKIPPED_LISTED}. */
    static void listSkipped(List<Skipped> skipped, PrintWriter err) {
        List<Skipped> worth = skipped.stream().filter(s -> s.reason() != SkipReason.DUPLICATE_CONTEXT).toList();
        worth.stream().limit(SKIPPED_LISTED).forEach(s -> err.println("ingest: skipped " + s));
        if (worth.size() > SKIPPED_LISTED) {
            err.printf(Locale.ROOT, "ingest: ... and %d more skipped%n", worth.size() - SKIPPED_LISTED);
        }
        err.flush();
    }

    /** The failures and the summary line. */
    int report(IngestSummary summary, boolean questionsWritten) {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        summary.failures().forEach(f -> err.println("ingest: failed: " + f));
        err.flush();
        out.println(summary.line());
        out.flush();
        return summary.hasFailures() || !questionsWritten ? 1 : 0;
    }

    /** Writes the questions; a file that cannot be written is reported, not thrown: the documents are still published. */
    boolean writeQuestions(QuestionSet questions, PrintWriter err) {
        Path file;
        try {
            file = questionsOut != null ? questionsOut : QuestionSet.besideInput(paths.get(0));
        } catch (IllegalArgumentException e) {
            err.printf(Locale.ROOT, "ingest: %d questions not written: %s; name a file with --questions-out%n",
                    questions.size(), e.getMessage());
            return false;
        }
        try {
            AtomicFiles.write(file, questions::writeJsonl);   // never a truncated file
        } catch (IOException e) {
            err.printf(Locale.ROOT, "ingest: %d questions not written to %s: %s%n", questions.size(), file,
                    Sac.describe(e));
            return false;
        }
        err.printf(Locale.ROOT, "ingest: %d questions written to %s%n", questions.size(), file);
        return true;
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

    private DocumentPublisher.Options publishingOptions() {
        Durations.requireTimeout(spec, timeout);
        Durations.requireAtMost(spec, "--timeout", timeout, Duration.ofHours(24));
        try {
            return DocumentPublisher.Options.defaults().withTopic(target.topic)
                    .withFormat(json ? DocumentPublisher.Format.JSON : DocumentPublisher.Format.AVRO)
                    .withDeliveryTimeout(timeout)
                    .withLimits(documentLimits.limits());
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
        }
    }
}
