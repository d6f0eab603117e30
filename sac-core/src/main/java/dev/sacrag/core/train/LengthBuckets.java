package dev.sacrag.core.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Groups samples by length so a batch pads little: a bucket is chosen with probability
 * proportional to its tokens, then as many of its samples as fit the token budget.
 */
final class LengthBuckets {
    private static final int[] LIMITS = {96, 192, 320, 512, 768, 1152, 1600};
    /** The longest sample kept; longer ones are dropped (and counted). */
    static final int MAX_LENGTH = LIMITS[LIMITS.length - 1];
    private final List<List<TokenSample>> buckets = new ArrayList<>();
    private final long[] tokens = new long[LIMITS.length];
    private int dropped;

    LengthBuckets(List<TokenSample> samples, int maxLength) {
        for (int i = 0; i < LIMITS.length; i++) {
            buckets.add(new ArrayList<>());
        }
        for (TokenSample s : samples) {
            if (s.length() > Math.min(maxLength, MAX_LENGTH) || s.length() < 2) {
                dropped++;
                continue;
            }
            for (int i = 0; i < LIMITS.length; i++) {
                if (s.length() <= LIMITS[i]) {
                    buckets.get(i).add(s);
                    tokens[i] += s.length();
                    break;
                }
            }
        }
    }

    /** Samples left out for their length (over the longest bucket or the model's positions, or under 2). */
    int dropped() {
        return dropped;
    }

    long totalTokens() {
        long t = 0;
        for (long x : tokens) {
            t += x;
        }
        return t;
    }

    /** Samples for one batch of at most {@code budget} padded tokens (at least one sample). */
    List<TokenSample> draw(Random rnd, int budget) {
        long total = totalTokens();
        if (total == 0) {
            throw new IllegalStateException("no training samples fit the length limits");
        }
        long pick = (long) (rnd.nextDouble() * total);
        int b = 0;
        while (pick >= tokens[b]) {
            pick -= tokens[b++];
        }
        List<TokenSample> bucket = buckets.get(b);
        int rows = Math.max(1, budget / LIMITS[b]);
        List<TokenSample> out = new ArrayList<>();
        for (int i = 0; i < rows; i++) {
            out.add(bucket.get(rnd.nextInt(bucket.size())));
        }
        return out;
    }
}
