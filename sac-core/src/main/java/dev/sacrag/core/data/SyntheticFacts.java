package dev.sacrag.core.data;

import dev.sacrag.core.data.FactTemplates.Kind;
import dev.sacrag.core.data.FactTemplates.Relation;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * Seeded, deterministic documents about invented people and organisations, with distractor
 * sentences and extractive questions whose answers are spans of the document.
 *
 * <p>Held out from training: entities (a name's hash decides its split, so dev/test names
 * never occur in train), and phrasings (dev/test use the held-out statement and question
 * templates half of the time).
 */
public final class SyntheticFacts {

    public enum Split { TRAIN, DEV, TEST }

    private static final String[] ONSETS = {"b", "br", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s",
            "t", "v", "z", "th", "sh", "kr", "tr", "st", "gl", "dr", "j"};
    private static final String[] VOWELS = {"a", "e", "i", "o", "u", "ai", "ei", "ou", "ya", "io"};
    private static final String[] CODAS = {"", "", "", "n", "r", "l", "s", "m", "th", "nd", "rk", "x"};

    /**
     * How entity and place names are made. {@link #SYLLABLES}: random syllables ("Krundyaxhaven",
     * "Foubraim Taifa"), the data every committed model was trained on. {@link #WORDS}: combinations
     * of given names, family names and place stems ({@link NameParts}: "Clara Voss", "Ashford",
     * "Keller Textiles"). Either way a held-out entity never occurs in training; with words its
     * parts do, as in real documents. Session 16 found that the demo adapter recovers values made
     * of known words about as well as the full context does, but rarely the exact spelling of a
     * syllable name (MODEL_CARD.md, "What sac misses"). {@link #MIXED}: each document draws one of
     * the two, so a model trained on it keeps reading syllable names while it learns word names.
     */
    public enum Names { SYLLABLES, WORDS, MIXED }

    /**
     * What to generate besides the split and seed.
     *
     * @param minChars            with {@code maxChars}: document length drawn uniformly from [minChars, maxChars)
     *                            characters (about 4 a token); 0, 0 keeps the default mix (100-1000 tokens,
     *                            most under 400). Short documents make a curriculum: a small model learns to
     *                            look up and copy facts far sooner when contexts are short.
     * @param trainQuestions      caps the questions of a training context (dev/test ask 4)
     * @param extraTrainPhrasings training documents and questions also use {@link FactTemplates#EXTRA_TRAIN_STATEMENTS}
     *                            and {@link FactTemplates#EXTRA_TRAIN_QUESTIONS}; dev and test are the same either way
     * @param nonceFacts          half of a training document's entities also get a fact about an invented relation
     *                            ({@link FactTemplates#NONCE_FRAMES}), asked with the same nonce verb; dev and test
     *                            are the same either way, and without it the random draws (so the data) are too
     * @param names               how names are made; {@link Names#SYLLABLES} gives the data of earlier versions
     */
    public record Options(int minChars, int maxChars, int trainQuestions, boolean extraTrainPhrasings, boolean nonceFacts,
                          Names names) {
        public Options {
            if (trainQuestions < 1) {
                throw new IllegalArgumentException("questions per training context must be >= 1, got " + trainQuestions);
            }
            if (minChars < 0 || (maxChars == 0 ? minChars != 0 : maxChars <= minChars)) {
                throw new IllegalArgumentException("document length range must be 0, 0 or 0 <= min < max, got "
                        + minChars + ", " + maxChars);
            }
            java.util.Objects.requireNonNull(names, "names");
        }

        public static Options defaults() {
            return new Options(0, 0, Integer.MAX_VALUE, false, false, Names.SYLLABLES);
        }

        public Options lengths(int min, int max) {
            return new Options(min, max, trainQuestions, extraTrainPhrasings, nonceFacts, names);
        }

        public Options trainQuestions(int n) {
            return new Options(minChars, maxChars, n, extraTrainPhrasings, nonceFacts, names);
        }

        public Options extraTrainPhrasings(boolean on) {
            return new Options(minChars, maxChars, trainQuestions, on, nonceFacts, names);
        }

        public Options nonceFacts(boolean on) {
            return new Options(minChars, maxChars, trainQuestions, extraTrainPhrasings, on, names);
        }

        public Options names(Names style) {
            return new Options(minChars, maxChars, trainQuestions, extraTrainPhrasings, nonceFacts, style);
        }
    }

    private final Split split;
    private final Random random;
    private final Options options;
    private final boolean nonceFacts;
    /** The name style of the document being written ({@link Names#MIXED} draws it per document). */
    private boolean wordNames;

    /** Documents of the default mix, syllable names. */
    public SyntheticFacts(Split split, long seed) {
        this(split, seed, Options.defaults());
    }

