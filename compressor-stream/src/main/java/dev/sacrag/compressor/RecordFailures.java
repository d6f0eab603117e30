package dev.sacrag.compressor;

import org.apache.kafka.common.KafkaException;
import org.apache.kafka.streams.processor.api.RecordMetadata;

import java.util.Map;
import java.util.Optional;

/**
 * Records whose processing failed their stream thread, so that a record that fails every time is
 * set aside instead of failing every replacement thread for ever. A processor turns what it knows
 * of a bad record into a dead letter; anything else it throws (a bug, a {@code StackOverflowError},
 * the Java heap exhausted by one document) fails the task, its transaction aborts and the
 * replacement thread replays the record from the last commit, where it fails again. Once a record
 * has failed {@link #limit} times in a row, and another record has gone through with its document
 * compressed since its first failure (or {@link #PATIENCE} has passed), its next try sends it to
 * the dead-letter topic unprocessed ({@link CacheProcessor}), on the stores and offsets as they were before those tries,
 * whose transactions aborted. Only Redis keeps what a try wrote before it failed: a blob that no
 * catalog record names, and the previous version's blob retired (to expire after the grace), whose
 * loss the query service meets as a missing blob and has rebuilt by a recompress request.
 *
 * <p>The other record gone through since is the proof that the record, not the compressor, is
 * at fault: a bad build throwing on every record, or a heap too small for any document, fails every
 * record alike, and without that proof would send the whole topic to the dead-letter topic a record
 * at a time while health read green (each set-aside commits). Waiting for it, they fail their
 * threads until {@link #PATIENCE} passes, which health reports as failing. It is counted once a
 * record's processing has ended, not when the model returns ({@link #compressed}): a failure
 * after the model (the heap exhausted writing the blob, a bad build's writer) strikes every
 * record's tries alike, and each try's own compression would be the proof against it.
 *
 * <p>A poison record whose thread meets no other document before it waits out that time too (the
 * ENGINE_OOM rule's patience), and holds back the thread's other partitions meanwhile: an instance
 * runs one stream thread, which takes its tasks in task (partition) order each round, so the
 * thread fails on the record before it reaches the tasks after it. Only the tasks before it can
 * bring the proof (other instances count their own); a poison record on partition 0 stalls its
 * instance for {@link #PATIENCE}.
 *
 * <p>Only failures that say something about the record count ({@link #counts}): a Redis outage
 * ({@link RetriesExhaustedException}) stalls every record alike and nothing may be skipped for it;
 * the engine running out of memory has its own, more patient rule
 * ({@link EngineOutOfMemoryException}); and Kafka's own exceptions (a send that failed, a fenced
 * producer, a missing ACL, a state store that cannot write) fail whatever record is in hand, so
 * counting them would set good documents aside one after another. Those failures neither count
 * nor break a run: "in a row" means no try of the record has succeeded since.
 *
 * <p>A record is known by where it was read (topic, partition, offset): a replay reads the same
 * offset. The counts live in this process only, shared by its stream threads and their
 * replacements, because a failure aborts the transaction that a changelogged store would have
 * written them in. So a restart starts them at zero, as does a partition's move to another
 * instance: a poison record fails up to {@link #limit} threads more in each process that takes
 * it. A record that kills the process itself (a native crash in the engine, a JVM run with
 * {@code -XX:+ExitOnOutOfMemoryError}) is never counted past one: that crash loop is the
 * supervisor's to see. Thread-safe.
 */
final class RecordFailures {

    /** Records remembered at most: a handful fail at once (the one in hand on each task), set-aside ones stay until evicted. */
    static final int REMEMBERED = 1_000;

    /**
     * A record failing for this long is set aside even with no other document compressed since
     * its first failure: a partition never stalls for good.
     */
    static final java.time.Duration PATIENCE = FailureRun.PATIENCE;

    /**
     * One record's failures in a row so far, and the last of them (the dead letter names its class).
     *
     * @param first when the first of them was
     * @param compressionsBefore records gone through with their document compressed before the first of them
     */
    record Failed(int tries, Throwable last, java.time.Instant first, long compressionsBefore) implements FailureRun {
    }

    private final int limit;
    private final java.time.Clock clock;
    /** Records gone through with their document compressed, by this process ({@link #compressed}). */
    private final java.util.concurrent.atomic.AtomicLong compressions = new java.util.concurrent.atomic.AtomicLong();
    private final Map<String, Failed> failed = AnchorCacheWriter.recent(REMEMBERED);

    /** @param limit failures in a row after which a record is set aside ({@code --max-record-failures}) */
    RecordFailures(int limit, java.time.Clock clock) {
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be >= 1, got " + limit);
        }
        this.limit = limit;
        this.clock = clock;
    }

    int limit() {
        return limit;
    }

    /** A record's place, {@code topic-partition@offset}, as the dead-letter log lines write it. */
    static String where(RecordMetadata m) {
        return m.topic() + "-" + m.partition() + "@" + m.offset();
    }

    /** Whether {@code e} tells something about the record in hand rather than about Redis, the engine's memory or Kafka. */
    static boolean counts(Throwable e) {
        return !(e instanceof RetriesExhaustedException || e instanceof EngineOutOfMemoryException
                || e instanceof KafkaException);
    }

    /** Counts {@code e} against the record at {@code where}; returns its failures in a row, empty when {@code e} does not {@link #counts count}. */
    Optional<Failed> failed(String where, Throwable e) {
        if (!counts(e)) {
            return Optional.empty();
        }
        return Optional.of(failed.merge(where, new Failed(1, e, clock.instant(), compressions.get()),
                (was, one) -> new Failed(was.tries() + 1, e, was.first(), was.compressionsBefore())));
    }

    /**
     * The record's failures, once it is to be set aside ({@link #setAside}). They are kept, so that
     * a replay after the set-aside's own transaction aborted sets it aside again.
     */
    Optional<Failed> toSetAside(String where) {
        return Optional.ofNullable(failed.get(where))
                .filter(f -> setAside(f, limit, clock.instant(), compressions.get()));
    }

    /**
     * {@code limit} failures in a row, and another record gone through with its document compressed
     * since the first (the fault is the record's) or {@link #PATIENCE} passed since it.
     */
    static boolean setAside(Failed f, int limit, java.time.Instant now, long compressionsNow) {
        return f.due(limit, now, compressionsNow);
    }

    /**
     * A record went through with its document compressed: the proof, for the records failing
     * meanwhile, that the compressor works.
     */
    void compressed() {
        compressions.incrementAndGet();
    }

    /** A try of the record succeeded: the failures before it were not the record's for good. */
    void succeeded(String where) {
        failed.remove(where);
    }
}
