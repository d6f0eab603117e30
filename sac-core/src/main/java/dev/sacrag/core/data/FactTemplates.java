package dev.sacrag.core.data;

import java.util.List;

/**
 * Phrasings of the synthetic facts and their questions. For each relation the first
 * {@code TRAIN_*} statements and questions are used in training; the rest are held out and
 * appear only in dev/test, so the score measures reading rather than memorised templates.
 * "{e}" is the entity, "{v}" the answer value.
 */
final class FactTemplates {
    static final int TRAIN_STATEMENTS = 4;
    static final int TRAIN_QUESTIONS = 3;

    enum Kind { PERSON, ORG }

    enum Relation {
        LIVES_IN(Kind.PERSON, List.of(
                "{e} lives in {v}.", "{e} has lived in {v} for many years.", "These days {e} makes a home in {v}.",
                "{e} moved to {v} and stayed there.",
                "{e} resides in the city of {v}.", "The hometown of {e} is {v}."), List.of(
                "Where does {e} live?", "In which city does {e} live?", "What city is the home of {e}?",
                "Which city is home to {e}?", "Where is {e} living now?")),
        BORN_IN(Kind.PERSON, List.of(
                "{e} was born in {v}.", "{e} came into the world in {v}.", "The year {e} was born was {v}.",
                "Records show that {e} was born in {v}.",
                "The birth of {e} took place in {v}.", "In {v}, {e} was born."), List.of(
                "When was {e} born?", "In what year was {e} born?", "What is the birth year of {e}?",
                "Which year was {e} born in?", "What year did {e} come into the world?")),
        WORKS_FOR(Kind.PERSON, List.of(
                "{e} works for {v}.", "{e} is employed by {v}.", "{e} took a job at {v}.",
                "At {v}, {e} is on the staff.",
                "{e} earns a living at {v}.", "The employer of {e} is {v}."), List.of(
                "Who does {e} work for?", "Which organisation employs {e}?", "Where does {e} have a job?",
                "What is the employer of {e}?", "For which company does {e} work?")),
        FIELD(Kind.PERSON, List.of(
                "{e} studies {v}.", "{e} is an expert in {v}.", "{e} spent a whole career in {v}.",
                "The field of {e} is {v}.",
                "{e} specialises in {v}.", "Most of the research of {e} is about {v}."), List.of(
                "What does {e} study?", "What field is {e} an expert in?", "What is the field of {e}?",
                "What subject does {e} specialise in?", "In what area does {e} do research?")),
        FOUNDED_IN(Kind.ORG, List.of(
                "{e} was founded in {v}.", "{e} opened its doors in {v}.", "The founding year of {e} is {v}.",
                "{e} started out in {v}.",
                "{e} has existed since {v}.", "In {v}, {e} was established."), List.of(
                "When was {e} founded?", "In what year was {e} founded?", "What year did {e} start out?",
                "Since which year has {e} existed?", "When was {e} established?")),
        BASED_IN(Kind.ORG, List.of(
                "{e} is based in {v}.", "{e} has its headquarters in {v}.", "The main office of {e} is in {v}.",
                "{e} operates out of {v}.",
                "{e} is headquartered in {v}.", "You can find the offices of {e} in {v}."), List.of(
                "Where is {e} based?", "In which city is {e} headquartered?", "Where is the main office of {e}?",
                "What city is {e} located in?", "Where does {e} operate from?"));

        final Kind kind;
        final List<String> statements;
        final List<String> questions;

        Relation(Kind kind, List<String> statements, List<String> questions) {
            this.kind = kind;
            this.statements = statements;
            this.questions = questions;
        }
    }

