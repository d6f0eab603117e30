package dev.sacrag.ingest;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;

/**
 * One {@code sac ingest} run: read the inputs, publish every document, report progress on a
 * console stream and return a summary. A document the broker rejects, or one naming a version the
 * topic's readers would ignore, is counted as failed with its reason and the run goes on; after a
 * timeout (broker unreachable) the remaining documents are not sent. The caller decides the exit
 * status from the summary.
 */
public final class IngestRunner {

    private final DocumentSources sources;
    private final DocumentPublisher publisher;
    private final PrintStream progressOut;
    private final boolean redraw;
    /** Documents of the run in progress acknowledged, failed, and in all: read by an interrupted run's report. */
    private final AtomicInteger acknowledged = new AtomicInteger();
    private final AtomicInteger failed = new AtomicInteger();
    /** Documents of the run in progress not sent: the topic holds them as they are. */
    private final AtomicInteger unchanged = new AtomicInteger();
    private volatile int total;

    /**
     * @param redraw true for a terminal (one redrawn bar), false for logs (a line per tenth)
     */
    public IngestRunner(DocumentSources sources, DocumentPublisher publisher, PrintStream progressOut, boolean redraw) {
        this.sources = Objects.requireNonNull(sources, "sources");
        this.publisher = Objects.requireNonNull(publisher, "publisher");
        this.progressOut = Objects.requireNonNull(progressOut, "progressOut");
        this.redraw = redraw;
    }

    /** Progress on stderr, redrawn when the JVM has a console. */
    public static IngestRunner onConsole(DocumentSources sources, DocumentPublisher publisher) {
        return new IngestRunner(sources, publisher, System.err, System.console() != null);
    }

    /**
     * @throws java.nio.file.NoSuchFileException when a path does not exist
     * @throws BadSourceException for bad input under {@link DocumentSources.OnBadInput#FAIL};
     *     nothing has been published then
     */
    public IngestSummary run(List<Path> paths, DocumentSources.Options options) throws IOException {
        long start = System.nanoTime();
        return publish(sources.scan(paths, options), start);
    }

    /** Ends the reading once a send timed out: every further send would wait as long for the same broker. */
    private static final class StopReading extends RuntimeException {
        StopReading() {
            super(null, null, false, false);
        }
    }

    /**
     * Publishes what {@link DocumentSources#scan} found, reading the inputs a second time as it
     * sends: the corpus is never in memory at once (the producer's buffer bounds what is in flight).
     */
    public IngestSummary publish(DocumentSources.Scan scan, long start) {
        return publish(scan, start, PublishedDocuments.none());
    }

