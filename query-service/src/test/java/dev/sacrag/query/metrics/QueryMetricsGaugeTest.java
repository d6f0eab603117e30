package dev.sacrag.query.metrics;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A gauge whose source nothing else holds (a memo made for it) still reads after a collection. */
class QueryMetricsGaugeTest {

    @Test
    void aGaugeKeepsItsSource() throws InterruptedException {
        QueryMetrics metrics = QueryMetrics.inMemory();
        metrics.gauge("sac.query.test.held", "a source only this gauge holds", new AtomicInteger(7), AtomicInteger::get);
        for (int i = 0; i < 5; i++) {   // Micrometer's default weak reference lets the source go: NaN
            System.gc();
            Thread.sleep(20);
        }
        assertEquals(7.0, metrics.registry().get("sac.query.test.held").gauge().value());
    }
}
