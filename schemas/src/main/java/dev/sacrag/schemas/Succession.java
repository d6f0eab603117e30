package dev.sacrag.schemas;

import java.util.Objects;

/**
 * How a record of a document stands to the version of it already taken: the one rule the
 * compressor (what it compresses), the query service's retrieval index (what it searches) and
 * the warming commands (what they call live) share, so the three never disagree on which text
 * a document has.
 *
 * <ul>
 * <li>{@link #NEWER}: a higher version replaces the known one;</li>
 * <li>{@link #RESTATED}: the same version with the same text (a replay, or a move to another
 * tenant or a new title) replaces what it says about the document, not the text;</li>
 * <li>{@link #CONFLICTING}: the same version with other text is ignored, the first text of a
 * version stands (a producer reused a version; publish a higher one);</li>
 * <li>{@link #OLDER}: a lower version is ignored.</li>
 * </ul>
 */
public enum Succession {
    NEWER, RESTATED, CONFLICTING, OLDER;

    /**
     * @param contentHash {@link ContentHash} of the record's text
     * @param knownHash   {@link ContentHash} of the known version's text
     */
    public static Succession of(long version, String contentHash, long knownVersion, String knownHash) {
        if (version != knownVersion) {
            return version > knownVersion ? NEWER : OLDER;
        }
        return Objects.equals(contentHash, knownHash) ? RESTATED : CONFLICTING;
    }

    /** Whether the record takes the known version's place. */
    public boolean replaces() {
        return this == NEWER || this == RESTATED;
    }
}
