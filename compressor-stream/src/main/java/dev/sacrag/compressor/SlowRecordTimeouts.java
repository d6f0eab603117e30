package dev.sacrag.compressor;

import java.time.Duration;

/**
 * Kafka Streams timeouts sized for slow records (architecture.md "Slow records"). Streams'
 * defaults assume records that take milliseconds; compressing one document takes up to seconds,
 * so both limits below are derived from the configured worst case instead.
 *
 * <pre>
 *   record worst case   = --max-compress-time + --redis-retry-budget + 2 x largest blob's transfer
 *                         (its bytes at 16 MiB/s: what its GET or SET may take beyond the command
 *                         timeout, AnchorKvStore.transferAllowance; two: a replayed or unchanged
 *                         document's blob is read back to be checked or carried over, then written)
 *   poll worst case     = --max-poll-records x record worst case
 *   max.poll.interval.ms = transaction.timeout.ms = --commit-interval + 2 x poll worst case
 * </pre>
 *
 * <ul>
 * <li>{@code max.poll.interval.ms}: the consumer leaves the group when the thread does not poll
 * within it. Streams polls again once half of it has passed, so any record that starts before
 * then still finishes in time (factor 2).</li>
 * <li>{@code transaction.timeout.ms} (exactly-once): a transaction opens with the first write
 * after a commit and ends at the next commit, which Streams makes once the commit interval has
 * passed, after the records in hand. Streams' own default (10 s) would let the broker abort
 * the transaction of a slow document and fence the producer.</li>
 * <li>The Redis retry budget is thereby always below the transaction timeout: a Redis outage
 * fails the task by itself (abort, thread replaced, reprocessing from the last commit) before
 * the broker's timeout could.</li>
 * </ul>
 *
 * Measure the worst case with {@code sac compress --model M FILE} on a document of
 * {@code --max-doc-tokens} tokens; the compressor logs and counts (failures{kind=slow-compression})
 * every compression slower than {@code --max-compress-time}.
 */
public record SlowRecordTimeouts(Duration maxPollInterval, Duration transactionTimeout) {

    /** Brokers refuse longer transactions unless transaction.max.timeout.ms is raised (default 15 min). */
    public static final Duration BROKER_DEFAULT_MAX_TRANSACTION_TIMEOUT = Duration.ofMinutes(15);

    /** Before the model is known: no time for the blob's SET counted (see the other overload). */
    public static SlowRecordTimeouts size(Duration maxCompressTime, Duration redisRetryBudget, int maxPollRecords,
                                          Duration commitInterval) {
        return size(maxCompressTime, redisRetryBudget, maxPollRecords, commitInterval, Duration.ZERO);
    }

    /**
     * @param largestBlobTransfer how much longer than other commands a GET or SET of the largest blob
     *     may take (a successful transfer spends none of the retry budget, however long it takes);
     *     counted twice, for the read and the write one record may make
     */
    public static SlowRecordTimeouts size(Duration maxCompressTime, Duration redisRetryBudget, int maxPollRecords,
                                          Duration commitInterval, Duration largestBlobTransfer) {
        Duration record = maxCompressTime.plus(redisRetryBudget).plus(largestBlobTransfer.multipliedBy(2));
        Duration poll = record.multipliedBy(maxPollRecords);
        Duration limit = commitInterval.plus(poll.multipliedBy(2));
        return new SlowRecordTimeouts(limit, limit);
    }
}
