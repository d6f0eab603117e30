package dev.sacrag.cli.warming;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

class ProgressTest {

    /** A clock far from zero, as System.nanoTime() is: a MIN_VALUE sentinel overflowed against it. */
    private final AtomicLong clock = new AtomicLong(7_000_000_000_000L);
    private final StringWriter text = new StringWriter();

    private Progress progress(boolean redraw) {
        return new Progress(new PrintWriter(text, true), "compressed", redraw, clock::get);
    }

    @Test
    void onATerminalTheFirstUpdateIsDrawnAndLaterOnesAtMostEvery200Ms() {
        Progress p = progress(true);
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
        p.finish();
        assertTrue(text.toString().endsWith(System.lineSeparator()));
    }

    @Test
    void theRateCountsOnlyWhatWasDoneSinceTheFirstUpdate() {
        Progress p = progress(false);
        p.update(990, 1000);   // compressed before the run
        clock.addAndGet(1_000_000_000L);
        p.update(1000, 1000);
        String[] lines = text.toString().split(System.lineSeparator());
        assertEquals(2, lines.length, text.toString());
        assertTrue(lines[0].endsWith("990/1000 docs  0.0 docs/s"), lines[0]);
        assertTrue(lines[1].endsWith("1000/1000 docs  10.0 docs/s"), lines[1]);
    }
}
