package dev.sacrag.query;

/**
 * Every setting of the query service: its flag, environment variable, default and help text.
 * The {@code sac query-service} command builds its options from this list, and
 * {@link QueryServiceConfig#parse} reads them, so the two cannot drift apart.
 * A flag beats its environment variable, which beats the default.
 */
public enum QuerySetting {
    PORT("--port", "SAC_QUERY_PORT", "50051", "PORT", "gRPC port (0 = any free port)."),
    BIND("--bind", "SAC_QUERY_BIND", "0.0.0.0", "HOST", "Address the gRPC and metrics servers listen on."),
    METRICS_PORT("--metrics-port", "SAC_QUERY_METRICS_PORT", "9464", "PORT",
            "Port of GET /metrics (Prometheus) and GET /health, /health/live (0 = any free port, 'off' = none of them)."),
    BOOTSTRAP_SERVERS("--bootstrap-servers", "SAC_KAFKA_BOOTSTRAP", "localhost:9092", "HOST:PORT,...", "Kafka brokers."),
    DOCUMENTS_TOPIC("--documents-topic", "SAC_DOCUMENTS_TOPIC", "sac.documents", "TOPIC",
            "Documents topic (compacted): feeds the BM25 index."),
    CATALOG_TOPIC("--catalog-topic", "SAC_CATALOG_TOPIC", "sac.anchor-caches", "TOPIC",
            "Catalog topic (compacted): which documents are compressed, and where in Redis."),
    RECOMPRESS_TOPIC("--recompress-topic", "SAC_RECOMPRESS_TOPIC", "sac.recompress", "TOPIC",
            "Where requests to recompress a missing blob go."),
    CONTROL_TOPIC("--control-topic", "SAC_CONTROL_TOPIC", "sac.control", "TOPIC",
            "Control topic (compacted): the active model, set by 'sac model activate'; followed if it exists."),
    DEAD_LETTER_TOPIC("--dead-letter-topic", "SAC_DEAD_LETTER_TOPIC", "sac.documents.dlq", "TOPIC",
            "Dead-letter topic: why a compressor refused a document, told to questions about it; followed if it exists"
                    + " and may be read (a principal without Describe and Read on it is warned once, and it is tried"
                    + " again every 30s; 'off': not followed)."),
    RECOMPRESS_INTERVAL("--recompress-interval", "SAC_RECOMPRESS_INTERVAL", "30s", "DURATION",
            "At most one recompress request per document and model in this interval."),
    REDIS("--redis", "SAC_REDIS_URL", "redis://localhost:6379", "URL[,URL...]",
            "Redis holding the anchor-KV blobs: redis:// or rediss://; several URLs = Redis Cluster seeds (one URL of a cluster node works too)."),
    REDIS_TIMEOUT("--redis-timeout", "SAC_REDIS_TIMEOUT", "2s", "DURATION", "Timeout of one Redis command or pipeline."),
    MODEL("--model", "SAC_MODEL", Checkout.path("models/sac-demo"), "DIR",
            "Model package (base/ and adapters/sac/) or Hugging Face model folder."),
    ADAPTER("--adapter", "SAC_ADAPTER", "", "DIR", "SAC adapter folder (default: the package's adapters/sac)."),
    RATIO("--ratio", "SAC_RATIO", "", "R", "Compression ratio of the active model (default: the adapter's smallest)."),
    MODEL_ID("--model-id", "SAC_MODEL_ID", "", "ID",
            "Active model id instead of --ratio: must be one this base and adapter produce."),
    DEFAULT_TENANT("--default-tenant", "SAC_DEFAULT_TENANT", "default", "TENANT", "Tenant of requests that name none."),
    TOP_K("--top-k", "SAC_TOP_K", "3", "N", "Documents retrieved when a request says 0."),
    MAX_TOP_K("--max-top-k", "SAC_MAX_TOP_K", "16", "N", "Most documents one question may retrieve or name."),
    MAX_QUESTION_CHARS("--max-question-chars", "SAC_MAX_QUESTION_CHARS", "2000", "N", "Longest question accepted, in characters (Unicode code points)."),
    MAX_NEW_TOKENS("--max-new-tokens", "SAC_MAX_NEW_TOKENS", "64", "N", "Answer length when a request says 0."),
    MAX_NEW_TOKENS_CAP("--max-new-tokens-cap", "SAC_MAX_NEW_TOKENS_CAP", "256", "N",
            "Longer requested answers are cut to this."),
    DEFAULT_DEADLINE("--default-deadline", "SAC_DEFAULT_DEADLINE", "60s", "DURATION",
            "Deadline of calls that arrive without one."),
    SHUTDOWN_DRAIN("--shutdown-drain", "SAC_QUERY_SHUTDOWN_DRAIN", "0s", "DURATION",
            "On shutdown (SIGTERM): how long health reports NOT_SERVING while new calls are still accepted, so that"
                    + " load balancers and clients watching health move away before calls are refused (0 = refuse at once)."),
    SHUTDOWN_GRACE("--shutdown-grace", "SAC_QUERY_SHUTDOWN_GRACE", "10s", "DURATION",
            "On shutdown (SIGTERM): health NOT_SERVING, new calls refused, and this long for the calls already"
                    + " accepted to finish before they are cancelled (0 = at once; keep the orchestrator's grace period above it)."),
    EXIT_WHEN_BROKEN("--exit-when-broken", "SAC_QUERY_EXIT_WHEN_BROKEN", "false", "true|false",
            "When a topic this replica follows stops being applied (health NOT_SERVING for good), stop and exit with"
                    + " status 1, so that a supervisor that restarts exited processes but not unhealthy ones (docker"
                    + " compose's restart policy) starts a fresh replica."),
    WARM_CACHE_BYTES("--warm-cache-bytes", "SAC_WARM_CACHE_BYTES", "512m", "BYTES",
            "Byte budget of the local cache of decoded anchor KV (k/m/g suffixes; 0 = no cache: every question reads"
                    + " Redis, and Warm is refused with FAILED_PRECONDITION)."),
    PRELOAD("--preload", "SAC_PRELOAD", "true", "BOOL",
            "Load newly compressed documents into the cache while it has room."),
    INFERENCE_THREADS("--inference-threads", "SAC_INFERENCE_THREADS", "1", "N",
            "Threads decoding answers, each its own batch on the model's intra-op threads (SAC_THREADS). With a small "
                    + "model on few cores, 2 threads with SAC_THREADS=1 answer more questions per second at every load "
                    + "(README, Pipeline)."),
    MAX_BATCH("--max-batch", "SAC_MAX_BATCH", "16", "N",
            "Queued questions handed to the engine at once (effective when the engine decodes batches)."),
    BATCH_WAIT("--batch-wait", "SAC_BATCH_WAIT", "3ms", "DURATION",
            "Wait up to this long for a batch to fill: the questions queued while the last batch ran plus that "
                    + "batch's callers, who tend to ask again together (0 = never wait, at most 1s). A single caller "
                    + "never waits."),
    JOIN_WAIT("--join-wait", "SAC_JOIN_WAIT", "50ms", "DURATION",
            "Questions asked while a batch decodes join it (continuous batching) once as many wait as decode, or once "
                    + "the first of them has waited this long: a join is a prefill every running answer waits for, so "
                    + "questions join together (0 = join at every step, at most 1s)."),
    MAX_QUEUED("--max-queued", "SAC_MAX_QUEUED", "64", "N",
            "Questions that may wait for inference (counting those fetching their documents for it); more get RESOURCE_EXHAUSTED."),
    PROMPT_CACHE_BYTES("--prompt-cache-bytes", "SAC_PROMPT_CACHE_BYTES", "64m", "BYTES",
            "K/V of the decoder's prompt head ([LM] + question prompt) kept per set of documents, so later questions "
                    + "about them prefill only the question (k/m/g suffixes; 0 = off)."),
    MAX_DOC_BYTES("--max-doc-bytes", "SAC_MAX_DOC_BYTES", "8388608", "BYTES",
            "Largest document record the compressors accept (set it as theirs): larger ones are not indexed."),
    MAX_DOC_CHARS("--max-doc-chars", "SAC_MAX_DOC_CHARS", "4000000", "CHARS",
            "Longest document text the compressors accept (set it as theirs): longer ones are not indexed.");

    private final String flag;
    private final String env;
    private final String defaultValue;
    private final String label;
    private final String description;

    QuerySetting(String flag, String env, String defaultValue, String label, String description) {
        this.flag = flag;
        this.env = env;
        this.defaultValue = defaultValue;
        this.label = label;
        this.description = description;
    }

    public String flag() {
        return flag;
    }

    public String env() {
        return env;
    }

    /** Empty means "none": the setting is optional or derived from others. */
    public String defaultValue() {
        return defaultValue;
    }

    /**
     * Defaults naming files of the checkout resolve against it ({@code -Dsac.home}, set by the
     * launcher and the Docker image), not the working directory, where a path the user types is
     * read from; without it, relative to the working directory.
     */
    private static final class Checkout {
        static String path(String relative) {
            String home = System.getProperty("sac.home");
            return home == null ? relative : java.nio.file.Path.of(home).resolve(relative).toString();
        }
    }

    public String label() {
        return label;
    }

    public String description() {
        return description;
    }
}
