package dev.sacrag.query.decode;

import java.util.Arrays;
import java.util.function.Function;

/**
 * Incremental detokenization. A byte-level token may end in the middle of a UTF-8 character
 * (the text then ends in U+FFFD), and some decoders change earlier text when more tokens come,
 * so each step decodes all tokens so far and releases only a new suffix of complete text.
 * Decoding a few hundred ids costs microseconds, far below one forward pass.
 */
public final class TokenText {

    private static final char REPLACEMENT = '\uFFFD';

    private final Function<long[], String> decoder;
    private long[] ids = new long[16];
    private int count;
    private String released = "";

    /** @param decoder token ids to text, special tokens dropped */
    public TokenText(Function<long[], String> decoder) {
        this.decoder = decoder;
    }

    /** Adds a token; returns the text it completed (empty while a character is incomplete). */
    public String add(long tokenId) {
        if (count == ids.length) {
            ids = Arrays.copyOf(ids, count * 2);
        }
        ids[count++] = tokenId;
        String text = decode();
        if (text.isEmpty() || text.charAt(text.length() - 1) == REPLACEMENT || !text.startsWith(released)) {
            return "";
        }
        return release(text);
    }

    /** The text still held back when generation ended (usually empty): it ends the answer. */
    public String finish() {
        String text = decode();
        return text.startsWith(released) ? release(text) : "";
    }

    /** Everything released so far: the concatenation of every piece returned. */
    public String text() {
        return released;
    }

    private String release(String text) {
        String piece = text.substring(released.length());
        released = text;
        return piece;
    }

    private String decode() {
        return decoder.apply(Arrays.copyOf(ids, count));
    }
}
