package dev.sacrag.metrics;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;

class DurationsTest {

    @Test
    void showsDurationsAsTheFlagsTakeThem() {
        assertEquals("24h", Durations.shown(Duration.ofHours(24)));
        assertEquals("1h30m", Durations.shown(Duration.ofMinutes(90)));
        assertEquals("30s", Durations.shown(Duration.ofSeconds(30)));
        assertEquals("0s", Durations.shown(Duration.ZERO));
        assertEquals("1500ms", Durations.shown(Duration.ofMillis(1500)));
        assertEquals("-2m", Durations.shown(Duration.ofMinutes(-2)));
        assertEquals("2562047788015215h30m7s", Durations.shown(Duration.ofSeconds(Long.MAX_VALUE)),
                "no overflow: toMillis() of the largest durations does");
    }
}
