package dev.sacrag.core.model;

import java.util.Set;

/**
 * How to pick tokens: greedy when {@code temperature} is 0 (the default, as in the paper),
 * otherwise temperature sampling restricted to the top-p nucleus, seeded.
 */
public record GenerationOptions(int maxNewTokens, float temperature, float topP, long seed, Set<Long> stopTokens) {

    public GenerationOptions {
        if (maxNewTokens < 1) {
            throw new IllegalArgumentException("maxNewTokens must be >= 1, was " + maxNewTokens);
        }
        if (!(temperature >= 0) || Float.isInfinite(temperature) || !(topP > 0 && topP <= 1)) {   // NaN fails too
            throw new IllegalArgumentException("need temperature >= 0 and 0 < topP <= 1");
        }
        stopTokens = Set.copyOf(stopTokens);
    }

    public static GenerationOptions greedy(int maxNewTokens, Set<Long> stopTokens) {
        return new GenerationOptions(maxNewTokens, 0f, 1f, 0L, stopTokens);
    }
}
