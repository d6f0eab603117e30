package dev.sacrag.cli.warming;

import dev.sacrag.compressor.CompressorApp;
import dev.sacrag.compressor.CompressorConfig;
import dev.sacrag.ingest.ProgressLine;
import dev.sacrag.kvstore.AnchorKvStore;
import dev.sacrag.query.catalog.CatalogChange;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.KafkaStreams;

import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeoutException;

/**
 * {@code sac warm --model NEW_ADAPTER}: compresses every live document for a new model id while
 * the old model keeps serving. It runs a compressor in this process under its own application id
 * ({@code sac-compressor-<modelId>}, so it reads the documents topic from the beginning and keeps
 * its own stores), writing blobs and catalog records keyed by the new model id beside the old
 * ones, until the catalog has every document that was live at the start, then stops it cleanly.
 *
 * <p>Documents that can never be compressed (dead-lettered) would keep it waiting; so it also
 * stops once the compressor has committed past every document record present at the start, and
 * reports what is still missing.
 *
 * <p>"Compressed" means a catalog record and its blob in Redis: a document the catalog has for
 * the model whose blob is gone (Redis lost or evicted it since an earlier run) gets a recompress
 * request, and the run waits for its record again (the early stop above waits for the
 * compressor to be past those requests too: one it processed without a record was refused).
 *
 * <p>A document the application id read in an earlier run (its committed offset is past the
 * document's record) is not read again by this run's compressor: after {@code sac model retire},
 * which removes a model's catalog entries and blobs but not its compressors' offsets, a rollout
 * of the same model again would otherwise find nothing to do and call every document "not
 * compressible". Such documents get recompress requests too.
 */
public final class ModelRollout {

    /**
     * How many documents the run found and compressed.
     *
     * @param live documents live at the start (in the tenant, not refused before the run)
     * @param alreadyReady of those, how many had the model's catalog entry and blob before the run
     * @param ready of those, how many have them at the end
     * @param deleted documents live at the start that the documents topic deleted while the run waited
     */
    public record Counts(int live, int alreadyReady, int ready, int deleted) {
    }

    /**
     * The documents not compressed, by why: what the command lists.
     *
     * @param notReady live documents without a catalog entry for the model at the end, sorted (where
     *                 {@code wentPast}, those deleted while the run waited are not among them; after a
     *                 timeout they are, as the documents topic is not read again)
     * @param wentPast the compressor went past every document (and request) the run waited for: what
     *                 is not ready will not come; false when the timeout ended the wait
     * @param unexplained those of {@code notReady} the compressor went past without a catalog record
     *                    or a dead letter for the model (its log says why); empty unless {@code wentPast}
     * @param refusedBefore documents a compressor had refused for the model or for all before the run, every
     *                      version ({@link LiveDocuments#refused}), sorted: not in {@code live} and not waited
     *                      for; a run again after one that dead-lettered documents finds them so
     */
    public record Left(List<String> notReady, boolean wentPast, List<String> unexplained, List<String> refusedBefore) {
    }

    public record Summary(String modelId, String applicationId, Counts counts, Left left, Duration elapsed) {

        /** Every document was compressed, or the compressor went past it and a dead letter says why (or it was deleted). */
        public boolean complete() {
            return left.notReady().isEmpty() || left.wentPast() && left.unexplained().isEmpty();
        }

        public String line() {
            int refused = left.notReady().size() - left.unexplained().size();
            return String.format(Locale.ROOT, "warm --model: model %s: %d/%d live documents compressed (%d already were)"
                    + "%s%s%s in %.1f s", modelId, counts.ready(), counts.live(), counts.alreadyReady(),
                    refused == 0 ? "" : ", " + refused + (left.wentPast() ? " not compressible (see the dead-letter topic)"
                            : " not compressed yet"),
                    left.unexplained().isEmpty() ? "" : ", " + left.unexplained().size() + " neither compressed nor"
                            + " dead-lettered (see the compressor's log)",
                    counts.deleted() == 0 ? "" : ", " + counts.deleted() + " deleted while this ran",
                    elapsed.toMillis() / 1000.0) + LiveDocuments.refusedNote(left.refusedBefore().size(), modelId);
        }

        /**
         * {@code notReady} and {@code refusedBefore}, sorted: what 'not compressed:' names, where a run again
         * after one that dead-lettered documents would otherwise name none of them.
         */
        public List<String> notCompressed() {
            return java.util.stream.Stream.concat(left.notReady().stream(), left.refusedBefore().stream()).sorted().toList();
        }
    }

