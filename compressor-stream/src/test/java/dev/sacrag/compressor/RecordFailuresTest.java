package dev.sacrag.compressor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.errors.TaskMigratedException;
import org.junit.jupiter.api.Test;

class RecordFailuresTest {

    private static final String POISON = "sac.documents-0@42";
    private static final java.time.Instant T0 = java.time.Instant.parse("2026-11-28T12:00:00Z");

    private static RecordFailures failures(int limit) {
        return new RecordFailures(limit, java.time.Clock.fixed(T0, java.time.ZoneOffset.UTC));
    }

    @Test
    void aRecordIsSetAsideOnceItHasFailedTheLimitInARowAndStaysSo() {
        RecordFailures failures = failures(2);
        assertEquals(1, failures.failed(POISON, new IllegalStateException("first")).orElseThrow().tries());
        assertEquals(Optional.empty(), failures.toSetAside(POISON), "one failure: tried again");
        OutOfMemoryError last = new OutOfMemoryError("Java heap space");
        failures.failed(POISON, last);
        failures.compressed();   // another record went through since its first failure: the fault is this one's

        RecordFailures.Failed f = failures.toSetAside(POISON).orElseThrow();
        assertEquals(2, f.tries());
        assertSame(last, f.last(), "the dead letter names what threw last");
        assertTrue(failures.toSetAside(POISON).isPresent(), "still, for a replay after the set-aside's transaction aborted");
        assertEquals(Optional.empty(), failures.toSetAside("sac.documents-0@43"), "records are counted apart");
        assertEquals(Optional.empty(), failures.toSetAside("sac.documents-1@42"));
    }

    @Test
    void aTryThatSucceedsStartsTheRunAgain() {
        RecordFailures failures = failures(2);
        failures.failed(POISON, new IllegalStateException("a bug that struck once"));
        failures.succeeded(POISON);
        failures.failed(POISON, new IllegalStateException("and once more"));
        assertEquals(Optional.empty(), failures.toSetAside(POISON), "not two in a row");
    }

    /** Redis, the engine's memory and Kafka fail whatever record is in hand: they neither count nor end a run. */
    @Test
    void failuresThatAreNotTheRecordsDoNotCount() {
        RecordFailures failures = failures(2);
        failures.failed(POISON, new StackOverflowError());
        for (Throwable notTheRecords : new Throwable[] {
                new RetriesExhaustedException("storing a blob gave up", new BlobStoreUnavailableException("down", null)),
                new EngineOutOfMemoryException("ran out of memory in the engine (try 1)", null),
                new StreamsException("error encountered sending record to topic sac.anchor-caches"),
                new TaskMigratedException("producer got fenced"),
                new ProducerFencedException("fenced"),
                new TopicAuthorizationException("not authorized to access topics: [sac.anchor-caches]")}) {
            assertFalse(RecordFailures.counts(notTheRecords), notTheRecords.toString());
            assertEquals(Optional.empty(), failures.failed(POISON, notTheRecords), notTheRecords.toString());
        }
        assertEquals(Optional.empty(), failures.toSetAside(POISON), "still one failure of its own");
        failures.failed(POISON, new StackOverflowError());
        failures.compressed();
        assertEquals(2, failures.toSetAside(POISON).orElseThrow().tries(), "the run went on through them");
        assertTrue(RecordFailures.counts(new OutOfMemoryError("Java heap space")));
        assertTrue(RecordFailures.counts(new NullPointerException()));
    }

    /**
     * A failure that strikes every record (a bad build, a heap too small for any document) is not one
     * record's: with nothing compressed since the first failure, the record is tried again (its thread
     * fails, which health reports) until the patience has passed, not set aside with the rest after it.
     */
    @Test
    void withNoOtherDocumentCompressedSinceARecordWaitsOutThePatience() {
        RecordFailures failures = failures(2);
        failures.failed(POISON, new NullPointerException());
        failures.failed(POISON, new NullPointerException());
        assertEquals(Optional.empty(), failures.toSetAside(POISON), "nothing else compressed: no proof it is the record");

        RecordFailures.Failed f = new RecordFailures.Failed(2, new NullPointerException(), T0, 5);
        assertFalse(RecordFailures.setAside(f, 2, T0.plusSeconds(60), 5));
        assertTrue(RecordFailures.setAside(f, 2, T0.plusSeconds(60), 6), "another compressed since: the record's fault");
        assertTrue(RecordFailures.setAside(f, 2, T0.plus(RecordFailures.PATIENCE), 5), "a partition never stalls for good");
        assertFalse(RecordFailures.setAside(new RecordFailures.Failed(1, new NullPointerException(), T0, 5), 2,
                T0.plus(RecordFailures.PATIENCE), 9), "fewer failures than the limit: tried again");
    }
}
