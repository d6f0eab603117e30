package dev.sacrag.cli;

import dev.sacrag.cli.warming.Brokers;
import dev.sacrag.cli.warming.ControlTopic;
import dev.sacrag.cli.warming.Counted;
import dev.sacrag.cli.warming.ModelRetirement;
import dev.sacrag.cli.warming.Readiness;
import dev.sacrag.core.gguf.GgufExporter;
import dev.sacrag.core.gguf.GgufType;
import dev.sacrag.core.model.ModelConfig;
import dev.sacrag.core.model.Safetensors;
import dev.sacrag.core.random.ModelShape;
import dev.sacrag.core.random.RandomModelWriter;
import dev.sacrag.core.sac.Fingerprints;
import dev.sacrag.core.sac.SacAdapter;
import dev.sacrag.core.sac.SacSpec;
import dev.sacrag.query.activation.ModelActivation;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

@Command(name = "model", mixinStandardHelpOptions = true,
        description = "Write random models of real shapes, export models to GGUF, switch the query services' model, retire"
                + " an old one.",
        subcommands = {ModelCommand.Random.class, ModelCommand.ExportGguf.class, ModelCommand.Activate.class,
                ModelCommand.Retire.class})
final class ModelCommand implements Runnable {
    @picocli.CommandLine.Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** The constant of {@code type} named {@code value} in any case; else a usage error listing the choices. */
    static <E extends Enum<E>> E choice(CommandSpec spec, String option, String value, Class<E> type) {
        for (E constant : type.getEnumConstants()) {
            if (constant.name().equalsIgnoreCase(value.trim())) {
                return constant;
            }
        }
        String choices = Arrays.stream(type.getEnumConstants())
                .map(c -> c.name().toLowerCase(Locale.ROOT)).collect(Collectors.joining(", "));
        throw new ParameterException(spec.commandLine(), option + " '" + value + "' is not one of " + choices);
    }

    @Command(name = "random", mixinStandardHelpOptions = true,
            description = {"Write a model package with seeded random weights: OUT/base (Hugging Face folder with a "
                    + "byte-level tokenizer.json) and OUT/adapters/sac (random SAC adapter for ratios 4, 8 and 16).",
                    "Speed does not depend on weight values: use it to measure real model shapes."})
    static final class Random implements Callable<Integer> {
        @Option(names = "--shape", paramLabel = "SHAPE", required = true,
                description = "One of: tiny, smollm2-135m, qwen2.5-0.5b, llama-3.2-1b.")
        String shape;

        @Option(names = "--out", paramLabel = "DIR", required = true, description = "Output folder (created).")
        Path out;

        @Option(names = "--seed", paramLabel = "SEED", defaultValue = "42",
                description = "Random seed (default ${DEFAULT-VALUE}).")
        long seed;

        @Option(names = "--dtype", paramLabel = "f32|f16|bf16", defaultValue = "f32",
                description = "Stored dtype: f32, f16 or bf16 (default ${DEFAULT-VALUE}).")
        String dtype;

        @Option(names = "--shards", paramLabel = "N", defaultValue = "1",
                description = "Split the weights into N safetensors shards (default ${DEFAULT-VALUE}).")
        int shards;

        @Option(names = "--std", paramLabel = "STD", defaultValue = "0.02",
                description = "Std of the linear weights (default ${DEFAULT-VALUE}).")
        float std;

        @Option(names = "--lora-rank", paramLabel = "N",
                description = "LoRA rank of the random adapter (default: 8 for tiny, else 128 as the paper).")
        Integer loraRank;

