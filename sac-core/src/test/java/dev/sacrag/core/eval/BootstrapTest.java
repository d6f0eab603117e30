package dev.sacrag.core.eval;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BootstrapTest {

    /** Four questions a context, as in the synthetic test split. */
    private static int[] contexts(int questions) {
        int[] c = new int[questions];
        for (int i = 0; i < questions; i++) {
            c[i] = i / 4;
        }
        return c;
    }

    @Test
    void aConstantScoreHasNoSpread() {
        double[] all = new double[40];
        java.util.Arrays.fill(all, 100);
        Bootstrap.Interval i = Bootstrap.mean(all, contexts(40));
        assertEquals(new Bootstrap.Interval(100, 100, 100), i);
    }

    @Test
    void theIntervalHoldsTheMeanAndNarrowsWithMoreContexts() {
        java.util.Random r = new java.util.Random(3);
        double[] small = new double[40];
        double[] large = new double[400];
        for (int i = 0; i < large.length; i++) {
            large[i] = r.nextDouble() < 0.3 ? 100 : 0;
            if (i < small.length) {
                small[i] = large[i];
            }
        }
        Bootstrap.Interval s = Bootstrap.mean(small, contexts(40));
        Bootstrap.Interval l = Bootstrap.mean(large, contexts(400));
        assertTrue(s.low() < s.value() && s.value() < s.high(), s.toString());
        assertTrue(l.low() < l.value() && l.value() < l.high(), l.toString());
        assertTrue(l.high() - l.low() < 0.6 * (s.high() - s.low()), s + " vs " + l);
        // about +-4.5 points for 400 independent questions at 30 %: the width is of that order
        assertTrue(l.high() - l.low() > 5 && l.high() - l.low() < 15, l.toString());
    }

    @Test
    void clusteredQuestionsWidenTheInterval() {
        // the same 50 % score, once spread inside every context, once all-or-nothing per context
        double[] spread = new double[400];
        double[] clustered = new double[400];
        for (int i = 0; i < 400; i++) {
            spread[i] = i % 2 == 0 ? 100 : 0;
            clustered[i] = (i / 4) % 2 == 0 ? 100 : 0;
        }
        Bootstrap.Interval s = Bootstrap.mean(spread, contexts(400));
        Bootstrap.Interval c = Bootstrap.mean(clustered, contexts(400));
        assertEquals(50, s.value(), 1e-9);
        assertEquals(50, c.value(), 1e-9);
        assertEquals(new Bootstrap.Interval(50, 50, 50), s);   // every context scores 50 %: nothing to resample
        assertTrue(c.high() - c.low() > 10, c.toString());
    }

    @Test
    void aPairedDifferenceSeesThroughNoisyScores() {
        // b varies wildly between contexts; a is b plus 10 points on every question
        java.util.Random r = new java.util.Random(5);
        double[] a = new double[200];
        double[] b = new double[200];
        for (int i = 0; i < b.length; i++) {
            b[i] = (i / 4) % 3 == 0 ? 0 : 80 * r.nextDouble();
            a[i] = b[i] + 10;
        }
        assertEquals(new Bootstrap.Interval(10, 10, 10), round(Bootstrap.difference(a, b, contexts(200))));
        Bootstrap.Interval alone = Bootstrap.mean(a, contexts(200));
        assertTrue(alone.high() - alone.low() > 10, "unpaired, the same 10 points would drown: " + alone);
    }

    @Test
    void aRatioOfMeansResamplesEachItemWithBothItsParts() {
        // every item at the same ratio: no spread, whatever the sizes
        assertEquals(new Bootstrap.Interval(0.5, 0.5, 0.5),
                round(Bootstrap.ratioOfMeans(new double[] {1, 2, 3, 4}, new double[] {2, 4, 6, 8})));
        double[] num = new double[200];
        double[] den = new double[200];
        java.util.Random r = new java.util.Random(5);
        for (int i = 0; i < num.length; i++) {
            den[i] = 1 + r.nextDouble();
            num[i] = 0.3 * den[i] + 0.2 * r.nextGaussian();
        }
        Bootstrap.Interval i = Bootstrap.ratioOfMeans(num, den);
        assertTrue(i.low() < i.value() && i.value() < i.high() && i.high() - i.low() < 0.2, i.toString());
        assertThrows(IllegalArgumentException.class, () -> Bootstrap.ratioOfMeans(new double[2], new double[3]));
    }

    @Test
    void mismatchedInputsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Bootstrap.difference(new double[2], new double[3], new int[2]));
        assertThrows(IllegalArgumentException.class, () -> Bootstrap.mean(new double[0], new int[0]));
    }

    private static Bootstrap.Interval round(Bootstrap.Interval i) {
        return new Bootstrap.Interval(Math.round(i.value() * 1e9) / 1e9, Math.round(i.low() * 1e9) / 1e9,
                Math.round(i.high() * 1e9) / 1e9);
    }
}