    public static String applicationId(String modelId) {
        return CompressorConfig.modelApplicationId(modelId);
    }

    private static final Duration OFFSET_CHECK = Duration.ofSeconds(2);

    private final CompressorConfig config;
    private final String modelId;
    private final LiveDocuments live;
    private final CatalogWatch catalog;
    private final Map<String, LiveDocuments.Doc> waiting = new HashMap<>();
    private final Map<String, LiveDocuments.Doc> restoring = new HashMap<>();
    private final AnchorKvStore blobs;
    private boolean caughtUp;
    /** End offsets of the recompress topic after the requests for {@link #restoring} were sent. */
    private Map<TopicPartition, Long> requestEnds = Map.of();

    private ModelRollout(CompressorConfig config, String modelId, LiveDocuments live, CatalogWatch catalog,
                         AnchorKvStore blobs) {
        this.config = config;
        this.modelId = modelId;
        this.live = live;
        this.catalog = catalog;
        this.blobs = blobs;
        Set<String> withBlob = catalog.withBlob(live.byId().values(), modelId, blobs);
        for (LiveDocuments.Doc d : live.byId().values()) {
            if (!catalog.isCompressed(d, modelId)) {
                waiting.put(d.docId(), d);
            } else if (!withBlob.contains(d.docId())) {
                waiting.put(d.docId(), d);
                restoring.put(d.docId(), d);
            }
        }
    }

    /** Waiting documents whose record the application id committed past in an earlier run: recompress requests. */
    private void restoreReadBefore(Map<TopicPartition, OffsetAndMetadata> committed) {
        for (LiveDocuments.Doc d : waiting.values()) {
            OffsetAndMetadata at = committed.get(new TopicPartition(config.topics().documents(), d.position().partition()));
            if (at != null && d.position().offset() < at.offset()) {
                restoring.put(d.docId(), d);
            }
        }
    }

    /**
     * A rollout starts compressors of its own application id with empty state, reading the documents
     * topic from its beginning, and writes the catalog keys and Redis keys of the model's running
     * compressors. Where another application id already compresses the model (the first deployment
     * under {@code sac-compressor}, say), that replay writes catalog records of older versions over
     * the current ones and stops when nothing waits, mid-replay: questions would be answered from old
     * text. So a model the catalog already holds, whose rollout group has never committed (this is
     * not a rollout run again), is refused: {@code warm --rebuild} restores what it lacks through
     * the compressors that own it.
     */
    static void requireNotCompressedElsewhere(String modelId, String applicationId, int compressed,
                                              Map<TopicPartition, OffsetAndMetadata> committed) {
        if (compressed > 0 && committed.isEmpty()) {
            throw new IllegalStateException("model " + modelId + " already has " + compressed + " live document(s) in the"
                    + " catalog, compressed under another application id than " + applicationId + " (no offsets committed"
                    + " under it): a rollout would replay the documents topic over their catalog records. To restore"
                    + " missing blobs run 'sac warm --rebuild --model-id " + modelId + "'; where an earlier rollout of this"
                    + " adapter made them and its group's offsets have expired since (Kafka keeps an idle group's 7 days),"
                    + " or to roll out anyway, --force");
        }
    }

    private boolean blobThere(LiveDocuments.Doc d) {
        return catalog.catalog().find(d.tenant(), d.docId(), modelId).map(e -> blobs.exists(e.redisKey())).orElse(false);
    }

    /**
     * What the command says of a run while it goes, besides its progress: the summary comes after.
     */
    public interface Announcements {
        /**
         * The rollout is not refused and its compressor is about to start: what the caller says then is
         * never followed by a refusal.
         */
        void started();

        /**
         * The JVM is exiting (Ctrl-C, SIGTERM) while the compressor runs: {@code line} says that it stops,
         * then what is kept and what to do. Called from the shutdown hook: print it at once.
         */
        void stopped(String line);
    }

