package dev.sacrag.metrics;

import java.time.Duration;

/**
 * How a duration reads in what the services and the CLI tell an operator: as their flags take it
 * ("90s", "1500ms", "1h30m"), not as Java prints it ("PT1H30M"), so that a log line's "retrying in
 * 30s" can be set beside the flag that chose it. It lives here because this is the module both
 * services and the CLI share for what an operator reads.
 */
public final class Durations {

    private Durations() {
    }

    /** {@code d} in hours, minutes and seconds, or milliseconds where it has a fraction of a second. */
    public static String shown(Duration d) {
        if (d.isNegative()) {
            return "-" + shown(d.negated());
        }
        long s = d.getSeconds();
        int nanos = d.getNano();
        if (nanos % 1_000_000 == 0 && nanos != 0 && s < Long.MAX_VALUE / 1000) {
            return (s * 1000 + nanos / 1_000_000) + "ms";
        }
        StringBuilder sb = new StringBuilder();
        if (s >= 3600) {
            sb.append(s / 3600).append('h');
            s %= 3600;
        }
        if (s >= 60) {
            sb.append(s / 60).append('m');
            s %= 60;
        }
        if (s > 0 || sb.length() == 0) {
            sb.append(s).append('s');
        }
        return sb.toString();
    }
}
