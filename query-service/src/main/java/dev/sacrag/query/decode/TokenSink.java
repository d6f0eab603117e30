package dev.sacrag.query.decode;

/**
 * Receives an answer as it is generated, one piece per token. A sink may throw to stop the
 * generation (the caller went away); the exception reaches whoever awaits the answer.
 */
@FunctionalInterface
public interface TokenSink {

    /**
     * @param tokenId the generated token, or {@link Answer#NO_TOKEN} for text held back until the end
     * @param text the text this token completed; may be empty while a multi-byte character is
     *     still incomplete. Concatenating every piece gives {@link Answer#text()}.
     */
    void accept(int tokenId, String text);
}
