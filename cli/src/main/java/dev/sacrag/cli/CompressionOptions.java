package dev.sacrag.cli;

import dev.sacrag.compressor.CompressorConfig;
import dev.sacrag.compressor.CompressorConfig.Flags;
import picocli.CommandLine;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * How documents are compressed and committed, beyond the model: how blobs are stored and when
 * they expire, the document limits and the sizing of slow records. Shared by {@code sac compressor} and {@code sac warm
 * --model}, whose rollout compressor must treat documents exactly as the running compressors do
 * (the same TTL on its blobs, the same documents accepted), and read from the same environment
 * variables.
 */
final class CompressionOptions {

    @Option(names = Flags.BLOB_DTYPE, paramLabel = "f32|f16|int8", defaultValue = "${env:SAC_BLOB_DTYPE:-f16}",
            description = "How anchor K/V are stored in Redis [env SAC_BLOB_DTYPE, default ${DEFAULT-VALUE}].")
    String blobDtype;

    @Option(names = Flags.BLOB_TTL, paramLabel = "DURATION", defaultValue = "${env:SAC_BLOB_TTL}",
            converter = Durations.class,
            description = "Expire blobs after this long, e.g. 168h [env SAC_BLOB_TTL, default: never; Redis evicts by LRU].")
    Duration blobTtl;

    @CommandLine.Mixin
    DocumentLimitOptions documentLimits;

    @Option(names = Flags.MAX_DOC_TOKENS, paramLabel = "TOKENS", defaultValue = "${env:SAC_MAX_DOC_TOKENS}",
            description = "Most tokens compressed per document; the worst case --max-compress-time is measured at"
                    + " [env SAC_MAX_DOC_TOKENS, default: the model's maximum positions, cut to what Redis takes in"
                    + " one value: 512 MiB of blob, less where the server's proto-max-bulk-len or maxmemory is lower;"
                    + " a larger value is refused at start].")
    Integer maxDocTokens;

    @Option(names = Flags.COMMIT_INTERVAL, paramLabel = "DURATION", defaultValue = "${env:SAC_COMMIT_INTERVAL:-100ms}",
            converter = Durations.class,
            description = "Exactly-once commit interval: how soon catalog records become visible [env SAC_COMMIT_INTERVAL,"
                    + " default ${DEFAULT-VALUE}].")
    Duration commitInterval;

    @Option(names = Flags.MAX_POLL_RECORDS, paramLabel = "N", defaultValue = "${env:SAC_MAX_POLL_RECORDS:-1}",
            description = "Records per poll, 1-100: keep small, each takes up to --max-compress-time [env SAC_MAX_POLL_RECORDS,"
                    + " default ${DEFAULT-VALUE}].")
    int maxPollRecords;

    @Option(names = Flags.MAX_COMPRESS_TIME, paramLabel = "DURATION", defaultValue = "${env:SAC_MAX_COMPRESS_TIME:-60s}",
            converter = Durations.class,
            description = "Worst-case time to compress one --max-doc-tokens document (measure it with 'sac compress')."
                    + " Sizes transaction.timeout.ms and max.poll.interval.ms = commit interval + 2 x max-poll-records x"
                    + " (this + --redis-retry-budget) [env SAC_MAX_COMPRESS_TIME, default ${DEFAULT-VALUE}].")
    Duration maxCompressTime;

    @Option(names = Flags.REDIS_RETRY_BUDGET, paramLabel = "DURATION", defaultValue = "${env:SAC_REDIS_RETRY_BUDGET:-20s}",
            converter = Durations.class,
            description = "How long one record retries an unavailable Redis before the task fails and restarts from the last"
                    + " commit (nothing is skipped) [env SAC_REDIS_RETRY_BUDGET, default ${DEFAULT-VALUE}].")
    Duration redisRetryBudget;

    @Option(names = Flags.SESSION_TIMEOUT, paramLabel = "DURATION", defaultValue = "${env:SAC_SESSION_TIMEOUT:-10s}",
            converter = Durations.class,
            description = "Consumer group session: how long the partitions of a compressor that stopped without leaving"
                    + " the group (killed, a failed stream thread) wait before another takes them; within the brokers'"
                    + " group.min/max.session.timeout.ms (6s-30m by default), checked at start [env SAC_SESSION_TIMEOUT,"
                    + " default ${DEFAULT-VALUE}; Kafka's own is 45s].")
    Duration sessionTimeout;

    @Option(names = Flags.MAX_RECORD_FAILURES, paramLabel = "N", defaultValue = "${env:SAC_MAX_RECORD_FAILURES:-"
            + CompressorConfig.DEFAULT_MAX_RECORD_FAILURES + "}",
            description = "Times in a row one record may fail the stream thread with an error the compressor does not"
                    + " otherwise handle (a bug, the Java heap exhausted) before its next try sends it to the dead-letter"
                    + " topic unprocessed, as PROCESSING_FAILED, so that its partition goes on - once another document has"
                    + " been compressed and written since its first failure (else after 30 minutes: a failure of every"
                    + " record is not one record's fault); failures of Redis, of the engine's memory or of Kafka are not counted"
                    + " [env SAC_MAX_RECORD_FAILURES, default ${DEFAULT-VALUE}].")
    int maxRecordFailures;

    /** Sets these options on {@code builder}. */
    CompressorConfig.Builder applyTo(CompressorConfig.Builder builder) {
        return builder
                .blobDtype(CompressCommand.parseDtype(Flags.BLOB_DTYPE, blobDtype))
                .blobTtl(Optional.ofNullable(blobTtl))
                .maxDocBytes(documentLimits.maxDocBytes)
                .maxDocChars(documentLimits.maxDocChars)
                .maxDocumentTokens(maxDocTokens == null ? OptionalInt.empty() : OptionalInt.of(maxDocTokens))
                .commitInterval(commitInterval)
                .maxPollRecords(maxPollRecords)
                .maxCompressTime(maxCompressTime)
                .redisRetryBudget(redisRetryBudget)
                .sessionTimeout(sessionTimeout)
                .maxRecordFailures(maxRecordFailures);
    }
}
