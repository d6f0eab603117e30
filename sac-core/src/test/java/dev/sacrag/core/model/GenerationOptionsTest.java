package dev.sacrag.core.model;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Set;

import org.junit.jupiter.api.Test;

class GenerationOptionsTest {

    /** NaN compares false with everything, so "temperature < 0" let it through and sampling printed nothing. */
    @Test
    void nanAndInfiniteSamplingSettingsAreRefused() {
        for (float[] bad : new float[][] {{Float.NaN, 1f}, {1f, Float.NaN}, {Float.POSITIVE_INFINITY, 1f}, {-0.5f, 1f},
                {1f, 0f}, {1f, 1.5f}}) {
            assertThrows(IllegalArgumentException.class, () -> new GenerationOptions(4, bad[0], bad[1], 1L, Set.of()),
                    "temperature " + bad[0] + ", top-p " + bad[1]);
        }
        assertDoesNotThrow(() -> new GenerationOptions(4, 0f, 1f, 1L, Set.of()));
        assertDoesNotThrow(() -> new GenerationOptions(4, 0.7f, 0.9f, 1L, Set.of()));
    }
}
