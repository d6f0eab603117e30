package dev.sacrag.cli.warming;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * "[#####-----] 12/40 docs  3.1 docs/s" on one line. On a terminal it is redrawn at most every
 * 200 ms; otherwise (logs, pipes, tests) a line is printed each tenth of the way.
 */
public final class Progress {

    private static final int WIDTH = 30;
    private static final long REDRAW_NANOS = 200_000_000L;

    private final PrintWriter out;
    private final String label;
    private final boolean redraw;
    private final LongSupplier nanoTime;
    private long start;
    /** Documents already done at the first update (compressed before the run): not counted in the rate. */
    private int firstDone = -1;
    /** When the line was last drawn; meaningless while {@code drawn} is false (no sentinel: now - MIN_VALUE overflows). */
    private long lastDraw;
    private boolean drawn;
    private int lastTenth = -1;
    private int done = -1;

    public Progress(PrintWriter out, String label, boolean redraw) {
        this(out, label, redraw, System::nanoTime);
    }

    Progress(PrintWriter out, String label, boolean redraw, LongSupplier nanoTime) {
        this.out = out;
        this.label = label;
        this.redraw = redraw;
        this.nanoTime = nanoTime;
    }

    /** A progress line on {@code out}, redrawn when the JVM has a console. */
    public static Progress on(PrintWriter out, String label) {
        return new Progress(out, label, System.console() != null);
    }

    public synchronized void update(int done, int total) {
        if (done == this.done) {
            return;
        }
        this.done = done;
        long now = nanoTime.getAsLong();
        if (firstDone < 0) {
            // rates count from the first update, not from reading the topics, and only what was
            // done since: a rollout that finds 990 of 1,000 documents compressed is not 990 docs/s
            start = now;
            firstDone = done;
        }
        if (redraw) {
            if (!drawn || done == total || now - lastDraw >= REDRAW_NANOS) {
                out.print("\r" + line(done, total, now));
                out.flush();
                lastDraw = now;
                drawn = true;
            }
            return;
        }
        int tenth = total == 0 ? 10 : (int) (10L * done / total);
        if (tenth > lastTenth) {
            out.println(line(done, total, now));
            out.flush();
            lastTenth = tenth;
        }
    }

    /** Ends a redrawn line so that what follows starts on its own line. */
    public synchronized void finish() {
        if (redraw && done >= 0) {
            out.println();
        }
        out.flush();
    }

    private String line(int done, int total, long now) {
        int filled = total == 0 ? WIDTH : (int) ((long) Math.min(done, total) * WIDTH / total);
        double seconds = (now - start) / 1e9;
        double rate = seconds <= 0 ? 0 : (done - firstDone) / seconds;
        return String.format(Locale.ROOT, "%s [%s%s] %d/%d docs  %.1f docs/s", label, "#".repeat(filled),
                "-".repeat(WIDTH - filled), done, total, rate);
    }
}
