package dev.sacrag.query.metrics;

import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * At most one WARN per period for something that happens at every request while it lasts (Redis
 * down, blobs evicted as fast as they are rebuilt): the first occurrence is logged at once, the
 * next one a period later with how many there were in between. Counters carry the exact numbers.
 */
public final class WarnThrottle {

    private final Duration every;
    private final LongSupplier nanoTime;
    private final AtomicLong nextWarn = new AtomicLong(Long.MIN_VALUE);
    private final AtomicLong unwarned = new AtomicLong();

    public WarnThrottle(Duration every) {
        this(every, System::nanoTime);
    }

    public WarnThrottle(Duration every, LongSupplier nanoTime) {
        this.every = every;
        this.nanoTime = nanoTime;
    }

    /**
     * Counts one occurrence; when a WARN is due, returns how many occurred since the last one
     * (this one included) and starts a new period. One caller wins a due WARN.
     */
    public OptionalLong occurred() {
        long count = unwarned.incrementAndGet();
        long now = nanoTime.getAsLong();
        long next = nextWarn.get();
        if ((next == Long.MIN_VALUE || now - next >= 0) && nextWarn.compareAndSet(next, now + every.toNanos())) {
            unwarned.addAndGet(-count);
            return OptionalLong.of(count);
        }
        return OptionalLong.empty();
    }
}
