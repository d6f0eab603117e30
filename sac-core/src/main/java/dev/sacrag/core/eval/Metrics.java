package dev.sacrag.core.eval;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Answer scores on a 0-1 scale. Two families, because the paper's numbers use its own:
 * the standard SQuAD/MRQA EM and F1 (normalised text, best over all gold answers), and the
 * paper's "EM" (raw string equality with the first gold answer) and "F1" (ROUGE-1 F against
 * the first gold answer).
 */
public final class Metrics {
    private static final Pattern ARTICLES = Pattern.compile("\\b(a|an|the)\\b");
    /**
     * Python's {@code string.punctuation}, the set the official SQuAD script removes: ASCII only,
     * symbols included ({@code $ + < = > ^ ` | ~}, which {@code \p{P}} would keep), other
     * scripts' punctuation kept.
     */
    private static final Pattern PUNCT = Pattern.compile("[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~]");

    /**
     * Whitespace as Python's {@code str.split()} sees it, Unicode's included: gold answers of
     * real MRQA/SQuAD files hold no-break spaces (U+00A0), which {@code \\s} and {@code trim()}
     * (ASCII only) kept inside a token, so "Paris France" did not match "Paris\u00a0France".
     */
    private static final Pattern SPACE = Pattern.compile("(?U)\\s+");

    /** SQuAD normalisation: lower case, no punctuation, no articles, single spaces. */
    public static String normalize(String s) {
        String t = s.toLowerCase(Locale.ROOT);
        t = PUNCT.matcher(t).replaceAll("");
        t = ARTICLES.matcher(t).replaceAll(" ");
        return String.join(" ", tokens(t));
    }

    public static double squadEm(String prediction, List<String> golds) {
        String p = normalize(prediction);
        return golds.stream().anyMatch(g -> normalize(g).equals(p)) ? 1 : 0;
    }

    public static double squadF1(String prediction, List<String> golds) {
        return golds.stream().mapToDouble(g -> tokenF1(tokens(normalize(prediction)), tokens(normalize(g)))).max().orElse(0);
    }

    /** The paper's EM: the prediction (stripped) equals the first gold answer exactly. */
    public static double paperEm(String prediction, List<String> golds) {
        return prediction.strip().equals(golds.get(0).strip()) ? 1 : 0;
    }

    /** The paper's F1: ROUGE-1 F between lower-cased word tokens of prediction and first gold answer. */
    public static double paperF1(String prediction, List<String> golds) {
        return tokenF1(rougeTokens(prediction), rougeTokens(golds.get(0)));
    }

    private static List<String> rougeTokens(String s) {
        String t = Normalizer.normalize(s, Normalizer.Form.NFKC).toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{N}]+", " ");
        return tokens(t.trim());
    }

    private static List<String> tokens(String s) {
        List<String> out = new ArrayList<>(Arrays.asList(SPACE.split(s)));
        out.removeIf(String::isEmpty);   // a leading separator gives an empty first piece
        return out;
    }

    /** Harmonic mean of unigram precision and recall (multiset overlap). */
    static double tokenF1(List<String> pred, List<String> gold) {
        if (pred.isEmpty() || gold.isEmpty()) {
            return pred.isEmpty() && gold.isEmpty() ? 1 : 0;
        }
        Map<String, Integer> counts = new HashMap<>();
        gold.forEach(g -> counts.merge(g, 1, Integer::sum));
        int common = 0;
        for (String p : pred) {
            Integer c = counts.get(p);
            if (c != null && c > 0) {
                common++;
                counts.put(p, c - 1);
            }
        }
        if (common == 0) {
            return 0;
        }
        double precision = common / (double) pred.size();
        double recall = common / (double) gold.size();
        return 2 * precision * recall / (precision + recall);
    }

    private Metrics() {
    }
}
