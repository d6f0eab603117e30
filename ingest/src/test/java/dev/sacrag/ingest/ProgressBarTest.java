package dev.sacrag.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

class ProgressBarTest {

    @Test
    void onATerminalTheFirstDocumentIsDrawnAndLaterOnesAtMostEvery100Ms() {
        // a clock far from zero, as System.nanoTime() is: a MIN_VALUE sentinel overflowed against it
        AtomicLong clock = new AtomicLong(7_000_000_000_000L);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ProgressBar bar = new ProgressBar(new PrintStream(bytes, true, StandardCharsets.UTF_8), 4, true, clock::get);

        clock.addAndGet(500_000_000L);
        bar.advance();
        assertEquals("\r[#######-----------------------] 1/4 docs  2.0 docs/s", bytes.toString(StandardCharsets.UTF_8),
                "drawn at once, not only at the end");
        clock.addAndGet(10_000_000L);
        bar.advance();
        assertEquals(1, bytes.toString(StandardCharsets.UTF_8).split("\r", -1).length - 1, "not again within 100 ms");
        clock.addAndGet(100_000_000L);
        bar.advance();
        bar.advance();
        bar.finish();
        String shown = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(shown.contains("\r[######################--------] 3/4 docs"), shown);
        assertTrue(shown.endsWith("\r[##############################] 4/4 docs  6.6 docs/s" + System.lineSeparator()), shown);
    }
}