    /**
     * @param config the compressor to run: the new adapter, application id {@link #applicationId}
     * @param force roll out even when the model is already compressed under another application id
     *              (see {@link #requireNotCompressedElsewhere})
     */
    public static Summary run(CompressorConfig config, String modelId, Duration timeout, AnchorKvStore blobs,
                              ProgressLine progress, boolean force, Announcements say)
            throws IOException, TimeoutException, InterruptedException {
        long start = System.nanoTime();
        String kafka = config.bootstrapServers();
        Duration read = TopicScan.readTimeout(timeout);
        Brokers brokers = Brokers.within(kafka, timeout);
        LiveDocuments live = LiveDocuments.readCompressible(brokers, config.topics().documents(), config.topics().deadLetter(),
                config.limits(), modelId, read);
        try (CatalogWatch catalog = CatalogWatch.open(brokers, config.topics().catalog(), read)) {
            ModelRollout rollout = new ModelRollout(config, modelId, live, catalog, blobs);
            Map<TopicPartition, OffsetAndMetadata> committed = BlobRebuild.committedOffsets(brokers, config.applicationId());
            int already = live.size() - rollout.waiting.size();
            if (!force) {
                // entries, not ready documents: after Redis lost the blobs the entries are still there, and
                // a replay would still write older versions over them
                int inCatalog = (int) live.byId().values().stream().filter(d -> catalog.isCompressed(d, modelId)).count();
                requireNotCompressedElsewhere(modelId, config.applicationId(), inCatalog, committed);
            }
            say.started();
            rollout.restoreReadBefore(committed);
            if (!rollout.waiting.isEmpty()) {
                // the app's close is idempotent: onExit closes it first, the hook kept until that close ended
                try (CompressorApp app = CompressorApp.start(config);
                     StopOnExit onExit = StopOnExit.register(app, modelId, progress, say)) {
                    if (!app.modelId().equals(modelId)) {
                        throw new IllegalStateException("the compressor runs model " + app.modelId() + ", expected " + modelId);
                    }
                    if (!rollout.restoring.isEmpty()) {
                        rollout.requestEnds = BlobRebuild.requestRecompression(kafka, config.topics().recompress(),
                                rollout.restoring.values(), modelId, "warm-model-blob-missing", read).ends();
                    }
                    rollout.await(app, timeout, progress, onExit);
                }
            }
            int ready = live.size() - rollout.waiting.size();
            if (!rollout.caughtUp) {   // nothing waits, or the timeout ended the wait: what waits may still come
                return new Summary(modelId, config.applicationId(), new Counts(live.size(), already, ready, 0),
                        new Left(rollout.waiting.keySet().stream().sorted().toList(), false, List.of(), live.refused()),
                        Duration.ofNanos(System.nanoTime() - start));
            }
            // the compressor went past every document: "not compressible" only where a dead letter says so
            Unfinished unfinished = Unfinished.explain(brokers, config.topics(), config.limits(), modelId,
                    rollout.waiting.values(), read);
            return new Summary(modelId, config.applicationId(),
                    new Counts(live.size(), already, ready, unfinished.deleted().size()),
                    new Left(unfinished.live(), true, unfinished.unexplained(), live.refused()),
                    Duration.ofNanos(System.nanoTime() - start));
        }
    }

    private void await(CompressorApp app, Duration timeout, ProgressLine progress, StopOnExit onExit)
            throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        long nextOffsetCheck = System.nanoTime() + OFFSET_CHECK.toNanos();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers()))) {
            while (!waiting.isEmpty() && System.nanoTime() < deadline) {
                onExit.holdIfStopping();
                if (app.state() == KafkaStreams.State.ERROR || app.state() == KafkaStreams.State.NOT_RUNNING) {
                    throw new IllegalStateException("the compressor of model " + modelId + " stopped: " + app.state());
                }
                catalog.poll(this::applied);
                progress.update(live.size() - waiting.size(), live.size());
                if (System.nanoTime() > nextOffsetCheck) {
                    // past every document record, and past every recompress request sent: what still waits
                    // then was refused (a request the compressor processed without a catalog record)
                    if ((restoring.isEmpty() || BlobRebuild.committedPast(admin, config.applicationId(), requestEnds))
                            && BlobRebuild.committedPast(admin, config.applicationId(), live.ends())) {
                        catalog.catchUp(this::applied, TopicScan.READ_TIMEOUT); // the catalog records of that last commit
                        BlobRebuild.settle(catalog, this::applied, waiting);
                        caughtUp = true;
                        break;
                    }
                    nextOffsetCheck = System.nanoTime() + OFFSET_CHECK.toNanos();
                }
            }
            progress.update(live.size() - waiting.size(), live.size());
        } finally {
            progress.finish();
        }
    }

    private void applied(CatalogChange change) {
        change.current().ifPresent(e -> {
            LiveDocuments.Doc doc = waiting.get(e.docId());
            if (doc != null && catalog.isCompressed(doc, modelId) && (!restoring.containsKey(doc.docId()) || blobThere(doc))) {
                waiting.remove(e.docId());
                restoring.remove(e.docId());
            }
        });
    }

}
