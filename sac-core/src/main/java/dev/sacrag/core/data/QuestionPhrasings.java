package dev.sacrag.core.data;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Which kind of phrasing a synthetic question uses, so held-out scores can be read apart:
 * a phrasing the training data uses, a held-out one, or a held-out one of which the extra
 * training phrasings hold a near copy (the same words reordered or one word swapped; see
 * {@link FactTemplates#HELD_OUT_WITH_NEAR_COPY}).
 */
public final class QuestionPhrasings {
    public enum Kind { TRAINING, HELD_OUT, HELD_OUT_NEAR_COPY, UNKNOWN }

    /** A phrasing ("When was {e} founded?") and its kind. */
    public record Phrasing(String text, Kind kind) { }

    private record Template(Phrasing phrasing, Pattern pattern) { }

    private static final List<Template> TEMPLATES = templates();

    private QuestionPhrasings() {
    }

    public static Kind classify(String question) {
        Phrasing p = phrasing(question);
        return p == null ? Kind.UNKNOWN : p.kind();
    }

    /** The phrasing {@code question} was made from, with its kind, or null when none matches. */
    public static Phrasing phrasing(String question) {
        for (Template t : TEMPLATES) {
            if (t.pattern().matcher(question).matches()) {
                return t.phrasing();
            }
        }
        return null;
    }

    private static List<Template> templates() {
        List<Template> out = new ArrayList<>();
        for (FactTemplates.Relation r : FactTemplates.Relation.values()) {
            for (int i = 0; i < r.questions.size(); i++) {
                String q = r.questions.get(i);
                Kind kind = i < FactTemplates.TRAIN_QUESTIONS ? Kind.TRAINING
                        : FactTemplates.HELD_OUT_WITH_NEAR_COPY.contains(q) ? Kind.HELD_OUT_NEAR_COPY : Kind.HELD_OUT;
                out.add(new Template(new Phrasing(q, kind), pattern(q)));
            }
            for (String q : FactTemplates.EXTRA_TRAIN_QUESTIONS.get(r)) {
                out.add(new Template(new Phrasing(q, Kind.TRAINING), pattern(q)));
            }
        }
        return out;
    }

    private static Pattern pattern(String template) {
        int at = template.indexOf("{e}");
        return Pattern.compile(Pattern.quote(template.substring(0, at)) + ".+" + Pattern.quote(template.substring(at + 3)));
    }
}
