package dev.sacrag.compressor;

import java.time.Duration;
import java.util.Objects;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Exponential back-off for blob-store operations, bounded by a budget per record: all Redis
 * operations of one record (existence check, write, delete of the old version) share one budget
 * of time spent failing and pausing, so a Redis outage holds the stream thread at most that long
 * per record on top of the compression itself. The budget is kept below the transaction timeout
 * (see {@link SlowRecordTimeouts}); when it runs out the caller gets
 * {@link RetriesExhaustedException}, the task fails, Kafka Streams replaces the thread and the
 * record is processed again from the last commit.
 *
 * @param initialBackoff pause after the first failure; doubled after each further one
 * @param maxBackoff     cap on a single pause
 * @param budget         time one record may spend in failed attempts and pauses
 */
public record RetryPolicy(Duration initialBackoff, Duration maxBackoff, Duration budget) {

    public RetryPolicy {
        requirePositive("initialBackoff", initialBackoff);
        requirePositive("maxBackoff", maxBackoff);
        requirePositive("budget", budget);
        if (initialBackoff.compareTo(maxBackoff) > 0) {
            throw new IllegalArgumentException("initialBackoff " + initialBackoff + " exceeds maxBackoff " + maxBackoff);
        }
    }

    /** 50 ms doubling to at most 2 s (Lettuce reconnects within ~1 s of Redis coming back). */
    public static RetryPolicy withBudget(Duration budget) {
        Duration initial = min(Duration.ofMillis(50), budget);
        Duration cap = min(Duration.ofSeconds(2), budget);
        return new RetryPolicy(initial, cap.compareTo(initial) < 0 ? initial : cap, budget);
    }

    /** Starts one record's budget; {@code onFailure} sees every failed attempt (for metrics and logs). */
    public Budget start(Consumer<BlobStoreUnavailableException> onFailure) {
        return start(onFailure, () -> false);
    }

    /** As {@link #start(Consumer)}, but a failure is not retried once {@code closing} says so (a shutdown). */
    public Budget start(Consumer<BlobStoreUnavailableException> onFailure, BooleanSupplier closing) {
        return new Budget(Objects.requireNonNull(onFailure, "onFailure"), Objects.requireNonNull(closing, "closing"));
    }

    /**
     * The budget of one record. Only failures and pauses spend it — successful calls and the
     * compression between them do not — so it bounds exactly what an outage adds to a record.
     * Not thread-safe: one record, one thread.
     */
    public final class Budget {
        private final Consumer<BlobStoreUnavailableException> onFailure;
        private final BooleanSupplier closing;
        private long spentNanos;
        private int attempts;

        private Budget(Consumer<BlobStoreUnavailableException> onFailure, BooleanSupplier closing) {
            this.onFailure = onFailure;
            this.closing = closing;
        }

        /** Runs {@code operation}, retrying {@link BlobStoreUnavailableException} until the budget is spent. */
        public <T> T call(String what, Supplier<T> operation) {
            long backoff = initialBackoff.toNanos();
            while (true) {
                attempts++;
                long t0 = System.nanoTime();
                try {
                    return operation.get();
                } catch (BlobStoreUnavailableException e) {
                    spentNanos += System.nanoTime() - t0;
                    onFailure.accept(e);
                    if (closing.getAsBoolean()) {
                        throw new RetriesExhaustedException(what + ": blob store unavailable and the compressor is"
                                + " shutting down: not retried (the record is processed again after the restart)", e);
                    }
                    long left = budget.toNanos() - spentNanos;
                    if (left <= 0) {
                        throw new RetriesExhaustedException(what + ": blob store still unavailable after " + attempts
                                + " attempt(s) within the retry budget of " + budget + " (the last: " + e.getMessage()
                                + "); failing the task so Kafka Streams restarts it from the last commit", e);
                    }
                    long pause = Math.min(backoff, left);
                    sleep(pause, what, e);
                    spentNanos += pause;
                    backoff = Math.min(backoff * 2, maxBackoff.toNanos());
                }
            }
        }

        public void run(String what, Runnable operation) {
            call(what, () -> {
                operation.run();
                return null;
            });
        }
    }

    private static void sleep(long nanos, String what, BlobStoreUnavailableException last) {
        try {
            Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            RetriesExhaustedException ex = new RetriesExhaustedException(what + ": interrupted while backing off", last);
            ex.addSuppressed(e);
            throw ex;
        }
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    private static void requirePositive(String name, Duration d) {
        Objects.requireNonNull(d, name);
        if (d.isZero() || d.isNegative()) {
            throw new IllegalArgumentException(name + " must be positive, got " + d);
        }
    }
}
