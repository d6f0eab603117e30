package dev.sacrag.cli;

import dev.sacrag.cli.warming.BlobRebuild;
import dev.sacrag.cli.warming.Brokers;
import dev.sacrag.cli.warming.ControlTopic;
import dev.sacrag.cli.warming.ModelIdentity;
import dev.sacrag.cli.warming.ModelRollout;
import dev.sacrag.compressor.CompressorConfig;
import dev.sacrag.ingest.ProgressLine;
import dev.sacrag.kvstore.AnchorKvStore;
import dev.sacrag.kvstore.KvStoreConfig;
import dev.sacrag.query.activation.ModelActivation;
import dev.sacrag.query.v1.QueryServiceGrpc;
import dev.sacrag.query.v1.WarmMiss;
import dev.sacrag.query.v1.WarmRequest;
import dev.sacrag.query.v1.WarmResponse;
import io.grpc.ManagedChannel;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * {@code sac warm}: cache warming on demand, one way per run: the query service's local cache
 * ({@code --docs}, {@code --query}, through the Warm RPC); blobs Redis lost ({@code --rebuild},
 * see {@link BlobRebuild}); or every document for a new model before it is activated
 * ({@code --model NEW_ADAPTER}, see {@link ModelRollout}).
 */
@Command(name = "warm", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Warm caches: the query service's, the blobs Redis lost, or a new model's. One way per run.",
                "  --docs ID... | --query Q    load anchor KV into the query service's local cache (Warm RPC), naming"
                        + " each miss with why (UNKNOWN_DOCUMENT, NOT_COMPRESSED yet, BLOB_MISSING or BLOB_UNUSABLE:"
                        + " recompression requested, NO_ROOM or LARGER_THAN_CACHE in the service's cache, CHANGED while"
                        + " it ran) and the misses a compressor refused with the reason and the remedy (a replica"
                        + " started with --warm-cache-bytes 0 has no cache: FAILED_PRECONDITION);",
                "  --rebuild                   re-compress every live document whose blob Redis lost, for the active"
                        + " model (or --model-id, or --model/--adapter), and wait until the catalog has them again;",
                "  --model NEW_ADAPTER_DIR     compress every live document for a new adapter's model id while the old"
                        + " model keeps serving; then 'sac model activate ID'.",
                "The compressor settings below (--blob-dtype, --blob-ttl, --max-doc-*, --commit-interval, --max-poll-records,"
                        + " --max-compress-time, --redis-retry-budget, --session-timeout, --max-record-failures; the same"
                        + " SAC_* variables as 'sac compressor') are"
                        + " used by --model; the document limits and --redis also by --rebuild.",
                "Exit status 1 when something asked for is not warm at the end (a miss, a blob not restored, a"
                        + " document not compressed in time)."})
final class WarmCommand implements Callable<Integer> {

    /** At most one of these; none = --model NEW_ADAPTER_DIR. */
    static final class Mode {
        @Option(names = "--docs", arity = "1..*", paramLabel = "ID", required = true,
                description = "Load these documents into the query service's cache (ids as 'sac docs list' prints them,"
                        + " separated by spaces: an id may hold a comma).")
        List<String> docs;

        @Option(names = "--query", paramLabel = "QUERY", required = true,
                description = "Load the documents BM25 retrieves for this query (--top-k of them).")
        String query;

        @Option(names = "--rebuild", required = true,
                description = "Re-compress every live document whose blob is missing in Redis (from the documents topic).")
        boolean rebuild;
    }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    Mode mode;

    @Option(names = "--model", paramLabel = "DIR",
            description = "Alone: the NEW adapter folder (sac.json) to compress every document for. With --rebuild: the"
                    + " model package or Hugging Face folder whose model id to rebuild (with --adapter).")
    Path model;

    @Option(names = "--adapter", paramLabel = "DIR", description = "With --rebuild --model: the adapter folder (default: the package's adapters/sac).")
    Path adapter;

