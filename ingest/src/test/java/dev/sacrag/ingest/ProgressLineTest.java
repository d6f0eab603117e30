package dev.sacrag.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

class ProgressLineTest {

    /** A clock far from zero, as System.nanoTime() is: a MIN_VALUE sentinel overflowed against it. */
    private final AtomicLong clock = new AtomicLong(7_000_000_000_000L);
    private final StringWriter text = new StringWriter();

    private ProgressLine progress(String label, boolean redraw) {
        return new ProgressLine(new PrintWriter(text, true), label, redraw, clock::get);
    }

    @Test
    void onATerminalTheFirstUpdateIsDrawnAndLaterOnesAtMostEvery200Ms() {
        ProgressLine p = progress("compressed", true);
        p.update(1, 10);
        assertEquals("\rcompressed [###---------------------------] 1/10 docs  0.0 docs/s", text.toString(),
                "drawn at once, not only when the run is done");
        clock.addAndGet(50_000_000L);
        p.update(2, 10);
        assertEquals(1, text.toString().split("\r", -1).length - 1, "not again within 200 ms");
        clock.addAndGet(200_000_000L);
        p.update(3, 10);
        assertTrue(text.toString().endsWith("\rcompressed [#########---------------------] 3/10 docs  8.0 docs/s"),
                text.toString());
        clock.addAndGet(300_000_000L);
        p.update(3, 10);   // a stall: the same count, redrawn once due, its rate falling
        assertTrue(text.toString().endsWith("] 3/10 docs  3.6 docs/s"), text.toString());
        clock.addAndGet(10_000_000L);
        p.update(10, 10);
        assertTrue(text.toString().endsWith("] 10/10 docs  16.1 docs/s"), "the last count is drawn at once: " + text);
        p.finish();
        assertTrue(text.toString().endsWith(System.lineSeparator()));
    }

    @Test
    void inALogALineIsPrintedEachTenthOfTheWayWithoutALabelWhenNoneIsGiven() {
        ProgressLine p = progress("", false);
        for (int done = 0; done <= 40; done++) {
            clock.addAndGet(100_000_000L);
            p.update(done, 40);
        }
        p.finish();
        String[] lines = text.toString().split(System.lineSeparator());
        assertEquals(11, lines.length, text.toString());
        assertEquals("[------------------------------] 0/40 docs  0.0 docs/s", lines[0]);
        assertEquals("[##############################] 40/40 docs  10.0 docs/s", lines[10]);
    }

    @Test
    void theRateCountsOnlyWhatWasDoneSinceTheFirstUpdate() {
        ProgressLine p = progress("compressed", false);
        p.update(990, 1000);   // compressed before the run
        clock.addAndGet(1_000_000_000L);
        p.update(1000, 1000);
        String[] lines = text.toString().split(System.lineSeparator());
        assertEquals(2, lines.length, text.toString());
        assertTrue(lines[0].endsWith("990/1000 docs  0.0 docs/s"), lines[0]);
        assertTrue(lines[1].endsWith("1000/1000 docs  10.0 docs/s"), lines[1]);
    }

    @Test
    void documentsDoneWithoutWorkAreShownAndLeftOutOfTheRate() {
        ProgressLine p = progress("", false);
        p.update(0, 40, 0);
        clock.addAndGet(5_000_000_000L);
        p.update(40, 40, 30);   // ingest: 30 unchanged, not sent
        String[] lines = text.toString().split(System.lineSeparator());
        assertEquals("[##############################] 40/40 docs, 30 unchanged  2.0 docs/s", lines[1],
                "the rate of the 10 sent");
    }
}
