package dev.sacrag.core.data;

import java.util.regex.Pattern;

/**
 * What kind of value a synthetic question's gold answer is, so a method's misses can be read
 * apart: a year (four digits), a field of study (one of {@link FactTemplates#FIELDS}, a closed
 * set every split shares), or a name (a person's employer, a city, an organisation: invented,
 * and for dev and test never seen in training). Session 16 found that the demo adapter gets
 * years partly and fields mostly right but almost never a name (MODEL_CARD.md, "What sac misses").
 */
public final class AnswerKinds {
    public enum Kind { YEAR, FIELD, NAME }

    private static final Pattern YEAR = Pattern.compile("\\d{4}");

    private AnswerKinds() {
    }

    public static Kind classify(String gold) {
        String g = gold.strip();
        return YEAR.matcher(g).matches() ? Kind.YEAR : FactTemplates.FIELDS.contains(g) ? Kind.FIELD : Kind.NAME;
    }
}