    /**
     * More phrasings used only in training when asked for ({@code sac data build
     * --extra-train-phrasings}): a small model that sees three ways to ask a question learns
     * those three; more variety is what lets it read the held-out ones. Dev/test never draw
     * them and none equals a held-out phrasing, but a review found that some questions are
     * near copies of held-out ones ({@link #HELD_OUT_WITH_NEAR_COPY}). The committed demo base
     * was trained with these lists as they are, so they stay (changing them would change what
     * {@code scripts/train-demo-model.sh} rebuilds), and {@code sac data phrasings} reports the
     * held-out questions with and without a near copy apart.
     */
    static final java.util.Map<Relation, List<String>> EXTRA_TRAIN_STATEMENTS = java.util.Map.of(
            Relation.LIVES_IN, List.of("{e} is a resident of {v}.", "{e} settled in {v} long ago.", "{e} now lives in {v}.",
                    "{e} rents a flat in {v}.", "{e} spends most days at home in {v}.", "{e} calls {v} home."),
            Relation.BORN_IN, List.of("{e} was born in the year {v}.", "{e} has a birth year of {v}.",
                    "The records list {v} as the year {e} was born.", "{e} entered the world in {v}.",
                    "Born in {v}, {e} grew up in a large family.", "{e} first saw daylight in {v}."),
            Relation.WORKS_FOR, List.of("{e} has a job at {v}.", "{e} is on the payroll of {v}.", "{e} works at {v}.",
                    "{v} employs {e}.", "{e} joined {v} as an employee.", "{e} holds a position at {v}."),
            Relation.FIELD, List.of("{e} works as a researcher in {v}.", "{e} teaches {v}.", "{e} wrote several books on {v}.",
                    "{e} has a degree in {v}.", "{e} is known for work in {v}.", "{e} lectures on {v}."),
            Relation.FOUNDED_IN, List.of("{e} was set up in {v}.", "{e} began operating in {v}.", "{e} dates back to {v}.",
                    "{e} first opened in {v}.", "{e} was created in {v}.", "Founders launched {e} in {v}."),
            Relation.BASED_IN, List.of("{e} keeps its head office in {v}.", "{e} runs its business from {v}.",
                    "The headquarters of {e} are in {v}.", "{e} has its base in {v}.", "{e} set up its main office in {v}.",
                    "The head office of {e} stands in {v}."));

    static final java.util.Map<Relation, List<String>> EXTRA_TRAIN_QUESTIONS = java.util.Map.of(
            Relation.LIVES_IN, List.of("Which city does {e} live in?", "What is the home city of {e}?", "Where has {e} settled?",
                    "In what city does {e} reside?", "Which place does {e} call home?"),
            Relation.BORN_IN, List.of("What year was {e} born?", "When did {e} come into the world?", "In which year was {e} born?",
                    "What is the year of birth of {e}?", "In what year did {e} enter the world?"),
            Relation.WORKS_FOR, List.of("Where does {e} work?", "Who employs {e}?", "Which company does {e} work for?",
                    "At which organisation does {e} work?", "Which firm has {e} on its staff?"),
            Relation.FIELD, List.of("What is {e} an expert in?", "What does {e} work on?", "Which field does {e} study?",
                    "What discipline is {e} known for?", "What topic does {e} study?"),
            Relation.FOUNDED_IN, List.of("What year was {e} founded?", "When did {e} open its doors?", "In which year did {e} begin?",
                    "What is the founding year of {e}?", "When did {e} first open?"),
            Relation.BASED_IN, List.of("Where is {e} headquartered?", "Which city is {e} based in?", "Where are the headquarters of {e}?",
                    "In what city does {e} have its main office?", "Where does {e} keep its head office?"));

    /**
     * Held-out questions of which {@link #EXTRA_TRAIN_QUESTIONS} holds a near copy (same words
     * reordered, or one or two words swapped): "In which year was {e} born?", "What year was {e}
     * born?" / "Which year was {e} born in?"; "When did {e} come into the world?", "In what
     * year did {e} enter the world?" / "What year did {e} come into the world?"; "Which company
     * does {e} work for?", "At which organisation does {e} work?" / "For which company does {e}
     * work?"; "Which city is {e} based in?" / "What city is {e} located in?".
     */
    static final java.util.Set<String> HELD_OUT_WITH_NEAR_COPY = java.util.Set.of(
            "Which year was {e} born in?", "What year did {e} come into the world?",
            "For which company does {e} work?", "What city is {e} located in?");

