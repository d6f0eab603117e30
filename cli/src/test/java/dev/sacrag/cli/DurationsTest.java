package dev.sacrag.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One syntax for every command's durations, and messages in that syntax. */
class DurationsTest {

    private final Durations d = new Durations();

    @Test
    void readsSecondsMinutesHoursMillisecondsAndIso() {
        assertEquals(Duration.ofMillis(500), d.convert("500ms"));
        assertEquals(Duration.ofMinutes(90), d.convert("1h30m"));
        assertEquals(Duration.ofSeconds(61).plusMillis(5), d.convert("1m1s5ms"));
        assertEquals(Duration.ofHours(1), d.convert("PT1H"));
        assertEquals(Duration.ZERO, d.convert("0s"));
    }

    @Test
    void refusesWhatIsNotADurationInItsOwnWords() {
        assertTrue(assertThrows(CommandLine.TypeConversionException.class, () -> d.convert("-1s")).getMessage()
                .contains("a duration cannot be negative"));
        assertTrue(assertThrows(CommandLine.TypeConversionException.class, () -> d.convert("5")).getMessage()
                .contains("'5' is not a duration (e.g. 90s, 60m, 1h30m, 500ms)"));
        assertTrue(assertThrows(CommandLine.TypeConversionException.class, () -> d.convert("PT-5S")).getMessage()
                .contains("a duration cannot be negative"), "ISO negatives too");
        assertTrue(assertThrows(CommandLine.TypeConversionException.class, () -> d.convert("99999999999999999999s"))
                .getMessage().contains("too long a duration"));
        String iso = assertThrows(CommandLine.TypeConversionException.class, () -> d.convert("Pxx")).getMessage();
        assertTrue(iso.contains("'Pxx' is not a duration") && !iso.contains("DateTimeParseException"), iso);
    }
}
