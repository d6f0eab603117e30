package dev.sacrag.core.eval;

import java.util.Arrays;
import java.util.Random;

/**
 * 95% bootstrap intervals for scores of questions that come in groups (the questions of one
 * context are not independent: a context the model cannot read fails all of them). Contexts
 * are resampled with replacement, each draw bringing all its questions; 2,000 draws with a
 * fixed seed, so a report is reproducible. A difference between two methods is resampled in
 * pairs (the same contexts for both), which is what makes a small difference on the same
 * questions meaningful.
 */
public final class Bootstrap {

    /** A point estimate and its 95% interval (percentile method), on the scale of the scores. */
    public record Interval(double value, double low, double high) { }

    static final int DRAWS = 2_000;
    private static final long SEED = 17;

    private Bootstrap() {
    }

    /** Mean of {@code scores} (question i belongs to context {@code context[i]}) with its interval. */
    public static Interval mean(double[] scores, int[] context) {
        return difference(scores, new double[scores.length], context);
    }

    /** Mean of {@code a[i] - b[i]} over the same questions, with its interval. */
    public static Interval difference(double[] a, double[] b, int[] context) {
        if (a.length != b.length || a.length != context.length || a.length == 0) {
            throw new IllegalArgumentException("need the same non-empty questions: " + a.length + ", " + b.length
                    + ", " + context.length);
        }
        int groups = Arrays.stream(context).max().orElseThrow() + 1;
        double[] sum = new double[groups];
        int[] count = new int[groups];
        double total = 0;
        for (int i = 0; i < a.length; i++) {
            double d = a[i] - b[i];
            sum[context[i]] += d;
            count[context[i]]++;
            total += d;
        }
        Random random = new Random(SEED);
        double[] draws = new double[DRAWS];
        for (int k = 0; k < DRAWS; k++) {
            double s = 0;
            long n = 0;
            for (int g = 0; g < groups; g++) {
                int pick = random.nextInt(groups);
                s += sum[pick];
                n += count[pick];
            }
            draws[k] = n == 0 ? 0 : s / n;
        }
        return interval(total / a.length, draws);
    }

    /**
     * {@code sum(num) / sum(den)} over the same items, each its own group (e.g. texts), with its
     * interval: an item is drawn with both its numerator and its denominator.
     */
    public static Interval ratioOfMeans(double[] num, double[] den) {
        if (num.length != den.length || num.length == 0) {
            throw new IllegalArgumentException("need the same non-empty items: " + num.length + ", " + den.length);
        }
        Random random = new Random(SEED);
        double[] draws = new double[DRAWS];
        for (int k = 0; k < DRAWS; k++) {
            double n = 0;
            double d = 0;
            for (int i = 0; i < num.length; i++) {
                int pick = random.nextInt(num.length);
                n += num[pick];
                d += den[pick];
            }
            draws[k] = n / d;
        }
        return interval(Arrays.stream(num).sum() / Arrays.stream(den).sum(), draws);
    }

    /** The 95% percentile interval of {@code draws} (sorted here) around {@code value}. */
    private static Interval interval(double value, double[] draws) {
        Arrays.sort(draws);
        return new Interval(value, draws[(int) (0.025 * DRAWS)], draws[(int) (0.975 * DRAWS) - 1]);
    }
}
