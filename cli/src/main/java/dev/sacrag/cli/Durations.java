package dev.sacrag.cli;

import picocli.CommandLine;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses "90s", "60m", "1h30m" or ISO-8601 ("PT1H") for picocli options. */
final class Durations implements CommandLine.ITypeConverter<Duration> {
    private static final Pattern PART = Pattern.compile("(\\d+)([hms])");

    /** A usage error unless {@code value} of {@code option} is at least {@code min}. */
    static void requireAtLeast(CommandLine.Model.CommandSpec spec, String option, Duration value, Duration min) {
        if (value.compareTo(min) < 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), option + " must be at least "
                    + min.toString().substring(2).toLowerCase(java.util.Locale.ROOT) + ", got " + value);
        }
    }

    /** A usage error unless {@code value} of {@code option} is at most {@code max}. */
    static void requireAtMost(CommandLine.Model.CommandSpec spec, String option, Duration value, Duration max) {
        if (value.compareTo(max) > 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), option + " must be at most "
                    + max.toString().substring(2).toLowerCase(java.util.Locale.ROOT) + ", got " + value);
        }
    }

    @Override
    public Duration convert(String value) {
        if (value.startsWith("P") || value.startsWith("p")) {
            return Duration.parse(value);
        }
        Matcher m = PART.matcher(value.toLowerCase(java.util.Locale.ROOT));
        Duration d = Duration.ZERO;
        int end = 0;
        while (m.find()) {
            if (m.start() != end) {
                break;
            }
            long n = Long.parseLong(m.group(1));
            d = d.plus(switch (m.group(2)) {
                case "h" -> Duration.ofHours(n);
                case "m" -> Duration.ofMinutes(n);
                default -> Duration.ofSeconds(n);
            });
            end = m.end();
        }
        if (end != value.length() || end == 0) {
            throw new CommandLine.TypeConversionException("'" + value + "' is not a duration (e.g. 90s, 60m, 1h30m)");
        }
        return d;
    }
}
