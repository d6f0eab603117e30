package dev.sacrag.compressor;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RetryPolicyTest {

    static final RetryPolicy POLICY = new RetryPolicy(Duration.ofMillis(5), Duration.ofMillis(20), Duration.ofMillis(200));

    @Test
    void retriesAnUnavailableStoreUntilItAnswers() {
        AtomicInteger failures = new AtomicInteger();
        AtomicInteger calls = new AtomicInteger();
        String result = POLICY.start(e -> failures.incrementAndGet()).call("test op", () -> {
            if (calls.incrementAndGet() <= 3) {
                throw new BlobStoreUnavailableException("down", null);
            }
            return "ok";
        });
        assertEquals("ok", result);
        assertEquals(3, failures.get());
    }

    @Test
    void givesUpOnceTheBudgetIsSpentAndNamesTheOperation() {
        long t0 = System.nanoTime();
        RetriesExhaustedException e = assertThrows(RetriesExhaustedException.class, () -> POLICY.start(x -> { })
                .run("writing blob k", () -> {
                    throw new BlobStoreUnavailableException("still down", null);
                }));
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        assertTrue(took.compareTo(Duration.ofMillis(200)) >= 0 && took.compareTo(Duration.ofSeconds(2)) < 0, "took " + took);
        assertTrue(e.getMessage().startsWith("writing blob k: blob store still unavailable"), e.getMessage());
        assertTrue(e.getMessage().contains("(the last: still down)"), "names what the last attempt met: " + e.getMessage());
        assertInstanceOf(BlobStoreUnavailableException.class, e.getCause());
    }

    @Test
    void aShutdownStopsRetryingAtTheNextFailure() {
        java.util.concurrent.atomic.AtomicBoolean closing = new java.util.concurrent.atomic.AtomicBoolean();
        RetryPolicy patient = RetryPolicy.withBudget(java.time.Duration.ofHours(1));
        AtomicInteger calls = new AtomicInteger();
        RetriesExhaustedException e = assertThrows(RetriesExhaustedException.class, () -> patient.start(x -> { },
                closing::get).run("writing blob k", () -> {
                    if (calls.incrementAndGet() == 3) {
                        closing.set(true);   // the app's close() begins during the outage
                    }
                    throw new BlobStoreUnavailableException("down", null);
                }));
        assertEquals(3, calls.get(), "retried until the shutdown, not for the hour of budget");
        assertTrue(e.getMessage().contains("shutting down"), e.getMessage());
    }

    @Test
    void theBudgetIsSharedByEveryOperationOfOneRecord() {
        RetryPolicy.Budget budget = POLICY.start(x -> { });
        assertThrows(RetriesExhaustedException.class, () -> budget.run("first", () -> {
            throw new BlobStoreUnavailableException("down", null);
        }));
        AtomicInteger calls = new AtomicInteger();
        assertThrows(RetriesExhaustedException.class, () -> budget.run("second", () -> {
            calls.incrementAndGet();
            throw new BlobStoreUnavailableException("down", null);
        }));
        assertEquals(1, calls.get(), "no budget left: one attempt, no pause");
    }

    @Test
    void onlyFailuresAndPausesSpendTheBudget() throws Exception {
        RetryPolicy.Budget budget = POLICY.start(x -> { });
        Thread.sleep(POLICY.budget().toMillis() + 50); // e.g. compressing between two Redis calls
        AtomicInteger calls = new AtomicInteger();
        assertEquals("ok", budget.call("after a slow compression", () -> {
            if (calls.incrementAndGet() == 1) {
                throw new BlobStoreUnavailableException("blip", null);
            }
            return "ok";
        }));
    }

    @Test
    void otherFailuresAreNotRetried() {
        AtomicInteger calls = new AtomicInteger();
        assertThrows(IllegalStateException.class, () -> POLICY.start(x -> { }).run("bug", () -> {
            calls.incrementAndGet();
            throw new IllegalStateException("a bug, not an outage");
        }));
        assertEquals(1, calls.get());
    }
}
