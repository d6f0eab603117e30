package dev.sacrag.compressor;

import dev.sacrag.core.kv.KvDtype;
import dev.sacrag.kvstore.RedisTarget;
import dev.sacrag.metrics.Durations;
import dev.sacrag.schemas.DocumentLimits;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.regex.Pattern;

/**
 * Everything the compressor deployable is configured with, parsed once at start (by
 * {@code sac compressor} from flags and environment variables) and validated here: an invalid
 * value fails at start with the flag that set it. The Kafka Streams properties derived from it
 * are in {@link CompressorStreamsConfig}; the slow-record timeouts in {@link SlowRecordTimeouts}.
 *
 * @param ratio             empty = the adapter's smallest ratio
 * @param maxDocumentTokens empty = the base model's maximum positions
 * @param maxRecordFailures failures in a row after which a record is set aside as {@value DeadLetters#PROCESSING_FAILED}
 * @param metricsPort       port of the scrape and health endpoint, 0 = any free port; empty = no endpoint
 * @param metricsBind       address the scrape endpoint listens on (0.0.0.0: every interface)
 */
public record CompressorConfig(
        String bootstrapServers,
        RedisTarget redis,
        String applicationId,
        Path modelDir,
        Path adapterDir,
        OptionalInt ratio,
        KvDtype blobDtype,
        Optional<Duration> blobTtl,
        CompressorTopics topics,
        DocumentLimits limits,
        OptionalInt maxDocumentTokens,
        Path stateDir,
        Duration commitInterval,
        int maxPollRecords,
        Duration maxCompressTime,
        Duration redisRetryBudget,
        Duration sessionTimeout,
        int maxRecordFailures,
        java.util.OptionalInt metricsPort,
        String metricsBind) {

    /**
     * The main consumer's group session: how long the partitions of an instance that stopped
     * without leaving the group (a replaced stream thread, a kill, Kafka Streams' close) wait
     * before another takes them. Kafka's default is 45 s (KIP-735 raised it from 10 s to ride out
     * network blips without a rebalance); here nothing is compressed meanwhile, and a rebalance
     * of this one-thread app costs little, so 10 s. Heartbeats come from the consumer's own
     * thread, so long compressions need no long session.
     */
    public static final Duration DEFAULT_SESSION_TIMEOUT = Duration.ofSeconds(10);

    /**
     * Failures in a row after which a record is set aside ({@link RecordFailures}): its third try.
     * One below the stream-thread failures that make health report the compressor failing
     * ({@link StreamThreadFailures#THRESHOLD}), so that one poison record is set aside before it
     * reads as a compressor that does no work; a failure that is not the record's (Redis, the
     * brokers) is not counted here and goes on to show there, and nor does a record failing while no
     * other document compresses ({@link RecordFailures#PATIENCE}).
     */
    public static final int DEFAULT_MAX_RECORD_FAILURES = 2;

    /** Flag names, shared with the CLI so that every validation message names the flag the user typed. */
    public static final class Flags {
        public static final String BOOTSTRAP_SERVERS = "--bootstrap-servers";
        public static final String REDIS = "--redis";
        public static final String APPLICATION_ID = "--application-id";
        public static final String MODEL = "--model";
        public static final String ADAPTER = "--adapter";
        public static final String RATIO = "--ratio";
        public static final String BLOB_DTYPE = "--blob-dtype";
        public static final String BLOB_TTL = "--blob-ttl";
        public static final String DOCUMENTS_TOPIC = "--documents-topic";
        public static final String CATALOG_TOPIC = "--catalog-topic";
        public static final String DEAD_LETTER_TOPIC = "--dead-letter-topic";
        public static final String RECOMPRESS_TOPIC = "--recompress-topic";
        public static final String MAX_DOC_BYTES = "--max-doc-bytes";
        public static final String MAX_DOC_CHARS = "--max-doc-chars";
        public static final String MAX_DOC_TOKENS = "--max-doc-tokens";
        public static final String STATE_DIR = "--state-dir";
        public static final String COMMIT_INTERVAL = "--commit-interval";
        public static final String MAX_POLL_RECORDS = "--max-poll-records";
        public static final String MAX_COMPRESS_TIME = "--max-compress-time";
        public static final String REDIS_RETRY_BUDGET = "--redis-retry-budget";
        public static final String SESSION_TIMEOUT = "--session-timeout";
        public static final String MAX_RECORD_FAILURES = "--max-record-failures";
        public static final String METRICS_PORT = "--metrics-port";
        public static final String METRICS_BIND = "--metrics-bind";

        private Flags() {
        }
    }

    public static final String DEFAULT_APPLICATION_ID = "sac-compressor";

    /**
     * The application id a model's compressors take when the model is rolled out beside another
     * ({@code sac warm --model}) and after traffic moved to it: {@code sac-compressor-<modelId>}.
     */
    public static String modelApplicationId(String modelId) {
        return DEFAULT_APPLICATION_ID + "-" + modelId;
    }
    public static final int MAX_POLL_RECORDS_LIMIT = 100;
    /** Kafka topic-name characters: the application id prefixes the internal topics. */
    private static final Pattern APPLICATION_ID = Pattern.compile("[A-Za-z0-9._-]{1,200}");

    public CompressorConfig {
        require(bootstrapServers != null && !bootstrapServers.isBlank(), Flags.BOOTSTRAP_SERVERS, "must name at least one broker");
        require(redis != null, Flags.REDIS, "must name a redis:// or rediss:// URL");
        require(applicationId != null && APPLICATION_ID.matcher(applicationId).matches(), Flags.APPLICATION_ID,
                "must be 1-200 letters, digits, '.', '_' or '-', got '" + applicationId + "'");
        require(modelDir != null, Flags.MODEL, "is required");
        require(adapterDir != null, Flags.ADAPTER, "is required");
        Objects.requireNonNull(ratio, "ratio");
        require(ratio.isEmpty() || ratio.getAsInt() >= 1, Flags.RATIO, "must be >= 1, got " + (ratio.isPresent() ? ratio.getAsInt() : "none"));
        require(blobDtype != null, Flags.BLOB_DTYPE, "is required");
        Objects.requireNonNull(blobTtl, "blobTtl");
        require(blobTtl.isEmpty() || blobTtl.get().toMillis() >= 1, Flags.BLOB_TTL, "must be at least 1 ms, got " + blobTtl.map(Durations::shown).orElse("none"));
        Objects.requireNonNull(topics, "topics");
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(maxDocumentTokens, "maxDocumentTokens");
        require(maxDocumentTokens.isEmpty() || maxDocumentTokens.getAsInt() >= 1, Flags.MAX_DOC_TOKENS,
                "must be >= 1, got " + (maxDocumentTokens.isPresent() ? maxDocumentTokens.getAsInt() : "none"));
        require(stateDir != null, Flags.STATE_DIR, "is required");
        requirePositive(commitInterval, Flags.COMMIT_INTERVAL);
        require(maxPollRecords >= 1 && maxPollRecords <= MAX_POLL_RECORDS_LIMIT, Flags.MAX_POLL_RECORDS,
                "must be between 1 and " + MAX_POLL_RECORDS_LIMIT + " (each record takes seconds), got " + maxPollRecords);
        requirePositive(maxCompressTime, Flags.MAX_COMPRESS_TIME);
        requirePositive(redisRetryBudget, Flags.REDIS_RETRY_BUDGET);
        require(sessionTimeout != null && sessionTimeout.toMillis() >= 1_000 && sessionTimeout.compareTo(Duration.ofMinutes(30)) <= 0,
                Flags.SESSION_TIMEOUT, "must be between 1s and 30m (the brokers' group.min/max.session.timeout.ms, 6s and"
                        + " 30m by default, bound it too), got " + (sessionTimeout == null ? "none" : Durations.shown(sessionTimeout)));
        require(maxRecordFailures >= 1, Flags.MAX_RECORD_FAILURES, "must be >= 1, got " + maxRecordFailures);
        require(metricsPort != null, Flags.METRICS_PORT, "must be given ('off' for none)");
        metricsPort.ifPresent(port -> require(port >= 0 && port <= 65535, Flags.METRICS_PORT,
                "must be a port (0 = any free port) or 'off', got " + port));
        require(metricsBind != null && !metricsBind.isBlank(), Flags.METRICS_BIND,
                "must be an address to listen on (0.0.0.0 = every interface, 127.0.0.1 = this host only)");
        Duration txn = SlowRecordTimeouts.size(maxCompressTime, redisRetryBudget, maxPollRecords, commitInterval).transactionTimeout();
        requireWithinBrokerLimit(txn, Flags.MAX_COMPRESS_TIME,
                "with " + Flags.REDIS_RETRY_BUDGET + ", " + Flags.MAX_POLL_RECORDS + " and " + Flags.COMMIT_INTERVAL);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Without the blob's transfers (the model is not known yet): what the settings alone ask for. */
    public SlowRecordTimeouts timeouts() {
        return SlowRecordTimeouts.size(maxCompressTime, redisRetryBudget, maxPollRecords, commitInterval);
    }

    /**
     * With the transfer of the largest blob the model writes counted in each record's worst case;
     * refused when that takes the transaction timeout over the brokers' default limit.
     */
    public SlowRecordTimeouts timeouts(Duration largestBlobTransfer, String largestBlob) {
        SlowRecordTimeouts t = SlowRecordTimeouts.size(maxCompressTime, redisRetryBudget, maxPollRecords, commitInterval,
                largestBlobTransfer);
        requireWithinBrokerLimit(t.transactionTimeout(), Flags.MAX_DOC_TOKENS, "allows " + largestBlob
                + ", whose GET and SET may each take " + largestBlobTransfer + " beyond the Redis command timeout; with "
                + Flags.MAX_COMPRESS_TIME + ", " + Flags.REDIS_RETRY_BUDGET + ", " + Flags.MAX_POLL_RECORDS + " and "
                + Flags.COMMIT_INTERVAL + " that");
        return t;
    }

    public RetryPolicy redisRetry() {
        return RetryPolicy.withBudget(redisRetryBudget);
    }

    /** {@code flag} {@code cause} "gives a transaction timeout of" {@code txn}: refused over the brokers' default limit. */
    private static void requireWithinBrokerLimit(Duration txn, String flag, String cause) {
        require(txn.compareTo(SlowRecordTimeouts.BROKER_DEFAULT_MAX_TRANSACTION_TIMEOUT) <= 0, flag, cause
                + " gives a transaction timeout of " + txn + ", over the brokers' default limit"
                + " (transaction.max.timeout.ms, 15 min); lower them");
    }

        private static void require(boolean ok, String flag, String problem) {
        if (!ok) {
            throw new IllegalArgumentException(flag + " " + problem);
        }
    }

    private static void requirePositive(Duration d, String flag) {
        require(d != null && !d.isNegative() && !d.isZero(), flag, "must be a positive duration, got "
                + (d == null ? "none" : Durations.shown(d)));
    }

    /** Defaults as in the CLI; {@link #build()} validates. */
    public static final class Builder {
        private String bootstrapServers = "localhost:9092";
        private RedisTarget redis = RedisTarget.parse("redis://localhost:6379");
        private String applicationId = DEFAULT_APPLICATION_ID;
        private Path modelDir;
        private Path adapterDir;
        private OptionalInt ratio = OptionalInt.empty();
        private KvDtype blobDtype = KvDtype.F16;
        private Optional<Duration> blobTtl = Optional.empty();
        private CompressorTopics topics = CompressorTopics.defaults();
        private int maxDocBytes = DocumentLimits.defaults().maxValueBytes();
        private int maxDocChars = DocumentLimits.defaults().maxTextChars();
        private OptionalInt maxDocumentTokens = OptionalInt.empty();
        private Path stateDir = Path.of(".sac-cache", "compressor-state");
        private Duration commitInterval = Duration.ofMillis(100);
        private int maxPollRecords = 1;
        private Duration maxCompressTime = Duration.ofSeconds(60);
        private Duration redisRetryBudget = Duration.ofSeconds(20);
        private Duration sessionTimeout = DEFAULT_SESSION_TIMEOUT;
        private int maxRecordFailures = DEFAULT_MAX_RECORD_FAILURES;
        private java.util.OptionalInt metricsPort = java.util.OptionalInt.empty();
        private String metricsBind = "0.0.0.0";

        private Builder() {
        }

        public Builder bootstrapServers(String v) { bootstrapServers = v; return this; }
        public Builder redis(RedisTarget v) { redis = v; return this; }
        public Builder applicationId(String v) { applicationId = v; return this; }
        public Builder model(Path base, Path adapter) { modelDir = base; adapterDir = adapter; return this; }
        public Builder ratio(OptionalInt v) { ratio = v; return this; }
        public Builder blobDtype(KvDtype v) { blobDtype = v; return this; }
        public Builder blobTtl(Optional<Duration> v) { blobTtl = v; return this; }
        public Builder topics(CompressorTopics v) { topics = v; return this; }
        public Builder maxDocBytes(int v) { maxDocBytes = v; return this; }
        public Builder maxDocChars(int v) { maxDocChars = v; return this; }
        public Builder maxDocumentTokens(OptionalInt v) { maxDocumentTokens = v; return this; }
        public Builder stateDir(Path v) { stateDir = v; return this; }
        public Builder commitInterval(Duration v) { commitInterval = v; return this; }
        public Builder maxPollRecords(int v) { maxPollRecords = v; return this; }
        public Builder maxCompressTime(Duration v) { maxCompressTime = v; return this; }
        public Builder redisRetryBudget(Duration v) { redisRetryBudget = v; return this; }
        public Builder sessionTimeout(Duration v) { sessionTimeout = v; return this; }
        public Builder maxRecordFailures(int v) { maxRecordFailures = v; return this; }
        /** @param v a port, 0 = any free port (see {@link CompressorApp#metricsPort}) */
        public Builder metricsPort(int v) { metricsPort = java.util.OptionalInt.of(v); return this; }
        /** No metrics or health endpoint (the builder's default). */
        public Builder metricsOff() { metricsPort = java.util.OptionalInt.empty(); return this; }
        public Builder metricsBind(String v) { metricsBind = v; return this; }

        public CompressorConfig build() {
            require(maxDocBytes >= 1, Flags.MAX_DOC_BYTES, "must be >= 1, got " + maxDocBytes);
            require(maxDocChars >= 1, Flags.MAX_DOC_CHARS, "must be >= 1, got " + maxDocChars);
            return new CompressorConfig(bootstrapServers, redis, applicationId, modelDir, adapterDir, ratio, blobDtype,
                    blobTtl, topics, new DocumentLimits(maxDocBytes, maxDocChars), maxDocumentTokens, stateDir,
                    commitInterval, maxPollRecords, maxCompressTime, redisRetryBudget, sessionTimeout, maxRecordFailures,
                    metricsPort, metricsBind);
        }
    }
}