    @Option(names = "--model-id", paramLabel = "ID", description = "With --rebuild: the model id to rebuild (default: the active one"
            + " per the control topic, else the default model's).")
    String modelId;

    @Option(names = "--model-package", paramLabel = "DIR", defaultValue = "${env:SAC_MODEL:-" + RepoPaths.DEMO_MODEL + "}",
            description = "With --model: the package (or Hugging Face folder) whose base model the new adapter belongs to"
                    + " [env SAC_MODEL, default ${DEFAULT-VALUE}].")
    Path modelPackage;

    @Option(names = "--ratio", paramLabel = "R", description = "Compression ratio of the model (default: the adapter's smallest).")
    Integer ratio;

    @Option(names = "--force", description = "With --model: roll out even when the catalog already holds the model,"
            + " compressed under another application id (its replay of the documents topic would write older versions"
            + " over their catalog records; 'warm --rebuild' restores missing blobs instead). With --rebuild: request"
            + " every live document for a --model-id the catalog holds nothing of while it holds other models (refused"
            + " otherwise: a mistyped id).")
    boolean force;

    @Option(names = "--no-wait", description = "With --rebuild: publish the recompress requests and return.")
    boolean noWait;

    @Option(names = "--application-id", paramLabel = "ID",
            description = "With --rebuild: the application id of the compressors running the model [env SAC_COMPRESSOR_APP_ID;"
                    + " default: sac-compressor-MODEL_ID when that group exists (how 'sac warm --model' and a switched"
                    + " deployment name a model's compressors), else sac-compressor]: once their committed offsets pass"
                    + " every request, a document still not restored was refused, and the wait ends instead of running"
                    + " to --timeout.")
    String compressorAppId;

