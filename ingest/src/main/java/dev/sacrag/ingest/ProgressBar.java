package dev.sacrag.ingest;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * Documents done out of total, and the rate, on stderr. On a terminal it redraws one line at
 * most every 100 ms; otherwise (CI logs, pipes) it prints a line every tenth of the way, so logs
 * stay short. Called from Kafka's producer thread, hence synchronized and cheap.
 */
final class ProgressBar {

    private static final int WIDTH = 30;
    private static final long REDRAW_NANOS = 100_000_000L;

    private final PrintStream out;
    private final int total;
    private final boolean redraw;
    private final LongSupplier nanoTime;
    private final long startNanos;
    private int done;
    /** When the line was last drawn; meaningless while {@code drawn} is false (no sentinel: now - MIN_VALUE overflows). */
    private long lastDrawNanos;
    private boolean drawn;
    private int lastTenth = -1;

    ProgressBar(PrintStream out, int total, boolean redraw, LongSupplier nanoTime) {
        this.out = out;
        this.total = total;
        this.redraw = redraw;
        this.nanoTime = nanoTime;
        this.startNanos = nanoTime.getAsLong();
    }

    synchronized void advance() {
        done++;
        long now = nanoTime.getAsLong();
        if (redraw) {
            if (!drawn || done == total || now - lastDrawNanos >= REDRAW_NANOS) {
                out.print("\r" + line(now));
                out.flush();
                lastDrawNanos = now;
                drawn = true;
            }
        } else {
            int tenth = total == 0 ? 10 : done * 10 / total;
            if (tenth > lastTenth) {
                out.println(line(now));
                lastTenth = tenth;
            }
        }
    }

    /** Ends the redrawn line so that the summary starts on its own line. */
    synchronized void finish() {
        if (redraw && total > 0) {
            out.println();
        }
        out.flush();
    }

    synchronized String line(long nowNanos) {
        int filled = total == 0 ? WIDTH : (int) ((long) done * WIDTH / total);
        double seconds = Math.max(1e-9, (nowNanos - startNanos) / 1e9);
        return String.format(Locale.ROOT, "[%s%s] %d/%d docs  %.1f docs/s",
                "#".repeat(filled), "-".repeat(WIDTH - filled), done, total, done / seconds);
    }
}