        @Option(names = "--force", description = "Overwrite the model package already in --out (its base weights and its sac adapter).")
        boolean force;

        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            ModelShape s = UsageChecks.shape(spec, shape);
            Safetensors.DType dt = choice(spec, "--dtype", dtype, Safetensors.DType.class);
            if (shards < 1) {
                throw new ParameterException(spec.commandLine(), "--shards must be 1 or more, got " + shards);
            }
            // before gigabytes of weights are written: a bad value failed after the base, leaving it without an adapter
            UsageChecks.requirePositive(spec, "--std", std);
            if (loraRank != null && loraRank < 1) {
                throw new ParameterException(spec.commandLine(), "--lora-rank must be 1 or more, got " + loraRank);
            }
            Path base = out.resolve("base");
            Path adapter = out.resolve("adapters").resolve(ModelPaths.DEFAULT_ADAPTER);
            // a trained package (models/sac-demo, say) given as --out by mistake would lose its weights
            for (Path held : List.of(base.resolve("config.json"), adapter.resolve("sac.json"))) {
                if (Files.exists(held) && !force) {
                    throw new ParameterException(spec.commandLine(), "--out " + out + " already holds a model (" + held
                            + "): random weights would replace it; choose another folder, or add --force");
                }
            }
            long t0 = System.nanoTime();
            System.out.printf(Locale.ROOT, "writing %s (%s, seed %d) to %s ...%n", s.id, dt, seed, base);
            RandomModelWriter.write(s.config, base, new RandomModelWriter.Options(seed, std, dt, shards));
            int rank = loraRank != null ? loraRank : s == ModelShape.TINY ? 8 : 128;
            SacSpec spec = SacSpec.paperDefaults("sac", List.of(4, 8, 16), rank, Fingerprints.baseModel(base));
            SacAdapter.writeRandom(adapter, spec, s.config, seed + 1);
            ModelConfig c = s.config;
            System.out.printf(Locale.ROOT, "done in %.1f s: %d layers, hidden %d, %d/%d heads, vocab %d; adapter %s (ratios 4, 8, 16, rank %d)%n",
                    (System.nanoTime() - t0) / 1e9, c.layers(), c.hiddenSize(), c.heads(), c.kvHeads(), c.vocabSize(),
                    adapter, rank);
            return 0;
        }
    }

    @Command(name = "export-gguf", mixinStandardHelpOptions = true,
            description = "Export a model's base weights and tokenizer to a GGUF file (for llama.cpp).")
    static final class ExportGguf implements Callable<Integer> {
        @Option(names = "--model", paramLabel = "DIR", required = true, description = "Model folder or model package.")
        Path model;

        @Option(names = "--out", paramLabel = "FILE", required = true, description = "GGUF file to write.")
        Path out;

        @Option(names = "--type", paramLabel = "f32|f16", defaultValue = "f16",
                description = "Matrix type: f32 or f16 (default ${DEFAULT-VALUE}).")
        String type;

        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            GgufType t = choice(spec, "--type", type, GgufType.class);
            ModelPaths paths = ModelPaths.resolve(model, null);
            GgufExporter.export(paths.base(), out, t);
            System.out.println("wrote " + out + " (" + Files.size(out) + " bytes, " + t + ")");
            return 0;
        }
    }

    @Command(name = "activate", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Switch every query service to model id ID: publishes it to the control topic, which the"
                    + " query services follow; each loads the adapter (from its model package's adapters/) whose model id"
                    + " matches and swaps it in between requests.",
                    "Refused while a live document is not compressed for ID, which means its catalog entry and its"
                            + " blob in Redis (run 'sac warm --model ADAPTER' first: it also restores blobs Redis lost"
                            + " since): questions about it would get NOT_FOUND, or wait for a recompression; --force"
                            + " activates anyway."})
    static final class Activate implements Callable<Integer> {
        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @picocli.CommandLine.Parameters(paramLabel = "ID", description = "The model id (as 'sac warm --model' printed it).")
        String modelId;

        @Option(names = "--adapter", paramLabel = "NAME|DIR",
                description = "Hint for the query services: the adapter folder's name under adapters/, or its path.")
        String adapter;

        @Option(names = "--force", description = "Activate even when live documents are not compressed for ID yet.")
        boolean force;

        @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "30s", converter = Durations.class,
                description = "Give up waiting for the broker after this long (default ${DEFAULT-VALUE}); reading each"
                        + " topic to its end may also take this long (at least 2 minutes).")
        java.time.Duration timeout;

        @picocli.CommandLine.Mixin
        TopicOptions.Waiting topics;

        @picocli.CommandLine.Mixin
        DocumentLimitOptions documentLimits;

        @picocli.CommandLine.Mixin
        RedisOption redis;

        @Override
        public Integer call() throws Exception {
            java.io.PrintWriter out = spec.commandLine().getOut();
            requireModelId(spec, modelId);
            Durations.requireTimeout(spec, timeout);
            dev.sacrag.kvstore.RedisTarget target = redis.target();
            // the broker before Redis, about the topic an activation writes: with neither there, it is the
            // broker that must be named (Redis only counts the blobs of the readiness, which --force skips)
            ControlTopic.requireBroker(brokers(), topics.control);
            ModelActivation activation = new ModelActivation(modelId, java.util.Optional.ofNullable(adapter));
            Readiness r;
            try (dev.sacrag.kvstore.AnchorKvStore blobs = dev.sacrag.kvstore.AnchorKvStore.connect(
                    dev.sacrag.kvstore.KvStoreConfig.of(target))) {
                r = Readiness.of(brokers(), new Readiness.TopicNames(topics.documents, topics.catalog,
                        topics.deadLetter), documentLimits.limits(), modelId, blobs);
            } catch (dev.sacrag.kvstore.KvStoreUnavailableException e) {
                if (!force) {
                    throw e;
                }
                out.println("model activate: warning (--force): readiness not checked, Redis is unavailable: " + e.getMessage());
                return publish(out, activation);
            }
            out.println("model activate: " + r.line());
            if (r.catalogEntries() == 0 && r.tombstones() > 0 && !force) {
                // retire keeps its rollout's offsets, so a rollout run again has every document recompressed;
                // the id is its adapter's and ratio's, so another ratio would roll out another model. A retire
                // and the deletes of every document of the model leave the same tombstones, and compaction
                // may have dropped some: neither what happened nor how many entries it had is known
                spec.commandLine().getErr().println("model activate: refused: the catalog holds nothing of model " + modelId
                        + " but " + Counted.of(r.tombstones(), "tombstone", "tombstones") + " ('sac model retire' removed it, or every document"
                        + " compressed for it was deleted since);"
                        + " run 'sac warm --model ADAPTER_DIR' again, with the --ratio it was rolled out with (the two"
                        + " make its id), to compress every live document for it before activating it; --force"
                        + " activates it anyway (questions about every document would get NOT_FOUND)");
                return 1;
            }
            if (r.catalogEntries() == 0 && !force) {
                spec.commandLine().getErr().println("model activate: refused: no catalog entry names model " + modelId
                        + " (a mistyped id, or no 'sac warm --model ADAPTER_DIR' for it yet; 'sac docs list' shows the"
                        + " model ids compressed); --force activates it anyway");
                return 1;
            }
            if (r.ready() < r.live() && !force) {
                spec.commandLine().getErr().println("model activate: refused: " + (r.live() - r.ready()) + " of " + r.live()
                        + " live documents are not compressed for model " + modelId
                        + (r.blobsMissing() == 0 ? "" : " (" + r.blobsMissing() + " of them in the catalog, their blob"
                                + " gone from Redis)")
                        + " (questions about them would get NOT_FOUND or wait for a recompression); run "
                        + (r.blobsMissing() == r.live() - r.ready()
                                // all in the catalog: their blobs are what is missing, and a rollout of a model
                                // compressed before is refused; a rebuild makes them again
                                ? "'sac warm --rebuild --model-id " + modelId + "'"
                                : "'sac warm --model ADAPTER_DIR' until it completes"
                                        + (r.blobsMissing() == 0 ? "" : " ('sac warm --rebuild --model-id " + modelId
                                        + "' for the blobs gone, if the model was compressed before)"))
                        + ", or pass --force"
                        + (r.blobsMissing() == 0 ? "" : " (with --blob-ttl, or a Redis that evicts, some blobs are always"
                                + " gone: each is made again when a question needs it, so --force is the way there)"));
                return 1;
            }
            if (r.ready() < r.live()) {
                out.println("model activate: warning (--force): " + (r.live() - r.ready()) + " live document(s) are not"
                        + " compressed for " + modelId + " yet; questions about them get NOT_FOUND until they are");
            }
            return publish(out, activation);
        }

        private int publish(java.io.PrintWriter out, ModelActivation activation) throws Exception {
            ControlTopic.publish(brokers(), topics.control, activation);
            out.println("model activate: published " + modelId + " to " + topics.control
                    + "; query services switch as they read it (metric sac_query_model_active{model_id=\"" + modelId + "\"})");
            return 0;
        }

        private Brokers brokers() {
            return new Brokers(topics.bootstrapServers(), timeout);
        }
    }

    @Command(name = "retire", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Remove a model that traffic has left: a tombstone on the catalog topic for each of its entries,"
                    + " then every blob of it in Redis (found by SCAN, so also blobs no entry names any more).",
                    "Why: a delete reaches only the running compressors, each of which removes its own model's entry and"
                            + " blob; a model whose compressors are stopped keeps both for documents deleted since, and"
                            + " its blobs take Redis memory no query service reads.",
                    "Run it once every query service reports the new model (metric sac_query_model_active, and"
                            + " sac_query_model_mismatch 0: a replica without the new adapter stays on the old one) and"
                            + " the old model's compressors are stopped. Refused for the active model (the control"
                            + " topic's); refused while the control topic names none (each query service then serves its"
                            + " own --adapter's model), or one the catalog holds nothing of (the replicas refused it and"
                            + " stay on theirs), or while a compressor group of the model has members (sac-compressor-ID,"
                            + " --application-id, and sac-compressor when its state is of this model), unless"
                            + " --force. An id the catalog holds nothing of, while the control topic names no model, is"
                            + " refused as such (a mistyped id?), listing the catalog's models. Run it again to finish an"
                            + " interrupted run; after one that finished, it says the model was retired already (while the"
                            + " catalog topic keeps its tombstones, a day or more).",
                    "It reads the catalog and control topics: --documents-topic, --recompress-topic and"
                            + " --dead-letter-topic are taken, as by every command that takes the topic flags, and not read."})
    static final class Retire implements Callable<Integer> {
        @picocli.CommandLine.Spec
        CommandSpec spec;

        @picocli.CommandLine.Parameters(paramLabel = "ID", description = "The model id to retire (as 'sac docs list' shows).")
        String modelId;

        @Option(names = "--application-id", paramLabel = "ID", split = ",",
                description = "Application ids of the model's compressors, checked to have stopped (besides"
                        + " sac-compressor-ID, as 'sac warm --model' names them), e.g. sac-compressor for the first model.")
        List<String> applicationIds = new java.util.ArrayList<>();

        @Option(names = "--dry-run", description = "Say what the catalog holds for ID, change nothing; notes on stderr say"
                + " why a real run would be refused (exit 0 all the same; 1 for an id the catalog holds nothing of, not"
                + " even tombstones: a mistyped id).")
        boolean dryRun;

        @Option(names = "--force", description = "Retire even though the control topic names no active model, or one"
                + " the catalog holds nothing of, or a compressor group of the model still has members: a warning on"
                + " stderr says each refusal it went over, and what that may cost.")
        boolean force;

        @Option(names = "--all-tenants", description = "Delete the model's blobs in every tenant of the Redis, not only"
                + " in the tenants this deployment's catalog names (another deployment sharing the Redis keeps its own"
                + " blobs of the same model otherwise; a catalog lost with its topic names none).")
        boolean allTenants;

        @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "30s", converter = Durations.class,
                description = "Give up waiting for the broker after this long (default ${DEFAULT-VALUE}); reading each"
                        + " topic to its end may also take this long (at least 2 minutes).")
        java.time.Duration timeout;

        @picocli.CommandLine.Mixin
        RedisOption redis;

        @picocli.CommandLine.Mixin
        TopicOptions.NotWaiting topics;

        @Override
        public Integer call() throws Exception {
            java.io.PrintWriter out = spec.commandLine().getOut();
            java.io.PrintWriter err = spec.commandLine().getErr();
            requireModelId(spec, modelId);
            Durations.requireTimeout(spec, timeout);
            dev.sacrag.kvstore.RedisTarget target = redis.target();
            Brokers brokers = new Brokers(topics.bootstrapServers(), timeout);
            java.util.Optional<ModelActivation> active = ControlTopic.active(brokers, topics.control);
            if (active.isPresent() && active.get().modelId().equals(modelId)) {
                err.println("model retire: refused: " + modelId + " is the active model (" + topics.control + "); activate"
                        + " another first ('sac model activate ID')");
                return 1;
            }
            ModelRetirement.Found found = ModelRetirement.find(brokers, topics.catalog, modelId);
            out.printf(Locale.ROOT, "model retire: the catalog holds %s of model %s (%,d bytes of blobs)%n",
                    Counted.of(found.recordKeys().size(), "entry", "entries"), modelId, found.catalogBytes());
            if (active.isEmpty() && !force && found.recordKeys().isEmpty() && !found.retiredAlready()) {
                // most likely a mistyped id: that is what to say, where the refusal below sent it to --force
                return dryRun ? nothingNames(err, found, true) : unknownToTheCatalog(err, found);
            }
            // nothing of it but tombstones: no query service is served by it, and a run again only deletes
            // blobs of it left in Redis (a retire interrupted before its blobs went), which no entry names
            boolean noActive = active.isEmpty() && !found.retiredAlready();
            if (noActive && force && found.recordKeys().isEmpty()) {
                overridden(err, "the catalog names no entry of model " + modelId + " (a mistyped id, or a retire"
                        + " interrupted before its blobs went)", "any blobs of it left in Redis (in the catalog's"
                        + " tenants) are deleted: no catalog entry names them, so no query service reads them");
            } else if (noActive && force) {
                overridden(err, topics.control + " names no active model, so each query service serves the model of its"
                        + " own --adapter", "one whose adapter is of model " + modelId + " answers NOT_FOUND for every"
                        + " document once the tombstones reach it");
            } else if (noActive) {
                err.println("model retire: " + (dryRun ? "note: a real run is refused: " : "refused: ") + topics.control
                        + " names no active model, so each query service serves the model of its own --adapter, which may be "
                        + modelId + "; pass --force if none does");
                if (!dryRun) {
                    return 1;
                }
            }
            List<String> groups = new java.util.ArrayList<>(applicationIds);
            groups.add("sac-compressor-" + modelId);
            // the first deployment's compressors (application id sac-compressor) run whatever model they
            // were started with: they count when named, or when their state's last entries are of this model
            String first = dev.sacrag.compressor.CompressorConfig.DEFAULT_APPLICATION_ID;
            boolean firstNamed = groups.contains(first);
            groups.add(first);
            java.util.Map<String, Integer> running = new java.util.TreeMap<>(ModelRetirement.runningGroups(
                    brokers, groups.stream().distinct().toList()));
            if (!firstNamed && running.containsKey(first)
                    && !dev.sacrag.compressor.CompressorState.modelsOf(topics.bootstrapServers(), first).contains(modelId)) {
                running.remove(first);
            }
            String members = running.entrySet().stream()
                    .map(g -> g.getKey() + ": " + Counted.of(g.getValue(), "member", "members"))
                    .collect(Collectors.joining(", "));
            if (!running.isEmpty() && force) {
                overridden(err, "compressors still run (" + members + ")", "one of model " + modelId + " that still runs"
                        + " writes the catalog entries and blobs of the documents it compresses next again, which stay"
                        + " until a retire run once it has stopped (a compressor stopped within its session timeout,"
                        + " about 10 s, still shows as a member)");
            } else if (!running.isEmpty() && dryRun) {   // it changes nothing: say what a real run would meet
                err.println("model retire: note: compressors still run (" + members + "); a real run is refused until they"
                        + " stop (or with --force)");
            } else if (!running.isEmpty()) {
                err.println("model retire: refused: compressors still run (" + members
                        + "); one of model " + modelId + " would write its documents again: stop them, or pass --force");
                return 1;
            }
            // a mistyped or never-rolled-out id activated with --force: the replicas may still serve this one
            boolean activeUnheld = active.isPresent() && !found.otherModels().contains(active.get().modelId())
                    && !found.recordKeys().isEmpty();
            if (activeUnheld && force) {
                overridden(err, "the active model " + active.get().modelId() + " (" + topics.control + ") has no entry in"
                        + " the catalog, so query services may not be serving it", "a replica without its adapter stays on"
                        + " the model it served before, and if that is " + modelId + " it answers NOT_FOUND for every"
                        + " document once the tombstones reach it");
            } else if (activeUnheld && dryRun) {
                err.println("model retire: note: a real run is refused: the active model " + active.get().modelId()
                        + " has no entry in the catalog, so query services may not be serving it (pass --force once every"
                        + " replica reports it)");
            } else if (activeUnheld) {
                err.println("model retire: refused: the active model " + active.get().modelId() + " (" + topics.control
                        + ") has no entry in the catalog, so query services may not be serving it: one without its"
                        + " adapter stays on the model it served before, which may be " + modelId + " (see"
                        + " sac_query_model_active and sac_query_model_mismatch), and one that switched answers nothing;"
                        + " activate a model the catalog holds, or pass --force once every replica reports the active model");
                return 1;
            }
            if (dryRun) {
                return found.retiredAlready() ? retiredAlready(out, found)
                        : found.recordKeys().isEmpty() ? nothingNames(err, found, true) : 0;
            }
            ModelRetirement.Summary s;
            try (dev.sacrag.kvstore.AnchorKvStore blobs = dev.sacrag.kvstore.AnchorKvStore.connect(
                    dev.sacrag.kvstore.KvStoreConfig.of(target))) {
                s = ModelRetirement.retire(brokers, topics.catalog, blobs, found, allTenants);
            }
            out.println("model retire: " + s.line());
            if (s.tombstones() == 0 && s.blobsDeleted() == 0) {
                return found.retiredAlready() ? retiredAlready(out, found) : nothingNames(err, found, false);
            }
            return 0;
        }

        /**
         * A run again of a retire that finished: what the catalog holds of the model is its
         * tombstones, for delete.retention.ms after compaction reaches them, and that is no mistake.
         * The deletes of every document the model held leave the same, and compaction may have
         * dropped some of them, so the words name both and count tombstones, not entries.
         */
        private int retiredAlready(java.io.PrintWriter out, ModelRetirement.Found found) {
            out.println("model retire: model " + found.modelId() + " was retired already (or every document of it"
                    + " deleted): the catalog holds nothing of it but " + Counted.of(found.tombstones(), "tombstone", "tombstones") + (dryRun
                    ? " (--dry-run looks at the catalog only: a real run also deletes any blobs of it left in Redis)"
                    : allTenants ? ", and Redis no blob of it in any tenant"
                    : ", and Redis no blob of it in the catalog's tenants (blobs of it in other tenants stay:"
                            + " --all-tenants deletes them everywhere)"));
            return 0;
        }

        /**
         * Says a refusal that --force went over, and what going on may cost, as activate's --force
         * warns of the documents not compressed: a forced retire cannot be undone but by a rollout
         * again, so the one who forced it reads what it risked before the query services show it.
         */
        private void overridden(java.io.PrintWriter err, String refusal, String cost) {
            err.println("model retire: warning (--force): " + refusal + "; " + (dryRun ? "a real run retires it" : "retiring it")
                    + " all the same: " + cost);
        }

        /**
         * The refusal of an id the catalog names nothing of while the control topic names no active
         * model: a real run would delete only blobs left in Redis, which a retire interrupted after
         * its tombstones leaves; that one ran with --force (no active model), and runs again so.
         */
        private static int unknownToTheCatalog(java.io.PrintWriter err, ModelRetirement.Found found) {
            err.println("model retire: refused: the catalog names no entry of model " + found.modelId() + " (a mistyped"
                    + " id, or a model retired so long ago that compaction dropped its tombstones: a retire interrupted before its blobs went finishes when run"
                    + " again with --force, as it was run); the catalog's models: " + DocsCommand.named(found.otherModels()));
            return 1;
        }

        private static int nothingNames(java.io.PrintWriter err, ModelRetirement.Found found, boolean dryRun) {
            err.println("model retire: " + (dryRun
                    ? "the catalog names no entry of model " + found.modelId() + " (a mistyped id, or a retire already"
                            + " run; --dry-run looks at the catalog only: a real run also deletes any blobs of it left in Redis)"
                    : "nothing names model " + found.modelId() + ", in the catalog or in Redis in the catalog's tenants"
                            + " (a mistyped id? blobs of it in tenants the catalog no longer names stay: --all-tenants"
                            + " deletes them everywhere)")
                    + "; the catalog's models: " + (found.otherModels().isEmpty() ? "none" : String.join(", ", found.otherModels())));
            return 1;
        }
    }

    /** A usage error (exit 2) naming what a model id is, when {@code modelId} is not one. */
    static void requireModelId(CommandSpec spec, String modelId) {
        try {
            ModelActivation.requireModelId(modelId);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage(), e);
        }
    }
}