    /**
     * As {@link #publish(DocumentSources.Scan, long)}, leaving out the documents {@code published}
     * holds as they are ({@link PublishedDocuments#unchanged}): counted, not sent. A draft naming a
     * version the topic's readers would ignore ({@link PublishedDocuments#ignored}) is not sent either,
     * and fails the run.
     */
    public IngestSummary publish(DocumentSources.Scan scan, long start, PublishedDocuments published) {
        Objects.requireNonNull(published, "published");
        long bytesBefore = publisher.acknowledgedBytes();
        int total = scan.count();
        // Documents are counted on the producer's I/O thread and drawn from a thread of their own:
        // a stderr that blocks (a paused terminal) must not stall the sends. Done: sends completed, and
        // those left unsent; the unchanged are counted apart, out of the bar's rate.
        AtomicInteger done = new AtomicInteger();
        ProgressLine progress = new ProgressLine(new java.io.PrintWriter(progressOut, false,
                java.nio.charset.Charset.defaultCharset()), "", redraw);
        acknowledged.set(0);
        failed.set(0);
        unchanged.set(0);
        this.total = total;
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        AtomicBoolean timedOut = new AtomicBoolean();
        AtomicInteger handedOver = new AtomicInteger();   // drafts read the second time, unchanged ones included
        AtomicInteger unsent = new AtomicInteger();   // left unread after a timeout: counted, not named
        AtomicInteger inFlight = new AtomicInteger();   // sends whose callback has not run (no future kept per document)
        ScheduledExecutorService drawer = total == 0 ? null : Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sac-ingest-progress");
            t.setDaemon(true);
            return t;
        });
        try {
            if (drawer != null) {
                progress.update(0, total);   // drawn at once on a terminal, and the rate counts from here
                drawer.scheduleAtFixedRate(() -> draw(progress, done, total), 100, 100, TimeUnit.MILLISECONDS);
            }
            List<Skipped> changed = List.of();
            try {
                changed = total == 0 ? List.of() : scan.forEach(draft -> {
                    if (timedOut.get()) {
                        throw new StopReading();
                    }
                    handedOver.incrementAndGet();
                    if (published.unchanged(draft)) {
                        unchanged.incrementAndGet();
                        return;
                    }
                    Optional<String> ignored = published.ignored(draft);
                    if (ignored.isPresent()) {   // a failure of the run, as a send the broker refused
                        failures.add(draft.docId() + ": " + ignored.get());
                        failed.incrementAndGet();
                        done.incrementAndGet();
                        return;
                    }
                    String docId = draft.docId();   // the callback keeps the id, not the text
                    inFlight.incrementAndGet();
                    publisher.publish(draft, published.standingVersion(docId)).whenComplete((metadata, error) -> {
                        if (error == null) {
                            acknowledged.incrementAndGet();
                        } else {
                            failures.add(docId + ": " + rootMessage(error) + hint(error));
                            failed.incrementAndGet();
                            timedOut.compareAndSet(false, rootCause(error) instanceof TimeoutException);
                        }
                        done.incrementAndGet();
                        inFlight.decrementAndGet();
                    });
                });
            } catch (StopReading stopped) {
                int left = Math.max(0, total - handedOver.get());
                unsent.set(left);
                failures.add(left + " document(s) not sent: an earlier send timed out (is the broker reachable?)");
                done.addAndGet(left);
            } catch (IOException e) {   // the second read failed as a whole (a file it cannot read is passed over and returned)
                failures.add("reading the inputs again failed after " + handedOver.get() + " documents: "
                        + BatchCollector.whyUnreadable(e));
            }
            publisher.flush();
            // every send is complete after flush; wait (briefly) for callbacks still running on the producer's thread
            long callbacksDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (inFlight.get() > 0 && System.nanoTime() < callbacksDeadline) {
                Thread.sleep(1);
            }
            // files changed between the scan and the sending: what the first read found and the second did not
            for (Skipped s : changed) {
                failures.add(s.where() + ": changed while ingest ran, not sent: " + s.reason() + " (" + s.detail() + ")");
            }
            if (!timedOut.get() && handedOver.get() < total) {
                unsent.addAndGet(total - handedOver.get());   // found at first, not the second time
                if (changed.isEmpty()) {
                    failures.add("the inputs changed while ingest ran: " + total + " documents were found at first, "
                            + handedOver.get() + " the second time");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failures.add("interrupted while waiting for the broker's acknowledgements");
        } finally {
            if (drawer != null) {
                drawer.shutdownNow();
                try {
                    drawer.awaitTermination(1, TimeUnit.SECONDS);   // a draw in progress ends first
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                draw(progress, done, total);
            }
            progress.finish();
        }

        List<String> sortedFailures = new ArrayList<>(failures);
        Collections.sort(sortedFailures);
        int failedDocuments = Math.max(handedOver.get() - unchanged.get() - acknowledged.get(), failed.get()) + unsent.get();
        SourceBatch read = scan.batch();   // its skipped inputs and questions go into the summary
        return new IngestSummary(acknowledged.get(), read.skipped(), sortedFailures,
                publisher.acknowledgedBytes() - bytesBefore, Duration.ofNanos(System.nanoTime() - start), read.questions(),
                failedDocuments, unchanged.get());
    }

    /**
     * Draws the documents done, the unchanged among them named apart: they are not sent, and a rate
     * of them is none of publishing. Done is drawn as the sum of the two counts as read, so it is
     * never fewer than the unchanged.
     */
    private void draw(ProgressLine progress, AtomicInteger done, int total) {
        int notSent = unchanged.get();
        progress.update(notSent + done.get(), total, notSent);
    }

    /**
     * Where the run in progress stands, for a run stopped part way (Ctrl-C): e.g. "12 of 40
     * documents acknowledged, 20 unchanged, 1 failed".
     */
    public String standing() {
        return acknowledged.get() + " of " + total + " documents acknowledged" + (unchanged.get() == 0 ? ""
                : ", " + unchanged.get() + " unchanged") + (failed.get() == 0 ? "" : ", " + failed.get() + " failed");
    }

    /** What to do about a failure whose fix is not in Kafka's message. */
    private String hint(Throwable error) {
        Throwable cause = rootCause(error);
        String message = String.valueOf(cause.getMessage());
        // the producer's own limits (max.request.size, buffer.memory) follow --max-doc-bytes; only the
        // broker's refusal is the topic's
        if (cause instanceof RecordTooLargeException && !message.contains("max.request.size")
                && !message.contains("buffer.memory")) {
            return " (the topic " + publisher.options().topic() + " takes smaller records: raise its max.message.bytes,"
                    + " and the brokers' message.max.bytes, to at least --max-doc-bytes, or lower --max-doc-bytes)";
        }
        return "";
    }

    private static Throwable rootCause(Throwable error) {
        Throwable cause = error;
        while (cause.getCause() != null && cause.getCause() != cause) {
            cause = cause.getCause();
        }
        return cause;
    }

    private static String rootMessage(Throwable error) {
        Throwable cause = rootCause(error);
        String message = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
        return error == cause ? message : error.getMessage() + ": " + message;
    }
}
