package dev.sacrag.query;

import dev.sacrag.kvstore.KvStoreConfig;
import dev.sacrag.kvstore.RedisTarget;
import dev.sacrag.query.ask.AskLimits;
import dev.sacrag.schemas.DocumentLimits;
import dev.sacrag.schemas.DocumentRules;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

import static dev.sacrag.query.QuerySetting.*;

/**
 * Everything the query service is configured with, validated once at start-up
 * ({@link #parse}); each invalid value fails naming its flag and environment variable.
 * See {@link QuerySetting} for every flag, variable and default.
 */
public record QueryServiceConfig(Listen listen, Topics topics, KvStoreConfig redis, Model model, AskLimits limits,
                                 Inference inference, WarmCacheSettings cache, DocumentLimits documentLimits) {

    /**
     * @param metricsPort empty = no metrics endpoint; 0 = any free port
     * @param shutdownDrain how long a shutdown keeps accepting calls after health went NOT_SERVING
     * @param shutdownGrace how long a shutdown then lets the calls already accepted finish
     * @param exitWhenBroken stop the replica when it is broken for good (see {@link QueryServiceApp#broken})
     */
    public record Listen(String host, int port, OptionalInt metricsPort, Duration shutdownDrain, Duration shutdownGrace,
                         boolean exitWhenBroken) {
    }

    /**
     * @param control compacted topic naming the active model ({@code sac model activate}); optional
     * @param recompressInterval at most one recompress request per document and model in this time
     * @param deadLetter the compressors' dead-letter topic, whose refusals questions are told; optional,
     *     {@link #OFF} for none
     */
    public record Topics(String bootstrapServers, String documents, String catalog, String control, String recompress,
                         Duration recompressInterval, String deadLetter) {
        /** The dead-letter topic's value that follows none. */
        public static final String OFF = "off";
    }

    /**
     * @param ratio the active compression ratio; empty = by {@code modelId}, else the adapter's smallest
     * @param modelId the active model id; checked against the loaded model at start-up
     */
    public record Model(Path baseDir, Path adapterDir, OptionalInt ratio, Optional<String> modelId) {
    }

    /**
     * @param joinWait longest a question waits to join a running batch with others (InferenceExecutor)
     * @param promptCacheBytes budget of the engine's prompt cache (SacEngine.enablePromptCache); 0 = off
     */
    public record Inference(int workers, int maxBatch, int maxQueued, Duration batchWait, Duration joinWait,
                            long promptCacheBytes) {
    }

    /** @param budgetBytes 0 = no local cache */
    public record WarmCacheSettings(long budgetBytes, boolean preload) {
    }

    public QueryServiceConfig {
        Objects.requireNonNull(listen, "listen");
        Objects.requireNonNull(topics, "topics");
        Objects.requireNonNull(redis, "redis");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(inference, "inference");
        Objects.requireNonNull(cache, "cache");
        Objects.requireNonNull(documentLimits, "documentLimits");
    }

    /**
     * @param flags flag name (e.g. "--port") to value, for the flags given on the command line
     * @param env the environment (System.getenv())
     * @throws ConfigException naming the first invalid setting
     */
    public static QueryServiceConfig parse(Map<String, String> flags, Map<String, String> env) {
        SettingValues v = new SettingValues(flags, env);
        OptionalInt metricsPort = v.text(METRICS_PORT).equalsIgnoreCase("off") ? OptionalInt.empty()
                : OptionalInt.of(v.integer(METRICS_PORT, 0, 65535));
        Listen listen = new Listen(v.text(BIND), v.integer(PORT, 0, 65535), metricsPort, v.durationOrZero(SHUTDOWN_DRAIN),
                v.durationOrZero(SHUTDOWN_GRACE), v.bool(EXIT_WHEN_BROKEN));
        Topics topics = new Topics(v.text(BOOTSTRAP_SERVERS), v.text(DOCUMENTS_TOPIC), v.text(CATALOG_TOPIC),
                v.text(CONTROL_TOPIC), v.text(RECOMPRESS_TOPIC), v.duration(RECOMPRESS_INTERVAL), v.text(DEAD_LETTER_TOPIC));
        return new QueryServiceConfig(listen, topics, redis(v), model(v), limits(v),
                new Inference(v.integer(INFERENCE_THREADS, 1, 64), v.integer(MAX_BATCH, 1, 256), v.integer(MAX_QUEUED, 1, 100_000),
                        atMostASecond(v, BATCH_WAIT), atMostASecond(v, JOIN_WAIT), v.bytes(PROMPT_CACHE_BYTES)),
                new WarmCacheSettings(v.bytes(WARM_CACHE_BYTES), v.bool(PRELOAD)),
                // the compressors' limits: a document they dead-letter must not be retrievable, one they compress must be
                new DocumentLimits(v.integer(MAX_DOC_BYTES, 1, Integer.MAX_VALUE), v.integer(MAX_DOC_CHARS, 1, Integer.MAX_VALUE)));
    }

    /** At most a second: the batch and join waits delay the questions that wait. */
    private static Duration atMostASecond(SettingValues v, QuerySetting wait) {
        Duration d = v.durationOrZero(wait);
        if (d.compareTo(Duration.ofSeconds(1)) > 0) {
            throw new ConfigException(wait, "must be at most 1s, got " + d.toMillis() + "ms");
        }
        return d;
    }

    private static KvStoreConfig redis(SettingValues v) {
        RedisTarget target;
        try {
            target = RedisTarget.parse(v.text(REDIS));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(REDIS, e.getMessage());
        }
        return KvStoreConfig.of(target).withCommandTimeout(v.duration(REDIS_TIMEOUT));
    }

    /** A package (base/ + adapters/sac/) or a Hugging Face folder with --adapter beside it. */
    private static Model model(SettingValues v) {
        Path dir = v.directory(MODEL, v.text(MODEL));
        Path base = Files.exists(dir.resolve("config.json")) ? dir : dir.resolve("base");
        if (!Files.exists(base.resolve("config.json"))) {
            throw new ConfigException(MODEL, dir + " is neither a Hugging Face model folder (config.json) nor a model "
                    + "package (base/config.json)");
        }
        Path adapter = v.raw(ADAPTER).map(a -> v.directory(ADAPTER, a)).orElse(dir.resolve("adapters").resolve("sac"));
        if (!Files.exists(adapter.resolve("sac.json"))) {
            throw new ConfigException(v.raw(ADAPTER).isPresent() ? ADAPTER : MODEL, "no SAC adapter (sac.json) in " + adapter);
        }
        OptionalInt ratio = v.raw(RATIO).isPresent() ? OptionalInt.of(v.integer(RATIO, 1, 1 << 16)) : OptionalInt.empty();
        Optional<String> modelId = v.raw(MODEL_ID);
        if (ratio.isPresent() && modelId.isPresent()) {
            throw new ConfigException(MODEL_ID, "give either --ratio or --model-id, not both");
        }
        return new Model(base, adapter, ratio, modelId);
    }

    private static AskLimits limits(SettingValues v) {
        String tenant = v.text(DEFAULT_TENANT);
        if (!DocumentRules.isValidTenant(tenant)) {
            throw new ConfigException(DEFAULT_TENANT, "'" + tenant + "' is not a tenant name ([A-Za-z0-9._-]{1,64})");
        }
        int maxTopK = v.integer(MAX_TOP_K, 1, 1024);
        int topK = v.integer(TOP_K, 1, maxTopK);
        int cap = v.integer(MAX_NEW_TOKENS_CAP, 1, 1 << 20);
        int maxNewTokens = v.integer(MAX_NEW_TOKENS, 1, cap);
        return new AskLimits(tenant, topK, maxTopK, v.integer(MAX_QUESTION_CHARS, 1, 1 << 20), maxNewTokens, cap,
                v.duration(DEFAULT_DEADLINE));
    }
}