    @Option(names = "--verify", description = "With --rebuild: also rebuild blobs that are there but unusable (bytes that"
            + " fail the catalog's checksum, a header of another format or model, e.g. after an upgrade): one GET per"
            + " document instead of an EXISTS.")
    boolean verify;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "30m", converter = Durations.class,
            description = "With --rebuild or --model: give up waiting after this long (default ${DEFAULT-VALUE}); reading"
                    + " each topic to its end may also take this long (at least 2 minutes); a broker that does not answer"
                    + " is waited for this long, at most 30s.")
    Duration timeout;

    @Mixin
    RedisOption redis;   // with --rebuild or --model

    @Option(names = "--state-dir", paramLabel = "DIR", defaultValue = "${env:SAC_COMPRESSOR_STATE_DIR:-" + RepoPaths.STATE_DIR + "}",
            description = "With --model: Kafka Streams state of the compressor run here [env SAC_COMPRESSOR_STATE_DIR, default ${DEFAULT-VALUE}].")
    Path stateDir;

    @Option(names = "--tenant", paramLabel = "TENANT", defaultValue = "", description = "With --docs/--query: tenant (default: the server's default tenant).")
    String tenant;

    @Option(names = "--top-k", paramLabel = "N", defaultValue = "0",
            description = "With --query: documents to load (default 0: the server's).")
    int topK;

    @Mixin
    TopicOptions.Waiting topics;

    @Mixin
    CompressionOptions compression;

    @Mixin
    RpcOptions.WithDocsOrQuery rpc;

    @Override
    public Integer call() throws Exception {
        // a broker's first answer is waited for --timeout too: under a second, one that runs reads as absent
        Durations.requireTimeout(spec, timeout);
        if (verify && (mode == null || !mode.rebuild)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--verify goes with --rebuild");
        }
        if (mode != null && mode.rebuild) {
            if (modelId != null && model != null) {
                throw new CommandLine.ParameterException(spec.commandLine(), "give --model-id or --model, not both");
            }
            return rebuild();
        }
        if (mode != null) {
            if (model != null || modelId != null || adapter != null) {
                throw new CommandLine.ParameterException(spec.commandLine(),
                        "--docs and --query warm the query service's cache for its active model: no --model/--model-id/--adapter");
            }
            return warmQueryServiceCache();
        }
        if (modelId != null || adapter != null) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--model-id and --adapter go with --rebuild; to compress for a new adapter give --model NEW_ADAPTER_DIR");
        }
        if (model == null) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "give one of --docs, --query, --rebuild or --model NEW_ADAPTER_DIR");
        }
        return rollout();
    }

    private int rebuild() throws Exception {
        String id = rebuildModelId();
        PrintWriter out = spec.commandLine().getOut();
        String compressorAppId = rebuildApplicationId(id);
        try (AnchorKvStore store = AnchorKvStore.connect(KvStoreConfig.of(redis.target()))) {
            // the start line once the model id is not refused as mistyped: a refused run says nothing else
            BlobRebuild.Summary s = BlobRebuild.run(new BlobRebuild.Settings(topics.bootstrapServers(), topics.compressorTopics(),
                    compression.documentLimits.limits(), id, !noWait, timeout, verify, compressorAppId,
                    force || modelId == null), store,   // only a typed --model-id can be mistyped
                    ProgressLine.on(spec.commandLine().getErr(), "restored"), () -> {
                        out.println("warm --rebuild: model " + id + ", compressors of application id " + compressorAppId);
                        out.flush();
                    });
            out.println(s.line());
            // whose state the group holds, only where the answer changes the advice
            java.util.Set<String> groupModels = s.left().wentPast() && !s.left().notRestored().isEmpty()
                    ? dev.sacrag.compressor.CompressorState.modelsOf(topics.bootstrapServers(), compressorAppId)
                    : java.util.Set.of();
            List<String> problems = rebuildProblems(s, timeout, compressorAppId, groupModels);
            problems.forEach(out::println);
            return problems.isEmpty() ? 0 : 1;
        }
    }

    /**
     * What a rebuild left undone, a line per kind; none when every missing blob is back.
     *
     * @param groupModels the models the state of {@code compressorAppId}'s compressors is of (empty when
     *                    unknown): compressors of another model skip the requests, which reads as refused
     */
    static List<String> rebuildProblems(BlobRebuild.Summary s, java.time.Duration timeout, String compressorAppId,
                                        java.util.Set<String> groupModels) {
        List<String> lines = new ArrayList<>();
        BlobRebuild.Left left = s.left();
        BlobRebuild.RedisRoom room = s.room();
        // evicted_keys counts the whole server (other data, normal traffic under allkeys-lru): a problem
        // of this run only where blobs it rebuilt went again
        if (room.evicted() > 0 && !left.lostAgain().isEmpty()) {
            lines.add(String.format(Locale.ROOT, "warm --rebuild: Redis evicted %,d keys while this ran to make room: the"
                    + " blobs do not all fit (the catalog's need %,d bytes%s); raise its maxmemory, as running this again"
                    + " would evict others for the ones it rebuilds", room.evicted(), room.catalogBytes(),
                    room.maxMemory() > 0 ? String.format(Locale.ROOT, ", maxmemory is %,d", room.maxMemory()) : ""));
        }
        if (!left.lostAgain().isEmpty()) {
            lines.add("warm --rebuild: rebuilt, but missing from Redis again by the end ("
                    + (room.evicted() > 0 ? "evicted" : "evicted, or Redis lost its data while this ran; run warm --rebuild again")
                    + "): " + shortList(left.lostAgain()));
        }
        if (!left.notRestored().isEmpty() && left.wentPast() && !groupModels.isEmpty() && !groupModels.contains(s.modelId())) {
            lines.add("warm --rebuild: the compressors of application id " + compressorAppId + " run model "
                    + String.join(", ", groupModels) + ", not " + s.modelId() + ": they skipped these requests (their"
                    + " sac_compressor_recompress_requests_total{outcome=\"other-model\"}); start compressors of model "
                    + s.modelId() + " (its --adapter and --ratio) and give their --application-id: " + shortList(left.notRestored()));
        } else if (!left.notRestored().isEmpty() && left.wentPast()) {
            List<String> dead = left.notRestored().stream().filter(id -> !left.unexplained().contains(id)).toList();
            if (!dead.isEmpty()) {
                lines.add("warm --rebuild: refused by the compressor (a dead letter names them, e.g. over"
                        + " --max-doc-tokens: 'sac docs refused' says why): " + shortList(dead));
            }
            if (!left.unexplained().isEmpty()) {
                lines.add("warm --rebuild: the compressor processed their requests without rebuilding them, and no dead"
                        + " letter names them (expired under the dead-letter topic's retention, or see the compressor's"
                        + " log): " + shortList(left.unexplained()));
            }
        } else if (!left.notRestored().isEmpty()) {
            lines.add("warm --rebuild: not restored within " + Durations.shown(timeout) + ": " + shortList(left.notRestored())
                    + " (is a compressor running model " + s.modelId() + " under --application-id " + compressorAppId + "?)");
        }
        return lines;
    }

    /**
     * --application-id, else SAC_COMPRESSOR_APP_ID, else the model's own group ({@link ModelRollout#applicationId})
     * when it has committed offsets, else the first deployment's {@code sac-compressor}. The first model's group
     * may still run after a switch (until the model is retired): it skips another model's requests and
     * commits past them, which read as "refused" when the new model's compressors had not got to them yet.
     */
    private String rebuildApplicationId(String modelId) throws Exception {
        if (compressorAppId != null) {
            return compressorAppId;
        }
        String env = System.getenv("SAC_COMPRESSOR_APP_ID");
        if (env != null && !env.isBlank()) {
            return env;
        }
        String own = ModelRollout.applicationId(modelId);
        return BlobRebuild.hasCommitted(brokers(), own) ? own : CompressorConfig.DEFAULT_APPLICATION_ID;
    }

    /** --model-id, else --model/--adapter, else the control topic's active model, else the default package's. */
    private String rebuildModelId() throws Exception {
        if (modelId != null) {
            return modelId;
        }
        if (model != null) {
            ModelPaths paths = ModelPaths.resolve(model, adapter);
            return ModelIdentity.of(paths.base(), paths.requireAdapter(), optionalRatio()).modelId();
        }
        Optional<ModelActivation> active = ControlTopic.active(brokers(), topics.control);
        if (active.isPresent()) {
            return active.get().modelId();
        }
        return compressorsModelId(modelPackage, ratio, System.getenv());
    }

    /**
     * The model id that {@code sac compressor} run with these settings compresses for: the package,
     * its SAC_ADAPTER (default adapters/sac) and --ratio, else SAC_RATIO, else the adapter's smallest.
     * Without an activation, that is the model a rebuild is for; guessed from the package alone, a
     * deployment of another adapter or ratio got requests for a model nobody runs, every one refused.
     */
    static String compressorsModelId(Path modelPackage, Integer ratio, java.util.Map<String, String> env) throws IOException {
        String adapterDir = env.get("SAC_ADAPTER");
        ModelPaths paths = ModelPaths.resolve(modelPackage, adapterDir == null || adapterDir.isBlank() ? null : Path.of(adapterDir));
        String envRatio = env.get("SAC_RATIO");
        OptionalInt r;
        try {
            r = ratio != null ? OptionalInt.of(ratio)
                    : envRatio == null || envRatio.isBlank() ? OptionalInt.empty() : OptionalInt.of(Integer.parseInt(envRatio.trim()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("SAC_RATIO '" + envRatio + "' is not a whole number", e);
        }
        return ModelIdentity.of(paths.base(), paths.requireAdapter(), r).modelId();
    }

    private int rollout() throws Exception {
        if (!Files.isRegularFile(model.resolve("sac.json"))) {
            // a path copied from an example, or mistyped, is most often one of its neighbours meant
            List<Path> beside = ModelPaths.adaptersIn(model.getParent() != null ? model.getParent() : Path.of(""));
            throw new CommandLine.ParameterException(spec.commandLine(), "--model " + model + " has no sac.json: alone,"
                    + " --model names the new adapter folder (the base model comes from --model-package)"
                    + (beside.isEmpty() ? "" : "; the adapter folders beside it: "
                            + beside.stream().map(Path::toString).collect(java.util.stream.Collectors.joining(", "))));
        }
        ModelPaths paths = ModelPaths.resolve(modelPackage, model);
        ModelIdentity identity = ModelIdentity.of(paths.base(), model, optionalRatio());
        // the running compressors' settings (same flags and environment variables), so the new model's
        // blobs expire like the others and the same documents are accepted
        CompressorConfig config;
        try {
            config = compression.applyTo(CompressorConfig.builder()
                    .bootstrapServers(topics.bootstrapServers())
                    .redis(redis.target())
                    .applicationId(ModelRollout.applicationId(identity.modelId()))
                    .model(paths.base(), model)
                    .ratio(OptionalInt.of(identity.ratio()))
                    .topics(topics.compressorTopics())
                    .stateDir(stateDir))
                    .build();
        } catch (IllegalArgumentException e) {   // a setting out of range: a usage error, as in 'sac compressor'
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
        }
        PrintWriter out = spec.commandLine().getOut();
        ModelRollout.Summary s;
        try (AnchorKvStore blobs = AnchorKvStore.connect(KvStoreConfig.of(redis.target()))) {
            PrintWriter err = spec.commandLine().getErr();
            // said once the rollout is not refused (a model already compressed elsewhere): a refused run did not start
            s = ModelRollout.run(config, identity.modelId(), timeout, blobs, ProgressLine.on(err, "compressed"), force,
                    new ModelRollout.Announcements() {
                        @Override
                        public void started() {
                            out.printf(Locale.ROOT, "warm --model: compressing every live document for model %s (adapter"
                                    + " %s, ratio %d) as %s%n", identity.modelId(), model, identity.ratio(),
                                    config.applicationId());
                            out.flush();
                        }

                        @Override
                        public void stopped(String line) {
                            err.println(line);
                            err.flush();
                        }
                    });
        }
        out.println(s.line());
        if (!s.notCompressed().isEmpty()) {
            out.println("warm --model: not compressed: " + shortList(s.notCompressed()));
        }
        if (nothingCompressed(s)) {
            spec.commandLine().getErr().println(nothingCompressedLine(s));
            return 1;
        }
        if (s.complete()) {
            // the ratio always: the model id is the adapter's at that ratio, and a compressor started
            // without it takes the adapter's smallest, another model
            out.printf(Locale.ROOT, "next: sac model activate %s   (then run compressors with --adapter %s --ratio %d"
                    + " --application-id %s)%n", s.modelId(), model, identity.ratio(), s.applicationId());
        }
        return s.complete() ? 0 : 1;
    }

    /**
     * A rollout that went past every live document and compressed none of those not deleted since: the
     * model is broken. So is one run again after that, which finds every document refused before it
     * (none live, so none to go past).
     */
    static boolean nothingCompressed(ModelRollout.Summary s) {
        return s.complete() && s.counts().ready() == 0 && notDeleted(s) > 0;
    }

    /** The documents not deleted: those live at the start less those deleted since, and those refused before the run. */
    private static int notDeleted(ModelRollout.Summary s) {
        return s.counts().live() - s.counts().deleted() + s.left().refusedBefore().size();
    }

    /**
     * Every document refused: not a document's fault but the model's (an adapter of NaNs, a base it
     * was not trained on that loads all the same). Those deleted while it ran are not counted among
     * the refused: the summary line above counts them apart. Those an earlier run had refused are.
     */
    static String nothingCompressedLine(ModelRollout.Summary s) {
        return String.format(Locale.ROOT, "warm --model: no live document could be compressed for model %s: all %d went"
                + " to the dead-letter topic ('sac docs refused --model %s' says why: a broken adapter, or documents all"
                + " over its token limit); activating it would answer nothing", s.modelId(), notDeleted(s),
                s.modelId());
    }

    private int warmQueryServiceCache() throws InterruptedException {
        // as sac ask's: what the service would refuse in its own words, said here naming the flag
        AskCommand.requireTenant(spec, tenant);
        UsageChecks.requireAtLeast(spec, "--top-k", topK, 0);   // 0: the server's default, as the request has it
        if (mode.docs != null && mode.docs.stream().anyMatch(String::isBlank)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--docs must name documents, got an empty or"
                    + " blank id");
        }
        if (mode.query != null && mode.query.isBlank()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--query must not be empty or blank");
        }
        WarmRequest.Builder request = WarmRequest.newBuilder().setTenant(tenant).setTopK(topK);
        if (mode.docs != null) {
            request.addAllDocIds(mode.docs);
        } else {
            request.setQuery(mode.query);
        }
        ManagedChannel channel = rpc.open();
        try {
            WarmResponse r = QueryServiceGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(rpc.deadlineMillis(), TimeUnit.MILLISECONDS).warm(request.build());
            printWarmed(r, spec.commandLine().getOut());
            return r.getMissesCount() == 0 ? 0 : 1;   // a script asking for documents learns that some are not warm
        } catch (io.grpc.StatusRuntimeException e) {
            throw rpc.explained(e, channel);
        } finally {
            RpcOptions.close(channel);
        }
    }

    /**
     * The warm's counts; then each miss a line with why (a service older than miss_reasons names
     * them in the first line only); then the misses a compressor refused, one a line with the
     * remedy, as sac ask prints them (and not twice: their reason line is that one).
     */
    static void printWarmed(WarmResponse r, PrintWriter out) {
        out.printf(Locale.ROOT, "warm: loaded %d document(s), %,d bytes; %d already warm; %d miss(es)%s%n",
                r.getLoaded(), r.getBytes(), r.getAlreadyWarm(), r.getMissesCount(),
                r.getMissesCount() == 0 ? "" : ": " + String.join(", ", r.getMissesList()));
        for (WarmMiss m : r.getMissReasonsList()) {
            if (m.getReason() == WarmMiss.Reason.REFUSED) {
                continue;
            }
            boolean known = m.getReason() != WarmMiss.Reason.UNRECOGNIZED && m.getReason() != WarmMiss.Reason.REASON_UNSPECIFIED;
            out.printf(Locale.ROOT, "  %s  %s%s%n", m.getDocId(), known ? m.getReason().name() + ": " : "", m.getDetail());
        }
        if (r.getRefusedCount() == 0) {
            out.flush();
            return;
        }
        out.printf(Locale.ROOT, "[%d of the misses refused by a compressor: not compressed until published again]%n",
                r.getRefusedCount());
        for (dev.sacrag.query.v1.RefusedDocument d : r.getRefusedList()) {
            out.print(AskCommand.refusedLines(d.getDocId(), Long.toString(d.getVersion()), d.getRefusedByModel(),
                    d.getReason(), d.getMessage(), d.getRemedy()));
        }
        out.flush();
    }

    /** A broker's answer is waited for --timeout, or 30 s when that is longer (it bounds the whole run). */
    private Brokers brokers() {
        return Brokers.within(topics.bootstrapServers(), timeout);
    }

    private OptionalInt optionalRatio() {
        return ratio == null ? OptionalInt.empty() : OptionalInt.of(ratio);
    }

    private static String shortList(List<String> ids) {
        return ids.size() <= 10 ? String.join(", ", ids) : String.join(", ", ids.subList(0, 10)) + " and " + (ids.size() - 10) + " more";
    }
}
