package dev.sacrag.compressor;

import dev.sacrag.core.kv.KvDtype;
import dev.sacrag.schemas.DocumentLimits;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * What the topology needs to know about documents and blobs (the Kafka client settings stay in
 * {@link CompressorConfig}).
 *
 * @param limits            raw value bytes and text characters; over either → dead letter TOO_LARGE
 * @param maxDocumentTokens tokens the compressor may read for one document; over → TOO_LARGE
 * @param dtype             how blob tensors are stored
 * @param blobTtl           expiry of each written blob, or none (evicted only by Redis's LRU)
 * @param redisRetry        back-off and per-record budget for Redis operations
 * @param maxCompressTime   the worst case the timeouts were sized for; a slower compression is
 *                          logged and counted, because it means the timeouts are too small
 * @param deadLetterMaxBytes the largest record the dead-letter topic and the producer take; a
 *                          dead letter that would be larger goes without its value (see {@link DeadLetters})
 * @param retireGrace       how long a replaced version's blob stays readable: the catalog record
 *                          that replaces it is not visible before its transaction commits, or
 *                          after an abort, before the record is processed again; deleted at once,
 *                          the blob would be missing for every reader of the committed catalog
 * @param maxRecordFailures times in a row a record may fail its stream thread before it is set aside
 *                          ({@link RecordFailures})
 */
public record CompressionSettings(DocumentLimits limits, int maxDocumentTokens, KvDtype dtype,
                                  Optional<Duration> blobTtl, RetryPolicy redisRetry, Duration maxCompressTime,
                                  long deadLetterMaxBytes, Duration retireGrace, int maxRecordFailures) {

    /** Retired blobs' grace unless the timeouts call for more: a commit and a restart's replay fit in it. */
    public static final Duration DEFAULT_RETIRE_GRACE = Duration.ofMinutes(2);

    /** The grace that outlasts a transaction (which may abort at its timeout) twice, and at least the default. */
    public static Duration retireGraceFor(Duration transactionTimeout) {
        Duration twice = transactionTimeout.multipliedBy(2);
        return twice.compareTo(DEFAULT_RETIRE_GRACE) > 0 ? twice : DEFAULT_RETIRE_GRACE;
    }

    /** Dead letters limited by the producer's max.request.size only. */
    public CompressionSettings(DocumentLimits limits, int maxDocumentTokens, KvDtype dtype, Optional<Duration> blobTtl,
                               RetryPolicy redisRetry, Duration maxCompressTime) {
        this(limits, maxDocumentTokens, dtype, blobTtl, redisRetry, maxCompressTime,
                limits.maxStoredBytes(), DEFAULT_RETIRE_GRACE,
                CompressorConfig.DEFAULT_MAX_RECORD_FAILURES);
    }

    public CompressionSettings {
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(blobTtl, "blobTtl");
        Objects.requireNonNull(redisRetry, "redisRetry");
        Objects.requireNonNull(maxCompressTime, "maxCompressTime");
        Objects.requireNonNull(retireGrace, "retireGrace");
        if (retireGrace.toMillis() < 1) {
            throw new IllegalArgumentException("retireGrace must be at least 1 ms, got " + retireGrace);
        }
        if (deadLetterMaxBytes < 1) {
            throw new IllegalArgumentException("deadLetterMaxBytes must be >= 1, got " + deadLetterMaxBytes);
        }
        if (maxDocumentTokens < 1) {
            throw new IllegalArgumentException("maxDocumentTokens must be >= 1, got " + maxDocumentTokens);
        }
        if (maxRecordFailures < 1) {
            throw new IllegalArgumentException("maxRecordFailures must be >= 1, got " + maxRecordFailures);
        }
    }
}
