package dev.sacrag.cli;

import picocli.CommandLine;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses "90s", "60m", "1h30m", "500ms" or ISO-8601 ("PT1H") for picocli options: one syntax for
 * every command's durations (timeouts, deadlines, intervals).
 */
final class Durations implements CommandLine.ITypeConverter<Duration> {
    private static final Pattern PART = Pattern.compile("(\\d+)(ms|h|m|s)");
    private static final String EXAMPLES = "e.g. 90s, 60m, 1h30m, 500ms";

    /** A duration as the options take it ("90s", "1h30m", "500ms", "0s"), not Java's "PT1H30M". */
    static String shown(Duration d) {
        return dev.sacrag.metrics.Durations.shown(d);   // one format for the services' messages and the CLI's
    }

    /**
     * A command's --timeout, which bounds a broker's first answer too: under a second, a broker that
     * runs reads as absent ("no broker at ... answered within 0s"), so it is a usage error.
     */
    static void requireTimeout(CommandLine.Model.CommandSpec spec, Duration timeout) {
        requireAtLeast(spec, "--timeout", timeout, Duration.ofSeconds(1));
    }

    /** A usage error unless {@code value} of {@code option} is at least {@code min}. */
    static void requireAtLeast(CommandLine.Model.CommandSpec spec, String option, Duration value, Duration min) {
        if (value.compareTo(min) < 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), option + " must be at least " + shown(min)
                    + ", got " + shown(value));
        }
    }

    /** A usage error unless {@code value} of {@code option} is at most {@code max}. */
    static void requireAtMost(CommandLine.Model.CommandSpec spec, String option, Duration value, Duration max) {
        if (value.compareTo(max) > 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), option + " must be at most " + shown(max)
                    + ", got " + shown(value));
        }
    }

    @Override
    public Duration convert(String value) {
        if (value.startsWith("P") || value.startsWith("p")) {
            Duration iso;
            try {
                iso = Duration.parse(value);
            } catch (java.time.format.DateTimeParseException e) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not a duration (" + EXAMPLES + ")");
            }
            if (iso.isNegative()) {
                throw new CommandLine.TypeConversionException("'" + value + "': a duration cannot be negative (" + EXAMPLES + ")");
            }
            return iso;
        }
        if (value.startsWith("-")) {
            throw new CommandLine.TypeConversionException("'" + value + "': a duration cannot be negative (" + EXAMPLES + ")");
        }
        Matcher m = PART.matcher(value.toLowerCase(java.util.Locale.ROOT));
        Duration d = Duration.ZERO;
        int end = 0;
        while (m.find()) {
            if (m.start() != end) {
                break;
            }
            try {
                long n = Long.parseLong(m.group(1));
                d = d.plus(switch (m.group(2)) {
                    case "h" -> Duration.ofHours(n);
                    case "m" -> Duration.ofMinutes(n);
                    case "ms" -> Duration.ofMillis(n);
                    default -> Duration.ofSeconds(n);
                });
            } catch (NumberFormatException | ArithmeticException tooLarge) {
                throw new CommandLine.TypeConversionException("'" + value + "' is too long a duration (" + EXAMPLES + ")");
            }
            end = m.end();
        }
        if (end != value.length() || end == 0) {
            throw new CommandLine.TypeConversionException("'" + value + "' is not a duration (" + EXAMPLES + ")");
        }
        return d;
    }
}
