package dev.sacrag.compressor;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Locale;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * The stream threads that failed recently, so that health can tell a compressor that runs from
 * one that is only being restarted. A failed thread is replaced ({@code REPLACE_THREAD}) and
 * Kafka Streams stays RUNNING throughout, so its state alone reads healthy while every
 * replacement fails again (Redis down, a broker refusing the transactions): {@link #failing}
 * says so once {@link #THRESHOLD} threads have failed within {@link #WINDOW} and nothing has been
 * committed since the last of them. A commit (progress, counted by the caller) ends it at once,
 * so a compressor that has recovered reads ready without waiting out the window.
 *
 * <p>Thread-safe: stream threads record, the metrics server's threads read.
 */
final class StreamThreadFailures {

    /** Failures within {@link #WINDOW} that make the compressor not ready. */
    static final int THRESHOLD = 3;
    /** A Redis outage fails a thread about once per retry budget (20 s by default) and restart: three of them fit. */
    static final Duration WINDOW = Duration.ofMinutes(5);

    private final Clock clock;
    private final LongSupplier progress;
    private final Deque<Instant> recent = new ArrayDeque<>();
    private String lastCause = "";
    private long progressAtLastFailure;

    /**
     * @param progress committed offsets' advances since start ({@link CommittedProgress}: records processed
     *     and then rolled back by a failure do not count)
     */
    StreamThreadFailures(Clock clock, LongSupplier progress) {
        this.clock = clock;
        this.progress = progress;
    }

    synchronized void record(Throwable cause) {
        long now = progress.getAsLong();
        if (now != progressAtLastFailure) {
            recent.clear();   // work went on since the last failure: the ones before it are behind us
        }
        recent.addLast(clock.instant());
        lastCause = describe(cause);
        progressAtLastFailure = now;
        prune();
    }

    /**
     * Why the compressor is not doing its work though its stream runs, when {@link #THRESHOLD}
     * or more threads failed within {@link #WINDOW} and nothing was committed since the last:
     * their count and the last one's cause.
     */
    synchronized Optional<String> failing() {
        if (progress.getAsLong() != progressAtLastFailure) {
            return Optional.empty();   // work went on since the last failure
        }
        prune();
        if (recent.size() < THRESHOLD) {
            return Optional.empty();
        }
        return Optional.of(String.format(Locale.ROOT, "%d stream threads failed in the last %d min, the last with %s",
                recent.size(), WINDOW.toMinutes(), lastCause));
    }

    private void prune() {
        Instant horizon = clock.instant().minus(WINDOW);
        while (!recent.isEmpty() && recent.peekFirst().isBefore(horizon)) {
            recent.removeFirst();
        }
    }

    /** The innermost cause that says something: Kafka Streams wraps the real one once or twice. */
    private static String describe(Throwable e) {
        Throwable said = e;
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getMessage() != null && !t.getMessage().isBlank()) {
                said = t;
            }
            if (t instanceof RetriesExhaustedException) {
                break;   // its message names the Redis operation and the budget; its cause is one attempt's
            }
        }
        String message = said.getMessage() == null ? "" : ": " + said.getMessage().strip().lines().findFirst().orElse("");
        return said.getClass().getSimpleName() + message;
    }
}
