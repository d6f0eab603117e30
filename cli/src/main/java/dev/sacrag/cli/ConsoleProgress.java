package dev.sacrag.cli;

import dev.sacrag.core.train.TrainingListener;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;

/**
 * A one-line progress bar on stderr (redrawn at most twice a second) plus, optionally, one
 * JSON line per {@code logEvery} steps in a log file that survives the session.
 */
final class ConsoleProgress implements TrainingListener {
    private final PrintStream err = System.err;
    private final Path log;
    private final int logEvery;
    private long lastDraw;
    private double smoothLoss = Double.NaN;

    ConsoleProgress(Path log, int logEvery) {
        this.log = log;
        this.logEvery = logEvery;
    }

    @Override
    public void onStep(Step s) {
        smoothLoss = Double.isNaN(smoothLoss) ? s.loss() : 0.95 * smoothLoss + 0.05 * s.loss();
        long now = System.nanoTime();
        if (now - lastDraw > 500_000_000L || s.step() == s.totalSteps()) {
            lastDraw = now;
            int width = 30;
            int filled = (int) (width * s.step() / Math.max(1, s.totalSteps()));
            err.printf(Locale.ROOT, "\r%s [%s%s] %d/%d loss %.3f  %.0f tok/s  lr %.1e  %s elapsed, ETA %s   ",
                    s.stage(), "#".repeat(filled), ".".repeat(width - filled), s.step(), s.totalSteps(), smoothLoss,
                    s.tokensPerSecond(), s.lr(), clock(s.elapsedSeconds()), clock(s.etaSeconds()));
            err.flush();
        }
        if (log != null && s.step() % logEvery == 0) {
            write(String.format(Locale.ROOT,
                    "{\"stage\":\"%s\",\"step\":%d,\"loss\":%s,\"smooth_loss\":%s,\"tok_s\":%.1f,\"elapsed_s\":%.1f,\"lr\":%.3e}%n",
                    s.stage(), s.step(), json(s.loss(), "%.5f"), json(smoothLoss, "%.5f"), s.tokensPerSecond(),
                    s.elapsedSeconds(), s.lr()));
        }
    }

    /** A number as JSON: a non-finite loss (a step that diverged) is null, since NaN is not JSON. */
    static String json(double v, String format) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, format, v) : "null";
    }

    @Override
    public void onMessage(String message) {
        err.println();
        err.println(message);
        if (log != null) {
            write("{\"message\":\"" + message.replace("\\", "\\\\").replace("\"", "'") + "\"}\n");
        }
    }

    private void write(String line) {
        try {
            Files.writeString(log, line, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to training log " + log, e);
        }
    }

    static String clock(double seconds) {
        long s = Math.max(0, Math.round(seconds));
        return String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
    }
}
