package dev.sacrag.core.train;

/**
 * A training sequence: tokens and a loss weight per position. weight[i] scales the loss of
 * predicting tokens[i + 1] from tokens[..i]; the last weight is unused.
 */
public record TokenSample(long[] tokens, float[] weights) {
    public int length() {
        return tokens.length;
    }
}
