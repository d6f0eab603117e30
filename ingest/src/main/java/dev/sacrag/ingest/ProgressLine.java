package dev.sacrag.ingest;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * "label [#####-----] 12/40 docs  3.1 docs/s" on stderr, for the commands that count documents
 * ({@code sac ingest}, {@code sac warm}). On a terminal it is redrawn at most every 200 ms;
 * otherwise (logs, pipes, tests) a line is printed each tenth of the way, so logs stay short.
 *
 * <p>The rate counts from the first update and only what was done since: a rollout that finds 990
 * of 1,000 documents compressed before it started is not 990 docs/s. Nor does it count documents
 * done without work, which ingest's unchanged ones are (not sent): "40/40 docs, 30 unchanged  2.0
 * docs/s" is the rate of the 10 sent, as the summary's is of those published. Synchronized; callers on
 * a client library's I/O thread should not write here (a blocked stderr would block it): count
 * there and update from a thread of their own, as {@link IngestRunner} does.
 */
public final class ProgressLine {

    private static final int WIDTH = 30;
    private static final long REDRAW_NANOS = 200_000_000L;

    private final PrintWriter out;
    private final String label;
    private final boolean redraw;
    private final LongSupplier nanoTime;
    private long start;
    /** Documents done with work (not unchanged) at the first update: not counted in the rate. */
    private int firstDone = -1;
    /** When the line was last drawn; meaningless while {@code drawn} is false (no sentinel: now - MIN_VALUE overflows). */
    private long lastDraw;
    private boolean drawn;
    private int lastTenth = -1;
    private int done = -1;
    private int unchanged;

    /** @param label what the documents are (e.g. "compressed"); empty for none */
    public ProgressLine(PrintWriter out, String label, boolean redraw) {
        this(out, label, redraw, System::nanoTime);
    }

    ProgressLine(PrintWriter out, String label, boolean redraw, LongSupplier nanoTime) {
        this.out = out;
        this.label = label;
        this.redraw = redraw;
        this.nanoTime = nanoTime;
    }

    /**
     * A progress line on {@code out}, redrawn when the JVM has a console (stdin and stdout are a
     * terminal: Java cannot ask about stderr alone, so {@code 2>log} on a terminal still redraws).
     */
    public static ProgressLine on(PrintWriter out, String label) {
        return new ProgressLine(out, label, System.console() != null);
    }

    /**
     * {@code done} of {@code total} documents. On a terminal the line is redrawn when due, also
     * with the same count (a count held back by the 200 ms limit shows once due, and the rate
     * follows a stall); in a log a line is printed when a new tenth is reached.
     */
    public void update(int done, int total) {
        update(done, total, 0);
    }

    /**
     * As {@link #update(int, int)}, where {@code unchanged} of the {@code done} documents were done
     * without work (ingest's, not sent): shown beside the count, and left out of the rate.
     */
    public synchronized void update(int done, int total, int unchanged) {
        long now = nanoTime.getAsLong();
        if (firstDone < 0) {
            start = now;
            firstDone = done - unchanged;
        }
        boolean changed = done != this.done;
        this.done = done;
        this.unchanged = unchanged;
        if (redraw) {
            if (!drawn || (changed && done == total) || now - lastDraw >= REDRAW_NANOS) {
                out.print("\r" + line(done, total, now));
                out.flush();
                lastDraw = now;
                drawn = true;
            }
            return;
        }
        int tenth = total == 0 ? 10 : (int) (10L * done / total);
        if (changed && tenth > lastTenth) {
            out.println(line(done, total, now));
            out.flush();
            lastTenth = tenth;
        }
    }

    /** Ends a redrawn line so that what follows starts on its own line. */
    public synchronized void finish() {
        if (redraw && drawn) {
            out.println();
        }
        out.flush();
    }

    private String line(int done, int total, long now) {
        int filled = total == 0 ? WIDTH : (int) ((long) Math.min(done, total) * WIDTH / total);
        double seconds = (now - start) / 1e9;
        double rate = seconds <= 0 ? 0 : (done - unchanged - firstDone) / seconds;
        return String.format(Locale.ROOT, "%s[%s%s] %d/%d docs%s  %.1f docs/s", label.isEmpty() ? "" : label + " ",
                "#".repeat(filled), "-".repeat(WIDTH - filled), done, total,
                unchanged == 0 ? "" : ", " + unchanged + " unchanged", rate);
    }
}
