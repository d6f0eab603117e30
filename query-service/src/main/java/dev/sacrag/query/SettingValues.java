package dev.sacrag.query;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads typed setting values from flags, then environment, then defaults; failures name the setting. */
final class SettingValues {

    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)");
    private static final Pattern BYTES = Pattern.compile("(\\d+)([kmg]?)b?");

    private final Map<String, String> flags;
    private final Map<String, String> env;

    SettingValues(Map<String, String> flags, Map<String, String> env) {
        this.flags = flags;
        this.env = env;
    }

    /** The value given, trimmed; empty when neither flag, environment nor default gives one. */
    Optional<String> raw(QuerySetting s) {
        String v = flags.get(s.flag());
        if (v == null) {
            v = env.get(s.env());
        }
        if (v == null) {
            v = s.defaultValue();
        }
        return v.isBlank() ? Optional.empty() : Optional.of(v.trim());
    }

    String text(QuerySetting s) {
        return raw(s).orElseThrow(() -> new ConfigException(s, "a value is required"));
    }

    int integer(QuerySetting s, int min, int max) {
        String v = text(s);
        try {
            int n = Integer.parseInt(v);
            if (n < min || n > max) {
                throw new ConfigException(s, "must be between " + min + " and " + max + ", got " + n);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new ConfigException(s, "'" + v + "' is not a whole number");
        }
    }

    /** "500ms", "30s", "2m", "1h" or ISO-8601 ("PT1M"); must be positive. */
    Duration duration(QuerySetting s) {
        Duration d = durationOrZero(s);
        if (d.isZero()) {
            throw new ConfigException(s, "must be positive, got " + text(s));
        }
        return d;
    }

    /** As {@link #duration}, but zero ("0", "0ms") is allowed. */
    Duration durationOrZero(QuerySetting s) {
        if (text(s).strip().equals("0")) {
            return Duration.ZERO;
        }
        String v = text(s).toLowerCase(Locale.ROOT);
        Duration d;
        Matcher m = DURATION.matcher(v);
        if (m.matches()) {
            try {
                long n = Long.parseLong(m.group(1));
                d = switch (m.group(2)) {
                    case "ms" -> Duration.ofMillis(n);
                    case "s" -> Duration.ofSeconds(n);
                    case "m" -> Duration.ofMinutes(n);
                    default -> Duration.ofHours(n);
                };
            } catch (NumberFormatException | ArithmeticException e) {
                throw new ConfigException(s, "'" + v + "' is too long (at most " + MAX_DURATION.toDays() + " days)");
            }
        } else {
            try {
                d = Duration.parse(v.toUpperCase(Locale.ROOT));
            } catch (DateTimeParseException e) {
                throw new ConfigException(s, "'" + v + "' is not a duration (e.g. 500ms, 30s, 2m, 1h, PT1M)");
            }
        }
        if (d.isNegative()) {
            throw new ConfigException(s, "must not be negative, got " + v);
        }
        if (d.compareTo(MAX_DURATION) > 0) {
            // a deadline of 3,000,000 h was accepted, then every call failed: its nanoseconds overflow
            throw new ConfigException(s, "'" + v + "' is too long (at most " + MAX_DURATION.toDays() + " days)");
        }
        return d;
    }

    /** The longest duration any setting takes: far beyond any use, far below what overflows in nanoseconds. */
    static final Duration MAX_DURATION = Duration.ofDays(365);

    /** A byte count: "1048576", "64k", "512m", "2g" (binary multiples). */
    long bytes(QuerySetting s) {
        String v = text(s).toLowerCase(Locale.ROOT);
        Matcher m = BYTES.matcher(v);
        if (!m.matches()) {
            throw new ConfigException(s, "'" + v + "' is not a byte size (e.g. 0, 65536, 64k, 512m, 2g)");
        }
        int shift = switch (m.group(2)) {
            case "k" -> 10;
            case "m" -> 20;
            case "g" -> 30;
            default -> 0;
        };
        try {
            long n = Long.parseLong(m.group(1));
            if (n > Long.MAX_VALUE >> shift) {
                throw new ConfigException(s, "'" + v + "' is too large");
            }
            return n << shift;
        } catch (NumberFormatException e) {
            throw new ConfigException(s, "'" + v + "' is too large");
        }
    }

    boolean bool(QuerySetting s) {
        String v = text(s).toLowerCase(Locale.ROOT);
        return switch (v) {
            case "true", "yes", "on", "1" -> true;
            case "false", "no", "off", "0" -> false;
            default -> throw new ConfigException(s, "'" + v + "' is not true or false");
        };
    }

    Path directory(QuerySetting s, String value) {
        try {
            Path p = Path.of(value);
            if (!Files.isDirectory(p)) {
                throw new ConfigException(s, "no such folder: " + p.toAbsolutePath());
            }
            return p;
        } catch (InvalidPathException e) {
            throw new ConfigException(s, "'" + value + "' is not a path: " + e.getReason());
        }
    }
}
