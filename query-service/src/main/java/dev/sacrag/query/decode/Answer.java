package dev.sacrag.query.decode;

/**
 * A generated answer.
 *
 * @param tokens tokens generated (the stop token excluded)
 * @param stopped whether a stop token ended it (else the token limit did)
 */
public record Answer(String text, int tokens, boolean stopped) {

    /** Token id of a final piece that carries text held back at the end, not a new token. */
    public static final int NO_TOKEN = -1;
}
