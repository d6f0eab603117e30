package dev.sacrag.core.sac;

import dev.sacrag.core.text.TextTokenizer;

import java.util.HashMap;
import java.util.Map;

/**
 * Which tokens of a compressor input belong to a word that starts with a capital letter, the cheap
 * stand-in for "a name" (session 18's experiment, eval method {@code sac-names}). {@code sac data
 * names} showed that the decoder reads the token an anchor sits on and little of its neighbours;
 * keeping every token of such a word as an anchor too lets names through, at the cost of the ratio
 * (the evaluation reports tokens per anchor). An adapter trained that way ({@link
 * SacSpec#NAMES_VARIANT}) is compressed that way everywhere, the compressor included ({@code
 * SacEngine.compressTokens}). Not the paper's method, which places anchors uniformly
 * (sac-method.md, step 3): a deviation the user picks by the adapter.
 */
public final class CapitalisedWords {

    private CapitalisedWords() {
    }

    /**
     * The marks of a whole compressor input (context prefix, then the context): the tokens of capitalised words
     * of the context, the first {@code contextStart} tokens never marked. What the {@code sac-names} adapter is
     * trained with ({@code SacTrainer}) and compressed with ({@code SacEngine}).
     */
    public static java.util.function.Function<long[], boolean[]> marker(TextTokenizer tok, int contextStart) {
        Map<Long, String> text = new java.util.concurrent.ConcurrentHashMap<>();   // each id decoded once per run
        return ids -> mask(tok, ids, contextStart, text);
    }

    /**
     * Marks the tokens of {@code ids} from index {@code from} on that belong to a capitalised word. A
     * word starts at a token that begins with anything but a letter (a space, a newline, a hyphen) or
     * follows a token that ends with anything but a letter; only tokens holding a letter are marked.
     */
    public static boolean[] mask(TextTokenizer tok, long[] ids, int from) {
        return mask(tok, ids, from, new HashMap<>());
    }

    private static boolean[] mask(TextTokenizer tok, long[] ids, int from, Map<Long, String> text) {
        boolean[] keep = new boolean[ids.length];
        boolean capitalised = false;
        boolean afterLetter = false;
        for (int i = from; i < ids.length; i++) {
            String t = text.computeIfAbsent(ids[i], id -> tok.decode(new long[] {id}));
            if (t.isEmpty()) {
                afterLetter = false;
                continue;
            }
            if (!afterLetter || !Character.isLetter(t.charAt(0))) {
                String word = t.stripLeading();
                capitalised = !word.isEmpty() && Character.isUpperCase(word.charAt(0));
            }
            keep[i] = capitalised && t.chars().anyMatch(Character::isLetter);
            afterLetter = Character.isLetter(t.charAt(t.length() - 1));
        }
        return keep;
    }
}