    /**
     * A frame for a fact about an invented relation: "{w}" is a nonce verb drawn per fact, so
     * the only way to answer is to find the question's own words in the document (the reading
     * a held-out phrasing needs) instead of recalling how a known relation is asked. Its answer
     * is drawn as {@code valuesOf}'s are (a city, a founding year, an organisation, a field).
     */
    record NonceFrame(Relation valuesOf, List<String> statements, List<String> questions) { }

    /**
     * Train-only facts about invented relations ({@code sac data build --nonce-facts}). No
     * question frame is a held-out question with one word swapped (a test checks: at least two
     * words apart, the nonce verb counting as a word that matches nothing), and none holds a
     * held-out question's relation word, so they teach finding words, not the held-out wordings.
     */
    static final List<NonceFrame> NONCE_FRAMES = List.of(
            new NonceFrame(Relation.BASED_IN, List.of("{e} {w}s in {v}.", "In {v}, {e} {w}s every day.",
                    "{e} has {w}ed in {v} for years.", "It is in {v} that {e} {w}s."),
                    List.of("Where does {e} {w}?", "In which city does {e} {w}?", "Which city does {e} {w} in?")),
            new NonceFrame(Relation.FOUNDED_IN, List.of("{e} {w}ed in {v}.", "In {v}, {e} {w}ed for the first time.",
                    "{e} first {w}ed in {v}.", "It was in {v} that {e} {w}ed."),
                    List.of("When did {e} {w}?", "In what year did {e} {w}?", "When did {e} first {w}?")),
            new NonceFrame(Relation.WORKS_FOR, List.of("{e} {w}s for {v}.", "For {v}, {e} {w}s on weekdays.",
                    "{e} has {w}ed for {v} since spring."),
                    List.of("Who does {e} {w} for?", "Which organisation does {e} {w} for?")),
            new NonceFrame(Relation.FIELD, List.of("{e} {w}s {v}.", "What {e} {w}s is {v}.", "{e} {w}s mostly {v}."),
                    List.of("What does {e} {w}?", "Which field does {e} {w}?")));

    /** Sentences that mention other cities, organisations and years but answer nothing. */
    static final List<String> DISTRACTORS = List.of(
            "The rain in {city} lasted for three days that autumn.",
            "A new bridge was planned near {city}, but nobody agreed on the design.",
            "Visitors often say that {city} is quieter than they expected.",
            "In {year}, the harvest was unusually good across the region.",
            "Several newspapers wrote about {org} during the winter.",
            "The old library kept maps of {city} from before {year}.",
            "Trains between {city} and the coast were often late.",
            "A small museum opened its doors to the public.",
            "The committee met twice a month to discuss the budget.",
            "Nobody remembers exactly when the market square was paved.",
            "The river flooded the lower fields in {year}.",
            "Some people believe the festival began as a farmers' fair.",
            "A report from {org} described the weather in detail.",
            "The school in {city} added a second floor to its building.",
            "Local musicians played in the park every Sunday.",
            "The price of bread rose slowly over the decade.",
            "During {year}, many families moved closer to the hills.",
            "An exhibition about ships drew large crowds.",
            "The mayor of {city} gave a short speech at the opening.",
            "Most of the streets were lined with tall trees.");

    static final List<String> FIELDS = List.of(
            "marine biology", "astronomy", "medieval history", "organic chemistry", "linguistics",
            "geology", "economics", "architecture", "music theory", "botany", "robotics", "philosophy",
            "statistics", "ancient pottery", "volcanology", "oceanography", "game theory", "glassmaking",
            "bird migration", "number theory", "textile design", "soil science", "folk music", "cartography",
            "epidemiology", "metallurgy", "beekeeping", "typography", "glaciology", "crop genetics",
            "urban planning", "acoustics", "mycology", "optics", "bookbinding", "climatology",
            "water engineering", "animal behaviour", "theatre lighting", "quantum physics");

    static final List<String> ORG_SUFFIXES = List.of(
            "Industries", "Labs", "Group", "Press", "Works", "Institute", "Foundation", "Trading Company",
            "Observatory", "Shipping", "Textiles", "Bank");

    static final List<String> CITY_SUFFIXES = List.of(
            "holm", "ford", "ville", "port", "stad", "bury", "haven", "mouth", " Falls", " Bay", " Crossing", "wick");

    private FactTemplates() {
    }
}
