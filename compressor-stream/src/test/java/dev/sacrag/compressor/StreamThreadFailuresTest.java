package dev.sacrag.compressor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sacrag.metrics.MetricsServer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.errors.StreamsException;
import org.junit.jupiter.api.Test;

class StreamThreadFailuresTest {

    /** A clock the test moves by hand. */
    private static final class ManualClock extends Clock {
        private Instant now = Instant.parse("2026-11-28T07:00:00Z");

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }
    }

    private static RuntimeException redisGaveUp() {
        return new StreamsException("task 0_1 failed", new RetriesExhaustedException(
                "storing sac:v1:blob:d1 gave up after 60 s of retries",
                new BlobStoreUnavailableException("connection refused", null)));
    }

    @Test
    void threeFailuresWithinTheWindowMakeTheCompressorNotReadyButLeaveItLive() {
        ManualClock clock = new ManualClock();
        java.util.concurrent.atomic.AtomicLong finished = new java.util.concurrent.atomic.AtomicLong(7);
        StreamThreadFailures failures = new StreamThreadFailures(clock, finished::get);
        failures.record(redisGaveUp());
        clock.advance(Duration.ofMinutes(2));
        failures.record(redisGaveUp());
        assertEquals(Optional.empty(), failures.failing(), "two failures: a blip, still ready");
        assertTrue(CompressorApp.health(KafkaStreams.State.RUNNING, failures.failing()).ready());

        clock.advance(Duration.ofMinutes(2));
        failures.record(redisGaveUp());
        String why = failures.failing().orElseThrow();
        assertTrue(why.startsWith("3 stream threads failed in the last 5 min"), why);
        assertTrue(why.contains("RetriesExhaustedException: storing sac:v1:blob:d1 gave up after 60 s"), why);
        MetricsServer.Health h = CompressorApp.health(KafkaStreams.State.RUNNING, failures.failing());
        assertFalse(h.ready(), h.toString());
        assertTrue(h.live(), "a replaced thread is a restart already: " + h);
        assertTrue(h.state().startsWith("RUNNING, failing: 3 stream threads failed"), h.state());

        clock.advance(Duration.ofSeconds(30));
        assertTrue(failures.failing().isPresent(), "nothing finished since: still failing");
        finished.incrementAndGet();   // the replacement thread finished a record: recovered
        assertEquals(Optional.empty(), failures.failing());
        assertTrue(CompressorApp.health(KafkaStreams.State.RUNNING, failures.failing()).ready());
        failures.record(redisGaveUp());
        assertEquals(Optional.empty(), failures.failing(), "the failures before the recovery no longer count");
    }

    /** Progress between failures resets the count whether or not a probe came in between. */
    @Test
    void progressBetweenFailuresResetsTheCountWithoutAProbe() {
        ManualClock clock = new ManualClock();
        java.util.concurrent.atomic.AtomicLong finished = new java.util.concurrent.atomic.AtomicLong();
        StreamThreadFailures failures = new StreamThreadFailures(clock, finished::get);
        failures.record(redisGaveUp());
        failures.record(redisGaveUp());
        finished.incrementAndGet();
        failures.record(redisGaveUp());
        failures.record(redisGaveUp());
        assertEquals(Optional.empty(), failures.failing(), "two since the progress");
        failures.record(redisGaveUp());
        assertTrue(failures.failing().orElseThrow().startsWith("3 "));
    }

    /** A committed offset past the highest seen is progress; the first seen of a partition, or one rolled back, is not. */
    @Test
    void onlyCommittedOffsetsPastTheHighestSeenCountAsProgress() {
        java.util.Map<org.apache.kafka.common.TopicPartition, Long> committed = new java.util.HashMap<>();
        CommittedProgress progress = new CommittedProgress(() -> java.util.Map.copyOf(committed));
        org.apache.kafka.common.TopicPartition p0 = new org.apache.kafka.common.TopicPartition("sac.documents", 0);
        org.apache.kafka.common.TopicPartition p1 = new org.apache.kafka.common.TopicPartition("sac.documents", 1);
        committed.put(p0, 41L);
        progress.sample();
        assertEquals(0, progress.advances(), "a task just assigned: its offset is where it starts");
        committed.put(p0, 43L);
        progress.sample();
        progress.sample();
        assertEquals(1, progress.advances());
        committed.put(p0, 42L);   // moved back (reassigned elsewhere and back, say)
        committed.put(p1, 7L);
        progress.sample();
        assertEquals(1, progress.advances(), "neither a step back nor a new partition is progress");
        committed.put(p1, 8L);
        progress.sample();
        assertEquals(2, progress.advances());
    }

    @Test
    void failuresOlderThanTheWindowAreForgotten() {
        ManualClock clock = new ManualClock();
        java.util.concurrent.atomic.AtomicLong finished = new java.util.concurrent.atomic.AtomicLong(7);
        StreamThreadFailures failures = new StreamThreadFailures(clock, finished::get);
        for (int i = 0; i < 3; i++) {
            failures.record(new IllegalStateException("broker fenced the producer"));
            clock.advance(Duration.ofSeconds(30));
        }
        assertTrue(failures.failing().orElseThrow().contains("IllegalStateException: broker fenced the producer"));
        clock.advance(StreamThreadFailures.WINDOW.minus(Duration.ofSeconds(60)));   // the first is now out of the window
        assertEquals(Optional.empty(), failures.failing(), "two failures left in the window: ready again");
        failures.record(new IllegalStateException("broker fenced the producer"));
        assertTrue(failures.failing().orElseThrow().startsWith("3 "), "a third within the window: not ready");
        clock.advance(StreamThreadFailures.WINDOW.plusSeconds(1));
        assertEquals(Optional.empty(), failures.failing(), "all out of the window: ready");
    }
}
