package dev.sacrag.core.train;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StepRandomTest {
    @Test
    void firstDrawsOfConsecutiveStepsAreSpreadOverTheUnitInterval() {
        int[] deciles = new int[10];
        for (long step = 0; step < 3000; step++) {
            deciles[(int) (StepRandom.of(1, step).nextDouble() * 10)]++;
        }
        for (int d : deciles) {
            assertTrue(d > 240 && d < 360, "3000 first draws per decile: " + java.util.Arrays.toString(deciles));
        }
    }

    @Test
    void theSameSeedAndStepGiveTheSameDrawsAndAnotherStepOrSeedOthers() {
        long draw = StepRandom.of(5, 77).nextLong();
        assertEquals(draw, StepRandom.of(5, 77).nextLong());
        assertNotEquals(draw, StepRandom.of(5, 78).nextLong(), "the step counts");
        assertNotEquals(draw, StepRandom.of(6, 77).nextLong(), "the seed counts");
        assertNotEquals(StepRandom.of(5, 78).nextLong(), StepRandom.of(6, 77).nextLong(), "seed and step are not summed");
    }
}