    public SyntheticFacts(Split split, long seed, Options options) {
        this.split = split;
        this.options = options;
        this.nonceFacts = options.nonceFacts() && split == Split.TRAIN;
        this.random = new Random(seed * 31 + split.ordinal());
    }

    /** {@code count} documents. */
    public List<MrqaRecord> generate(int count) {
        List<MrqaRecord> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            out.add(document(split.name().toLowerCase() + "-" + i));
        }
        return out;
    }

    /** A fact of a known relation ({@code statement} and {@code question} null: drawn from its
     *  templates) or of an invented one (both given, with the nonce verb in place). */
    private record Fact(String entity, Relation relation, String value, String statement, String question) {
        Fact(String entity, Relation relation, String value) {
            this(entity, relation, value, null, null);
        }
    }

    private MrqaRecord document(String id) {
        wordNames = options.names() == Names.WORDS || (options.names() == Names.MIXED && random.nextBoolean());
        int minChars = options.minChars();
        int maxChars = options.maxChars();
        int targetChars = maxChars > minChars ? minChars + random.nextInt(maxChars - minChars)
                : random.nextDouble() < 0.8 ? 400 + random.nextInt(1200) : 1600 + random.nextInt(2400);
        List<String> people = new ArrayList<>();
        List<String> orgs = new ArrayList<>();
        Set<String> used = new HashSet<>();
        List<List<Fact>> blocks = new ArrayList<>();
        int chars = 0;
        while (chars < targetChars || blocks.isEmpty()) {
            boolean person = orgs.size() >= 2 || random.nextDouble() < 0.65;
            String name = person ? personName(used) : orgName(used);
            (person ? people : orgs).add(name);
            List<Fact> facts = new ArrayList<>();
            for (Relation r : Relation.values()) {
                if ((r.kind == Kind.PERSON) == person && random.nextDouble() < 0.8) {
                    facts.add(new Fact(name, r, value(r, orgs)));
                }
            }
            if (facts.isEmpty()) {
                Relation r = person ? Relation.LIVES_IN : Relation.BASED_IN;
                facts.add(new Fact(name, r, value(r, orgs)));
            }
            if (nonceFacts && random.nextBoolean()) {
                facts.add(nonceFact(name, orgs));
            }
            blocks.add(facts);
            chars += facts.size() * 45 + 120;
        }
        StringBuilder text = new StringBuilder();
        Map<Fact, int[]> spans = new LinkedHashMap<>();
        for (List<Fact> block : blocks) {
            for (Fact f : block) {
                appendFact(text, f, spans);
                if (random.nextDouble() < 0.6) {
                    appendSentence(text, distractor());
                }
            }
            if (random.nextDouble() < 0.5) {
                appendSentence(text, distractor());
            }
            text.append("\n");
        }
        String context = text.toString().trim();
        List<Fact> facts = new ArrayList<>(spans.keySet());
        java.util.Collections.shuffle(facts, random);
        List<MrqaRecord.Qa> qas = new ArrayList<>();
        for (int q = 0; q < Math.min(questionsPerContext(), facts.size()); q++) {
            Fact f = facts.get(q);
            int[] span = spans.get(f);
            String question = (f.question != null ? f.question : pick(f.relation.questions, FactTemplates.TRAIN_QUESTIONS,
                    FactTemplates.EXTRA_TRAIN_QUESTIONS.get(f.relation))).replace("{e}", f.entity);
            qas.add(new MrqaRecord.Qa(id + "-q" + q, question, List.of(f.value),
                    List.of(new MrqaRecord.Span(f.value, span[0], span[1]))));
        }
        return new MrqaRecord(id, context, qas);
    }

    /**
     * Training asks about every fact of a context: the answer tokens are the only signal that
     * teaches a small model to bind a question's entity and relation to the right span, and a
     * context costs the same to read whether 4 or 15 questions follow it. Dev and test ask 4,
     * like a reading-comprehension set. (The committed demo base was trained on 4 a context.)
     */
    private int questionsPerContext() {
        return split == Split.TRAIN ? options.trainQuestions() : 4;
    }

    private void appendFact(StringBuilder text, Fact f, Map<Fact, int[]> spans) {
        String t = f.statement != null ? f.statement : pick(f.relation.statements, FactTemplates.TRAIN_STATEMENTS,
                FactTemplates.EXTRA_TRAIN_STATEMENTS.get(f.relation));
        String sentence = capitalise(t.replace("{e}", f.entity));
        int valueAt = sentence.indexOf("{v}");
        int start = text.length() + (text.length() == 0 || text.charAt(text.length() - 1) == '\n' ? 0 : 1) + valueAt;
        appendSentence(text, sentence.replace("{v}", f.value));
        spans.put(f, new int[] {start, start + f.value.length() - 1});
    }

    private static void appendSentence(StringBuilder text, String s) {
        if (text.length() > 0 && text.charAt(text.length() - 1) != '\n') {
            text.append(' ');
        }
        text.append(s);
    }

    /**
     * Train uses only the training templates (and the extra training phrasings when asked);
     * dev/test use the held-out ones half of the time.
     */
    private String pick(List<String> templates, int trainCount, List<String> extraTrain) {
        if (split == Split.TRAIN && options.extraTrainPhrasings()) {
            int i = random.nextInt(trainCount + extraTrain.size());
            return i < trainCount ? templates.get(i) : extraTrain.get(i - trainCount);
        }
        if (split == Split.TRAIN || random.nextBoolean()) {
            return templates.get(random.nextInt(trainCount));
        }
        return templates.get(trainCount + random.nextInt(templates.size() - trainCount));
    }

    /** A fact about an invented relation: a nonce verb, one frame's statement and question, a value of its kind. */
    private Fact nonceFact(String entity, List<String> orgs) {
        String verb = word(2);
        FactTemplates.NonceFrame frame = FactTemplates.NONCE_FRAMES.get(random.nextInt(FactTemplates.NONCE_FRAMES.size()));
        String statement = frame.statements().get(random.nextInt(frame.statements().size())).replace("{w}", verb);
        String question = frame.questions().get(random.nextInt(frame.questions().size())).replace("{w}", verb);
        return new Fact(entity, null, value(frame.valuesOf(), orgs), statement, question);
    }

    private String value(Relation r, List<String> orgs) {
        return switch (r) {
            case LIVES_IN, BASED_IN -> city();
            case BORN_IN -> String.valueOf(1920 + random.nextInt(85));
            case FOUNDED_IN -> String.valueOf(1850 + random.nextInt(170));
            case FIELD -> FactTemplates.FIELDS.get(random.nextInt(FactTemplates.FIELDS.size()));
            case WORKS_FOR -> !orgs.isEmpty() && random.nextBoolean() ? orgs.get(random.nextInt(orgs.size()))
                    : orgName(new HashSet<>());
        };
    }

    private String distractor() {
        String d = FactTemplates.DISTRACTORS.get(random.nextInt(FactTemplates.DISTRACTORS.size()));
        return d.replace("{city}", city()).replace("{year}", String.valueOf(1850 + random.nextInt(170)))
                .replace("{org}", orgName(new HashSet<>()));
    }

    private String city() {
        if (wordNames) {   // held out by its hash, as entities are
            return draw(() -> oneOf(NameParts.PLACE_STEMS) + oneOf(FactTemplates.CITY_SUFFIXES), null);
        }
        return capitalise(word(1 + random.nextInt(2)))
                + FactTemplates.CITY_SUFFIXES.get(random.nextInt(FactTemplates.CITY_SUFFIXES.size()));
    }

    /** A full name belonging to this split (names of other splits are rejected and redrawn). */
    private String personName(Set<String> used) {
        return draw(() -> wordNames ? oneOf(NameParts.GIVEN) + " " + oneOf(NameParts.FAMILY)
                : capitalise(word(2)) + " " + capitalise(word(2 + random.nextInt(2))), used);
    }

    /** An organisation of this split; with word names its first word is a family name or a city of this split. */
    private String orgName(Set<String> used) {
        return draw(() -> (wordNames ? (random.nextBoolean() ? oneOf(NameParts.FAMILY) : city()) : capitalise(word(2)))
                + " " + FactTemplates.ORG_SUFFIXES.get(random.nextInt(FactTemplates.ORG_SUFFIXES.size())), used);
    }

    private static final int MAX_DRAWS = 100_000;

    /** The first name {@code make} draws that belongs to this split and (given {@code used}) is new to the document. */
    private String draw(java.util.function.Supplier<String> make, Set<String> used) {
        for (int i = 0; i < MAX_DRAWS; i++) {
            String n = make.get();
            if (splitOf(n) == split && (used == null || used.add(n))) {
                return n;
            }
        }
        throw new IllegalStateException("no new " + split + " name in " + MAX_DRAWS + " draws: the document needs more names"
                + " than the " + options.names().name().toLowerCase(java.util.Locale.ROOT) + " style gives its split");
    }

    private String oneOf(List<String> parts) {
        return parts.get(random.nextInt(parts.size()));
    }

    /** 80/10/10 by a hash of the name: an entity belongs to exactly one split. */
    static Split splitOf(String name) {
        int h = Math.floorMod(name.hashCode() * 0x9E3779B1, 10);
        return h == 0 ? Split.TEST : h == 1 ? Split.DEV : Split.TRAIN;
    }

    private String word(int syllables) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < syllables; i++) {
            sb.append(ONSETS[random.nextInt(ONSETS.length)]).append(VOWELS[random.nextInt(VOWELS.length)]);
            if (i == syllables - 1 || random.nextDouble() < 0.3) {
                sb.append(CODAS[random.nextInt(CODAS.length)]);
            }
        }
        return sb.toString();
    }

    private static String capitalise(String s) {
        return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }
}
